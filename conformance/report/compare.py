"""Fidelity: how closely two implementations of the endpoint behave, beyond what the contract decides.

Two report.json files (a vendor's mock and the real service, staging before and after a deployment) are compared
side by side: requirement statuses, observations (the undocumented behaviour), and the scenario trace exchange by
exchange. The fidelity figure is the share of comparable scenario exchanges that agree.

What cannot be compared is said, never guessed: a scenario exchange present on one side only (a label sized by the
fixtures, a scenario one run skipped), a throttled request, a requirement whose wording changed between suite
versions, a report without a trace. Those are listed and left out of the figure. Seeds are ignored on purpose: the
trace is built so that two runs of one implementation agree whatever their seeds; generated cases, which do depend
on the seed, are summarised for information and never count as a difference.

This module reads finished reports only (``report.store.load_report`` reads them, loosely: by their keys, as another
suite version may have written them); ``conformance.reporters.compare_*`` render what it returns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from conformance import __version__

COMPARE_FORMAT = 1
#: The kinds of difference ``--fail-on`` can act on; ``any`` is all of them.
KINDS = ("requirements", "observations", "exchanges")
FAIL_ON = ("requirements", "observations", "any")
#: The parts of a trace entry that must match for two exchanges to agree.
COMPARED_FIELDS = ("status", "error_code", "failure", "items", "item_codes", "malformed_items")


def compare(
    base: Mapping[str, Any], candidate: Mapping[str, Any], *, base_name: str = "base", candidate_name: str = "candidate"
) -> dict[str, Any]:
    """The comparison of two reports, as written to compare.json."""
    requirements = _requirements(base, candidate)
    observations = _observations(base, candidate)
    exchanges, roles, trace_notices = _trace(base, candidate)
    fidelity = {
        "agree": exchanges["agree"],
        "compared": exchanges["compared"],
        "percent": round(100 * exchanges["agree"] / exchanges["compared"], 1) if exchanges["compared"] else None,
    }
    return {
        "format": COMPARE_FORMAT,
        "compared_by": __version__,
        "base": _side(base, base_name),
        "candidate": _side(candidate, candidate_name),
        "notices": _notices(base, candidate) + trace_notices,
        "fidelity": fidelity,
        "differs": {
            "requirements": requirements["differ"] > 0,
            "observations": observations["differ"] > 0,
            "exchanges": bool(exchanges["differ"]) or roles["differ"] > 0,
        },
        "requirements": requirements,
        "observations": observations,
        "exchanges": exchanges,
        "roles": roles,
        "generated": _generated(base, candidate),
    }


def should_fail(comparison: dict[str, Any], fail_on: str | None) -> bool:
    """Whether ``--fail-on`` turns this comparison into exit 1."""
    if fail_on is None:
        return False
    kinds = KINDS if fail_on == "any" else (fail_on,)
    return any(comparison["differs"][kind] for kind in kinds)


def describe(entry: dict[str, Any] | None) -> str:
    """One line for a trace entry: '200 · unknown 3 failed [DCS.4800]', '404 DCS.4001'."""
    if entry is None:
        return "–"
    if entry.get("failure"):
        return "no complete answer"
    head = str(entry.get("status", "?"))
    if entry.get("error_code") is not None:
        head += f" {entry['error_code']}"
    if entry.get("throttled"):
        head += " (throttled)"
    if "items" not in entry:
        return head
    if entry["items"] is None:
        return f"{head} · not a batch answer"
    codes = entry.get("item_codes") or {}
    parts = []
    for role, results in entry["items"].items():
        counted = ", ".join(f"{n} {result}" for result, n in results.items())
        parts.append(f"{role} {counted}" + (f" [{', '.join(codes[role])}]" if codes.get(role) else ""))
    if entry.get("malformed_items"):
        parts.append(f"{entry['malformed_items']} malformed")
    return f"{head} · " + ("; ".join(parts) if parts else "no items")


# ---------------------------------------------------------------------------------------------------------------


def _side(report: Mapping[str, Any], name: str) -> dict[str, Any]:
    target = report.get("target") or {}
    options = report.get("options") or {}
    return {
        "source": name,
        "target": str(target.get("base_url") or "unknown target"),
        "verdict": report.get("verdict"),
        "error": report.get("error"),
        "suite_version": report.get("suite_version"),
        "spec_sha256": report.get("spec_sha256"),
        "seed": report.get("seed"),
        "started_at": report.get("started_at"),
        "fixtures": target.get("fixtures"),
        "faults": list(target.get("faults") or []),
        "variants": list(target.get("variants") or []),
        "max_examples": options.get("max_examples"),
        "traced": isinstance(report.get("trace"), dict),
    }


def _notices(base: Mapping[str, Any], candidate: Mapping[str, Any]) -> list[str]:
    notices = []
    if base.get("suite_version") != candidate.get("suite_version"):
        notices.append(
            f"The reports come from different suite versions ({base.get('suite_version')} and "
            f"{candidate.get('suite_version')}): requirements, observations and scenarios that exist in one version "
            "only are listed as not comparable."
        )
    if base.get("spec_sha256") != candidate.get("spec_sha256"):
        notices.append(
            f"The runs were judged against different contracts (spec {str(base.get('spec_sha256'))[:12]}… and "
            f"{str(candidate.get('spec_sha256'))[:12]}…): requirements whose level or statement differ are not "
            "compared."
        )
    for side, report in (("base", base), ("candidate", candidate)):
        if report.get("error"):
            notices.append(
                f"The {side} run did not complete ({report['error']}): what it did not reach shows as skipped or "
                "as run on one side only."
            )
    return notices


def _requirements(base: Mapping[str, Any], candidate: Mapping[str, Any]) -> dict[str, Any]:
    left = {str(item.get("id")): item for item in base.get("requirements", [])}
    right = {str(item.get("id")): item for item in candidate.get("requirements", [])}
    rows = []
    for req_id in _union(left, right):
        one, other = left.get(req_id), right.get(req_id)
        known = one or other or {}
        note = ""
        if one is None or other is None:
            note = f"only in {_present_side(one)}"
        elif (one.get("level"), one.get("statement")) != (other.get("level"), other.get("statement")):
            note = "the requirement changed between the two suite versions"
        comparable = not note
        same = comparable and one is not None and other is not None and one.get("status") == other.get("status")
        rows.append(
            {
                "id": req_id,
                "level": known.get("level"),
                "title": known.get("title"),
                "base": one.get("status") if one else None,
                "candidate": other.get("status") if other else None,
                "base_reason": one.get("reason") if one else None,
                "candidate_reason": other.get("reason") if other else None,
                "comparable": comparable,
                "same": same,
                "note": note,
            }
        )
    return _tally(rows)


def _observations(base: Mapping[str, Any], candidate: Mapping[str, Any]) -> dict[str, Any]:
    """Observations agree when the same values were seen; counts depend on the seed and are shown, not compared."""
    left = {str(item.get("id")): item for item in base.get("observations", [])}
    right = {str(item.get("id")): item for item in candidate.get("observations", [])}
    rows = []
    for obs_id in _union(left, right):
        one, other = left.get(obs_id), right.get(obs_id)
        seen_left, seen_right = _seen(one), _seen(other)
        comparable = one is not None and other is not None
        rows.append(
            {
                "id": obs_id,
                "title": (one or other or {}).get("title"),
                "base": seen_left,
                "candidate": seen_right,
                "only_in_base": [s["value"] for s in seen_left or [] if s["value"] not in _values(seen_right)],
                "only_in_candidate": [s["value"] for s in seen_right or [] if s["value"] not in _values(seen_left)],
                "comparable": comparable,
                "same": comparable and _values(seen_left) == _values(seen_right),
                "note": "" if comparable else f"only in {_present_side(one)}",
            }
        )
    return _tally(rows)


def _seen(observation: dict[str, Any] | None) -> list[dict[str, Any]] | None:
    if observation is None:
        return None
    return [{"value": str(s.get("value")), "count": s.get("count", 0)} for s in observation.get("seen", [])]


def _values(seen: list[dict[str, Any]] | None) -> set[str]:
    return {s["value"] for s in seen or []}


def _trace(base: Mapping[str, Any], candidate: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    exchanges: dict[str, Any] = {
        "comparable": False,
        "compared": 0,
        "agree": 0,
        "differ": [],
        "only_in_base": [],
        "only_in_candidate": [],
        "throttled": [],
    }
    roles: dict[str, Any] = {"rows": [], "differ": 0}
    notices = []
    traces = {side: report.get("trace") for side, report in (("base", base), ("candidate", candidate))}
    missing = [side for side, trace in traces.items() if not isinstance(trace, dict)]
    if missing:
        notices.append(
            f"The {' and '.join(missing)} report{'s have' if len(missing) == 2 else ' has'} no scenario trace "
            "(written by a suite version before traces): scenario exchanges cannot be compared and there is no "
            "fidelity figure."
        )
        return exchanges, roles, notices
    left_trace, right_trace = traces["base"], traces["candidate"]
    assert isinstance(left_trace, dict) and isinstance(right_trace, dict)
    if left_trace.get("format") != right_trace.get("format"):
        notices.append(
            f"The scenario traces have different formats ({left_trace.get('format')} and "
            f"{right_trace.get('format')}): scenario exchanges cannot be compared and there is no fidelity figure."
        )
        return exchanges, roles, notices
    exchanges["comparable"] = True
    left = {entry["key"]: entry for entry in left_trace.get("scenarios", [])}
    right = {entry["key"]: entry for entry in right_trace.get("scenarios", [])}
    for key in _union(left, right):
        one, other = left.get(key), right.get(key)
        if (one or {}).get("throttled") or (other or {}).get("throttled"):
            exchanges["throttled"].append(key)
            continue
        if one is None or other is None:
            exchanges["only_in_base" if other is None else "only_in_candidate"].append(key)
            continue
        exchanges["compared"] += 1
        fields = [name for name in COMPARED_FIELDS if one.get(name) != other.get(name)]
        if not fields:
            exchanges["agree"] += 1
            continue
        exchanges["differ"].append(
            {
                "key": key,
                "fields": fields,
                "base": one,
                "candidate": other,
                "base_summary": describe(one),
                "candidate_summary": describe(other),
            }
        )
    roles = _roles(left_trace.get("roles") or {}, right_trace.get("roles") or {})
    return exchanges, roles, notices


def _roles(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    """The per-item error codes each role received over the whole run (as sets: counts follow the fixtures)."""
    rows = []
    for role in _union(left, right):
        one, other = left.get(role), right.get(role)
        comparable = one is not None and other is not None
        codes_left = sorted((one or {}).get("error_codes", {}))
        codes_right = sorted((other or {}).get("error_codes", {}))
        rows.append(
            {
                "role": role,
                "base": codes_left if one is not None else None,
                "candidate": codes_right if other is not None else None,
                "base_items": (one or {}).get("items"),
                "candidate_items": (other or {}).get("items"),
                "comparable": comparable,
                "same": comparable and codes_left == codes_right,
                "note": "" if comparable else f"no {role} item was answered in the {_missing_side(one)}",
            }
        )
    return {"rows": rows, "differ": sum(1 for row in rows if row["comparable"] and not row["same"])}


def _generated(base: Mapping[str, Any], candidate: Mapping[str, Any]) -> dict[str, Any]:
    """Generated cases side by side, for information: what they send depends on the seed and --max-examples."""
    left = {g["label"]: g for g in (base.get("trace") or {}).get("generated", [])}
    right = {g["label"]: g for g in (candidate.get("trace") or {}).get("generated", [])}
    rows = []
    for label in _union(left, right):
        one, other = left.get(label), right.get(label)
        same = one is not None and other is not None and set(one["statuses"]) == set(other["statuses"])
        rows.append({"label": label, "base": one, "candidate": other, "same_statuses": same})
    return {"rows": rows}


def _present_side(base_value: object) -> str:
    return "candidate" if base_value is None else "base"


def _missing_side(base_value: object) -> str:
    return "base" if base_value is None else "candidate"


def _union(left: Iterable[str], right: Iterable[str]) -> list[str]:
    """Keys in the base's order, then the candidate's own."""
    return list(dict.fromkeys([*left, *right]))


def _tally(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "rows": rows,
        "compared": sum(1 for row in rows if row["comparable"]),
        "differ": sum(1 for row in rows if row["comparable"] and not row["same"]),
        "not_comparable": sum(1 for row in rows if not row["comparable"]),
    }
