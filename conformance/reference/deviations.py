"""Looking up faults and variants by name, for `serve --fault/--variant` and the embedded run."""

from __future__ import annotations

from collections.abc import Iterable

from conformance.reference.behaviour import Behaviour, Mod
from conformance.reference.faults import FAULTS
from conformance.reference.variants import VARIANTS, Latency


def build(
    faults: Iterable[str] = (), variants: Iterable[str] = (), seed: int | None = None, latency_ms: float = 0
) -> Behaviour:
    """The behaviour with the named deviations on, answers delayed by ``latency_ms``; ValueError names an unknown
    deviation and lists the known."""
    mods: list[Mod] = [Latency(latency_ms)] if latency_ms else []
    for kind, names, registry in (("fault", faults, FAULTS), ("variant", variants, VARIANTS)):
        for name in names:
            if name not in registry:
                known = ", ".join(sorted(registry))
                raise ValueError(f"unknown {kind} {name!r}; known {kind}s: {known}")
            mods.append(registry[name]())
    return Behaviour(mods, seed=seed)


def wants_token_auth(faults: Iterable[str] = (), variants: Iterable[str] = ()) -> bool:
    """Whether a named deviation is about IAM tokens (Mod.token_auth), so that a reference judging it must
    authenticate with a token rather than AK/SK; unknown names are build's to refuse."""
    named = [FAULTS.get(name) for name in faults] + [VARIANTS.get(name) for name in variants]
    return any(mod is not None and mod.token_auth for mod in named)


def keep_alive(faults: Iterable[str] = (), variants: Iterable[str] = ()) -> tuple[float | None, bool]:
    """How the HTTP server treats idle keep-alive connections for the named deviations: the seconds after which it
    closes one (None: its default), and whether its answers announce them; unknown names are build's to refuse."""
    named = [mod for mod in [FAULTS.get(name) for name in faults] + [VARIANTS.get(name) for name in variants] if mod]
    closing = [mod.idle_close_s for mod in named if mod.idle_close_s is not None]
    return (min(closing) if closing else None), any(mod.announces_idle_close for mod in named)


def listing(kind: str) -> list[str]:
    """One line per fault (with the requirements it breaks, and the fewest restartable+non-restartable fixtures
    with which its bug can show: ``min_fixtures``, what the kill matrix expects) or per variant."""
    registry = FAULTS if kind == "fault" else VARIANTS
    width = max(len(name) for name in registry)
    lines = []
    for name, mod in sorted(registry.items()):
        breaks = f"  [breaks {', '.join(mod.breaks)}]" if mod.breaks else ""
        warns = f"  [warns on {', '.join(mod.warns)}]" if mod.warns else ""
        fixtures = "" if kind != "fault" else f"  [{_shows_with(mod.min_fixtures)}]"
        lines.append(f"{name:<{width}}  {mod.summary}{breaks}{warns}{fixtures}")
    return lines


def _shows_with(fixtures: tuple[int, int]) -> str:
    restartable, not_restartable = fixtures
    if not any(fixtures):
        return "shows with no fixtures"
    return f"shows with {restartable}+{not_restartable} fixtures (restartable+non-restartable)"
