"""Every baseline tolerance clears the spread its metric showed under the perturbations a release
meets (bench/baseline_spread.py: -n 0/-n 2/no xdist, CT2_FORCE_CPU_ISA GENERIC/AVX/AVX2/AVX512, on
the default gate's cells), so a baseline comparison cannot flip from machine to machine."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results_baseline_spread.json"
sys.path.insert(0, str(ROOT / "bench"))

from baseline_spread import allowance, spread  # noqa: E402

from pytest_luxgate.baselines.spec import METRICS  # noqa: E402

DATA = json.loads(RESULTS.read_text())
PERTURBED = list(DATA["perturbations"].values())


def test_the_spread_was_measured_on_every_perturbation() -> None:
    names = set(DATA["perturbations"])
    assert {"-n 0", "-n 2", "no xdist", "ISA GENERIC", "ISA AVX", "ISA AVX2"} <= names
    assert all(len(run) == 5 for run in PERTURBED)  # the five default cells, none lost


@pytest.mark.parametrize("metric", [m for m, t in METRICS.items() if t.direction != "info"])
def test_tolerance_clears_the_measured_spread(metric: str) -> None:
    measured, cell = spread(PERTURBED, metric)
    if measured is None:
        pytest.skip(f"{metric}: not reported by the default cells (a listener or seam metric)")
    # a baseline fails when the change exceeds the allowance (baselines/compare.py)
    assert allowance(metric, PERTURBED) >= measured, (
        f"{metric}: tolerance {allowance(metric, PERTURBED)} does not clear the spread {measured} "
        f"measured in {cell}")
