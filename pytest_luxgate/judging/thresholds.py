"""Threshold overrides: parsed, validated and layered over the defaults.

Each threshold's default, unit, direction and meaning is in its check's
registry row (judging/checks.py); THRESHOLDS collects them. Thresholds are data: scenario files, ini (`luxgate_thresholds`) and
`--luxgate-threshold KEY=VALUE` override them, validated here so a typo or an
absurd value is an error rather than a silently disabled check.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from .checks import CHECKS, THRESHOLDS, default_thresholds
from .spec import Threshold

__all__ = ["PAIRS", "THRESHOLDS", "Threshold", "check_pairs", "parse_assignments", "parse_overrides", "resolve",
           "validate_overrides"]


def _pairs() -> tuple[tuple[str, str], ...]:
    """(lower bound, upper bound) threshold pairs of one quantity: a key holding ``min`` with a
    "min" limit whose twin with ``max`` in its place has a "max" limit (rate_min_sps / rate_max_sps).
    Read from the registry, so a check that adds such a pair is covered without a list to keep."""
    out = []
    for key, spec in THRESHOLDS.items():
        if spec.limit != "min" or "min" not in key.split("_"):
            continue
        twin = "_".join("max" if part == "min" else part for part in key.split("_"))
        if twin in THRESHOLDS and THRESHOLDS[twin].limit == "max":
            out.append((key, twin))
    return tuple(out)


#: threshold pairs that bound one quantity from both sides: the lower may not exceed the upper
PAIRS = _pairs()


def _check_of(key: str) -> str:
    return next((f"the {c.name!r} check" for c in CHECKS.values() if key in c.thresholds), "its check")


def check_pairs(layers: Sequence[tuple[str, Mapping[str, float]]]) -> None:
    """Refuse a lower bound above its upper bound (no take could pass) once `layers` are laid
    over the defaults, later winning; each layer is (where its values come from, values).
    The ValueError names both values and where each came from."""
    for low, high in PAIRS:
        found = {}
        for key in (low, high):
            found[key] = (THRESHOLDS[key].default, "default")
            for source, values in layers:
                if key in values:
                    found[key] = (float(values[key]), source)
        (lo, lo_from), (hi, hi_from) = found[low], found[high]
        if lo > hi:
            unit = THRESHOLDS[low].unit
            raise ValueError(f"threshold {low} = {lo:g} {unit} ({lo_from}) is above {high} = {hi:g} {unit} "
                             f"({hi_from}): no take could pass {_check_of(low)}; lower {low} or raise {high}")


def validate_overrides(values: Mapping[str, Any]) -> dict[str, float]:
    """Check keys and values of a threshold override table; return floats."""
    out: dict[str, float] = {}
    for key, value in values.items():
        spec = THRESHOLDS.get(key)
        if spec is None:
            raise ValueError(f"unknown threshold {key!r}; known: {', '.join(sorted(THRESHOLDS))}")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"threshold {key!r} must be a number, got {value!r}")
        value = float(value)
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"threshold {key!r} must be finite, got {value}")
        if spec.unit in ("ratio", "s", "syl/s", "count") and value < 0:
            raise ValueError(f"threshold {key!r} is a {spec.unit} and cannot be negative ({value})")
        if spec.unit == "ratio" and value > 1:
            raise ValueError(f"threshold {key!r} is a ratio between 0 and 1, got {value}")
        if spec.unit == "MOS" and not 1 <= value <= 5:
            raise ValueError(f"threshold {key!r} is a mean opinion score between 1 and 5, got {value}")
        out[key] = value
    return out


def parse_assignments(items: list[str], what: str) -> dict[str, str]:
    """Parse ``KEY=VALUE`` strings from the command line or ini."""
    out: dict[str, str] = {}
    for item in items:
        for part in item.replace(",", " ").split():
            key, sep, value = part.partition("=")
            if not sep or not key:
                raise ValueError(f"{what}: expected KEY=VALUE, got {part!r}")
            out[key.strip()] = value.strip()
    return out


def parse_overrides(items: list[str], option: str) -> dict[str, float]:
    """``KEY=VALUE`` strings given to `option` (command line or ini) as validated overrides;
    a bad one raises ValueError naming the option, the key and the value."""
    numbers: dict[str, float] = {}
    for key, value in parse_assignments(items, option).items():
        try:
            numbers[key] = float(value)
        except ValueError:
            raise ValueError(f"{option} {key}: must be a number, got {value!r}") from None
    try:
        out = validate_overrides(numbers)
    except ValueError as exc:  # a value the table refuses: say which option gave it
        raise ValueError(f"{option}: {exc}") from None
    check_pairs([(option, out)])
    return out


def resolve(*layers: Mapping[str, float]) -> dict[str, float]:
    """Defaults overlaid by each layer in order (later wins)."""
    merged = default_thresholds()
    for layer in layers:
        merged.update(layer)
    return merged
