"""Comparing a cell's entry with its baseline: a pure function of two entries and the tolerances."""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .spec import DIRECTION_TEXT, FORMAT, METRICS

if TYPE_CHECKING:

    pass



@dataclass
class Delta:
    metric: str
    baseline: float | None
    now: float | None
    delta: float | None       # now - baseline, on the compared scale (floor/magnitude applied)
    tolerance: float
    direction: str
    verdict: str              # "same" (within tolerance), "worse", "better", "n/a", "info"
    atol: float = 0.0
    rtol: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"baseline": self.baseline, "now": self.now,
                "delta": None if self.delta is None else round(self.delta, 6),
                "tolerance": round(self.tolerance, 6), "direction": self.direction, "verdict": self.verdict}

    def text(self) -> str:
        spec = METRICS[self.metric]
        unit = f" {spec.unit}" if spec.unit else ""

        def show(v: float | None) -> str:
            if v is None:
                return "n/a" + (f" (counts as the {spec.floor:g} dB floor)" if spec.floor is not None else "")
            return f"{v:.{max(spec.decimals, 0)}f}{unit}" if spec.decimals else f"{v:g}{unit}"

        moved = "" if self.delta is None else f" ({self.delta:+.4g}{unit})"
        how = f" = {self.atol:g}{unit} + {self.rtol:.0%} of the baseline" if self.rtol else ""
        return (f"{self.metric}: baseline {show(self.baseline)}, now {show(self.now)}{moved}; "
                f"tolerance {self.tolerance:.4g}{unit}{how}; {DIRECTION_TEXT[self.direction]}")


@dataclass
class Comparison:
    #: "passed" (nothing beyond tolerance), "improved", "regressed", "stale" (the cell's text,
    #: parameters, chunking or transcript option changed), "incomparable" (another ASR or
    #: seed), "unreadable" (not a baseline file of this format)
    status: str
    deltas: list[Delta] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    transcript: tuple[str, str] | None = None   # (baseline, now) when the exact transcript differs

    @property
    def ok(self) -> bool:
        return self.status in ("passed", "improved")

    def worse(self) -> list[Delta]:
        return [d for d in self.deltas if d.verdict == "worse"]

    def better(self) -> list[Delta]:
        return [d for d in self.deltas if d.verdict == "better"]


#: what the scenario file defines: when it changed, the cell is another cell and its baseline stale
_DEFINITION = ("text", "scenario_params", "scenario_chunking")
#: what the run chose (ASR, seed, parameter and chunking options): another experiment, not a regression
_APPARATUS = ("asr", "seed", "run_params", "run_chunking", "takes")
#: conditions an entry leaves out at their usual value (one take per cell: no key, files as before)
_USUAL = {"takes": 1}


def compare(baseline: Mapping[str, Any], now: Mapping[str, Any],
            tolerances: Mapping[str, Mapping[str, float]]) -> Comparison:
    """Compare two entries (as `entry_from_record` builds them). Pure; never raises on bad data."""
    if not isinstance(baseline, Mapping) or baseline.get("luxgate_baseline") != FORMAT \
            or not isinstance(baseline.get("metrics"), Mapping):
        return Comparison("unreadable", reasons=[f"not a luxgate baseline of format {FORMAT}"])
    bcond, ncond = baseline.get("conditions", {}), now.get("conditions", {})
    bcond = {**_USUAL, **bcond}
    ncond = {**_USUAL, **ncond}
    stale = [k for k in _DEFINITION if bcond.get(k) != ncond.get(k)]
    other = [k for k in _APPARATUS if bcond.get(k) != ncond.get(k)]
    if "transcript" in now and "transcript" not in baseline:
        stale.append("transcript (the baseline was recorded without --luxgate-baseline-transcripts)")
    if stale or other:
        reasons = [f"{k} differs: baseline {bcond.get(k)!r}, now {ncond.get(k)!r}"
                   if k in bcond or k in ncond else k for k in stale + other]
        return Comparison("stale" if stale else "incomparable", reasons=reasons)
    deltas = [_delta(name, baseline["metrics"].get(name), now["metrics"].get(name), tolerances[name])
              for name in METRICS if name in tolerances]
    transcript = None
    if "transcript" in now and baseline.get("transcript") != now.get("transcript"):
        transcript = (str(baseline.get("transcript")), str(now.get("transcript")))
    if transcript or any(d.verdict == "worse" for d in deltas):
        status = "regressed"
    elif any(d.verdict == "better" for d in deltas):
        status = "improved"
    else:
        status = "passed"
    return Comparison(status, deltas, transcript=transcript)


def _delta(name: str, base: Any, now: Any, tol: Mapping[str, float]) -> Delta:
    spec = METRICS[name]

    def scale(v: Any) -> float | None:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            return spec.floor  # not measurable: the floor where there is one (silence), else n/a
        v = abs(float(v)) if spec.magnitude else float(v)
        return v if spec.floor is None else max(v, spec.floor)

    b, n = scale(base), scale(now)

    def clean(v: Any) -> float | None:
        return None if isinstance(v, bool) or not isinstance(v, (int, float)) else v

    atol, rtol = tol["atol"], tol["rtol"]
    if b is None or n is None:
        return Delta(name, clean(base), clean(now), None, atol, spec.direction, "n/a", atol, rtol)
    allowed = atol + rtol * abs(b)
    change = n - b
    if spec.direction == "info":
        return Delta(name, clean(base), clean(now), change, allowed, spec.direction, "info", atol, rtol)
    # 1e-9: values are stored rounded, so a change of exactly the tolerance is within it
    worse = {"higher": change, "lower": -change, "both": abs(change)}[spec.direction]
    if worse > allowed + 1e-9:
        verdict = "worse"
    elif spec.direction != "both" and -worse > allowed + 1e-9:
        verdict = "better"
    else:
        verdict = "same"
    return Delta(name, clean(base), clean(now), change, allowed, spec.direction, verdict, atol, rtol)


def regression_message(cmp: Comparison, location: str) -> str:
    worse = cmp.worse()
    lines = [f"{len(worse)} metric(s) worse than the baseline beyond tolerance" if worse
             else "the transcript differs from the baseline"]
    lines += [f"  {d.text()}" for d in worse]
    if cmp.transcript:
        lines.append(f"  transcript: baseline {cmp.transcript[0]!r}, now {cmp.transcript[1]!r} "
                     "(exact, --luxgate-baseline-transcripts)")
    lines.append(f"  baseline: {location}; if the change is intended, re-record with --snapshot-update")
    return "\n".join(lines)


