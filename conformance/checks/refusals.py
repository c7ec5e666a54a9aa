"""Requests that must be refused: a body the contract does not allow gets a 4xx, and preferably exactly 400."""

from __future__ import annotations

from conformance.checks.rules import Rule, covers
from conformance.judging.results import Exchange, Finding

REFUSED = Rule("BR-REQ-001")
REFUSED_WITH_400 = Rule("BR-REQ-002")


@covers(REFUSED, REFUSED_WITH_400)
def check_refused(ex: Exchange, what: str) -> list[Finding]:
    """``what`` names the defect of the request, so a failure says which invalid input was accepted."""
    if not ex.complete:
        return [REFUSED.violated(f"{what}: never refused, {ex.failure}")]
    if 400 <= ex.status < 500:
        return [REFUSED.held(), REFUSED_WITH_400.judged(ex.status == 400, f"{what}: refused with {ex.status}, not 400")]
    if ex.status >= 500:
        # A 5xx is judged by BR-REQ-003; it is not a refusal of the input either.
        return [REFUSED.violated(f"{what}: answered {ex.status} instead of a 4xx refusal")]
    return [REFUSED.violated(f"{what}: accepted with status {ex.status} instead of being refused")]
