"""Every exception the suite raises on purpose, in one tree, so that what a caller catches says what went wrong.

    ConformanceError
      InputError            a mistake in what the user gave: exit 2 with one line, before anything is sent
        UsageError            the command line, the environment or a config file (the CLI)
        DcsUsageError         the same, in the pytest plugin's --dcs-* options
        SettingsError         a setting missing, malformed or contradicting another
        CredentialError       a credential that cannot be sent as given
        TlsSetupError         a TLS file that cannot be used
        ReportError           a path that holds no usable report.json
        NotABundle            a directory that holds no report at all (verify)
        OverviewError         a directory that is no report directory (summarize, run --config)
        LinkRefused           a name the suite would write is a symbolic link (also an OSError)
      TargetError           the target cannot be judged any further as configured
        TargetUnreachable     not reached at all, or stopped answering
          TargetStopped         it answered before, then stopped
          TransportFailure      a refused TLS handshake or proxy tunnel
        TargetNotOpened       the embedded reference server could not start
        TargetThrottling      throttled request after request
        BudgetExhausted       --max-requests is spent
        SetupRejected         the run's first requests were all refused 401/403/404 (or 400, even unauthenticated)
      GuardRefusal          the ID guard refused to send a request (never the target's doing)
      LibrarySendRefused    a library tried to send a request past the run's one client
      ChildFailed           a drawing child will draw or answer no more (the run then does it itself)
      RequestSignatureError an AK/SK signature refused (the reference server's verification)
      NotJson               a target's text that is not JSON (RFC 8259)
      TooDeep               valid JSON nested deeper than the suite parses
      SSHSigError           OpenSSH signatures of a certificate
        SignatureKeyError     a private key that cannot sign
        BundleSignatureError  a signature that is not accepted
        AllowedSignersError   a malformed allowed_signers file
      DcsFinding            a requirement failed, as a pytest item shows it
    RunStopped (a BaseException)  the run is over: no library in between (hypothesis) may take it for a failing case
      Halted                ended elsewhere (a signal, a stop another phase met)
      Interrupted           SIGINT or SIGTERM while requests were being sent

The modules that raise them import them from here (and re-export the names their callers always used). Exceptions
that never leave the module raising them (a lane's private stop, a parse step's internal failure) stay there, with
a leading underscore.
"""

from __future__ import annotations

import errno
import signal
from collections import Counter
from pathlib import Path


class ConformanceError(Exception):
    """Any error the suite raises on purpose: its message is one line, safe to show (never a secret)."""


# -- the user's input ------------------------------------------------------------------------------------------------


class InputError(ConformanceError):
    """A mistake in what the user gave: reported as one line with exit 2, before anything is sent."""


class UsageError(InputError):
    """A mistake in the command line, the environment or a config file."""


class DcsUsageError(InputError):
    """A mistake in the --dcs-* options, the environment or the config file."""


class SettingsError(InputError, ValueError):
    """A setting is missing, malformed or contradicts another; the message names it."""


class CredentialError(InputError, ValueError):
    """A credential that cannot be sent as given; the message names the credential, never its value."""


class TlsSetupError(InputError, ValueError):
    """A TLS option names a file that cannot be used (missing, not PEM, a key that does not match): a user mistake."""


class ReportError(InputError, ValueError):
    """A path that holds no usable report.json; the message says which file and why, in one line."""


class NotABundle(InputError, ValueError):
    """The directory holds no dcs-conformance report.json at all (a usage error, not an invalid certificate)."""


class OverviewError(InputError, ValueError):
    """A directory is not a report directory, or the overview cannot go where it was asked to."""


class LinkRefused(InputError, OSError):
    """A file the suite would write is a symbolic link: refused, never followed."""

    def __init__(self, path: Path) -> None:
        OSError.__init__(self, errno.ELOOP, "it is a symbolic link, and the suite never writes through one", str(path))


# -- the target ------------------------------------------------------------------------------------------------------


class TargetError(ConformanceError):
    """The target cannot be judged any further as configured: the run stops, and says why."""


class TargetUnreachable(TargetError):
    """The target could not be reached at all, or stopped answering; the run cannot be completed."""


