"""Baseline comparison, tolerances and options (pure; the gate runs are in test_baselines_gate.py)."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from pytest_luxgate.baselines.spec import METRICS, BaselineError, BaselineOptions, parse_options, platform_tag, tolerances_for, validate_tolerances
from pytest_luxgate.baselines.extension import BaselineExtension
from pytest_luxgate.baselines.compare import compare, regression_message
from pytest_luxgate.baselines.summary import delta_text
from pytest_luxgate.baselines.entry import entry_from_record
from pytest_luxgate.matrix.scenarios import ScenarioError, load_file

# a real cell record's shape (numbers from the default gate's short_plain take)
RECORD = {
    "stack": "piper", "prompt": "own_voice", "scenario": "short_plain", "cell": "piper-own_voice-short_plain",
    "text": "Quick quality check for LuxTTS.", "transcript": "Quick quality check for Lux TDS.",
    "metrics": {"wer": 0.16666666, "wer_errors": 1, "repeated_words": 0, "longest_loop_s": 0.0,
                "lead_garbage_s": 0.0, "onset_s": 0.05, "pre_onset_noise_db": None,
                "pre_onset_click_db": -120.0, "trail_garbage_s": 0.056, "post_offset_noise_db": -67.1337,
                "tail_buzz_s": 0.0, "truncation_db": -71.1398, "clip_frac": 0.0, "longest_clip_run_s": 0.0,
                "duration_s": 2.264, "syllables_per_s": 4.327, "worst_seam_click_db": None,
                "worst_seam_level_jump_db": None, "worst_seam_spectral_jump_db": None, "rms": 0.1},
    "versions": {"asr": "faster-whisper:base (int8, beam 5)", "seed": 605807557,
                 "params": {"length_scale": 1.0, "noise_scale": 0.667}, "chunking": {"max_chars": 100,
                                                                                   "crossfade_ms": 30.0},
                 "stack": {"engine": "piper-tts", "engine_version": "1.8.0"}, "luxgate": "0.1.0",
                 "python": "3.11.7"},
}
TOL = tolerances_for(BaselineOptions(), {})


def _entry(**metrics: object) -> dict:
    rec = copy.deepcopy(RECORD)
    rec["metrics"].update(metrics)
    return entry_from_record(rec, BaselineOptions())


def test_entry_is_rounded_plain_data_with_conditions() -> None:
    entry = _entry()
    assert entry["cell"] == {"stack": "piper", "prompt": "own_voice", "scenario": "short_plain", "platform": None}
    assert entry["conditions"]["text"] == RECORD["text"] and entry["conditions"]["seed"] == 605807557
    assert list(entry["metrics"]) == list(METRICS)       # file order is the table's
    assert entry["metrics"]["wer"] == 0.1667 and entry["metrics"]["wer_errors"] == 1
    assert entry["metrics"]["post_offset_noise_db"] == -67.13
    assert entry["metrics"]["mos_ovrl"] is None          # listener not run: stored as not measured
    assert "rms" not in entry["metrics"] and "transcript" not in entry
    assert json.loads(json.dumps(entry)) == entry
    pinned = entry_from_record(RECORD, BaselineOptions(transcripts=True, platform="ci-box"))
    assert pinned["transcript"] == RECORD["transcript"] and pinned["cell"]["platform"] == "ci-box"


def test_unchanged_and_within_tolerance_pass() -> None:
    assert compare(_entry(), _entry(), TOL).status == "passed"
    # 0.05 s + 5 % of 2.264 s = 0.163 s either way; one more word error; 5 dB more tail noise
    near = _entry(duration_s=2.264 + 0.16, wer_errors=2, post_offset_noise_db=-62.2)
    cmp = compare(_entry(), near, TOL)
    assert cmp.status == "passed", [d.text() for d in cmp.worse()]
    assert {d.metric: d.verdict for d in cmp.deltas}["duration_s"] == "same"


def test_worse_beyond_tolerance_fails_with_metric_baseline_now_tolerance_direction() -> None:
    cmp = compare(_entry(), _entry(duration_s=2.6, wer_errors=3), TOL)
    assert cmp.status == "regressed" and not cmp.ok
    assert {d.metric for d in cmp.worse()} == {"duration_s", "wer_errors"}
    msg = regression_message(cmp, "tests/gate/__snapshots__/x.json")
    assert "2 metric(s) worse than the baseline beyond tolerance" in msg
    assert ("duration_s: baseline 2.264 s, now 2.600 s (+0.336 s); tolerance 0.1632 s = 0.05 s + 5% of "
            "the baseline; a change either way is worse") in msg
    assert "wer_errors: baseline 1 words, now 3 words (+2 words); tolerance 1.1 words" in msg
    assert "higher is worse" in msg and "tests/gate/__snapshots__/x.json" in msg and "--snapshot-update" in msg


def test_better_is_reported_not_failed_and_direction_matters() -> None:
    base = _entry(wer_errors=4, voice_similarity=0.80)
    cmp = compare(base, _entry(wer_errors=1, voice_similarity=0.70), TOL)
    verdicts = {d.metric: d.verdict for d in cmp.deltas}
    assert verdicts["wer_errors"] == "better"             # fewer errors: higher is worse
    assert verdicts["voice_similarity"] == "worse"        # less similar: lower is worse
    assert cmp.status == "regressed"
    cmp = compare(base, _entry(wer_errors=1, voice_similarity=0.85), TOL)
    assert cmp.status == "improved" and cmp.ok
    assert [d.metric for d in cmp.better()] == ["wer_errors", "voice_similarity"]
    # "both": a much faster take is as wrong as a much slower one
    assert compare(_entry(), _entry(duration_s=1.9), TOL).status == "regressed"


def test_db_floor_and_not_measurable_values() -> None:
    # far below the speech, level changes are inaudible noise: -71 -> -64 dB re speech is "same"
    assert compare(_entry(truncation_db=-71.0), _entry(truncation_db=-64.0), TOL).status == "passed"
    # no pre-onset stretch (None) counts as the floor, so noise appearing before speech is caught
    cmp = compare(_entry(), _entry(pre_onset_noise_db=-45.8), TOL)
    (worse,) = cmp.worse()
    assert worse.metric == "pre_onset_noise_db" and worse.baseline is None and worse.now == -45.8
    assert "baseline n/a (counts as the -60 dB floor), now -45.80 dB" in worse.text()
    # a metric without a floor that was not measured on one side is not compared
    d = {d.metric: d for d in compare(_entry(), _entry(worst_seam_click_db=4.0), TOL).deltas}
    assert d["worst_seam_click_db"].verdict == "n/a"
    # signed seam level jumps compare by size
    same = compare(_entry(worst_seam_level_jump_db=-2.0), _entry(worst_seam_level_jump_db=2.5), TOL)
    assert same.status == "passed"
    assert compare(_entry(worst_seam_level_jump_db=0.5), _entry(worst_seam_level_jump_db=-2.5),
                   TOL).status == "regressed"


def test_wer_is_shown_not_judged() -> None:
    cmp = compare(_entry(wer=0.0, wer_errors=1), _entry(wer=0.5, wer_errors=1), TOL)
    assert cmp.status == "passed"
    assert {d.metric: d.verdict for d in cmp.deltas}["wer"] == "info"


def test_changed_cell_is_stale_and_other_apparatus_incomparable() -> None:
    other_text = _entry()
    other_text["conditions"]["text"] = "Quick quality check."
    cmp = compare(_entry(), other_text, TOL)
    assert cmp.status == "stale" and "text differs" in cmp.reasons[0]
    other_asr = _entry()
    other_asr["conditions"]["asr"] = "faster-whisper:tiny.en (int8, beam 5)"
    cmp = compare(_entry(), other_asr, TOL)
    assert cmp.status == "incomparable" and "asr differs" in cmp.reasons[0]
    # the scenario file's [params] define the cell; --luxgate-params is the run's experiment
    scenario_params = entry_from_record(RECORD, BaselineOptions(), scenario={"params": {"length_scale": 1.2}})
    assert compare(_entry(), scenario_params, TOL).status == "stale"
    run_params = entry_from_record(RECORD, BaselineOptions(), run={"params": {"length_scale": "1.2"}})
    assert compare(_entry(), run_params, TOL).status == "incomparable"
    # the stack's own defaults (in versions.params) are not a condition: changing them is measured
    new_defaults = copy.deepcopy(RECORD)
    new_defaults["versions"]["params"]["noise_scale"] = 0.9
    assert compare(_entry(), entry_from_record(new_defaults, BaselineOptions()), TOL).status == "passed"
    pinned = entry_from_record(RECORD, BaselineOptions(transcripts=True))
    assert compare(_entry(), pinned, TOL).status == "stale"   # baseline has no transcript to compare
    heard = copy.deepcopy(pinned)
    heard["transcript"] = "Quick quality check for Lux TTS."
    cmp = compare(pinned, heard, TOL)
    assert cmp.status == "regressed" and cmp.transcript == (RECORD["transcript"], heard["transcript"])
    assert "transcript: baseline 'Quick quality check for Lux TDS.'" in regression_message(cmp, "f")


def test_unreadable_baseline() -> None:
    assert compare({"metrics": {}}, _entry(), TOL).status == "unreadable"
    assert compare([], _entry(), TOL).status == "unreadable"
    ext = BaselineExtension()
    assert ext.matches(serialized_data=json.dumps(_entry()), snapshot_data="{not json") is False
    assert ext.last is not None and ext.last.status == "unreadable"


def test_extension_matches_with_tolerance_and_rewrites_on_update() -> None:
    ext = BaselineExtension()
    base = ext.serialize(_entry())
    near = ext.serialize(_entry(duration_s=2.3))
    assert ext.matches(serialized_data=near, snapshot_data=base) is True
    assert ext.serialize(_entry()) == base and base.endswith("}\n")
    assert base.index('"cell"') < base.index('"conditions"') < base.index('"metrics"')  # reading order
    ext.update = True  # --snapshot-update: any moved number rewrites, recorded_with alone does not
    assert ext.matches(serialized_data=near, snapshot_data=base) is False
    newer = _entry()
    newer["recorded_with"]["luxgate"] = "0.2.0"
    assert ext.matches(serialized_data=ext.serialize(newer), snapshot_data=base) is True


def test_tolerance_layers_and_validation() -> None:
    opts = parse_options(tolerance="wer_errors=2,duration_s.rtol=0.1")
    tol = tolerances_for(opts, validate_tolerances({"duration_s": {"atol": 0.2}}, "x.toml"))
    assert tol["wer_errors"] == {"atol": 2.0, "rtol": 0.1}
    assert tol["duration_s"] == {"atol": 0.2, "rtol": 0.1}   # scenario over run over default
    assert compare(_entry(), _entry(wer_errors=3), tol).status == "passed"
    with pytest.raises(BaselineError, match="x.toml: unknown baseline metric 'wers'; known: wer_errors"):
        validate_tolerances({"wers": 1}, "x.toml")
    with pytest.raises(BaselineError, match="must be a finite number >= 0, got -1"):
        validate_tolerances({"duration_s": -1}, "x")
    with pytest.raises(BaselineError, match="takes atol and rtol, not \\['tol'\\]"):
        validate_tolerances({"duration_s": {"tol": 1}}, "x")
    with pytest.raises(BaselineError, match="'wer' is shown, not judged; set a tolerance on wer_errors"):
        validate_tolerances({"wer": 0.1}, "x")
    with pytest.raises(BaselineError, match="--luxgate-baseline-tolerance: expected METRIC=ATOL"):
        parse_options(tolerance="wer_errors")
    with pytest.raises(BaselineError, match="duration_s must be a number, got 'lots'"):
        parse_options(tolerance="duration_s=lots")


def test_platform_and_flag_options() -> None:
    assert parse_options().platform is None and parse_options(platform_opt="off").platform is None
    assert parse_options(platform_opt="auto").platform == platform_tag()
    assert parse_options(platform_opt="ci-avx512").platform == "ci-avx512"
    with pytest.raises(BaselineError, match="--luxgate-baseline-platform: a tag of letters"):
        parse_options(platform_opt="a/b")
    assert parse_options(transcripts="yes", required="1").transcripts is True
    with pytest.raises(BaselineError, match="--luxgate-baseline-required must be true or false"):
        parse_options(required="sometimes")


def test_scenario_baseline_table(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text('id = "s"\ntext = "Hello there."\n[baseline]\nduration_s = { atol = 0.3, rtol = 0 }\n'
                    'wer_errors = 2\n')
    assert load_file(path).baseline == {"duration_s": {"atol": 0.3, "rtol": 0.0}, "wer_errors": {"atol": 2.0}}
    path.write_text('id = "s"\ntext = "Hello there."\n[baseline]\nduraton_s = 1\n')
    with pytest.raises(ScenarioError, match=r"s\.toml: \[baseline\]: unknown baseline metric 'duraton_s'"):
        load_file(path)


def test_summary_cell_text() -> None:
    cmp = compare(_entry(wer_errors=4), _entry(duration_s=2.6, wer_errors=1, truncation_db=-69.0), TOL)
    section = {"status": cmp.status, "deltas": {d.metric: d.to_dict() for d in cmp.deltas}}
    text = delta_text(section)
    assert text.startswith("⬇️ regressed: **duration_s +0.336 s**, _wer_errors -3_")
    assert "wer +" not in text  # wer did not move
    assert delta_text(None) == "–" and delta_text({"status": "missing"}) == "– missing"
