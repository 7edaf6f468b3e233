"""Fail closed (issue 16): a release gate never says PASS for what it did not judge.

Each case was once a silent green: a stack named with a typo, or one that crashes while
loading, skipped every cell and the run passed; a stack returning None, a tuple or calling
sys.exit lost its cells from the report; int16 samples were judged as float; an interrupted
run or a `-k` selection was headlined PASS. Now every cell the matrix defines is in every
report, a stack's fault is named in its cells' errors, and the verdict (report.json
`run.verdict`, SUMMARY.md, report.html, the terminal) is PASS only when every cell asked for
was judged on every check and passed.

Everything is real: Piper speaks, Whisper tiny.en listens, the user's project is a real
directory run by a real `pytest` process, Ctrl-C is a real SIGINT.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pytester_gate import FAST, read_report, run_gate
from reliability_ledger import (
    RAN,
    ctrl_c_reaches_it,
    gate_dir,
    gate_env,
    missing_survivors,
    record,
    register,
    report_of,
    run_subprocess,
    start_blocked_run,
)

ROWS = register([
    # a stack that cannot load: an error of the run, never a skip that passes
    ("stack_typo_module", "stack", "`--luxgate-stacks=espeak=mytts.espeak_stak:EspeakStack` (module misspelt)",
     "cells error: `cannot import module 'mytts.espeak_stak' ...; check the spelling, and is its directory on "
     "sys.path? ... set pythonpath = .`; exit 1, FAIL"),
    ("stack_typo_class", "stack", "class name misspelt", "cells error: `has no class 'EspeakStak' ...; its classes: EspeakStack`"),
    ("stack_not_on_sys_path", "stack", "own stack module in the project root, no `pythonpath` ini",
     "cells error naming `pythonpath = .`; with it in the ini the stack runs"),
    ("stack_raises_in_init", "stack", "raises in `__init__`", "cells error: `failed in RaisesInInit(): RuntimeError: ...`"),
    ("stack_raises_in_load", "stack", "raises in `load()`", "cells error: `failed in load(): OSError: ...`"),
    ("stack_unavailable", "stack", "cannot run here (`StackUnavailable`: weights, package, device)",
     "its tests fail with the reason (no `-rs` needed), cells `skipped` (not judged), INCOMPLETE, exit 1"),
    ("stack_returns_none", "stack", "`synthesize()` returns None", "cell error: `returned NoneType from synthesize(); expected Synthesized(...)`"),
    ("stack_returns_tuple", "stack", "`synthesize()` returns `(audio, rate)`", "cell error: `returned tuple from synthesize()`"),
    ("stack_sys_exit", "stack", "`sys.exit(3)` in `synthesize()`", "cell error: `called sys.exit(3) in synthesize()`; the run goes on"),
    ("stack_int16", "stack", "int16 samples", "runs: scaled by 1/32768 and noted (judged as the float take)"),
    ("stack_int64", "stack", "int64 samples (no PCM format)", "cell error: `Synthesized.audio must be float32 in [-1, 1]`"),
    # the run's verdict
    ("verdict_sigint", "verdict", "real SIGINT mid-run, the finished cell passed",
     "INCOMPLETE (SUMMARY, terminal, report.html), `run.passed: false`"),
    ("verdict_selection", "verdict", "`-k wer` or `-k test_baseline` after a failing full run",
     "PARTIAL, names the checks not run, `run.passed: false`; exit code of the selected tests"),
    ("verdict_nothing_judged", "verdict", "every stack of the run cannot load", "no cell judged: FAIL, exit 1"),
])

SC = "--luxgate-scenario=short_plain,punctuation_pauses"
SCENARIOS = ("short_plain", "punctuation_pauses")


def _summary(where: Path) -> str:
    return (where / "out" / "SUMMARY.md").read_text()


def _absent(report: dict[str, Any], stacks: list[str], prompts: tuple[str, ...] = ("own_voice",)) -> int:
    """Cells of the matrix (stacks x prompts x the two scenarios) missing from the report."""
    have = {(c["stack"], c["prompt"], c["scenario"]) for c in report["cells"]}
    return sum(1 for s in stacks for p in prompts for sc in SCENARIOS if (s, p, sc) not in have)


# -- stacks that misbehave: every cell in every report, the stack's fault named ------------------------
FAULTS = {"returns_none": "ReturnsNone", "returns_tuple": "ReturnsTuple", "exits_on_synthesize": "ExitsOnSynthesize",
          "raises_in_init": "RaisesInInit", "crashes_on_load": "CrashesOnLoad", "int16_audio": "Int16Audio",
          "int64_audio": "Int64Audio"}
TYPOS = {"typo_module": "fault_stackz:ReturnsNone", "typo_class": "fault_stacks:ReturnsNoneX"}
#: a stack that cannot be imported cannot say whether it clones a voice: its cells are taken to
#: be one per prompt (the two shipped prompts), so none of them can go unreported
PROMPTS = {s: ("prompt_a", "prompt_b") if s in TYPOS else ("own_voice",) for s in ["piper", *FAULTS, *TYPOS]}


@pytest.fixture(scope="module")
def fault_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess, dict[str, Any]]:
    where = gate_dir(tmp_path_factory.mktemp("faults"))
    stacks = ",".join(["piper", *(f"{n}=fault_stacks:{c}" for n, c in FAULTS.items()),
                       *(f"{n}={t}" for n, t in TYPOS.items())])
    res = run_subprocess(where, SC, "-k", "wer or clipping", stacks=stacks)
    return where, res, report_of(where)


STACK_FAULTS = {  # case -> (stack, text in every one of its cells' error)
    "stack_returns_none": ("returns_none", "stack 'returns_none' returned NoneType from synthesize(); expected "
                                           "Synthesized(audio, sample_rate, info) (pytest_luxgate.stacks.base)"),
    "stack_returns_tuple": ("returns_tuple", "stack 'returns_tuple' returned tuple from synthesize(); expected "
                                             "Synthesized(audio, sample_rate, info)"),
    "stack_sys_exit": ("exits_on_synthesize", "stack 'exits_on_synthesize' called sys.exit(3) in synthesize()"),
    "stack_raises_in_init": ("raises_in_init", "stack 'raises_in_init' (fault_stacks:RaisesInInit) failed in "
                                               "RaisesInInit(): RuntimeError: config.json: missing key 'voice' (injected)"),
    "stack_raises_in_load": ("crashes_on_load", "stack 'crashes_on_load' (fault_stacks:CrashesOnLoad) failed in load(): "
                                                "OSError: libmlx.so: cannot open shared object file (injected)"),
    "stack_int64": ("int64_audio", "stack 'int64_audio' returned int64 samples; Synthesized.audio must be float32 in "
                                   "[-1, 1] (integer PCM is accepted as uint8, int8, int16, int32)"),
    "stack_typo_module": ("typo_module", "stack 'typo_module': cannot import module 'fault_stackz' "
                                         "(fault_stackz:ReturnsNone): No module named 'fault_stackz'; check the "
                                         "spelling, and is its directory on sys.path?"),
    "stack_typo_class": ("typo_class", "stack 'typo_class': module 'fault_stacks' has no class 'ReturnsNoneX' "
                                       "(fault_stacks:ReturnsNoneX); its classes: "),
}


@pytest.mark.parametrize("case", sorted(STACK_FAULTS))
def test_misbehaving_stack_errors_every_cell_with_its_fault_named(fault_run, case: str) -> None:
    where, res, report = fault_run
    stack, message = STACK_FAULTS[case]
    assert res.returncode == pytest.ExitCode.TESTS_FAILED, res.stdout[-3000:] + res.stderr[-3000:]
    mine = [c for c in report["cells"] if c["stack"] == stack]
    assert _absent(report, [stack], PROMPTS[stack]) == 0 and len(mine) == 2 * len(PROMPTS[stack]), \
        "every cell of the stack is in the report"
    for cell in mine:
        assert cell["status"] == "error" and message in cell["error"], cell.get("error")
    # the reason is in the terminal without -rs (a failing test's line), and in SUMMARY.md
    assert message in res.stdout
    assert f"### {stack} / {PROMPTS[stack][0]} / short_plain" in _summary(where) and message in _summary(where)
    # no internal traceback: the fault is the stack's, said once in a sentence
    assert "Traceback" not in res.stdout and "AttributeError" not in res.stdout
    assert report["run"]["verdict"] == "fail" and report["run"]["passed"] is False
    record(case, lost=_absent(report, [stack], PROMPTS[stack]) + missing_survivors(report, {("piper", "own_voice", s): RAN
                                                                            for s in SCENARIOS}))


def test_every_cell_of_the_matrix_is_counted(fault_run) -> None:
    where, _, report = fault_run
    cells = sum(2 * len(p) for p in PROMPTS.values())
    assert sum(_absent(report, [s], p) for s, p in PROMPTS.items()) == 0 and report["summary"]["cells"] == cells
    assert f"{cells} cells: " in _summary(where)
    assert _summary(where).startswith("# LuxTTS quality gate: FAIL\n")


def test_typo_class_lists_the_classes_the_module_has(fault_run) -> None:
    _, _, report = fault_run
    cell = next(c for c in report["cells"] if c["stack"] == "typo_class")
    assert "ReturnsNone" in cell["error"].split("its classes: ")[1].split(", ")


def test_int16_samples_are_scaled_and_judged_as_the_float_take(fault_run) -> None:
    """Read as float, int16 speech is thousands of times over full scale (clip_frac 0.93, WER 31
    before); scaled by its format it is the same take Piper gave, judged the same."""
    _, _, report = fault_run
    cells = {(c["stack"], c["scenario"]): c for c in report["cells"]}
    for scenario in SCENARIOS:
        pcm, ref = cells[("int16_audio", scenario)], cells[("piper", scenario)]
        assert pcm["status"] in RAN and pcm["checks"]["clipping"]["passed"], pcm["checks"]
        assert pcm["metrics"]["clip_frac"] == ref["metrics"]["clip_frac"] < 0.0005
        assert pcm["metrics"]["wer"] == ref["metrics"]["wer"] and pcm["transcript"] == ref["transcript"]
        assert pcm["notes"] == ["stack 'int16_audio' returned int16 samples: read as PCM, divided by 32768 "
                                "(Synthesized.audio should be float32 in [-1, 1])"]
    record("stack_int16", lost=missing_survivors(report, {("int16_audio", "own_voice", s): RAN for s in SCENARIOS}),
           tried=len(SCENARIOS))


# -- the user's own project: the README's example, a typo, and the rootdir not on sys.path -------------
ESPEAK = '''
from pytest_luxgate.stacks.piper import PiperStack


class EspeakStack(PiperStack):
    """Stands in for a user's engine: real speech (Piper's), the user's own module."""

    name = "espeak"
