"""One exception tree in one module: every exception the suite raises on purpose is defined in support/errors.py,
so what a caller catches says what went wrong, and no two modules define one under the same name."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest

from conformance.support import errors

PACKAGE = Path(errors.__file__).resolve().parents[1]
MODULES = sorted(
    ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
    for path in PACKAGE.rglob("*.py")
    if path.name != "__main__.py"
)
#: The reference server is a program beside the suite: its exceptions are the HTTP answers it gives, not the suite's
#: errors. Warnings are categories for ``warnings.warn``, never raised.
EXEMPT_PACKAGES = ("conformance.reference",)


def defined_exceptions(module_name: str) -> list[str]:
    module = importlib.import_module(module_name)
    return [
        name
        for name, value in vars(module).items()
        if inspect.isclass(value)
        and issubclass(value, BaseException)
        and not issubclass(value, Warning)
        and value.__module__ == module_name
        and not name.startswith("_")
    ]


@pytest.mark.parametrize("module_name", [name for name in MODULES if not name.startswith(EXEMPT_PACKAGES)])
def test_no_module_but_support_errors_defines_a_public_exception(module_name: str) -> None:
    if module_name == errors.__name__:
        return
    assert defined_exceptions(module_name) == [], f"move them to {errors.__name__} (and import them from there)"


def test_every_error_of_the_suite_is_a_conformance_error_and_every_stop_a_run_stopped() -> None:
    for name in defined_exceptions(errors.__name__):
        cls = getattr(errors, name)
        assert issubclass(cls, errors.ConformanceError | errors.RunStopped), name
    assert issubclass(errors.Halted, BaseException) and not issubclass(errors.Halted, Exception)


def test_the_errors_callers_caught_as_value_or_os_errors_still_are() -> None:
    for cls in (errors.SettingsError, errors.CredentialError, errors.TlsSetupError, errors.ReportError):
        assert issubclass(cls, ValueError)
    assert issubclass(errors.LinkRefused, OSError)
    refused = errors.LinkRefused(Path("x"))
    assert refused.filename == "x" and "symbolic link" in str(refused)
