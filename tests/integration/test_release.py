"""Release mode (--luxgate-require / ini luxgate_require) and JUnit XML properties."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from pytester_gate import read_report, run_gate

STACKS = "piper,cannot_load=fault_stacks:CannotLoad"


def test_without_release_mode_an_unloadable_stack_is_not_judged_and_not_green(pytester: pytest.Pytester) -> None:
    """Every stack of the run was asked for: one that cannot run here leaves its cells unjudged,
    and the run is not green even without --luxgate-require (issue 16)."""
    res = run_gate(pytester, "--luxgate-scenario=short_plain", "-k", "wer or rate", stacks=STACKS)
    assert res.ret == pytest.ExitCode.TESTS_FAILED
    report = read_report(pytester)
    assert {c["stack"]: c["status"] for c in report["cells"]} == {"piper": "passed", "cannot_load": "skipped"}
    assert report["run"]["verdict"] == "incomplete" and report["run"]["passed"] is False
    assert "release_failures" not in report["run"]


def test_required_stack_that_cannot_load_fails_the_run_under_xdist_with_junit(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nluxgate_require = cannot_load\n")  # the ini key, as release CI sets it
    res = run_gate(pytester, "--luxgate-scenario=short_plain", "-k", "wer or rate", "-n", "2",
                   "--junitxml=junit.xml", stacks=STACKS, subprocess=True)
    assert res.ret == pytest.ExitCode.TESTS_FAILED
    res.stdout.fnmatch_lines([
        "*required stack (--luxgate-require) did not run: weights not found in /nonexistent (injected)*",
        "*luxgate: RELEASE GATE FAILED (--luxgate-require): required stack 'cannot_load' was skipped*"])
    report = read_report(pytester)
    assert report["run"]["passed"] is False and report["run"]["config"]["require"] == ["cannot_load"]
    (why,) = report["run"]["release_failures"]
    assert "cannot_load" in why and "weights not found" in why
    assert "Release gate failed" in (pytester.path / "out" / "SUMMARY.md").read_text()

    # JUnit: per-cell metrics as flat properties on each testcase, also from xdist workers
    cases = {tc.get("name"): {p.get("name"): p.get("value") for p in tc.iter("property")}
             for tc in ET.parse(pytester.path / "junit.xml").iter("testcase")}
    wer = cases["test_wer[piper-own_voice-short_plain]"]
    assert wer["luxgate.check"] == "wer" and wer["luxgate.cell"] == "piper/own_voice/short_plain"
    # the check's value is the WER it judges: sounds-alike stretches left out (wer_counted)
    assert float(wer["luxgate.value"]) == float(wer["luxgate.metric.wer_counted"])
    assert float(wer["luxgate.threshold"]) == 0.2 and "luxgate.metric.syllables_per_s" in wer
    assert "luxgate" not in wer, "the raw record must not be dumped into the XML"
    assert "weights not found" in cases["test_rate[cannot_load-own_voice-short_plain]"]["luxgate.skipped"]


def test_required_stack_must_be_in_the_run(pytester: pytest.Pytester) -> None:
    res = run_gate(pytester, "--luxgate-require=mlx,torch")
    assert res.ret == pytest.ExitCode.USAGE_ERROR
    res.stderr.fnmatch_lines(["*--luxgate-require names 'mlx', 'torch', not in --luxgate-stacks (piper)*"])


def test_required_stack_that_runs_passes(pytester: pytest.Pytester) -> None:
    res = run_gate(pytester, "--luxgate-scenario=short_plain", "-k", "wer", "--luxgate-require=piper",
                   "--junitxml=j.xml")
    assert res.ret == pytest.ExitCode.OK
    report = read_report(pytester)
    assert report["run"]["release_failures"] == []
    # -k wer ran one check of the matrix: no release failure, and no verdict on the matrix either
    assert report["run"]["verdict"] == "partial" and report["run"]["passed"] is False
    (case,) = ET.parse(pytester.path / "j.xml").iter("testcase")
    assert {p.get("name") for p in case.iter("property")} >= {"luxgate.value", "luxgate.metric.wer"}


def test_required_stack_deselected_fails(pytester: pytest.Pytester) -> None:
    res = run_gate(pytester, "--luxgate-scenario=short_plain", "-m", "not cannot_load", "-k", "wer",
                   "--luxgate-require=cannot_load", stacks=STACKS)
    assert res.ret == pytest.ExitCode.TESTS_FAILED
    res.stdout.fnmatch_lines(["*required stack 'cannot_load' ran no cells*"])
