"""The shape of one registry row: what a check is, in data.

A check is a judge function plus the facts every other part of the tool
needs about it: the thresholds it reads (default, unit, direction), the
numbers it puts in the report (and how each is compared with a baseline and
shown in the HTML), what a take must have for it to apply, and for a
listener check the model it loads and what keys its cached result. The rows
themselves live next to their functions in `judging/checks.py`; the plugin,
the CLI, the report, the HTML and the baselines read them from there.

Nothing here imports the rest of the package: the types are plain data.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping

if TYPE_CHECKING:
    import numpy as np

    from ..core.types import CheckResult
    from .analysis import Evidence


@dataclass(frozen=True)
class Threshold:
    default: float
    unit: str          # "ratio" (0..1), "s", "dB", "syl/s", "count", "score", "MOS" (1..5)
    limit: str         # "max": value must be <= threshold; "min": value must be >= threshold
    help: str


@dataclass(frozen=True)
class Tolerance:
    """How one report metric is compared with its baseline."""

    direction: str              # "higher" / "lower": that way is worse; "both": any change; "info"
    atol: float                 # absolute tolerance, in the metric's unit
    rtol: float = 0.0           # plus this share of |baseline|
    unit: str = ""
    floor: float | None = None  # values below (and None, "not measurable") count as the floor
    magnitude: bool = False     # compare |value| (seam level jumps are signed)
    decimals: int = 4           # stored rounding: keeps float noise out of the diff
    why: str = ""


@dataclass(frozen=True)
class Reported:
    """One number a check puts in the report (report.json `metrics`, JUnit, HTML)."""

    get: Callable[[Evidence], Any]
    #: thresholds the HTML shows it against (empty: a fact, not judged on its own)
    limits: tuple[str, ...] = ()
    #: the HTML compares |value| with the limit (a level jump is bad either way)
    magnitude: bool = False
    #: the limit applies only in context (loops the text does not explain): shown, never marked
    reference: bool = False
    #: how a baseline compares it (None: not baselined)
    baseline: Tolerance | None = None


@dataclass(frozen=True)
class Listener:
    """A model beyond ASR and VAD that a check needs. It loads only when its check is selected
    (pytest items or `luxgate check --checks`), so `module` is imported lazily: these models
    pull in torch or onnxruntime."""

    module: str                  # pytest_luxgate.listeners.<module>
    run: str                     # its function: (audio, rate[, prompt_audio, prompt_rate]) -> result
    result: str                  # its result class, rebuilt from the cache as result(**to_dict())
    packages: tuple[str, ...]    # distributions whose versions key a cached result
    uses_prompt: bool = False    # judged against the cell's voice prompt


@dataclass(frozen=True)
class Check:
    """One registry row. `judge(evidence, thresholds) -> CheckResult` is the verdict."""

    name: str
    judge: Callable[[Evidence, dict[str, float]], CheckResult]
    #: what the check asserts, one sentence: the gate test's docstring and `--help` text
    summary: str
    #: thresholds this check defines (others may read them too, e.g. prompt_noise_margin_db)
    thresholds: Mapping[str, Threshold] = field(default_factory=dict)
    #: report metrics, in report order
    metrics: Mapping[str, Reported] = field(default_factory=dict)
    #: what the take must have for the check to apply: "seams" (chunk joins), "prompt" (a voice prompt)
    needs: str | None = None
    #: a listener model it needs
    listener: Listener | None = None
    #: a pure measurement of its own, kept in `Evidence.measured[name]` by `analyze`:
    #: (evidence so far, audio, sample_rate) -> any object with to_dict()
    measure: Callable[[Evidence, np.ndarray, int], Any] | None = None