class TargetStopped(TargetUnreachable):
    """The target answered before but stopped answering; what was judged so far stands."""


class TransportFailure(TargetUnreachable):
    """The TLS handshake or the proxy tunnel was refused (unknown CA, hostname mismatch, client certificate
    refused...): retrying cannot help, so the run ends at once with the one-line cause."""


class TargetNotOpened(TargetError, RuntimeError):
    """The embedded reference server could not start (its port cannot be bound): nothing was sent, and no report
    was written. A RuntimeError too, as the pytest plugin catches a target it cannot open."""


class TargetThrottling(TargetError):
    """The target throttled request after request even after waiting: the run ends incomplete."""


class BudgetExhausted(TargetError):
    """The --max-requests budget is spent; nothing more may be sent."""


class SetupRejected(TargetError):
    """The first requests of the run's own were all refused as unauthorised or not found, or all refused 400 and so
    was a request without credentials (``unauthenticated``: its status): the run stops, and the diagnosis says why
    (``answers``: how they were answered, by status, as the diagnosis counts them)."""

    def __init__(self, answers: Counter[str], *, unauthenticated: int | None = None) -> None:
        statuses = ", ".join(f"{status} x{count}" for status, count in sorted(answers.items()))
        also = (
            f", and so was a well-formed one without credentials ({unauthenticated}), which is answered 401"
            if unauthenticated is not None
            else ""
        )
        super().__init__(
            f"the first {sum(answers.values())} requests sent with the run's credentials were all refused "
            f"({statuses}){also}"
        )
        self.answers = answers
        self.unauthenticated = unauthenticated


# -- what a target sent ---------------------------------------------------------------------------------------------


class NotJson(ConformanceError, ValueError):
    """The text is not JSON (RFC 8259)."""


class TooDeep(ConformanceError, ValueError):
    """Valid JSON nested deeper than the suite parses: nothing can be said about its content, and it must never be
    called invalid. A ValueError, so that a caller that only wants a document treats it as unparseable."""

    def __init__(self, depth: int, *, limit: int) -> None:
        super().__init__(f"valid JSON nested {depth} levels deep, deeper than the suite parses ({limit} levels)")
        self.depth = depth
        self.limit = limit


# -- the suite's own rules -------------------------------------------------------------------------------------------


class GuardRefusal(ConformanceError):
    """The guard refused to send a request; never a target failure. A refused hand-written request is a harness
    fault that ends the run with an error verdict; a refused generated case is dropped (and counted) and the run
    goes on."""


class LibrarySendRefused(ConformanceError):
    """Schemathesis tried to send a request itself; every request must leave through the run's one client."""


class ChildFailed(ConformanceError):
    """A drawing child (engine/phases/drawing_child.py) will draw or answer no more: why. Never the target's doing;
    the run draws or judges in its own process instead."""


class RequestSignatureError(ConformanceError):
    """Why a request's signature was refused; the message is safe to show (never contains the SK or signature)."""


class SSHSigError(ConformanceError):
    """Base of the certificate signatures' errors, so a caller can refuse a bundle with a single ``except`` clause."""


class SignatureKeyError(SSHSigError):
    """A private key cannot be used for signing; the message names the file and the problem, never key material.

    It deliberately does not derive from the built-in ``KeyError``: that class quotes its message in ``str()``
    and would be swallowed by unrelated ``except KeyError`` handlers around dictionary lookups.
    """


class BundleSignatureError(SSHSigError):
    """A signature was not accepted; the one-line message says why."""


class AllowedSignersError(SSHSigError):
    """An allowed_signers text is malformed; the message names the line, as ssh-keygen's error does."""


class DcsFinding(ConformanceError):
    """A requirement failed: the message is the finding and its evidence, shown without a traceback."""


# -- control flow ----------------------------------------------------------------------------------------------------


class RunStopped(BaseException):
    """The run is over: nothing more may be sent. A BaseException, so that no library in between (hypothesis) takes
    it for a failing test case and shrinks or retries it."""


class Halted(RunStopped):
    """The run ended elsewhere (a signal, a stop found by another phase running at the same time): nothing more may
    be sent."""


class Interrupted(RunStopped):
    """SIGINT or SIGTERM arrived while requests were being sent."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
