"""The gate on the LuxTTS stacks: `-m mlx` / `-m torch` run the whole matrix
through the real stacks on the tiny random checkpoint; missing weights skip
neither is judged (the run is not green, the reason says what to do); markers pass
--strict-markers.

The tiny checkpoint speaks noise, so WER and friends fail here by design:
these tests assert the machinery (every cell synthesized by the real code,
tagged with its stack, every check executed and recorded), not the verdicts.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from luxtts_tiny import requires_luxtts, tiny_checkpoint  # noqa: F401  (fixture)
from pytester_gate import read_report, run_gate

CORE_CHECKS = {"wer", "repeat", "start", "tail", "clipping", "rate"}
STANDARD = {"short_plain", "medium_conversational", "long_paragraph", "numbers_symbols", "punctuation_pauses"}

#: runs after the gate cells in the same process (-p no:randomly keeps file order):
#: LuxTTS must have left no env vars, root handlers or warning filters behind
UNRELATED = '''
import logging, os, warnings

def test_zz_unrelated_code_sees_a_clean_process():
    # the stacks' own variables (KMP_INIT_AT_FORK is joblib's, set when the quality
    # check's librosa imports it; test_luxtts_stacks checks the stacks alone for KMP_*)
    assert not [k for k in os.environ if k.startswith(("TORCHINDUCTOR", "LUXTTS_"))]
    # basicConfig's stderr handler (LuxTTS triggers it via logging.warning); pytest's own are subclasses
    assert [h for h in logging.getLogger().handlers if type(h) is logging.StreamHandler] == []
    warnings.warn("an unrelated warning must still be an error under -W error", UserWarning)
'''


def _run_matrix(pytester: pytest.Pytester, marker: str, checkpoint: Path) -> tuple[pytest.RunResult, dict]:
    pytester.makepyfile(test_zz_unrelated=UNRELATED)
    with pytest.MonkeyPatch.context() as mp:
        # the child inherits our env: earlier tests in this process (transformers sets
        # TORCHINDUCTOR_CACHE_DIR, librosa's joblib KMP_INIT_AT_FORK) must not mask a leak
        for key in [k for k in os.environ if k.startswith(("KMP_", "TORCHINDUCTOR", "LUXTTS_"))]:
            mp.delenv(key)
        result = run_gate(pytester, "-m", f"{marker} or not luxgate", f"--luxgate-luxtts-path={checkpoint}",
                          "--luxgate-luxtts-device=cpu", "-W", "error", "--strict-markers",
                          "-p", "no:randomly", stacks="", subprocess=True)
    return result, read_report(pytester)


@requires_luxtts
@pytest.mark.parametrize("marker", ["mlx", "torch"])
def test_marker_runs_the_full_matrix_through_the_real_stack(pytester: pytest.Pytester, marker: str,
                                                            tiny_checkpoint: Path) -> None:  # noqa: F811
    result, report = _run_matrix(pytester, marker, tiny_checkpoint)
    # the unrelated test ran after LuxTTS in the same process: clean env, and -W error still bites
    result.stdout.fnmatch_lines(["*_ test_zz_unrelated_code_sees_a_clean_process _*",
                                 "E * UserWarning: an unrelated warning must still be an error under -W error"])
    cells = report["cells"]
    assert {c["stack"] for c in cells} == {marker}, "-m selects the stack, piper cells deselected"
    assert {(c["prompt"], c["scenario"]) for c in cells} == {(p, s) for p in ("prompt_a", "prompt_b")
                                                             for s in STANDARD}
    for cell in cells:
        assert cell["status"] in ("passed", "failed"), (cell["cell"], cell.get("error"), cell.get("skipped"))
        assert CORE_CHECKS <= set(cell["checks"]), cell["cell"]
        stack = cell["versions"]["stack"]
        assert stack["stack"] == marker and stack["model_dir"] == str(tiny_checkpoint)
        assert cell["sample_rate"] == 48000 and cell["audio_s"] > 0.3
        params = cell["versions"]["params"]
        assert params["num_steps"] == 6 and params["guidance_scale"] == 2.6 and params["ref_duration"] == 2.4
        assert isinstance(cell["versions"]["seed"], int)
    # random weights speak noise: the WER check must have caught it somewhere
    assert any(not c["checks"]["wer"]["passed"] for c in cells)
    assert report["run"]["stacks"] == ["piper", marker]  # piper by default, plus what -m names


@requires_luxtts
def test_scenario_params_and_option_params_reach_the_luxtts_stack(pytester: pytest.Pytester,
                                                                  tiny_checkpoint: Path) -> None:  # noqa: F811
    extra = pytester.mkdir("extra")
    (extra / "slow.toml").write_text('id = "slow_take"\ntext = "Slow and steady."\n[params]\nspeed = 0.5\n')
    result = run_gate(pytester, "-m", "torch", f"--luxgate-luxtts-path={tiny_checkpoint}",
                      f"--luxgate-scenarios={extra}", "--luxgate-scenario=slow_take,short_plain",
                      "--luxgate-params=num_steps=3", "-k", "prompt_a and test_wer", stacks="",
                      subprocess=True)
    assert result.ret in (0, 1)
    cells = {c["scenario"]: c for c in read_report(pytester)["cells"]}
    assert cells["slow_take"]["versions"]["params"]["speed"] == 0.5
    assert cells["short_plain"]["versions"]["params"]["speed"] == 0.96
    assert {c["versions"]["params"]["num_steps"] for c in cells.values()} == {3}


def test_missing_weights_leave_both_stacks_not_judged_with_the_fix(pytester: pytest.Pytester, tmp_path: Path) -> None:
    """-m mlx/torch asks for those stacks: without weights their cells are not judged, and a run
    that judged nothing it asked for is not green (no -rs needed to see why)."""
    result = run_gate(pytester, "-m", "mlx or torch", f"--luxgate-luxtts-path={tmp_path / 'no-weights'}",
                      "--luxgate-scenario=short_plain", "--strict-markers", stacks="")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*not judged: stack 'torch' cannot run here: LuxTTS weights directory*no-weights "
                                 "(from --luxgate-luxtts-path) does not exist; point the gate at LuxTTS weights*"])
    report = read_report(pytester)
    cells = report["cells"]
    assert {c["stack"] for c in cells} == {"mlx", "torch"}
    assert all(c["status"] == "skipped" and "README 'LuxTTS stacks'" in c["skipped"] for c in cells)
    # piper, in the matrix by default beside what -m names, was not selected: not part of the verdict
    run = report["run"]
    assert run["verdict"] == "incomplete" and run["passed"] is False and run["judged"] == {"cells": 0, "of": 4}
    assert any(r.startswith("2 cells of stack 'torch' not judged: LuxTTS weights directory") for r in run["verdict_reasons"])
    summary = (pytester.path / "out" / "SUMMARY.md").read_text()
    assert summary.startswith("# LuxTTS quality gate: INCOMPLETE\n") and "⏭️ not judged" in summary
    result.stdout.fnmatch_lines(["luxgate: INCOMPLETE: 2 cells of stack * not judged: *"])


def test_markers_select_stacks_and_pass_strict_markers(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_luxgate_markers="from pytest_luxgate.gate_suite import *\n")
    for expr, stacks in (("mlx", {"mlx"}), ("torch", {"torch"}), ("luxtts", {"mlx", "torch"}),
                         ("mlx or torch", {"mlx", "torch"})):
        result = pytester.runpytest("--collect-only", "-q", "-m", expr, "--strict-markers", "-p", "no:cacheprovider")
        ids = [line for line in result.outlines if "::test_" in line]
        assert ids and {i.split("[", 1)[1].split("-", 1)[0] for i in ids} == stacks, expr
    plain = pytester.runpytest("--collect-only", "-q", "--strict-markers", "-p", "no:cacheprovider")
    assert {line.split("[", 1)[1].split("-", 1)[0] for line in plain.outlines if "::test_" in line} == {"piper"}
