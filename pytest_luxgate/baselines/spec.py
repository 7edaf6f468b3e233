"""How each metric is compared with its baseline (METRICS), and the baseline options."""
from __future__ import annotations

import math
import platform
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..judging.checks import REPORTED
from ..judging.spec import Tolerance

if TYPE_CHECKING:

    pass

FORMAT = 1                     # the file format; a file of another format must be re-recorded
DIRECTIONS = ("higher", "lower", "both", "info")
DIRECTION_TEXT = {"higher": "higher is worse", "lower": "lower is worse",
                  "both": "a change either way is worse", "info": "shown, not judged"}


#: the metrics a baseline holds, in file order: every report metric whose registry row
#: (judging/checks.py) says how to compare it; absent values are skipped
METRICS: dict[str, Tolerance] = {k: r.baseline for k, r in REPORTED.items() if r.baseline is not None}


class BaselineError(ValueError):
    """A baseline option, tolerance table or file is unusable; the message says which and why."""


# -- options ------------------------------------------------------------------

@dataclass(frozen=True)
class BaselineOptions:
    #: metric -> {"atol": .., "rtol": ..} overrides of METRICS (run-wide)
    tolerances: dict[str, dict[str, float]] = field(default_factory=dict)
    #: None: one baseline for every platform; else the tag that keys this platform's files
    platform: str | None = None
    #: also snapshot the transcript verbatim (pinned environments only)
    transcripts: bool = False
    #: a cell without a (current) baseline fails instead of being skipped
    required: bool = False


def platform_tag() -> str:
    """``linux-x86_64``, ``darwin-arm64``, ``win32-x86_64``: where numerics legitimately differ."""
    machine = platform.machine().lower()
    machine = {"amd64": "x86_64", "aarch64": "arm64"}.get(machine, machine) or "unknown"
    return f"{sys.platform}-{machine}"


def parse_bool(value: str | bool, what: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("", "0", "false", "no", "off"):
        return False
    if text in ("1", "true", "yes", "on"):
        return True
    raise BaselineError(f"{what} must be true or false (yes/no, on/off, 1/0), got {value!r}")


def parse_options(*, tolerance: str = "", platform_opt: str = "", transcripts: str | bool = "",
                  required: str | bool = "") -> BaselineOptions:
    """The four baseline options as given on the command line or in ini (strings)."""
    tolerances: dict[str, dict[str, float]] = {}
    for part in tolerance.replace(",", " ").split():
        key, sep, value = part.partition("=")
        if not sep or not key:
            raise BaselineError(f"--luxgate-baseline-tolerance: expected METRIC=ATOL, METRIC.atol=X or "
                                f"METRIC.rtol=X, got {part!r}")
        name, _, kind = key.partition(".")
        try:
            number = float(value)
        except ValueError:
            raise BaselineError(f"--luxgate-baseline-tolerance: {key} must be a number, got {value!r}") from None
        table = validate_tolerances({name: {kind or "atol": number}}, "--luxgate-baseline-tolerance")
        tolerances.setdefault(name, {}).update(table[name])
    tag = platform_opt.strip()
    if tag.lower() in ("", "off", "false", "no", "0", "none"):
        plat = None
    elif tag.lower() in ("auto", "on", "true", "yes", "1"):
        plat = platform_tag()
    else:
        if not all(c.isalnum() or c in "._-" for c in tag):
            raise BaselineError(f"--luxgate-baseline-platform: a tag of letters, digits, '.', '_' and '-' "
                                f"(or off/auto), got {tag!r}")
        plat = tag
    return BaselineOptions(tolerances, plat, parse_bool(transcripts, "--luxgate-baseline-transcripts"),
                           parse_bool(required, "--luxgate-baseline-required"))


def validate_tolerances(table: Mapping[str, Any], where: str) -> dict[str, dict[str, float]]:
    """Check a ``[baseline]`` table: ``metric = ATOL`` or ``metric = {atol = .., rtol = ..}``."""
    out: dict[str, dict[str, float]] = {}
    for name, value in table.items():
        if name not in METRICS:
            raise BaselineError(f"{where}: unknown baseline metric {name!r}; known: {', '.join(METRICS)}")
        if METRICS[name].direction == "info":
            raise BaselineError(f"{where}: {name!r} is shown, not judged; set a tolerance on "
                                f"{'wer_errors' if name == 'wer' else 'another metric'} instead")
        spec = value if isinstance(value, Mapping) else {"atol": value}
        bad = set(spec) - {"atol", "rtol"}
        if bad:
            raise BaselineError(f"{where}: baseline tolerance {name!r} takes atol and rtol, not {sorted(bad)}")
        row: dict[str, float] = {}
        for kind, number in spec.items():
            if isinstance(number, bool) or not isinstance(number, (int, float)) \
                    or not math.isfinite(number) or number < 0:
                raise BaselineError(f"{where}: baseline tolerance {name}.{kind} must be a finite number "
                                    f">= 0, got {number!r}")
            row[kind] = float(number)
        out[name] = row
    return out


def tolerances_for(options: BaselineOptions, scenario: Mapping[str, Mapping[str, float]]
                   ) -> dict[str, dict[str, float]]:
    """Defaults, then the run's overrides, then the scenario's ``[baseline]`` table."""
    merged = {name: {"atol": m.atol, "rtol": m.rtol} for name, m in METRICS.items()}
    for layer in (options.tolerances, scenario):
        for name, row in layer.items():
            merged[name].update(row)
    return merged


