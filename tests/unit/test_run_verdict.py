"""The run's verdict (report/verdict.py) and how the reports headline it: never PASS for what
was not judged."""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from pytest_luxgate.report.matrix import build_report
from pytest_luxgate.report.summary import render_summary
from pytest_luxgate.report.verdict import run_verdict
from pytest_luxgate.speech.synthesis import _float_audio
from pytest_luxgate.stacks import base
from pytest_luxgate.stacks.base import (
    StackError,
    StackLoadError,
    register_stack,
    stack_class,
)

CHECKS = ["wer", "clipping"]


def _cell(scenario: str, status: str = "passed", checks: tuple[str, ...] = ("wer", "clipping"),
          stack: str = "s", **extra: Any) -> dict[str, Any]:
    judged = {n: {"name": n, "passed": status != "failed"} for n in checks} if status in ("passed", "failed") else {}
    return {"stack": stack, "prompt": "own_voice", "scenario": scenario, "status": status, "checks": judged, **extra}


ALL = ["s/own_voice/a", "s/own_voice/b"]


def test_every_cell_judged_on_every_check_and_passed_is_a_pass() -> None:
    v = run_verdict([_cell("a"), _cell("b")], expected=ALL, checks=CHECKS)
    assert (v.verdict, v.passed, v.reasons, v.judged, v.expected) == ("pass", True, [], 2, 2)
    assert v.line() == "luxgate: PASS: all 2 cells of the matrix judged on every check and passed"


def test_a_failed_errored_or_lost_cell_fails_the_run() -> None:
    for status in ("failed", "error", "lost"):
        v = run_verdict([_cell("a"), _cell("b", status)], expected=ALL, checks=CHECKS)
        assert v.verdict == "fail" and not v.passed and v.reasons == [f"1 cell {status}"]
    assert run_verdict([_cell("a"), _cell("b")], expected=ALL, checks=CHECKS,
                       failures=["required stack 's' ran no cells"]).verdict == "fail"


def test_skipped_cells_are_not_judged_and_never_a_pass() -> None:
    cells = [_cell("a"), _cell("b", "skipped", skipped="weights not found")]
    v = run_verdict(cells, expected=ALL, checks=CHECKS)
    assert v.verdict == "incomplete" and not v.passed
    assert v.reasons == ["1 cell of stack 's' not judged: weights not found"]
    only = run_verdict([_cell("a", "skipped", skipped="x"), _cell("b", "skipped", skipped="x")], expected=ALL)
    assert only.verdict == "incomplete" and only.judged == 0


def test_an_interrupted_run_is_incomplete_even_when_what_finished_passed() -> None:
    v = run_verdict([_cell("a")], expected=ALL, checks=CHECKS, interrupted="interrupted (KeyboardInterrupt)")
    assert v.verdict == "incomplete" and not v.passed
    assert v.reasons == ["the run was interrupted (KeyboardInterrupt): only the cells that finished are in the report",
                         "1 of 2 cells of the matrix not run (s/own_voice/b)"]


def test_a_selection_is_partial_never_a_pass() -> None:
    fewer_cells = run_verdict([_cell("a")], expected=ALL, checks=CHECKS)
    assert fewer_cells.verdict == "partial" and fewer_cells.reasons == ["1 of 2 cells of the matrix not run (s/own_voice/b)"]
    fewer_checks = run_verdict([_cell("a", checks=("wer",)), _cell("b", checks=("wer",))], expected=ALL, checks=CHECKS)
    assert fewer_checks.verdict == "partial" and fewer_checks.reasons == ["checks not run on every cell: clipping"]
    # a check that does not apply to a cell (no seams, a stack that does not clone) was asked and answered
    answered = [_cell(s, checks=("wer",), skipped_checks={"clipping": "n/a"}) for s in "ab"]
    assert run_verdict(answered, expected=ALL, checks=CHECKS).verdict == "pass"
    # -k test_baseline with no baseline recorded: nothing was judged, and it is still the selection's doing
    nothing = [_cell(s, "skipped", skipped_checks={"baseline": "no baseline"}) for s in "ab"]
    assert run_verdict(nothing, expected=ALL, checks=CHECKS).verdict == "partial"
    # a shard is a part of the matrix by design: the merge of the shards has the matrix's verdict
    shard = run_verdict([_cell("a")], expected=ALL, checks=CHECKS, shard="1/2")
    assert shard.verdict == "partial" and shard.reasons == [
        "shard 1/2: 1 of 2 cells of the matrix; `luxgate merge` the shards' reports for the matrix's verdict"]
    # a failure is a failure whatever the selection
    assert run_verdict([_cell("a", "failed", checks=("wer",))], expected=ALL, checks=CHECKS).verdict == "fail"


