"""Pure parts of `luxgate tune`: the score of a candidate and the next candidates to try.

Score (lower is better), compared field by field:

1. ``failed``: how many (scenario, check) verdicts fail, a cell that could not
   be produced counting as every check failing. A candidate that fixes a check
   always beats one that only moves numbers.
2. ``excess``: how far the failing checks are beyond their limits, each as a
   distance normalised by the limit's unit (10 dB for dB limits, the limit
   itself for seconds/ratios/counts with a small floor) and capped at 4, summed.
   This gives the search a direction while a check still fails.
3. ``slack``: minus the mean headroom of the passing checks (same normalisation,
   capped at 1): among candidates that pass the same checks, the one furthest
   from every limit wins, so the tuned take is not a borderline pass.

The original loop ranked by ``3.2*asr - 0.7*start - 0.8*tail - 10*clip - ...``
(docs/ORIGIN.md): a weighted sum in which a good ASR similarity could buy back a
failing tail. Counting failures first makes "all checks pass" the goal, as the
gate sees it; the legacy score is still recorded with each evaluation.

The search is a (1+λ) evolution strategy with mirrored sampling: each round
draws λ candidates around the best point so far (a random subset of the
parameters moved by a Gaussian step, the step a fraction of each range; every
other candidate is the mirror image of the previous one), keeps the best, and
widens the step after a round that improved, halves it after one that did not.
Everything random comes from one numpy Generator, so a seed fixes the path.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import numpy as np

from ...judging.thresholds import THRESHOLDS
from .space import Space

EXCESS_CAP = 4.0
SLACK_CAP = 1.0
STEP_START = 0.25   # Gaussian sigma as a share of each range
STEP_MIN = 0.03
STEP_MAX = 0.5


@dataclass(frozen=True, order=True)
class Score:
    failed: int
    excess: float
    slack: float

    @property
    def passed(self) -> bool:
        return self.failed == 0

    def to_list(self) -> list[float]:
        return [self.failed, self.excess, self.slack]


def _scale(threshold: float, thresholds: Mapping[str, float]) -> float:
    """A unit of distance for a limit: what 'one limit away' means for its unit."""
    units = {THRESHOLDS[k].unit for k, v in thresholds.items() if k in THRESHOLDS and v == threshold}
    unit = units.pop() if len(units) == 1 else ""
    if unit == "dB":
        return 10.0
    floor = {"s": 0.05, "ratio": 0.05, "count": 1.0, "syl/s": 1.0}.get(unit, 0.05)
    return max(abs(threshold), floor)


def distance(value: float | None, threshold: float | None, thresholds: Mapping[str, float]) -> float | None:
    """|value - limit| in units of the limit; None when either is not a number."""
    if value is None or threshold is None:
        return None
    if not (math.isfinite(value) and math.isfinite(threshold)):
        return None
    return abs(float(value) - float(threshold)) / _scale(float(threshold), thresholds)


def score(verdicts: Iterable[Mapping[str, Any]], thresholds: Iterable[Mapping[str, float]],
          errors: int = 0, checks_per_cell: int = 0) -> Score:
    """Score one candidate from its verdicts (one {check: CheckResult dict} per scenario).

    `errors` cells produced no take at all; each counts as `checks_per_cell`
    failures at the cap.
    """
    failed = errors * checks_per_cell
    excess = float(errors * checks_per_cell * EXCESS_CAP)
    slack: list[float] = []
    for results, th in zip(verdicts, thresholds):
        for r in results.values():
            d = distance(r.get("value"), r.get("threshold"), th)
            if not r.get("passed"):
                failed += 1
                excess += EXCESS_CAP if d is None else min(EXCESS_CAP, d)
            elif d is not None:
                slack.append(min(SLACK_CAP, d))
    mean_slack = sum(slack) / len(slack) if slack else 0.0
    return Score(failed, round(excess, 4), round(-mean_slack, 4))


def params_key(params: Mapping[str, Any]) -> str:
    return json.dumps(dict(params), sort_keys=True, default=str)


def _mutate(best: Mapping[str, Any], space: Space, step: float, rng: np.random.Generator,
            ) -> tuple[dict[str, Any], dict[str, float]]:
    """One Gaussian move of a random, non-empty subset of the parameters."""
    d = len(space.dims)
    p = min(1.0, 2.0 / d)  # about two parameters per move: big enough to leave a plateau
    chosen = [dim for dim in space.dims if rng.random() < p]
    if not chosen:
        chosen = [space.dims[int(rng.integers(d))]]
    out, deltas = dict(best), {}
    for dim in chosen:
        if dim.kind == "choice":
            others = [v for v in dim.values if v != best[dim.name]]
            out[dim.name] = others[int(rng.integers(len(others)))]
            continue
        delta = float(rng.normal(0.0, step)) * dim.span
        if dim.kind == "int" and abs(delta) < 1.0:
            delta = 1.0 if delta >= 0 else -1.0  # an int must move at least one notch
        deltas[dim.name] = delta
        out[dim.name] = dim.clip(float(best[dim.name]) + delta)
    return out, deltas


def _mirror(best: Mapping[str, Any], space: Space, deltas: Mapping[str, float]) -> dict[str, Any]:
    out = dict(best)
    for dim in space.dims:
        if dim.name in deltas:
            out[dim.name] = dim.clip(float(best[dim.name]) - deltas[dim.name])
    return out


def propose(best: Mapping[str, Any], space: Space, step: float, rng: np.random.Generator,
            n: int, seen: set[str]) -> list[dict[str, Any]]:
    """Up to `n` new candidates around `best`, none of them already in `seen` (updated)."""
    out: list[dict[str, Any]] = []
    tries = 0
    pending_mirror: dict[str, Any] | None = None
    while len(out) < n and tries < 50 * n:
        tries += 1
        if pending_mirror is not None:
            cand, pending_mirror = pending_mirror, None
        else:
            cand, deltas = _mutate(best, space, step, rng)
            pending_mirror = _mirror(best, space, deltas) if deltas else None
        key = params_key(cand)
        if key in seen:
            continue
        seen.add(key)
        out.append(cand)
    return out


def next_step(step: float, improved: bool) -> float:
    """Wider after a round that improved, half after one that did not."""
    return min(STEP_MAX, step * 1.5) if improved else max(STEP_MIN, step * 0.5)

