"""The listener checks through the plugin (pytester): test_voice / test_quality / test_pauses,
skips with reasons, report.json and SUMMARY.md, and models loaded only for selected checks."""
from __future__ import annotations

import pytest
from pytester_gate import read_report, run_gate

from pytest_luxgate.listeners import dnsmos, speaker

pytestmark = pytest.mark.skipif(bool(dnsmos.unavailable() or speaker.unavailable()),
                                reason=str(dnsmos.unavailable() or speaker.unavailable()))

CLONING = "cloning_piper=fault_stacks:CloningPiper"


def test_default_stack_records_quality_and_pauses_and_skips_voice(pytester: pytest.Pytester) -> None:
    # -k by test name: the scenario id "punctuation_pauses" would match a bare "pauses"
    res = run_gate(pytester, "--luxgate-scenario=punctuation_pauses", "-rs",
                   "-k", "test_voice or test_quality or test_pauses")
    res.stdout.fnmatch_lines(["*SKIPPED*voice: stack 'piper' does not clone a voice (clones_voice = False)*"])
    res.assert_outcomes(passed=2, skipped=1)
    report = read_report(pytester)
    (cell,) = report["cells"]
    assert cell["status"] == "passed"
    assert set(cell["checks"]) == {"quality", "pauses"}
    assert "does not clone a voice" in cell["skipped_checks"]["voice"]
    m = cell["metrics"]
    assert 1.0 <= m["mos_ovrl"] <= 5.0 and all(m[k] is not None for k in ("mos_sig", "mos_bak", "mos_p808"))
    assert m["voice_similarity"] is None
    assert m["pause_count"] >= 3 and m["longest_unexplained_pause_s"] <= cell["thresholds"]["pause_gap_s"]
    assert cell["thresholds"]["quality_ovrl"] == 2.5 and "quality_s" in cell["timings"]
    summary = (pytester.path / "out" / "SUMMARY.md").read_text()
    assert f"MOS {m['mos_ovrl']:.2f}" in summary


def test_voice_passes_for_the_same_voice_and_fails_for_another(pytester: pytest.Pytester) -> None:
    # CloningPiper ignores its prompt and speaks Piper joe: prompt_a is that voice, prompt_b espeak-ng f3
    res = run_gate(pytester, "--luxgate-scenario=numbers_symbols", "-k", "test_voice", stacks=CLONING)
    res.assert_outcomes(passed=1, failed=1)
    res.stdout.fnmatch_lines(["*[[]cloning_piper-prompt_b-numbers_symbols[]] voice: voice_similarity 0.* (limit >= 0.*"])
    cells = {c["prompt"]: c for c in read_report(pytester)["cells"]}
    same, other = cells["prompt_a"], cells["prompt_b"]
    assert same["checks"]["voice"]["passed"] and not other["checks"]["voice"]["passed"]
    limit = same["thresholds"]["voice_similarity"]
    assert same["metrics"]["voice_similarity"] >= limit > other["metrics"]["voice_similarity"]
    # only `voice` was selected: DNSMOS never ran
    assert same["metrics"]["mos_ovrl"] is None and "quality_s" not in same["timings"]
    assert "voice 0." in (pytester.path / "out" / "SUMMARY.md").read_text()


def test_a_scenario_sets_its_own_quality_floor(pytester: pytest.Pytester) -> None:
    extra = pytester.mkdir("my_scenarios")
    (extra / "strict.toml").write_text('id = "strict"\ntext = "Quick quality check for the new voice."\n'
                                       "[thresholds]\nquality_ovrl = 4.9\n")
    res = run_gate(pytester, "--luxgate-scenarios=my_scenarios", "--luxgate-scenario=strict,short_plain",
                   "-k", "test_quality")
    res.assert_outcomes(passed=1, failed=1)
    res.stdout.fnmatch_lines(["*[[]piper-own_voice-strict[]] quality: quality_ovrl * (limit >= 4.9 MOS)*"])


def test_a_quality_floor_outside_1_to_5_is_a_usage_error(pytester: pytest.Pytester) -> None:
    res = run_gate(pytester, "--luxgate-threshold=quality_ovrl=7")
    assert res.ret == pytest.ExitCode.USAGE_ERROR
    res.stderr.fnmatch_lines(["*quality_ovrl*mean opinion score between 1 and 5*"])
