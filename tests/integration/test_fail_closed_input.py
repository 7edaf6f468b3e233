"""Fail closed on scenario, prompt and threshold input (issue 16): every case refused before any
cell runs says what is wrong, with the file or option and the value, exit 4, and leaves a previous
report as it was; a prompt transcript that is not what its wav says is caught by the gate's own ASR.

Real runs throughout: Piper speaks (through the cloning PromptProbe stack, which records the
transcripts it was handed), Whisper tiny.en listens to the takes and to the bundled prompt wav.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from pytester_gate import run_gate
from reliability_ledger import LEDGER, RAN, missing_survivors, record, refused_run, register, says

from pytest_luxgate.matrix.prompts import DEFAULT_FILE

PROMPT_WAV = DEFAULT_FILE.parent / "prompt_a.wav"
RIGHT = "The morning train was late, so we walked along the river and talked about the weekend."
OTHER = "She keeps a small garden behind the house, with tomatoes, herbs and a row of sunflowers."
ROWS = register([
    ("scenario_text_not_string", "scenario file", "`text = 5` (not a string)",
     "usage error: `'text' must be a string, got integer 5`"),
    ("scenario_text_unspeakable", "scenario file", "`text = \"?!...\"` (only punctuation or symbols)",
     "usage error: `has nothing to speak (only punctuation or symbols, no words or numbers)`"),
    ("scenario_threshold_pair", "scenario file", "`[thresholds] rate_min_sps = 9`, above `rate_max_sps` 8",
     "usage error: `rate_min_sps = 9 syl/s (its [thresholds]) is above rate_max_sps = 8 syl/s (default)`"),
    ("threshold_pair_option", "options", "--luxgate-threshold=rate_min_sps=5,rate_max_sps=3",
     "usage error: names both values, each `(--luxgate-threshold)`"),
    ("threshold_pair_mixed", "options", "scenario `rate_min_sps = 7` with --luxgate-threshold=rate_max_sps=6",
     "usage error: names the scenario, both values and where each came from"),
    ("scenarios_option_twice", "options", "--luxgate-scenarios given twice",
     "both directories used; an id in both is a usage error; ini luxgate_scenarios still works"),
    ("list_options_twice", "options", "--luxgate-threshold, --luxgate-params, --luxgate-scenario given twice",
     "every value counts, as if given comma-separated (before: only the last)"),
    ("prompts_unknown_key", "options", "prompts file with an unknown key (`transcript = ...`, `[[promt]]`)",
     "usage error: names the file, the key and the known keys"),
    ("transcript_wrong_strict", "prompt transcript", "`text` not what the wav says, policy strict",
     "cell error: `its transcript does not match its audio (...)`, what differs and what the ASR heard"),
    ("transcript_wrong_note", "prompt transcript", "`text` not what the wav says, policy asr or target-fallback",
     "runs on the given transcript; noted: what differs"),
])

#: a report an earlier run left: a refused run must leave it byte for byte
PREVIOUS = json.dumps({"run": {"passed": True}, "cells": [
    {"stack": "piper", "prompt": "own_voice", "scenario": "short_plain", "status": "passed", "checks": {}}]},
    indent=2).encode()


def _refused(pytester: pytest.Pytester, *args: str, stacks: str = "piper") -> tuple[str, int]:
    """Run the gate expecting a usage error before any cell; (its one ERROR line, results lost)."""
    _, err, kept = refused_run(pytester, PREVIOUS, *args, stacks=stacks)
    lines = [ln for ln in err.splitlines() if ln.startswith("ERROR: ")]
    assert len(lines) == 1, err
    return lines[0], 0 if kept else 1


def _scenario(pytester: pytest.Pytester, folder: str, body: str, name: str = "s.toml") -> Path:
    d = pytester.path / folder
    d.mkdir(exist_ok=True)
    (d / name).write_text(body, encoding="utf-8")
    return d / name


SCENARIO_CASES = {
    "scenario_text_not_string": ('id = "x"\ntext = 5\n',
                                 "'text' must be a string, got integer 5; write the words in quotes: text = \"...\""),
    "scenario_text_unspeakable": ('id = "x"\ntext = "?!..."\n',
                                  "'text' '?!...' has nothing to speak (only punctuation or symbols, no words or "
                                  "numbers); give the words to synthesize"),
    "scenario_threshold_pair": ('id = "x"\ntext = "Hi there."\n[thresholds]\nrate_min_sps = 9\n',
                                "threshold rate_min_sps = 9 syl/s (its [thresholds]) is above rate_max_sps = 8 "
                                "syl/s (default): no take could pass the 'rate' check; lower rate_min_sps or "
                                "raise rate_max_sps"),
}


@pytest.mark.parametrize("case", sorted(SCENARIO_CASES))
def test_bad_scenario_is_refused_naming_file_and_value(pytester: pytest.Pytester, case: str) -> None:
    body, message = SCENARIO_CASES[case]
    path = _scenario(pytester, "mine", body)
    line, lost = _refused(pytester, "--luxgate-scenarios=mine")
    assert line == f"ERROR: scenario file {path}: {message}", line
    record(case, lost=lost)


def test_a_good_twin_of_each_bad_scenario_runs(pytester: pytest.Pytester) -> None:
    """Both ways: a quoted number, a text with one word among its punctuation, and a pair moved together."""
    _scenario(pytester, "mine", 'id = "number"\ntext = "5"\n', "a.toml")
    _scenario(pytester, "mine", 'id = "shout"\ntext = "Hey?!..."\n', "b.toml")
    _scenario(pytester, "mine", 'id = "fast"\ntext = "Hi."\n[thresholds]\nrate_min_sps = 9\nrate_max_sps = 12\n',
              "c.toml")
    res = run_gate(pytester, "--luxgate-scenarios=mine", "--luxgate-scenario=number,shout,fast", "--co", "-q")
    assert res.ret == pytest.ExitCode.OK, res.stderr.str()
    res.stdout.fnmatch_lines(["*test_wer?piper-own_voice-number?*", "*test_wer?piper-own_voice-shout?*",
                              "*test_wer?piper-own_voice-fast?*"])


def test_inverted_threshold_pair_on_the_command_line_is_refused(pytester: pytest.Pytester) -> None:
    line, lost = _refused(pytester, "--luxgate-threshold=rate_min_sps=5,rate_max_sps=3")
    assert line == ("ERROR: threshold rate_min_sps = 5 syl/s (--luxgate-threshold) is above rate_max_sps = 3 syl/s "
                    "(--luxgate-threshold): no take could pass the 'rate' check; lower rate_min_sps or raise "
                    "rate_max_sps"), line
    _record_again("threshold_pair_option", lost)
    # from the ini the source says so; the pair moved together is accepted
    pytester.makeini("[pytest]\nluxgate_threshold = rate_max_sps=2\n")
    line, lost = _refused(pytester)
    assert says(line, "ERROR: threshold rate_min_sps = 2.5 syl/s (default) is above rate_max_sps = 2 syl/s "
                      "(ini luxgate_threshold)"), line
    _record_again("threshold_pair_option", lost)
    res = run_gate(pytester, "--luxgate-threshold=rate_min_sps=1,rate_max_sps=2", "--co", "-q")
    assert res.ret == pytest.ExitCode.OK, res.stderr.str()


def test_inverted_threshold_pair_is_refused_by_luxgate_check_too(tmp_path: Path) -> None:
    """`luxgate check` parses --threshold with the same function: exit 2, one line, no traceback."""
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-m", "pytest_luxgate.cli", "check", str(PROMPT_WAV), "--text", RIGHT,
                          "--threshold", "rate_max_sps=2"], capture_output=True, text=True, timeout=300,
                         cwd=tmp_path)
    assert res.returncode == 2 and res.stdout == "" and "Traceback" not in res.stderr, res.stderr
    assert res.stderr.strip() == ("luxgate: error: threshold rate_min_sps = 2.5 syl/s (default) is above "
                                  "rate_max_sps = 2 syl/s (--threshold): no take could pass the 'rate' check; "
                                  "lower rate_min_sps or raise rate_max_sps")
    _record_again("threshold_pair_option", 0)


def test_inverted_threshold_pair_from_scenario_and_option_is_refused(pytester: pytest.Pytester) -> None:
    path = _scenario(pytester, "mine", 'id = "slow"\ntext = "Hi there."\n[thresholds]\nrate_min_sps = 7\n')
    line, lost = _refused(pytester, "--luxgate-scenarios=mine", "--luxgate-threshold=rate_max_sps=6")
    assert line == (f"ERROR: scenario 'slow': threshold rate_min_sps = 7 syl/s (scenario file {path} [thresholds]) "
                    "is above rate_max_sps = 6 syl/s (--luxgate-threshold): no take could pass the 'rate' check; "
                    "lower rate_min_sps or raise rate_max_sps"), line
    record("threshold_pair_mixed", lost=lost)
    res = run_gate(pytester, "--luxgate-scenarios=mine", "--luxgate-threshold=rate_max_sps=7.5", "--co", "-q")
    assert res.ret == pytest.ExitCode.OK, res.stderr.str()


def test_scenarios_option_given_twice_uses_both(pytester: pytest.Pytester) -> None:
    _scenario(pytester, "one", 'id = "first"\ntext = "The first one."\n')
    _scenario(pytester, "two", 'id = "second"\ntext = "The second one."\n')
    both = run_gate(pytester, "--luxgate-scenarios=one", "--luxgate-scenarios=two", "--co", "-q")
    assert both.ret == pytest.ExitCode.OK, both.stderr.str()
    both.stdout.fnmatch_lines(["*test_wer?piper-own_voice-first?*", "*test_wer?piper-own_voice-second?*"])
    # the ini still works; the command line replaces it, as for every luxgate option
    pytester.makeini("[pytest]\nluxgate_scenarios = one\n")
    ini = run_gate(pytester, "--co", "-q")
    assert "piper-own_voice-first" in ini.stdout.str() and "second" not in ini.stdout.str()
    cli = run_gate(pytester, "--luxgate-scenarios=two", "--co", "-q")
    assert "piper-own_voice-second" in cli.stdout.str() and "-first]" not in cli.stdout.str()
    # one directory twice is one directory; an id in two directories is still refused
    same = run_gate(pytester, "--luxgate-scenarios=one", "--luxgate-scenarios=one", "--co", "-q")
    assert same.ret == pytest.ExitCode.OK, same.stderr.str()
    _scenario(pytester, "two", 'id = "first"\ntext = "Again."\n', "again.toml")
    line, lost = _refused(pytester, "--luxgate-scenarios=one", "--luxgate-scenarios=two")
    assert says(line, "ERROR: duplicate scenario id 'first' in */two/again.toml and */one/s.toml; ids must be unique")
    record("scenarios_option_twice", lost=lost, tried=2)


def test_list_options_given_twice_add_up(pytester: pytest.Pytester) -> None:
    """--luxgate-threshold/-params/-scenario take comma-separated lists; given apart, every value counts."""
    res = run_gate(pytester, "--luxgate-scenario=short_plain", "--luxgate-scenario=numbers_symbols",
                   "--luxgate-threshold=wer=0.5", "--luxgate-threshold=rate_max_sps=3.0",
                   "--luxgate-params=length_scale=1.1", "--luxgate-params=noise_scale=0.5", "-k", "rate")
    report = json.loads((pytester.path / "out" / "report.json").read_text())
    cells = {c["scenario"]: c for c in report["cells"]}
    assert set(cells) == {"short_plain", "numbers_symbols"}, res.stdout.str()[-1500:]
    for c in cells.values():
        assert c["thresholds"]["wer"] == 0.5 and c["thresholds"]["rate_max_sps"] == 3.0
        assert not c["checks"]["rate"]["passed"]  # 3 syl/s: no take passes, so the second value took
        assert c["versions"]["params"]["length_scale"] == 1.1 and c["versions"]["params"]["noise_scale"] == 0.5
    record("list_options_twice", lost=sum(1 for c in cells.values() if c["status"] not in RAN), tried=3)


PROMPT_KEYS = {
    "transcript": (f'[[prompt]]\nid = "p"\nwav = "{PROMPT_WAV}"\ntranscript = "{RIGHT}"\n',
                   "prompt #1 ('p') has unknown key(s) ['transcript']; known: id, wav, text, voice"),
    "promt": (f'[[promt]]\nid = "p"\nwav = "{PROMPT_WAV}"\ntext = "{RIGHT}"\n',
              "unknown key(s) ['promt']; known: [[prompt]] tables with id, wav, text, voice"),
}


@pytest.mark.parametrize("key", sorted(PROMPT_KEYS))
def test_prompts_file_with_an_unknown_key_is_refused(pytester: pytest.Pytester, key: str) -> None:
    body, message = PROMPT_KEYS[key]
    (pytester.path / "p.toml").write_text(body)
    line, lost = _refused(pytester, "--luxgate-prompts=p.toml", stacks="prompt_probe=fault_stacks:PromptProbe")
    assert line == f"ERROR: prompts file {pytester.path / 'p.toml'}: {message}", line
    _record_again("prompts_unknown_key", lost)


def _record_again(case: str, lost: int) -> None:
    """One more input tried for a case several tests (or parameters) prove."""
    record(case, lost=lost, tried=LEDGER.get(case, {}).get("tried", 0) + 1)


# -- a transcript that is not what the prompt says, heard by the gate's own ASR ------------------------------
WRONG = {  # prompt id -> (transcript given for prompt_a.wav, what the error or note must say)
    "other_text": (OTHER, "15 of its 16 words differ"),
    "one_word": (RIGHT.replace("river", "lake"), "“lake” heard as “river”"),
}


@pytest.mark.parametrize("policy", ["strict", "target-fallback", "asr"])
def test_wrong_prompt_transcript_is_caught_by_the_asr(pytester: pytest.Pytester, policy: str) -> None:
    body = f'[[prompt]]\nid = "right"\nwav = "{PROMPT_WAV}"\ntext = "{RIGHT.upper()}"\n\n'  # casing is no error
    body += "".join(f'[[prompt]]\nid = "{pid}"\nwav = "{PROMPT_WAV}"\ntext = "{text}"\n\n'
                    for pid, (text, _) in WRONG.items())
    (pytester.path / "p.toml").write_text(body)
    res = run_gate(pytester, "--luxgate-prompts=p.toml", f"--luxgate-prompt-text={policy}",
                   "--luxgate-scenario=short_plain", "--luxgate-keep-wavs=none", "-k", "wer",
                   stacks="prompt_probe=fault_stacks:PromptProbe")
    report = json.loads((pytester.path / "out" / "report.json").read_text())
    cells = {c["prompt"]: c for c in report["cells"]}
    right = cells["right"]
    assert right["status"] in RAN and not [n for n in right["notes"] if "transcript" in n], right
    for pid, (text, what) in WRONG.items():
        cell = cells[pid]
        said = (f"prompt '{pid}': its transcript does not match its audio (*{what}*; the gate's ASR tiny.en "
                f"heard 'The morning train was late, so we walked along the river and talked about the weekend.')")
        if policy == "strict":
            assert res.ret == pytest.ExitCode.TESTS_FAILED and cell["status"] == "error", cell
            assert says(cell["error"], said + "; give the exact words spoken as its `text` in the prompts file, or, "
                        "if the transcript is right and the ASR wrong, --luxgate-prompt-text asr|target-fallback "
                        "turns this error into a note"), cell["error"]
            assert f"[prompt_probe-{pid}-short_plain]" in res.stdout.str()  # the terminal says it too
        else:  # the cell runs, on the transcript it was given, and says what differs
            assert cell["status"] in RAN, cell.get("error")
            assert text in cell["versions"]["stack"]["prompt_texts"]
            assert any(says(n, said + "; the given transcript was used") for n in cell["notes"]), cell["notes"]
    lost = missing_survivors(report, {("prompt_probe", "right", "short_plain"): RAN})
    case = "transcript_wrong_strict" if policy == "strict" else "transcript_wrong_note"
    _record_again(case, lost)
