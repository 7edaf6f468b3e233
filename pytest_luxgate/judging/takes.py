"""A cell judged on several takes (seeds): ranking takes, and one verdict per check over them.

A flow-matching engine is stochastic: one seed can pass where another
garbles a word. With `--luxgate-takes N` every take is judged, and a check
passes for the cell when at most ``floor(max_fail_rate * N)`` takes fail it
(default rate 0: every take must pass, so N = 1 keeps its meaning). The
report also gives the Wilson 95 % interval of the failure rate, so a reader
sees how little 3 or 5 takes can tell.
"""
from __future__ import annotations

import hashlib
import math
import statistics
from typing import Any, Mapping, Sequence

from ..core.types import CheckResult

#: two-sided 95 % normal quantile for the Wilson interval
_Z = 1.959964


def take_seed(cell_seed: int, index: int) -> int:
    """Take `index` of a cell: take 0 is the cell's own seed (N = 1 unchanged), the rest derived."""
    if index == 0:
        return cell_seed
    digest = hashlib.sha256(f"{cell_seed}|take|{index}".encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


def allowed_failures(takes: int, max_fail_rate: float) -> int:
    """How many of `takes` may fail a check for the cell to pass it."""
    return math.floor(max_fail_rate * takes + 1e-9)


def wilson(failures: int, takes: int) -> tuple[float, float]:
    """Wilson score 95 % interval of a failure rate seen as failures/takes."""
    if takes <= 0:
        return 0.0, 1.0
    p = failures / takes
    denom = 1 + _Z * _Z / takes
    centre = (p + _Z * _Z / (2 * takes)) / denom
    half = _Z * math.sqrt(p * (1 - p) / takes + _Z * _Z / (4 * takes * takes)) / denom
    return round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4)


def take_score(cell: Mapping[str, Any]) -> tuple[int, float]:
    """Rank takes: checks passed first, then the original tools' score as tie-break."""
    checks = cell.get("checks", {})
    passed = sum(1 for c in checks.values() if c.get("passed"))
    legacy = cell.get("legacy", {})
    asr = float(legacy.get("asr_sim", 0.0))
    score = (3.2 * asr - 0.7 * float(legacy.get("start_ratio", 0.0))
             - 0.8 * float(legacy.get("tail_ratio", 0.0))
             - 10.0 * float(cell.get("metrics", {}).get("clip_frac", 0.0))
             - 1.8 * max(0.0, float(legacy.get("repeat_ratio", 0.0)) - 0.35)
             - 0.9 * max(0.0, 0.30 - asr))
    return passed, round(score, 6)


def over_takes(name: str, results: Sequence[CheckResult], seeds: Sequence[int],
               max_fail_rate: float) -> CheckResult:
    """One verdict for check `name` from its verdict on each take."""
    n = len(results)
    failed = [(i, r) for i, r in enumerate(results) if not r.passed]
    allowed = allowed_failures(n, max_fail_rate)
    low, high = wilson(len(failed), n)
    passed = len(failed) <= allowed
    rule = (f"{len(failed)}/{n} takes fail {name} (at most {allowed} may: --luxgate-max-fail-rate "
            f"{max_fail_rate:g}; failure rate 95 % interval {low:.2f}-{high:.2f})")
    if failed:
        # the worst failing take first: its message says what and where
        worst_i, worst = failed[0]
        message = f"{rule}\ntake {worst_i} (seed {seeds[worst_i]}): {worst.message}"
        if len(failed) > 1:  # the others, one line each
            message += "\nall failing takes:\n" + "\n".join(
                f"  take {i} (seed {seeds[i]}): {r.message.splitlines()[0]}" for i, r in failed)
    else:
        message = f"{rule}; take 0: {results[0].message}"
    details = {"takes": [{"index": i, "seed": seeds[i], "passed": r.passed, "value": r.value}
                         for i, r in enumerate(results)],
               "failed": len(failed), "allowed": allowed, "fail_rate_95": [low, high]}
    return CheckResult(name, passed, round(len(failed) / n, 4), max_fail_rate, message, details)


def median_metrics(per_take: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The cell's metrics over its takes: each number's median (what a baseline compares)."""
    out: dict[str, Any] = {}
    for key in per_take[0]:
        values = [m.get(key) for m in per_take]
        numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)
                   and math.isfinite(v)]
        out[key] = round(float(statistics.median(numbers)), 6) if numbers else values[0]
    return out
