"""Looking up faults and variants by name, for `serve --fault/--variant` and the embedded run."""

from __future__ import annotations

from collections.abc import Iterable

from conformance.reference.behaviour import Behaviour
from conformance.reference.faults import FAULTS
from conformance.reference.variants import VARIANTS


def build(faults: Iterable[str] = (), variants: Iterable[str] = (), seed: int | None = None) -> Behaviour:
    """The behaviour with the named deviations on; ValueError names an unknown one and lists the known."""
    mods = []
    for kind, names, registry in (("fault", faults, FAULTS), ("variant", variants, VARIANTS)):
        for name in names:
            if name not in registry:
                known = ", ".join(sorted(registry))
                raise ValueError(f"unknown {kind} {name!r}; known {kind}s: {known}")
            mods.append(registry[name]())
    return Behaviour(mods, seed=seed)


def listing(kind: str) -> list[str]:
    """One line per fault (with the requirements it breaks) or per variant."""
    registry = FAULTS if kind == "fault" else VARIANTS
    width = max(len(name) for name in registry)
    lines = []
    for name, mod in sorted(registry.items()):
        breaks = f"  [breaks {', '.join(mod.breaks)}]" if mod.breaks else ""
        lines.append(f"{name:<{width}}  {mod.summary}{breaks}")
    return lines
