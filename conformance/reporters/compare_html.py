"""compare.html: the comparison of two runs for people, rendered from the comparison dictionary alone.

It speaks the report's visual language (the same stylesheet, banner, badges and tables, plus a few rules of its
own) and keeps its promises: one self-contained file that opens from disk, no network access, everything
autoescaped (labels, values and error codes come from targets under test), and a Content-Security-Policy that
allows only its own inline style, by hash. The page needs no script at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markupsafe import Markup

from conformance.reporters import page
from conformance.support.files import write_atomically

FILENAME = "compare.html"
TEMPLATE = "compare.html.j2"
STYLESHEETS = ("report.css", "compare.css")

#: The banner's state, worst first, with the report's banner colour it borrows.
STATES = {
    "requirements": ("Requirement statuses differ", "non-conformant"),
    "behaviour": ("Behaviour differs", "conformant-with-warnings"),
    "same": ("Same behaviour", "conformant"),
    "unmeasured": ("Not comparable", "incomplete"),
}


@dataclass(frozen=True)
class FactRow:
    label: str
    base: str
    candidate: str
    differs: bool
    mono: bool = False


def render(comparison: dict[str, Any]) -> str:
    """The complete page for one comparison (as written to compare.json)."""
    css = "\n".join(page.asset(name) for name in STYLESHEETS)
    rendered = (
        page.environment()
        .get_template(TEMPLATE)
        .render(css=Markup(css), csp=page.content_security_policy(css), **_view(comparison))
    )
    return page.utf8_safe(rendered)


def write(comparison: dict[str, Any], directory: Path) -> Path:
    """Write compare.html atomically, so a reader never sees half a page."""
    return write_atomically(directory / FILENAME, render(comparison))


def state(comparison: dict[str, Any]) -> str:
    """What the banner says: the worst kind of difference, or that nothing could be measured."""
    differs = comparison["differs"]
    if differs["requirements"]:
        return "requirements"
    if differs["observations"] or differs["exchanges"]:
        return "behaviour"
    if comparison["fidelity"]["percent"] is None:
        return "unmeasured"
    return "same"


def _view(comparison: dict[str, Any]) -> dict[str, Any]:
    current = state(comparison)
    headline, colour = STATES[current]
    requirements = sorted(comparison["requirements"]["rows"], key=_row_order)
    observations = sorted(comparison["observations"]["rows"], key=_row_order)
    return {
        "state": current,
        "headline": headline,
        "colour": colour,
        "summary": _summary(comparison),
        "fidelity": comparison["fidelity"],
        "facts": _facts(comparison["base"], comparison["candidate"]),
        "notices": comparison["notices"],
        "requirements": requirements,
        "requirement_counts": comparison["requirements"],
        "observations": observations,
        "observation_counts": comparison["observations"],
        "exchanges": comparison["exchanges"],
        "roles": comparison["roles"]["rows"],
        "generated": [
            {"label": row["label"], "base": _generated(row["base"]), "candidate": _generated(row["candidate"])}
            for row in comparison["generated"]["rows"]
        ],
        "title": f"{headline}: {comparison['base']['target']} vs {comparison['candidate']['target']}",
    }


def _row_order(row: dict[str, Any]) -> tuple[int, tuple[Any, ...]]:
    """Differences first, then what cannot be compared, then agreement; IDs in natural order within each."""
    rank = 0 if row["comparable"] and not row["same"] else 1 if not row["comparable"] else 2
    natural = tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", str(row["id"])))
    return rank, natural


def _summary(comparison: dict[str, Any]) -> str:
    parts = []
    fidelity = comparison["fidelity"]
    if fidelity["percent"] is not None:
        parts.append(f"{fidelity['agree']} of {fidelity['compared']} comparable scenario exchanges agree")
    else:
        parts.append("no scenario exchange could be compared")
    requirements, observations = comparison["requirements"]["differ"], comparison["observations"]["differ"]
    parts.append(
        f"{requirements} requirement status{'' if requirements == 1 else 'es'} and "
        f"{observations} observation{'' if observations == 1 else 's'} differ"
    )
    return "; ".join(parts) + "."


def _facts(base: dict[str, Any], candidate: dict[str, Any]) -> list[FactRow]:
    def text(side: dict[str, Any], key: str) -> str:
        value = side.get(key)
        if isinstance(value, list):
            return ", ".join(map(str, value)) or "–"
        return "–" if value in (None, "") else str(value)

    rows = []
    for label, key, mono in (
        ("Report", "source", True),
        ("Target", "target", False),
        ("Variants", "variants", True),
        ("Faults", "faults", True),
        ("Verdict", "verdict", False),
        ("Suite version", "suite_version", False),
        ("Spec SHA-256", "spec_sha256", True),
        ("Seed (ignored)", "seed", True),
        ("Fuzzing examples", "max_examples", False),
        ("Fixtures", "fixtures", False),
        ("Started", "started_at", False),
    ):
        left, right = text(base, key), text(candidate, key)
        if key in ("variants", "faults") and left == right == "–":
            continue
        comparable_fact = key in ("suite_version", "spec_sha256", "verdict")
        rows.append(FactRow(label, left, right, differs=comparable_fact and left != right, mono=mono))
    return rows


def _generated(summary: dict[str, Any] | None) -> str:
    if summary is None:
        return "–"
    statuses = ", ".join(f"{status} ×{n}" for status, n in sorted(summary["statuses"].items()))
    codes = ", ".join(f"{code} ×{n}" for code, n in summary["error_codes"].items())
    cases = f"{summary['count']} case{'' if summary['count'] == 1 else 's'}"
    return f"{cases}: {statuses}" + (f"; {codes}" if codes else "")