def test_summary_and_report_headline_the_verdict() -> None:
    cells = [_cell("a")]
    v = run_verdict(cells, expected=ALL, checks=CHECKS)
    md = render_summary(build_report(cells, {"complete": True, **v.to_run()}))
    assert md.startswith("# LuxTTS quality gate: PARTIAL\n")
    assert "> - 1 of 2 cells of the matrix not run (s/own_voice/b)" in md and "1 of 2 cells judged" in md
    skipped = [_cell("a"), _cell("b", "skipped", skipped="weights not found")]
    md = render_summary(build_report(skipped, {"complete": True, **run_verdict(skipped, expected=ALL).to_run()}))
    assert md.startswith("# LuxTTS quality gate: INCOMPLETE\n") and "⏭️ not judged" in md
    # a report written before run.verdict existed still reads as it did
    assert render_summary(build_report(cells, {"passed": True})).startswith("# LuxTTS quality gate: PASS\n")


@pytest.mark.parametrize(("dtype", "scale"), [("int16", 32768), ("int32", 2 ** 31), ("int8", 128)])
def test_integer_pcm_is_scaled_by_its_format_and_noted(dtype: str, scale: int) -> None:
    x = 0.5 * np.sin(np.linspace(0, 20, 1000))
    pcm = np.round(x * (scale - 1)).astype(dtype)
    audio, notes = _float_audio("s", pcm)
    assert audio.dtype == np.float32 and np.max(np.abs(audio - x)) < 2.0 / min(scale, 2 ** 15)
    assert notes == [f"stack 's' returned {dtype} samples: read as PCM, divided by {scale} "
                     "(Synthesized.audio should be float32 in [-1, 1])"]
    u8, _ = _float_audio("s", np.array([0, 128, 255], dtype=np.uint8))
    assert u8.tolist() == [-1.0, 0.0, 127 / 128]


@pytest.mark.parametrize("dtype", ["int64", "uint16", "bool", "complex64", "<U3"])
def test_samples_with_no_known_scale_are_refused(dtype: str) -> None:
    with pytest.raises(StackError, match=rf"stack 's' returned {np.dtype(dtype)} samples; Synthesized.audio must be "
                                         r"float32 in \[-1, 1\] \(integer PCM is accepted as uint8, int8, int16, int32\)"):
        _float_audio("s", np.zeros(4, dtype=dtype))
    assert _float_audio("s", np.zeros(4))[1] == []  # float64 is float: no note


def test_a_stack_name_that_cannot_import_says_what_and_how(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(base, "_EXTRA", dict(base._EXTRA))  # these names stay in this test
    register_stack("typo_module", "pytest_luxgate.stacks.pipr:PiperStack")
    with pytest.raises(StackLoadError, match=r"stack 'typo_module': cannot import module 'pytest_luxgate.stacks.pipr' "
                                             r"\(pytest_luxgate.stacks.pipr:PiperStack\): No module named .*check the "
                                             r"spelling, and is its directory on sys.path\? .*`pythonpath = \.`"):
        stack_class("typo_module")
    register_stack("typo_class", "pytest_luxgate.stacks.piper:PiperStak")
    with pytest.raises(StackLoadError, match=r"module 'pytest_luxgate.stacks.piper' has no class 'PiperStak' "
                                             r"\(pytest_luxgate.stacks.piper:PiperStak\); its classes: PiperStack"):
        stack_class("typo_class")
