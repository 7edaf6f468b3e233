"""The check registry is the one place a check is described: every part reads it."""
from __future__ import annotations

import importlib

import numpy as np

from pytest_luxgate import gate_suite
from pytest_luxgate.baselines.spec import METRICS
from pytest_luxgate.judging.analysis import Evidence
from pytest_luxgate.judging.checks import (
    CHECKS,
    LISTENERS,
    REPORTED,
    THRESHOLDS,
    check_start,
)
from pytest_luxgate.judging.thresholds import resolve


def test_every_check_is_a_gate_test_with_its_summary() -> None:
    for name, row in CHECKS.items():
        test = getattr(gate_suite, f"test_{name}")
        assert test.__doc__ == row.summary and f"test_{name}" in gate_suite.__all__
    assert gate_suite.__all__[-1] == "test_baseline"


def test_rows_are_consistent() -> None:
    defined = [k for row in CHECKS.values() for k in row.thresholds]
    assert len(defined) == len(set(defined)) == len(THRESHOLDS)  # each threshold in exactly one row
    for key, row in REPORTED.items():
        assert all(lim in THRESHOLDS for lim in row.limits), key
    assert set(METRICS) == {k for k, r in REPORTED.items() if r.baseline is not None}
    assert list(METRICS) == [k for k in REPORTED if k in METRICS]  # file order is report order
    for name, spec in LISTENERS.items():
        module = importlib.import_module(f"pytest_luxgate.listeners.{spec.module}")
        assert callable(getattr(module, spec.run)) and isinstance(getattr(module, spec.result), type), name
        assert callable(module.unavailable), name


def test_a_failing_start_carries_its_marks_and_a_clean_one_none(monkeypatch) -> None:
    class Start:  # what metrics.edges measures, for a take with 0.3 s of garbage before "Hello"
        vad_onset_s, first_word_start_s, onset_s, first_word = 0.1, 0.4, 0.1, "Hello"
        lead_garbage_s, pre_onset_noise_db, pre_onset_s = 0.3, -60.0, 0.1
        pre_onset_click_db, pre_onset_click_at_s = -50.0, None
        text_start_s, before_text_s, before_text_from_s, text_first_phone = 0.42, 0.0, None, "HH"

    ev = Evidence.__new__(Evidence)
    ev.start, ev.prompt_background_db, ev.text = Start(), None, "Hello there."
    th = resolve()
    bad = check_start(ev, th)
    assert not bad.passed and bad.marks == [[0.1, 0.4]] and bad.to_dict()["marks"] == [[0.1, 0.4]]
    Start.lead_garbage_s = 0.0
    good = check_start(ev, th)
    assert good.passed and "marks" not in good.to_dict()
    assert np.isfinite(th["lead_garbage_s"])