'''


def _user_project(root: Path, ini: str = "") -> Path:
    (root / "mytts").mkdir(parents=True)
    (root / "mytts" / "__init__.py").write_text("")
    (root / "mytts" / "espeak_stack.py").write_text(ESPEAK)
    (root / "tests").mkdir()
    (root / "tests" / "test_tts_gate.py").write_text("from pytest_luxgate.gate_suite import *  # noqa: F401,F403\n")
    (root / "pyproject.toml").write_text(f"[tool.pytest.ini_options]\n{ini}")
    return root


def _pytest(root: Path, *args: str) -> subprocess.CompletedProcess:
    """`pytest ...` as a user types it: the console script, which (unlike `python -m pytest`)
    does not put the current directory on sys.path (-P does the same for `python -m`)."""
    return subprocess.run([sys.executable, "-P", "-m", "pytest", "tests/test_tts_gate.py", "--luxgate-output=out",
                           "--luxgate-scenario=short_plain", *FAST, *args],
                          cwd=root, env=gate_env(), capture_output=True, text=True, timeout=900)


def test_own_stack_typo_or_not_importable_is_an_error_naming_the_fix(tmp_path: Path) -> None:
    root = _user_project(tmp_path / "project")
    for case, target, message in (
            ("stack_typo_module", "mytts.espeak_stak:EspeakStack",
             "stack 'espeak': cannot import module 'mytts.espeak_stak' (mytts.espeak_stak:EspeakStack): No module "
             "named 'mytts"),
            ("stack_not_on_sys_path", "mytts.espeak_stack:EspeakStack",
             "stack 'espeak': cannot import module 'mytts.espeak_stack' (mytts.espeak_stack:EspeakStack): No module "
             "named 'mytts'; check the spelling, and is its directory on sys.path? pytest does not add your "
             "project's root: set `pythonpath = .` under [tool.pytest.ini_options] in pyproject.toml")):
        res = _pytest(root, f"--luxgate-stacks=espeak={target}", "-k", "wer")
        assert res.returncode == pytest.ExitCode.TESTS_FAILED, res.stdout[-3000:] + res.stderr[-3000:]
        assert message in res.stdout, res.stdout[-3000:]  # no -rs needed
        report = json.loads((root / "out" / "report.json").read_text())
        cells = report["cells"]  # not importable, it cannot say whether it clones: one cell per prompt
        assert sorted(c["prompt"] for c in cells) == ["prompt_a", "prompt_b"]
        assert all(c["status"] == "error" and message in c["error"] for c in cells), cells
        assert report["run"]["verdict"] == "fail" and report["run"]["passed"] is False
        summary = (root / "out" / "SUMMARY.md").read_text()
        assert summary.startswith("# LuxTTS quality gate: FAIL\n") and message in summary
        assert "luxgate: FAIL: 2 cells error" in res.stdout
        record(case, lost=2 - len(cells))
    record("verdict_nothing_judged", lost=0)


def test_own_stack_runs_with_pythonpath_in_the_ini(tmp_path: Path) -> None:
    """The README's example: `pythonpath = .` puts the project root on sys.path, and the stack runs."""
    root = _user_project(tmp_path / "project", ini='pythonpath = ["."]\n')
    res = _pytest(root, "--luxgate-stacks=espeak=mytts.espeak_stack:EspeakStack", "-k", "wer")
    report = json.loads((root / "out" / "report.json").read_text())
    (cell,) = report["cells"]
    assert cell["status"] in RAN and "wer" in cell["checks"], cell.get("error")
    assert res.returncode == (0 if cell["status"] == "passed" else 1), res.stdout[-3000:]
    assert report["run"]["verdict"] in ("partial", "fail")  # -k wer: the other checks were not run
    record("stack_not_on_sys_path", lost=0, tried=2)


# -- a stack that cannot run here: its cells are not judged, and the run is not green ---------------
def test_unavailable_stack_is_not_judged_and_not_green(pytester: pytest.Pytester) -> None:
    res = run_gate(pytester, "--luxgate-scenario=short_plain", "-k", "wer",
                   stacks="piper,cannot_load=fault_stacks:CannotLoad")
    assert res.ret == pytest.ExitCode.TESTS_FAILED
    res.stdout.fnmatch_lines(["*[[]cannot_load-own_voice-short_plain[]] not judged: stack 'cannot_load' cannot run "
                              "here: weights not found in /nonexistent (injected)*"])
    report = read_report(pytester)
    cells = {c["stack"]: c for c in report["cells"]}
    assert cells["cannot_load"]["status"] == "skipped" and cells["piper"]["status"] in RAN
    assert report["run"]["verdict"] in ("incomplete", "fail") and report["run"]["passed"] is False
    if report["run"]["verdict"] == "incomplete":
        assert "1 cell of stack 'cannot_load' not judged: weights not found" in " ".join(report["run"]["verdict_reasons"])
        assert (pytester.path / "out" / "SUMMARY.md").read_text().startswith("# LuxTTS quality gate: INCOMPLETE\n")
    record("stack_unavailable", lost=missing_survivors(report, {("piper", "own_voice", "short_plain"): RAN}))


# -- the verdict of a selection and of an interrupted run ---------------------------------------------
def test_a_selection_after_a_failing_full_run_is_partial_never_pass(pytester: pytest.Pytester) -> None:
    full = run_gate(pytester, "--luxgate-scenario=short_plain", stacks="clipped_gain=fault_stacks:ClippedGain")
    assert full.ret == pytest.ExitCode.TESTS_FAILED
    run = read_report(pytester)["run"]
    assert run["verdict"] == "fail" and run["passed"] is False
    for selection, missing in (("test_baseline", "checks not run on every cell: clipping, pauses, quality, rate, "
                                                 "repeat, seams, start, tail, voice, wer"),
                               ("wer", "checks not run on every cell: baseline, clipping, pauses, quality, rate, "
                                       "repeat, seams, start, tail, voice")):
        res = run_gate(pytester, "--luxgate-scenario=short_plain", "-k", selection,
                       stacks="clipped_gain=fault_stacks:ClippedGain")
        assert res.ret == pytest.ExitCode.OK, res.stdout.str()[-2000:]  # the selected tests passed (or skipped)
        run = read_report(pytester)["run"]
        assert run["verdict"] == "partial" and run["passed"] is False, run
        assert missing in run["verdict_reasons"]
        summary = (pytester.path / "out" / "SUMMARY.md").read_text()
        assert summary.startswith("# LuxTTS quality gate: PARTIAL\n") and missing in summary
        html = (pytester.path / "out" / "report.html").read_text()
        assert '<span class="verdict partial">PARTIAL</span>' in html and missing in html
        res.stdout.fnmatch_lines([f"luxgate: PARTIAL: *{missing}*"])
    record("verdict_selection", tried=2)


def test_a_full_run_that_passes_is_a_pass(pytester: pytest.Pytester) -> None:
    """The other way: every check on every cell, all passed (or not applicable): PASS."""
    res = run_gate(pytester, "--luxgate-scenario=short_plain")
    report = read_report(pytester)
    (cell,) = report["cells"]
    assert cell["status"] == "passed", cell.get("checks")
    assert res.ret == pytest.ExitCode.OK
    assert report["run"]["verdict"] == "pass" and report["run"]["passed"] is True
    assert report["run"]["judged"] == {"cells": 1, "of": 1} and report["run"]["verdict_reasons"] == []
    assert (pytester.path / "out" / "SUMMARY.md").read_text().startswith("# LuxTTS quality gate: PASS\n")
    res.stdout.fnmatch_lines(["luxgate: PASS: all 1 cells of the matrix judged on every check and passed"])


def test_sigint_is_incomplete_never_pass(tmp_path: Path) -> None:
    where = tmp_path
    proc = start_blocked_run(where, SC, "-k", "wer or clipping", finished=2, preexec_fn=ctrl_c_reaches_it)
    os.kill(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, out[-3000:] + err[-3000:]
    report = report_of(where)
    (done,) = report["cells"]
    assert done["scenario"] == "short_plain" and done["status"] == "passed", done.get("checks")
    run = report["run"]
    assert run["complete"] is False and run["verdict"] == "incomplete" and run["passed"] is False
    assert "the run was interrupted (KeyboardInterrupt)" in run["verdict_reasons"][0]
    assert _summary(where).startswith("# LuxTTS quality gate: INCOMPLETE\n")
    assert '<span class="verdict incomplete">INCOMPLETE</span>' in (where / "out" / "report.html").read_text()
    assert "luxgate: INCOMPLETE: the run was interrupted" in out
    record("verdict_sigint", lost=missing_survivors(report, {("blocks_on_wait", "own_voice", "short_plain"): RAN}))
