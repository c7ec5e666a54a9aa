"""Requests that must be refused: a body the contract does not allow gets a 4xx, and preferably exactly 400."""

from __future__ import annotations

from conformance.checks import covers
from conformance.results import Exchange, Finding


@covers("BR-REQ-001", "BR-REQ-002")
def check_refused(ex: Exchange, what: str) -> list[Finding]:
    """``what`` names the defect of the request, so a failure says which invalid input was accepted."""
    if not ex.complete:
        return [Finding("BR-REQ-001", False, f"{what}: never refused, {ex.failure}")]
    if 400 <= ex.status < 500:
        exact = ex.status == 400
        message = "" if exact else f"{what}: refused with {ex.status}, not 400"
        return [Finding("BR-REQ-001", True), Finding("BR-REQ-002", exact, message)]
    if ex.status >= 500:
        # A 5xx is judged by BR-REQ-003; it is not a refusal of the input either.
        return [Finding("BR-REQ-001", False, f"{what}: answered {ex.status} instead of a 4xx refusal")]
    return [Finding("BR-REQ-001", False, f"{what}: accepted with status {ex.status} instead of being refused")]
