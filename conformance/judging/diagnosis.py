"""Diagnose before judging: when no well-formed request was ever accepted, or the fixtures look used up, say why
before any verdict is read.

A run against an expired token, a wrong base URL or a stub that refuses everything exercises almost nothing; the
requirement matrix alone would read as a list of skips. The diagnosis names the likely cause, the way schemathesis
warns of missing authentication or missing test data.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Diagnosis:
    messages: list[str] = field(default_factory=list)
    #: The target could not be used as configured (credentials, URL): nothing it answered can be judged fairly.
    setup_problem: bool = False
    #: Every restartable fixture came back failed as unusable tasks do (judging/fixture_health.py): BR-REQ-014 is
    #: left unjudged, and the run cannot be conformant.
    fixtures_unusable: bool = False


def diagnose(
    valid_answers: Counter[str],
    *,
    credentials_configured: bool,
    fixtures_used_up: str | None = None,
    requests: str = "well-formed requests",
    unauthenticated_400: bool = False,
) -> Diagnosis:
    """``valid_answers`` counts how well-formed requests under the run's own credentials were answered, by status
    (as text), "no answer" or "throttled" (``requests`` names what was counted, when a run stopped before sending a
    well-formed one); ``fixtures_used_up`` says why the restartable fixtures look unusable (FixtureHealth.used_up),
    if they do."""
    total = sum(valid_answers.values())
    if valid_answers.get("200") and fixtures_used_up:
        return Diagnosis([f"the fixtures cannot be judged: {fixtures_used_up}"], fixtures_unusable=True)
    if not total or valid_answers.get("200"):
        return Diagnosis()
    kinds = set(valid_answers)
    one = requests.removesuffix("s")
    every = f"every one of the {total} {requests}" if total > 1 else f"the one {one}"
    if kinds <= {"401", "403"}:
        statuses = "/".join(sorted(kinds))
        if credentials_configured:
            advice = "check --auth-token or CLOUD_SDK_AK/CLOUD_SDK_SK (expired token, wrong key, wrong project?)"
            return Diagnosis([f"the credentials were rejected: {every} was answered {statuses}; {advice}"], True)
        return Diagnosis(
            [f"the target demands credentials: {every} was answered {statuses}; give --auth-token or an AK/SK pair"],
            True,
        )
    if kinds == {"404"}:
        return Diagnosis(
            [f"{every} was answered 404: check --base-url (scheme, host, path prefix) and --project-id"], True
        )
    if kinds == {"400"} and unauthenticated_400:
        return Diagnosis(
            [
                f"the requests do not reach the API as sent: {every} was answered 400, and so was one without "
                "credentials, which the API answers 401; check --base-url (a path prefix too many or too few, a proxy "
                "or gateway answering in its place) and whatever rewrites the requests on the way"
            ],
            True,
        )
    if kinds == {"400"}:
        return Diagnosis(
            [
                f"the target refuses every valid batch: {every} was answered 400, so no batch answer could be "
                "judged; if it refuses unknown task IDs as a whole, give --fixtures naming real tasks"
            ]
        )
    if kinds == {"no answer"}:
        return Diagnosis([f"the target answered none of the well-formed requests: {every} got no complete answer"])
    if kinds == {"throttled"}:
        return Diagnosis([f"the target throttled {every} (429/503) even after waiting as Retry-After asked"])
    if all(kind.isdigit() and kind.startswith("5") for kind in kinds):
        return Diagnosis([f"{every} was answered with a server error ({', '.join(sorted(kinds))})"])
    seen = ", ".join(f"{kind} x{count}" for kind, count in valid_answers.most_common())
    return Diagnosis([f"no well-formed request was answered 200 ({seen}), so no batch answer could be judged"])
