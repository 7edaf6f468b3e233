"""Scenario and prompt files: data only, validated, with errors that name the fix."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_luxgate.matrix.cells import OWN_VOICE, Cell, build_matrix, safe_name
from pytest_luxgate.matrix.prompts import DEFAULT_FILE, PromptError, load_prompts, read_prompt_audio
from pytest_luxgate.report.matrix import build_report, write_report
from pytest_luxgate.report.summary import render_summary
from pytest_luxgate.matrix.scenarios import ScenarioError, load_dirs, load_file, select, standard_dir
from pytest_luxgate.judging.thresholds import THRESHOLDS, validate_overrides

STANDARD = {"short_plain", "medium_conversational", "long_paragraph", "numbers_symbols", "punctuation_pauses"}


def test_standard_scenarios_are_the_five() -> None:
    scenarios = load_dirs([standard_dir()])
    assert {s.id for s in scenarios} == STANDARD
    by_id = {s.id: s for s in scenarios}
    assert by_id["short_plain"].text == "Quick quality check for LuxTTS."
    assert "8472" in by_id["numbers_symbols"].text


def _write(tmp_path: Path, body: str, name: str = "s.toml") -> Path:
    p = tmp_path / name
    p.write_text(body, encoding="utf-8")
    return p


@pytest.mark.parametrize("body, message", [
    ('id = "x"\ntext = \n', "not valid UTF-8 TOML"),
    ('id = "x"\n', "missing 'text'"),
    ('id = "x"\ntext = "  "\n', "'text' is empty"),
    ('id = "x"\ntext = "hi"\n[thresholds]\nwerr = 0.1\n', "unknown threshold 'werr'"),
    ('id = "x"\ntext = "hi"\n[thresholds]\nwer = -0.1\n', "cannot be negative"),
    ('id = "x"\ntext = "hi"\n[thresholds]\nwer = 1.5\n', "between 0 and 1"),
    ('id = "x"\ntext = "hi"\n[thresholds]\nwer = "low"\n', "must be a number"),
    ('id = "x"\ntext = "hi"\nrun = "import os"\n', "unknown key(s) ['run']"),
])
def test_bad_scenario_files_name_file_and_problem(tmp_path: Path, body: str, message: str) -> None:
    path = _write(tmp_path, body)
    with pytest.raises(ScenarioError) as err:
        load_file(path)
    assert message in str(err.value) and str(path) in str(err.value)


def test_duplicate_ids_and_unknown_selection(tmp_path: Path) -> None:
    _write(tmp_path, 'id = "dup"\ntext = "one"\n', "a.toml")
    _write(tmp_path, 'id = "dup"\ntext = "two"\n', "b.toml")
    with pytest.raises(ScenarioError, match="duplicate scenario id 'dup'"):
        load_dirs([tmp_path])
    with pytest.raises(ScenarioError, match="unknown scenario id"):
        select(load_dirs([standard_dir()]), ["nope"])


def test_unicode_and_long_text_are_data(tmp_path: Path) -> None:
    sc = load_file(_write(tmp_path, 'id = "café"\ntext = "Crème brûlée — naïve façade."\n'))
    assert sc.text.startswith("Crème")
    long = "word " * 2000  # 10,000 characters
    assert len(load_file(_write(tmp_path, f'id = "long"\ntext = "{long}"\n', "l.toml")).text) == 9999


def test_default_prompts_are_real_and_transcribed() -> None:
    prompts = load_prompts(DEFAULT_FILE)
    assert [p.id for p in prompts] == ["prompt_a", "prompt_b"]
    for p in prompts:
        audio, rate = read_prompt_audio(p)
        assert rate >= 16000 and len(audio) / rate > 3.0 and p.text
    assert prompts[0].content_hash() != prompts[1].content_hash()


def test_prompt_errors(tmp_path: Path) -> None:
    (tmp_path / "p.toml").write_text('[[prompt]]\nid = "x"\nwav = "missing.wav"\ntext = "hi"\n')
    (prompt,) = load_prompts(tmp_path / "p.toml")
    with pytest.raises(PromptError, match="missing.wav: file not found"):
        read_prompt_audio(prompt)
    (tmp_path / "q.toml").write_text('[[prompt]]\nid = "x"\nwav = "a.wav"\ntext = ""\n')
    with pytest.raises(PromptError, match="empty 'text'"):
        load_prompts(tmp_path / "q.toml")


def test_matrix_does_not_multiply_fixed_voice_stacks() -> None:
    prompts = load_prompts(DEFAULT_FILE)
    scenarios = load_dirs([standard_dir()])
    cells = build_matrix([("piper", False), ("mlx", True)], prompts, scenarios)
    assert sum(c.stack == "piper" for c in cells) == 5
    assert {c.prompt for c in cells if c.stack == "piper"} == {OWN_VOICE}
    assert sum(c.stack == "mlx" for c in cells) == 10
    assert Cell("mlx", "prompt_a", "numbers_symbols").id == "mlx-prompt_a-numbers_symbols"


@pytest.mark.parametrize("raw", ["../../etc/passwd", "a/b", "nul\x00byte", "x" * 300, "ümlaut", ".."])
def test_safe_name_stays_inside_and_is_collision_free(raw: str) -> None:
    name = safe_name(raw)
    assert "/" not in name and "\x00" not in name and name not in (".", "..") and len(name) <= 100
    assert safe_name(raw) != safe_name(raw + "_")


def test_threshold_table_is_consistent() -> None:
    assert validate_overrides({k: t.default for k, t in THRESHOLDS.items()})


def test_report_write_is_atomic_and_summary_lists_failures(tmp_path: Path) -> None:
    cell = {"stack": "piper", "prompt": OWN_VOICE, "scenario": "short_plain", "status": "failed",
            "passed": False, "transcript": "quick check",
            "checks": {"wer": {"passed": False, "value": 0.4, "threshold": 0.2, "message": "WER 0.4"}}}
    report = build_report([cell], {"passed": False, "complete": True, "asr": "x", "seed": 1})
    write_report(report, tmp_path)
    assert json.loads((tmp_path / "report.json").read_text())["cells"][0]["scenario"] == "short_plain"
    md = render_summary(report)
    assert "FAIL" in md and "❌" in md and "**wer**: WER 0.4" in md
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
