"""The several-takes rule as pure functions: both ways."""
from __future__ import annotations

import pytest

from pytest_luxgate.core.types import CheckResult
from pytest_luxgate.judging.takes import allowed_failures, median_metrics, over_takes, take_seed, wilson


def _r(passed: bool, message: str = "msg") -> CheckResult:
    return CheckResult("wer", passed, 0.0 if passed else 0.5, 0.2, message)


def test_take_zero_is_the_cells_seed_and_the_rest_differ() -> None:
    seeds = [take_seed(42, k) for k in range(6)]
    assert seeds[0] == 42 and len(set(seeds)) == 6 and seeds == [take_seed(42, k) for k in range(6)]


@pytest.mark.parametrize("n, rate, allowed", [(1, 0.0, 0), (5, 0.0, 0), (5, 0.2, 1), (5, 0.39, 1), (4, 0.5, 2),
                                              (10, 0.1, 1), (3, 0.999, 2)])
def test_allowed_failures(n: int, rate: float, allowed: int) -> None:
    assert allowed_failures(n, rate) == allowed


def test_all_pass_passes_and_one_failure_fails_at_rate_zero() -> None:
    ok = over_takes("wer", [_r(True)] * 3, [1, 2, 3], 0.0)
    assert ok.passed and ok.message.startswith("0/3 takes fail wer") and ok.value == 0.0
    bad = over_takes("wer", [_r(True), _r(False, "wer 0.5 (limit <= 0.2)\n  diff"), _r(True)], [1, 2, 3], 0.0)
    assert not bad.passed and bad.message.startswith("1/3 takes fail wer (at most 0 may")
    assert "take 1 (seed 2): wer 0.5 (limit <= 0.2)\n  diff" in bad.message
    assert bad.details["failed"] == 1 and bad.details["takes"][1] == {"index": 1, "seed": 2, "passed": False,
                                                                     "value": 0.5}
    assert over_takes("wer", [_r(True), _r(False), _r(True)], [1, 2, 3], 0.34).passed  # floor(1.02) = 1


def test_wilson_interval_narrows_with_more_takes() -> None:
    low3, high3 = wilson(0, 3)
    low30, high30 = wilson(0, 30)
    assert low3 == 0.0 and high3 > 0.5 and high30 < 0.15
    assert wilson(5, 10)[0] < 0.5 < wilson(5, 10)[1]


def test_median_metrics_over_takes() -> None:
    got = median_metrics([{"wer": 0.0, "onset_s": 0.1, "seam_count": None},
                          {"wer": 0.5, "onset_s": 0.3, "seam_count": None},
                          {"wer": 0.1, "onset_s": None, "seam_count": None}])
    assert got == {"wer": 0.1, "onset_s": 0.2, "seam_count": None}
