"""The search space of `luxgate tune`: which generation parameters move, and within what range.

Where a space comes from, first match wins:

1. a TOML file (``--space FILE``): one entry per parameter,
   ``length_scale = [0.8, 1.3]`` or ``[num_steps] min = 4  max = 12`` or
   ``[return_smooth] values = [true, false]``; only the parameters listed move;
2. the stack's own ``tune_space()`` (optional in the stack protocol), same shapes.

Nothing else: a range is never borrowed from another stack by parameter name (a custom
stack's ``speed`` in words per minute is not LuxTTS's speed factor). A stack that declares
no space and a run without ``--space`` is refused, naming both ways to give one. The
built-in stacks declare theirs (stacks/piper.py, stacks/luxtts/stacks.py).

Every parameter must be one the stack declares in ``default_params()``: a typo
must be an error, not a dimension that silently changes nothing.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from ...core.tomlfile import read_toml


class SpaceError(ValueError):
    """A search space is unusable; the message names the source and the fix."""


@dataclass(frozen=True)
class Dim:
    """One tuned parameter: a numeric range (int or float) or a list of values."""

    name: str
    kind: str                      # "int" | "float" | "choice"
    low: float = 0.0
    high: float = 0.0
    values: tuple[Any, ...] = ()

    @property
    def span(self) -> float:
        return self.high - self.low

    def clip(self, value: Any) -> Any:
        """The nearest legal value (rounded: ints to int, floats to 4 decimals)."""
        if self.kind == "choice":
            return value if value in self.values else self.values[0]
        v = min(self.high, max(self.low, float(value)))
        return int(round(v)) if self.kind == "int" else round(v, 4)

    def to_dict(self) -> dict[str, Any]:
        if self.kind == "choice":
            return {"values": list(self.values)}
        return {"min": self.low, "max": self.high, "type": self.kind}


@dataclass(frozen=True)
class Space:
    dims: tuple[Dim, ...]
    source: str

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.dims)

    def clip(self, params: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(params)
        for d in self.dims:
            out[d.name] = d.clip(params[d.name])
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "dims": {d.name: d.to_dict() for d in self.dims}}


def _dim(name: str, spec: Any, default: Any, where: str) -> Dim:
    if isinstance(spec, Mapping) and "values" in spec or isinstance(default, bool):
        # a switch (bool default) is always a choice between its two states
        values = spec["values"] if isinstance(spec, Mapping) and "values" in spec else [True, False]
        if not isinstance(values, list) or len(values) < 2:
            raise SpaceError(f"{where}: {name!r} needs 'values' with at least two entries")
        return Dim(name, "choice", values=tuple(values))
    if isinstance(spec, Mapping):
        unknown = set(spec) - {"min", "max", "type"}
        if unknown:
            raise SpaceError(f"{where}: {name!r} has unknown key(s) {sorted(unknown)}; "
                             "use min, max (and type = \"int\"|\"float\") or values")
        lo, hi = spec.get("min"), spec.get("max")
    elif isinstance(spec, (list, tuple)) and len(spec) == 2:
        lo, hi = spec
    else:
        raise SpaceError(f"{where}: {name!r} must be [min, max], a table with min/max, "
                         f"or a table with values; got {spec!r}")
    for v in (lo, hi):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise SpaceError(f"{where}: {name!r} range must be two finite numbers, got {lo!r}, {hi!r}")
    if not lo < hi:
        raise SpaceError(f"{where}: {name!r} range [{lo}, {hi}] is empty; give min < max")
    if not isinstance(default, (int, float)):
        raise SpaceError(f"{where}: {name!r} is not numeric for this stack (default {default!r}); "
                         "give it 'values' instead")
    declared = spec.get("type") if isinstance(spec, Mapping) else None
    # an int parameter with whole-number bounds moves in whole steps; anything else is continuous
    # (Piper's voice config gives length_scale as the JSON integer 1)
    whole = isinstance(default, int) and all(isinstance(v, int) for v in (lo, hi))
    kind = declared or ("int" if whole else "float")
    if kind not in ("int", "float"):
        raise SpaceError(f"{where}: {name!r} type must be \"int\" or \"float\", got {kind!r}")
    return Dim(name, kind, float(lo), float(hi))


def build_space(defaults: Mapping[str, Any], table: Mapping[str, Any], source: str) -> Space:
    """A space from a {name: spec} table, checked against the stack's parameters."""
    unknown = [k for k in table if k not in defaults]
    if unknown:
        raise SpaceError(f"{source}: the stack has no parameter(s) {unknown}; "
                         f"it declares: {', '.join(sorted(defaults))}")
    dims = tuple(_dim(name, spec, defaults[name], source) for name, spec in table.items())
    if not dims:
        raise SpaceError(f"{source}: no parameter to tune; name at least one of "
                         f"{', '.join(sorted(defaults))}")
    return Space(dims, source)


def load_space_file(path: Path, defaults: Mapping[str, Any]) -> Space:
    return build_space(defaults, read_toml(path, "--space", SpaceError), f"--space {path}")


def default_space(stack: Any, defaults: Mapping[str, Any], name: str | None = None) -> Space:
    """The stack's declared `tune_space()`; SpaceError (naming --space) when it declares none.

    `name`: the name the stack was asked for by (``--stack NAME=...``); a stack class
    need not carry a ``name`` attribute."""
    name = name or str(getattr(stack, "name", type(stack).__name__))
    declared = getattr(stack, "tune_space", None)
    if not callable(declared):
        raise SpaceError(f"--stack {name}: the stack declares no search space (a tune_space() method) "
                         f"and no --space FILE was given; give --space FILE with a range for the "
                         f"parameters to tune (the stack's: {', '.join(sorted(defaults)) or 'none'})")
    try:
        table = declared()
    except Exception as exc:  # a plug-in's own bug: say whose, in one line
        raise SpaceError(f"--stack {name}: its tune_space() raised {type(exc).__name__}: {exc}") from None
    if not isinstance(table, Mapping):
        raise SpaceError(f"--stack {name}: its tune_space() returned {type(table).__name__}, "
                         "expected a table {parameter: [min, max]}")
    return build_space(defaults, table, f"stack {name!r} tune_space()")
