"""What every self-contained HTML page of the suite shares: one Jinja2 environment that escapes everything (the
target's text is untrusted), inline assets read verbatim, a Content-Security-Policy that allows exactly those
assets by hash and nothing else, and text that UTF-8 can carry.

index.html, compare.html and the overview of many targets are built on it, so they cannot drift apart on safety.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined

from conformance.reporters.html_text import code_spans, whole_ids

_SURROGATE = re.compile(r"[\ud800-\udfff]")


@cache
def environment() -> Environment:
    """The one Jinja environment every page renders with (shared: set up once, never changed by a page)."""
    env = Environment(
        loader=PackageLoader("conformance.reporters", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["code_spans"] = code_spans
    env.filters["whole_ids"] = whole_ids
    return env


@cache
def asset(name: str) -> str:
    """An inline asset, read verbatim: its bytes must match the hash in the Content-Security-Policy."""
    env = environment()
    assert env.loader is not None
    source, _, _ = env.loader.get_source(env, name)
    return source


def content_security_policy(css: str, js: str | None = None) -> str:
    """Only our own inline style (and script, if any) by hash: even a mistake in escaping could load or run
    nothing else."""
    script = f"'{_sha256(js)}'" if js is not None else "'none'"
    return (
        f"default-src 'none'; style-src '{_sha256(css)}'; script-src {script}; img-src 'none'; "
        "form-action 'none'; base-uri 'none'"
    )


def utf8_safe(page: str) -> str:
    """A lone surrogate (a task ID such as "\\ud800" decodes to one) cannot be encoded as UTF-8."""
    return _SURROGATE.sub("\ufffd", page)


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
