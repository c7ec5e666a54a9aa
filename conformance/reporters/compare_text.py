"""The terminal view of a comparison: the three tables and the fidelity figure, from the comparison alone.

Rows are marked in the first column: ``*`` differs, ``?`` cannot be compared, blank agrees. Plain ASCII marks, so
that the output survives any terminal and CI log.
"""

from __future__ import annotations

from typing import Any, cast

from conformance.support.terminal import printable

DIFFERS, NOT_COMPARABLE, SAME = "*", "?", " "
LIST_LIMIT = 8


def render(comparison: dict[str, Any]) -> str:
    """Everything ``dcs-conformance compare`` prints before the files it wrote. Every value came from a report, so
    each is shown on one line, its line breaks and control characters escaped (support.terminal.printable)."""
    comparison = cast(dict[str, Any], printable(comparison))
    lines: list[str] = []
    for side in ("base", "candidate"):
        lines.append(f"{side + ':':<11}{side_line(comparison[side])}")
    for notice in comparison["notices"]:
        lines.append(f"notice: {notice}")
    lines += ["", *_requirements(comparison["requirements"])]
    lines += ["", *_observations(comparison["observations"])]
    lines += ["", *_exchanges(comparison["exchanges"], comparison["roles"])]
    lines += ["", *_generated(comparison["generated"])]
    lines += ["", fidelity_line(comparison)]
    return "\n".join(lines)


def side_line(side: dict[str, Any]) -> str:
    """'reports/a/report.json: embedded reference server (variant x), conformant, seed 5, suite 0.9.0'."""
    deviations = [f"variant {name}" for name in side["variants"]] + [f"fault {name}" for name in side["faults"]]
    target = side["target"] + (f" ({', '.join(deviations)})" if deviations else "")
    return f"{side['source']}: {target}, {side['verdict']}, seed {side['seed']}, suite {side['suite_version']}"


def fidelity_line(comparison: dict[str, Any]) -> str:
    """The figure, with what it counts, since a percentage of few exchanges means little on its own."""
    fidelity = comparison["fidelity"]
    if fidelity["percent"] is None:
        return "fidelity: not measurable (no scenario exchange could be compared)"
    return (
        f"fidelity: {fidelity['percent']:.1f}% ({fidelity['agree']} of {fidelity['compared']} comparable scenario "
        "exchanges agree)"
    )


def _mark(row: dict[str, Any]) -> str:
    if not row["comparable"]:
        return NOT_COMPARABLE
    return SAME if row["same"] else DIFFERS


def _requirements(table: dict[str, Any]) -> list[str]:
    lines = [f"requirements: {table['compared']} compared, {table['differ']} differ" + _not_comparable(table)]
    lines.append(f"  {'':2}{'ID':<12}{'LEVEL':<8}{'BASE':<10}CANDIDATE")
    for row in table["rows"]:
        base, candidate = row["base"] or "-", row["candidate"] or "-"
        line = f"  {_mark(row)} {row['id']:<12}{row['level'] or '':<8}{base:<10}{candidate:<10}"
        lines.append((line + f"  {row['note']}" if row["note"] else line).rstrip())
    return lines


def _observations(table: dict[str, Any]) -> list[str]:
    lines = [f"observations: {table['compared']} compared, {table['differ']} differ" + _not_comparable(table)]
    for row in table["rows"]:
        head = f"  {_mark(row)} {row['id']} {row['title']}"
        if row["comparable"] and row["same"]:
            lines.append(f"{head}: {_values(row['base'])}")
            continue
        lines.append(head + (f"  ({row['note']})" if row["note"] else ""))
        lines.append(f"      base:      {_values(row['base'])}")
        lines.append(f"      candidate: {_values(row['candidate'])}")
    return lines


def _values(seen: list[dict[str, Any]] | None) -> str:
    if seen is None:
        return "-"
    return "; ".join(f"{item['value']} ({item['count']}x)" for item in seen) or "not seen"


def _exchanges(table: dict[str, Any], roles: dict[str, Any]) -> list[str]:
    if not table["comparable"]:
        return ["scenario exchanges: cannot be compared (see the notice above)"]
    lines = [f"scenario exchanges that differ: {len(table['differ'])} of {table['compared']} comparable"]
    for row in table["differ"]:
        lines.append(f"  {DIFFERS} {row['key']}  [{', '.join(row['fields'])}]")
        lines.append(f"      base:      {row['base_summary']}")
        lines.append(f"      candidate: {row['candidate_summary']}")
    only = [(side, table[f"only_in_{side}"]) for side in ("base", "candidate") if table[f"only_in_{side}"]]
    if only or table["throttled"]:
        lines.append("not comparable (left out of the fidelity figure):")
        for side, keys in only:
            lines.append(f"  {NOT_COMPARABLE} only in {side + ':':<11}{_listing(keys)}")
        if table["throttled"]:
            lines.append(f"  {NOT_COMPARABLE} throttled:         {_listing(table['throttled'])}")
    if roles["rows"]:
        lines.append("per-item error codes by role, whole run:")
        for row in roles["rows"]:
            base, candidate = _codes(row["base"]), _codes(row["candidate"])
            text = f"{base}" if row["same"] else f"base {base} | candidate {candidate}"
            note = f"  ({row['note']})" if row["note"] else ""
            lines.append(f"  {_mark(row)} {row['role']:<16}{text}{note}")
    return lines


def _codes(codes: list[str] | None) -> str:
    if codes is None:
        return "-"
    return ", ".join(codes) or "none"


def _generated(table: dict[str, Any]) -> list[str]:
    lines = ["generated cases, for information (they depend on the seed and --max-examples):"]
    for row in table["rows"]:
        base, candidate = _generated_cell(row["base"]), _generated_cell(row["candidate"])
        lines.append(f"    {row['label']}: base {base} | candidate {candidate}")
    return lines


def _generated_cell(summary: dict[str, Any] | None) -> str:
    """'29 cases (200 x11, 400 x18)': statuses only; compare.json and compare.html also list the error codes."""
    if summary is None:
        return "-"
    statuses = ", ".join(f"{status} x{n}" for status, n in sorted(summary["statuses"].items()))
    return f"{summary['count']} case{'' if summary['count'] == 1 else 's'} ({statuses})"


def _not_comparable(table: dict[str, Any]) -> str:
    return f", {table['not_comparable']} not comparable" if table["not_comparable"] else ""


def _listing(keys: list[str]) -> str:
    shown = ", ".join(keys[:LIST_LIMIT])
    return shown + (f" and {len(keys) - LIST_LIMIT} more" if len(keys) > LIST_LIMIT else "")
