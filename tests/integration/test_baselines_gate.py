"""test_baseline end to end (pytester): record with --snapshot-update, compare, catch a real
regression, pass within tolerance, report improvements, re-record; scope, platform, transcripts, xdist.

The module under test holds only test_baseline (plus test_start where said), so every
collected test is selected and syrupy's unused-snapshot accounting is fully in play.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from pytester_gate import FAST, TESTS, read_report

PIPER = "tts=pytest_luxgate.stacks.piper:PiperStack"     # the same cells, named "tts" ...
NOISY = "tts=fault_stacks:NoisyStart"                    # ... and the same stack gone wrong
SNAPS = Path("__snapshots__") / "test_luxgate_baseline_only"


def _run(pytester: pytest.Pytester, *args: str, stacks: str = PIPER, tests: str = "test_baseline",
         scenario: str = "short_plain", subprocess: bool = False) -> pytest.RunResult:
    pytester.syspathinsert(TESTS)
    pytester.makepyfile(test_luxgate_baseline_only=f"from pytest_luxgate.gate_suite import {tests}\n")
    argv = (f"--luxgate-stacks={stacks}", f"--luxgate-scenario={scenario}", "--luxgate-output=out",
            "--luxgate-html=none", "-rs", *FAST, *args)
    if subprocess:
        pytester.makeconftest(f"import sys\nsys.path.insert(0, {str(TESTS)!r})\n")
        return pytester.runpytest_subprocess(*argv, timeout=600)
    return pytester.runpytest(*argv)


def _file(pytester: pytest.Pytester, scenario: str = "short_plain", suffix: str = "") -> Path:
    return pytester.path / SNAPS / f"test_baseline[tts-own_voice-{scenario}]{suffix}.json"


def _cell(pytester: pytest.Pytester, scenario: str = "short_plain") -> dict:
    return next(c for c in read_report(pytester)["cells"] if c["scenario"] == scenario)


def _edit(path: Path, **metrics: float) -> dict:
    data = json.loads(path.read_text())
    data["metrics"].update(metrics)
    path.write_text(json.dumps(data, indent=2) + "\n")
    return data


def test_record_compare_regress_tolerate_improve_rerecord(pytester: pytest.Pytester) -> None:
    # no baseline yet: skipped with the way to record one (failed under --luxgate-baseline-required)
    res = _run(pytester)
    assert res.ret == pytest.ExitCode.OK
    res.stdout.fnmatch_lines(["*SKIPPED*baseline: no baseline for this cell yet (*test_baseline?tts-own_voice-"
                              "short_plain?.json); record one with --snapshot-update*"])
    assert _cell(pytester)["baseline"]["status"] == "missing"
    res = _run(pytester, "--luxgate-baseline-required")
    assert res.ret == pytest.ExitCode.TESTS_FAILED
    res.stdout.fnmatch_lines(["*no baseline for this cell yet*(--luxgate-baseline-required)*"])

    # record
    res = _run(pytester, "--snapshot-update")
    assert res.ret == pytest.ExitCode.OK, res.stdout.str()
    res.stdout.fnmatch_lines(["*1 snapshot generated*"])
    recorded = json.loads(_file(pytester).read_text())
    assert recorded["cell"] == {"stack": "tts", "prompt": "own_voice", "scenario": "short_plain", "platform": None}
    assert recorded["conditions"]["asr"].startswith("faster-whisper:tiny.en")
    assert recorded["metrics"]["duration_s"] > 1 and "transcript" not in recorded
    assert _cell(pytester)["baseline"]["status"] == "created"

    # unchanged: passes, every delta zero
    res = _run(pytester)
    assert res.ret == pytest.ExitCode.OK, res.stdout.str()
    section = _cell(pytester)["baseline"]
    assert section["status"] == "passed"
    assert all(d["delta"] in (0, None) for d in section["deltas"].values())
    assert "| own_voice | short_plain | ＝ passed |" in (pytester.path / "out" / "SUMMARY.md").read_text()

    # a real regression: the same stack now puts quiet noise before the speech. test_start's
    # absolute limit (-38 dB) still passes it; the baseline does not.
    res = _run(pytester, stacks=NOISY, tests="test_baseline, test_start")
    assert res.ret == pytest.ExitCode.TESTS_FAILED
    res.assert_outcomes(passed=1, failed=1)
    res.stdout.fnmatch_lines([
        "*[[]tts-own_voice-short_plain[]] baseline: 3 metric(s) worse than the baseline beyond tolerance",
        "*onset_s: baseline 0.*s, now 0.4* s (+0.* s); tolerance 0.1 s; a change either way is worse",
        "*pre_onset_noise_db: baseline n/a (counts as the -60 dB floor), now -4*dB (+1* dB); tolerance 6 dB; "
        "higher is worse",
        "*duration_s: baseline 2.* s, now 2.* s (+0.* s); tolerance 0.1* s = 0.05 s + 5% of the baseline;*",
        "*baseline: __snapshots__/test_luxgate_baseline_only/test_baseline?tts-own_voice-short_plain?.json; "
        "if the change is intended, re-record with --snapshot-update"])
    cell = _cell(pytester)
    assert cell["status"] == "failed" and cell["checks"]["start"]["passed"] is True
    assert cell["baseline"]["status"] == "regressed"
    assert cell["baseline"]["deltas"]["pre_onset_noise_db"]["verdict"] == "worse"
    summary = (pytester.path / "out" / "SUMMARY.md").read_text()
    assert "| own_voice | short_plain | ⬇️ regressed: **onset_s +0." in summary
    assert json.loads(_file(pytester).read_text()) == recorded  # a failing run never rewrites

    # within tolerance (duration 3 % off) and better beyond it (3 fewer word errors): passes, reported
    now = recorded["metrics"]
    _edit(_file(pytester), duration_s=round(now["duration_s"] * 0.97, 3), wer_errors=now["wer_errors"] + 3)
    res = _run(pytester)
    assert res.ret == pytest.ExitCode.OK, res.stdout.str()
    res.stdout.fnmatch_lines(["luxgate baselines: 1 improved",
                              "luxgate baselines: better than the baseline (re-record with --snapshot-update*",
                              f"  tts-own_voice-short_plain: wer_errors {now['wer_errors'] + 3} -> "
                              f"{now['wer_errors']}"])
    section = _cell(pytester)["baseline"]
    assert section["status"] == "improved"
    assert section["deltas"]["duration_s"]["verdict"] == "same"
    assert section["deltas"]["wer_errors"]["verdict"] == "better"

    # worse beyond tolerance by an edited baseline (duration 20 % shorter): fails, file untouched
    edited = _edit(_file(pytester), duration_s=round(now["duration_s"] * 0.8, 3))
    res = _run(pytester)
    assert res.ret == pytest.ExitCode.TESTS_FAILED
    res.stdout.fnmatch_lines(["*duration_s: baseline * s, now * s (+0.* s); tolerance *; a change either way*"])
    assert json.loads(_file(pytester).read_text()) == edited

    # --snapshot-update re-records the current numbers
    res = _run(pytester, "--snapshot-update")
    assert res.ret == pytest.ExitCode.OK
    res.stdout.fnmatch_lines(["*1 snapshot updated*"])
    assert json.loads(_file(pytester).read_text())["metrics"] == now
    assert _cell(pytester)["baseline"]["status"] == "updated"


def test_scope_stale_platform_and_transcripts(pytester: pytest.Pytester) -> None:
    extra = pytester.mkdir("mine")
    (extra / "greeting.toml").write_text('id = "greeting"\ntext = "Hello there, welcome home."\n')
    res = _run(pytester, "--snapshot-update", "--luxgate-scenarios=mine", scenario="short_plain,greeting")
    assert res.ret == pytest.ExitCode.OK, res.stdout.str()
    assert _file(pytester).is_file() and _file(pytester, "greeting").is_file()

    # a run of a subset of scenarios neither calls the others' baselines unused nor deletes them
    res = _run(pytester, "--snapshot-update", "--luxgate-scenarios=mine")
    assert res.ret == pytest.ExitCode.OK, res.stdout.str()
    assert "unused" not in res.stdout.str() and _file(pytester, "greeting").is_file()

    # the scenario's text changed: the baseline is stale, skipped (or failed when required)
    (extra / "greeting.toml").write_text('id = "greeting"\ntext = "Hello there, welcome back home."\n')
    res = _run(pytester, "--luxgate-scenarios=mine", scenario="greeting")
    assert res.ret == pytest.ExitCode.OK
    res.stdout.fnmatch_lines(["*SKIPPED*baseline: the baseline is for another version of this cell (text "
                              "differs: baseline 'Hello there, welcome home.', now 'Hello there, welcome back "
                              "home.'); re-record it with --snapshot-update*"])
    assert _cell(pytester, "greeting")["baseline"]["status"] == "stale"
    res = _run(pytester, "--luxgate-scenarios=mine", "--luxgate-baseline-required", scenario="greeting")
    assert res.ret == pytest.ExitCode.TESTS_FAILED

    # the scenario is gone: its baseline is an orphan, reported unused, removed on update
    (extra / "greeting.toml").unlink()
    res = _run(pytester)
    assert res.ret == pytest.ExitCode.TESTS_FAILED
    res.stdout.fnmatch_lines(["*1 snapshot passed. 1 snapshot unused.*"])
    _run(pytester, "--snapshot-update")
    assert not _file(pytester, "greeting").exists() and _file(pytester).is_file()

    # per-platform baselines: keyed by a tag; the shared file stays out of the way
    res = _run(pytester, "--luxgate-baseline-platform=ci-box")
    assert res.ret == pytest.ExitCode.OK
    res.stdout.fnmatch_lines(["*no baseline for this cell yet (*short_plain?[[]ci-box[]].json)*"])
    res = _run(pytester, "--luxgate-baseline-platform=ci-box", "--snapshot-update-new-only")
    assert res.ret == pytest.ExitCode.OK and _file(pytester).is_file()
    assert json.loads(_file(pytester, suffix="[ci-box]").read_text())["cell"]["platform"] == "ci-box"

    # exact transcripts, opt-in: recorded, then any change of wording fails
    res = _run(pytester, "--luxgate-baseline-transcripts", "--snapshot-update")
    heard = json.loads(_file(pytester).read_text())["transcript"]
    assert res.ret == pytest.ExitCode.OK and heard
    data = json.loads(_file(pytester).read_text())
    data["transcript"] = "Something else entirely."
    _file(pytester).write_text(json.dumps(data, indent=2) + "\n")
    res = _run(pytester, "--luxgate-baseline-transcripts")
    assert res.ret == pytest.ExitCode.TESTS_FAILED
    res.stdout.fnmatch_lines([f"*transcript: baseline 'Something else entirely.', now {heard!r} (exact, "
                              "--luxgate-baseline-transcripts)*"])
    assert _run(pytester).ret == pytest.ExitCode.OK   # by default wording is not compared


def test_under_xdist(pytester: pytest.Pytester) -> None:
    """Workers write and read the baselines; the controller's report carries each cell's section."""
    scenarios = "short_plain,punctuation_pauses"
    res = _run(pytester, "-n", "2", "--snapshot-update", scenario=scenarios, subprocess=True)
    assert res.ret == pytest.ExitCode.OK, res.stdout.str()
    assert _file(pytester).is_file() and _file(pytester, "punctuation_pauses").is_file()
    res = _run(pytester, "-n", "2", scenario=scenarios, subprocess=True)
    assert res.ret == pytest.ExitCode.OK, res.stdout.str()
    res.stdout.fnmatch_lines(["luxgate baselines: 2 passed", "*2 snapshots passed*"])
    assert {c["scenario"]: c["baseline"]["status"] for c in read_report(pytester)["cells"]} == {
        "short_plain": "passed", "punctuation_pauses": "passed"}
