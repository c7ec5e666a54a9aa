"""Text as the report page shows it: bodies pretty-printed or made visible, headers with their masks noted,
anchors, natural order, dates and durations.

Everything here takes strings the target sent (untrusted); the page escapes them, these helpers only make them
readable: control characters become visible pictures, lone surrogates become escapes.
"""

from __future__ import annotations

import contextlib
import http
import re
from typing import Any

from markupsafe import Markup, escape

from conformance.reporters.html_model import Body, Header
from conformance.support import jsontext
from conformance.support.redaction import MASK

#: Bodies longer than this are folded into a <details> element, so one 50-item answer does not bury the page.
FOLD_CHARS = 1200
FOLD_LINES = 24

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CODE_SPAN = re.compile(r"`([^`]+)`")
#: A requirement or observation ID in running text: kept on one line (a hyphen is a break opportunity).
_CATALOGUE_ID = re.compile(r"\b(?:BR-REQ|OBS)-\d+\b")


def code_spans(text: str) -> Markup:
    """Escape the text, then show `backticked` words as code, as the catalogue writes them (IDs kept whole)."""
    return whole_ids(Markup(_CODE_SPAN.sub(r"<code>\1</code>", str(escape(text)))))


def whole_ids(text: str) -> Markup:
    """Escape the text (markup already escaped stays as it is), then keep each requirement or observation ID in it
    on one line, so that BR-REQ-001 never wraps as BR- / REQ-001 while the words around it wrap freely."""
    return Markup(_CATALOGUE_ID.sub(r'<span class="req-id">\g<0></span>', str(escape(text))))


def visible(text: str) -> str:
    """Control characters shown as their Unicode pictures (U+2400...), so they are seen, not swallowed."""
    return _CONTROL.sub(lambda m: "\u2421" if m.group() == "\x7f" else chr(0x2400 + ord(m.group())), text)


def body(raw: Any, truncated_chars: int = 0) -> Body:
    """A body as the page shows it; ``truncated_chars`` is what report.json left out of it (body_truncated_chars),
    and a cut body is shown as text, since it cannot parse. A body is JSON when the checks read it as JSON
    (jsontext: numbers of any length), and is then pretty-printed with every digit."""
    if raw is None:
        return Body("", "none", 0, 0, False, 0)
    raw = str(raw)
    if raw == "":
        return Body("", "empty", 0, 0, False, 0)
    text, kind = visible(raw), "text"
    if not truncated_chars:
        with contextlib.suppress(ValueError, RecursionError):
            text, kind = jsontext.dumps_readable(jsontext.loads(raw)), "json"
    lines = text.count("\n") + 1
    return Body(
        text=text,
        kind=kind,
        chars=len(raw),
        lines=lines,
        folded=len(text) > FOLD_CHARS or lines > FOLD_LINES,
        truncated_by=truncated_chars,
    )


def headers(items: dict[str, str]) -> list[Header]:
    return [Header(visible(name), visible(value), MASK in value) for name, value in items.items()]


def phrase(status: Any) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except (ValueError, TypeError):
        return ""


def natural(text: str) -> tuple[Any, ...]:
    """BR-REQ-9 before BR-REQ-10, whatever the padding."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text))


def anchor(prefix: str, text: str) -> str:
    return f"{prefix}-{re.sub(r'[^A-Za-z0-9_-]', '-', text)}"


def date(stamp: str) -> str:
    return stamp.replace("T", " ").removesuffix("Z") + " UTC" if stamp.endswith("Z") else stamp or "–"


def duration(seconds: Any) -> str:
    if not isinstance(seconds, int | float):
        return "–"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"


def beyond_diagnosis(reason: str, diagnosis: list[str]) -> str:
    """What the verdict reason adds to the diagnosis the page already shows: the reason of an incomplete run
    begins with the first diagnosis (engine.runner), which a page states once, on its own."""
    if diagnosis and reason.startswith(diagnosis[0]):
        return reason[len(diagnosis[0]) :].lstrip("; ")
    return reason
