"""The last step before a report leaves the process: every string in it is redacted.

Exchanges are redacted by the client as they are recorded, but a report also carries text the client never saw:
error and exception messages (an HTTP library may quote a header value whole), the target's URL and the command
line (userinfo), and whatever a check quoted. One pass over the finished report covers all of them, so every writer
(report.json, junit.xml, index.html, the terminal summary) starts from redacted data.
"""

from __future__ import annotations

import os
from typing import Any, TypeVar, cast

from conformance.config.credentials import Credentials
from conformance.support.redaction import Redactor, proxy_secrets, userinfo_secrets

#: Strings up to this long are redacted once per document; a longer one (a body) is seldom said twice.
_REMEMBERED_CHARS = 256


def redact_document(value: Any, redactor: Redactor) -> Any:
    """A copy of a JSON-like document with every string (object keys too) redacted.

    A report says the same short strings thousands of times (its keys, statuses, requirement IDs, header names and
    task IDs): each distinct one is redacted once. Redacting is a function of the string alone, so this changes no
    byte of the result."""
    seen: dict[str, str] = {}

    def text(string: str) -> str:
        if len(string) > _REMEMBERED_CHARS:
            return redactor.text(string)
        redacted = seen.get(string)
        if redacted is None:
            redacted = seen[string] = redactor.text(string)
        return redacted

    def walk(item: Any) -> Any:
        if isinstance(item, str):
            return text(item)
        if isinstance(item, dict):
            return {walk(key): walk(inner) for key, inner in item.items()}
        if isinstance(item, list | tuple):
            return [walk(inner) for inner in item]
        return item

    return walk(value)


Document = TypeVar("Document")


def scrub(report: Document, credentials: Credentials, base_url: str | None) -> Document:
    """The report (or any JSON-like document) without the run's credentials or the base URL's userinfo, in any
    form; same shape in, same shape out (redact_document keeps every container and maps strings to strings, which
    its type cannot say: hence the one cast of the report's way out)."""
    secrets = [*credentials.secrets(), *userinfo_secrets(base_url), *proxy_secrets(os.environ)]
    return cast(Document, redact_document(report, Redactor(secrets)))
