"""Reliability and bad input (issue 7): every case a release gate must survive.

Each case asserts the message a person gets (naming the file or option and the
fix) and that results survive: the other cells of the run are in report.json
with their checks, or, for input refused before any cell runs, a previous
report in the output directory is left byte for byte as it was. The rows (ROWS here, more in
test_fail_closed_*.py, all in reliability_ledger.CASES) are the
README table; every test records its case in a ledger, and
test_every_case_was_tried_and_handled computes the figures (cases tried,
handled, results lost) from it. With LUXGATE_RELIABILITY_LEDGER=PATH the
figures and rows are written there as JSON (README's figures come from that).

Everything is real: Piper speaks, Whisper tiny.en listens, broken files are
real broken files, Ctrl-C is a real SIGINT to a real pytest process, and a
full disk is the kernel refusing writes (RLIMIT_FSIZE, see test_disk_full).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
import soxr
from pytester_gate import run_gate
from reliability_ledger import (CASES, LEDGER, MODULE_GLOBS, ORIGIN, RAN, case_ids, ctrl_c_reaches_it, gate_cmd,
                               gate_dir, gate_env, leftovers, missing_survivors, record, register, report_of,
                               run_subprocess, says, start_blocked_run)

from pytest_luxgate.matrix.prompts import DEFAULT_FILE

PROMPT_WAV = DEFAULT_FILE.parent / "prompt_a.wav"
PROMPT_TEXT = "The morning train was late, so we walked along the river and talked about the weekend."
ROWS = register([
    # prompt wav: the prompt's cells fail with the message, every other cell runs
    ("prompt_missing", "prompt wav", "wav file missing", "cell error: `file not found; check the path`"),
    ("prompt_unreadable", "prompt wav", "wav path is a directory (unreadable)", "cell error: `is a directory`"),
    ("prompt_corrupt_header", "prompt wav", "corrupt RIFF header", "cell error: `not a readable audio file (...); export it again`"),
    ("prompt_zero_bytes", "prompt wav", "0-byte file", "cell error: `file is empty (0 bytes)`"),
    ("prompt_no_frames", "prompt wav", "valid header, no samples", "cell error: `holds no samples`"),
    ("prompt_silent", "prompt wav", "all-silent (digital zero)", "cell error: `is silent (digital silence, below -60 dBFS)`"),
    ("prompt_nan", "prompt wav", "float wav with NaN samples", "cell error: `contains N NaN or Inf samples`"),
    ("prompt_inf", "prompt wav", "float wav with Inf samples", "cell error: `contains N NaN or Inf samples`"),
    ("prompt_stereo", "prompt wav", "stereo", "runs: channels averaged to mono, noted in the cell's `notes`"),
    ("prompt_stereo_antiphase", "prompt wav", "stereo, channels in opposite phase", "cell error: `is silent after averaging its channels (are they in opposite phase?)`"),
    ("prompt_8k", "prompt wav", "8 kHz", "runs: resampled to the stack's `prompt_sample_rate` (soxr HQ); noted: `may sound muffled`"),
    ("prompt_44k", "prompt wav", "44.1 kHz", "runs: resampled (soxr HQ)"),
    ("prompt_96k", "prompt wav", "96 kHz", "runs: resampled (soxr HQ)"),
    ("prompt_4k", "prompt wav", "4 kHz", "cell error: `outside 8000-192000 Hz; resample it`"),
    ("prompt_pcm24", "prompt wav", "24-bit PCM", "runs"),
    ("prompt_float", "prompt wav", "32-bit float", "runs"),
    ("prompt_float_hot", "prompt wav", "float with peak 1.8 (over full scale)", "runs: scaled to 0.99, noted"),
    # prompt transcript
    ("transcript_empty", "prompt transcript", "`text = \"\"` (any --luxgate-prompt-text policy)", "usage error: `has an empty 'text'`"),
    ("transcript_missing_strict", "prompt transcript", "no `text`, policy strict", "cell error: `has no transcript and --luxgate-prompt-text is strict`"),
    ("transcript_missing_target", "prompt transcript", "no `text`, policy target-fallback", "runs on the spoken text"),
    ("transcript_missing_asr", "prompt transcript", "no `text`, policy asr", "runs on the gate's own ASR transcript"),
    # scenario files: refused before any cell runs (exit 4); a previous report is untouched
    ("scenario_invalid_toml", "scenario file", "invalid TOML", "usage error: `not valid UTF-8 TOML (...)`"),
    ("scenario_not_utf8", "scenario file", "bytes that are not UTF-8", "usage error: `not valid UTF-8 TOML`"),
    ("scenario_missing_text", "scenario file", "no `text`", "usage error: `missing 'text'`"),
    ("scenario_empty_text", "scenario file", "`text = \"  \"`", "usage error: `'text' is empty`"),
    ("scenario_duplicate_id", "scenario file", "two files, one id", "usage error: `duplicate scenario id ... ids must be unique`"),
    ("scenario_unknown_threshold", "scenario file", "`[thresholds] werr = 0.1`", "usage error: `unknown threshold 'werr'; known: ...`"),
    ("scenario_negative_threshold", "scenario file", "`wer = -0.1`", "usage error: `cannot be negative`"),
    ("scenario_ratio_above_1", "scenario file", "`wer = 1.5`", "usage error: `a ratio between 0 and 1`"),
    ("scenario_threshold_not_number", "scenario file", "`wer = \"low\"`", "usage error: `must be a number`"),
    ("scenario_too_long", "scenario file", "text over 20,000 characters", "usage error: `split it into scenarios`"),
    ("scenario_non_ascii", "scenario file", "non-ASCII id and text", "runs; file names sanitised"),
    ("scenario_10k_chars", "scenario file", "10,000-character text", "runs: spoken in chunks of at most --luxgate-chunk-chars"),
    ("scenario_code_is_data", "scenario file", "Python code as text, an unknown `run = ...` key", "text is spoken, never run; unknown key is a usage error"),
    # options
    ("unknown_stack", "options", "--luxgate-stacks=nosuchstack", "usage error: `unknown stack 'nosuchstack'; known: ...`"),
    ("unknown_scenario_option", "options", "--luxgate-scenario=nope", "usage error: `unknown scenario id(s) ['nope'] ...; known: ...`"),
    ("unknown_scenario_k", "options", "-k nope", "exit 5 (nothing selected): `luxgate: -k 'nope' matches none of the N gate tests; known scenarios: ...`"),
    ("bad_keep_wavs", "options", "--luxgate-keep-wavs=some", "usage error: `must be one of none\\|best\\|all`"),
    ("bad_seed", "options", "--luxgate-seed=abc", "usage error: `must be an integer`"),
    ("bad_threshold_option", "options", "--luxgate-threshold=wer=2", "usage error: `a ratio between 0 and 1`"),
    ("prompts_file_invalid", "options", "--luxgate-prompts file that is not TOML", "usage error: `not valid TOML`"),
    ("output_unwritable", "output", "--luxgate-output under a regular file", "report written to a temp dir, path printed, exit 3"),
    ("disk_full", "output", "disk full (kernel refuses every file write)", "cells judged, takes not kept (noted), report printed in full to the terminal, exit 3; previous report intact"),
    # stacks
    ("stack_raises_mid_matrix", "stack", "raises on the 2nd scenario", "that cell errors with the stack's message"),
    ("stack_empty_audio", "stack", "empty audio", "cell error: `returned empty audio`"),
    ("stack_nan_audio", "stack", "a NaN sample", "cell error: `NaN/Inf samples`"),
    ("stack_rate_not_int", "stack", "sample_rate 22050.0", "cell error: `must be the audio's rate in Hz, an int`"),
    ("stack_rate_negative", "stack", "sample_rate -22050", "cell error: same"),
    ("stack_rate_wrong_gross", "stack", "22.05 kHz audio reported as 192 kHz", "cell error: `shorter than ... even the fastest speech; is the audio really at 192000 Hz?`"),
    ("stack_rate_wrong_2x", "stack", "22.05 kHz audio reported as 44.1 kHz", "runs; test_rate/test_wer fail on what they hear"),
    ("stack_absurd_length", "stack", "take 40x longer than any speaker needs", "cell error: `longer than ... does the stack loop?`"),
    # faults
    ("sigint", "fault", "real SIGINT mid-run", "exit 2; report with the finished cells, `complete: false`, atomic"),
    ("concurrent_run", "fault", "second run on the same output dir (plain and `-n 2`)", "second run refused (exit 4, names the holder); first run's report complete"),
    ("foreign_takes", "fault", "another run's `.takes-*` dir in the output dir", "left alone while its run lives or it has no lock file (a dead run's is removed)"),
    # safety
    ("ids_traversal", "safety", "ids with `../`, `/`, NUL, 200 characters, odd Unicode, case twins", "files sanitised, distinct, all inside the output dir"),
    ("no_eval_paths", "safety", "scenario/prompt data reaching eval/exec/pickle/unsafe YAML", "none: no such call in the package; the two model-loading sites are listed with their reason"),
])


# -- prompt files: one run, one good prompt beside every broken one --------------------------------
def _speech() -> tuple[np.ndarray, int]:
    audio, rate = sf.read(PROMPT_WAV, dtype="float32")
    return audio, rate


def _write_prompt_files(d: Path) -> dict[str, str]:
    """Every prompt variant as a real file; returns id -> file name."""
    x, rate = _speech()
    files: dict[str, str] = {"good": PROMPT_WAV.name}
    shutil.copy(PROMPT_WAV, d / PROMPT_WAV.name)
    (d / "prompt_unreadable.wav").mkdir()
    files["prompt_unreadable"] = "prompt_unreadable.wav"
    files["prompt_missing"] = "nowhere.wav"
    raw = bytearray(PROMPT_WAV.read_bytes())
    raw[0:16] = b"\x00GARBAGE-HEADER\x00"
    (d / "prompt_corrupt_header.wav").write_bytes(bytes(raw))
    (d / "prompt_zero_bytes.wav").write_bytes(b"")
    sf.write(d / "prompt_no_frames.wav", np.zeros(0, dtype=np.float32), rate, subtype="PCM_16")
    sf.write(d / "prompt_silent.wav", np.zeros(3 * rate, dtype=np.float32), rate, subtype="PCM_16")
    nan = x.copy()
    nan[1000:1010] = np.nan
    sf.write(d / "prompt_nan.wav", nan, rate, subtype="FLOAT")
    inf = x.copy()
    inf[500] = np.inf
    sf.write(d / "prompt_inf.wav", inf, rate, subtype="FLOAT")
    sf.write(d / "prompt_stereo.wav", np.stack([x, 0.5 * x], axis=1), rate, subtype="PCM_16")
    sf.write(d / "prompt_stereo_antiphase.wav", np.stack([x, -x], axis=1), rate, subtype="PCM_16")
    for target, case in ((8000, "prompt_8k"), (44100, "prompt_44k"), (96000, "prompt_96k"), (4000, "prompt_4k")):
        sf.write(d / f"{case}.wav", soxr.resample(x, rate, target), target, subtype="PCM_16")
    sf.write(d / "prompt_pcm24.wav", x, rate, subtype="PCM_24")
    sf.write(d / "prompt_float.wav", x, rate, subtype="FLOAT")
    sf.write(d / "prompt_float_hot.wav", x * (1.8 / np.abs(x).max()), rate, subtype="FLOAT")
    for case in case_ids():
        if case.startswith("prompt_") and case not in files:
            files[case] = f"{case}.wav"
    return files


@pytest.fixture(scope="module")
def prompt_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, dict[str, Any]]:
    where = gate_dir(tmp_path_factory.mktemp("prompts"))
    files = _write_prompt_files(where)
    body = "".join(f'[[prompt]]\nid = "{pid}"\nwav = "{name}"\ntext = "{PROMPT_TEXT}"\n\n'
                   for pid, name in files.items())
    (where / "prompts.toml").write_text(body)
    res = run_subprocess(where, "--luxgate-prompts=prompts.toml", "--luxgate-scenario=short_plain",
                         "--luxgate-keep-wavs=none", "-k", "wer or clipping", stacks="prompt_probe=fault_stacks:PromptProbe")
    return res, report_of(where)


PROMPT_ERRORS = {
    "prompt_missing": "nowhere.wav: file not found; check the path",
    "prompt_unreadable": "prompt_unreadable.wav: is a directory, not an audio file",
    "prompt_corrupt_header": "prompt_corrupt_header.wav: not a readable audio file (",
    "prompt_zero_bytes": "prompt_zero_bytes.wav: file is empty (0 bytes)",
    "prompt_no_frames": "prompt_no_frames.wav: holds no samples",
    "prompt_silent": "prompt_silent.wav: is silent (digital silence, below -60 dBFS)",
    "prompt_nan": "prompt_nan.wav: contains 10 NaN or Inf samples",
    "prompt_inf": "prompt_inf.wav: contains 1 NaN or Inf samples",
    "prompt_stereo_antiphase": "is silent after averaging its channels (are they in opposite phase?)",
    "prompt_4k": "prompt_4k.wav: sample rate 4000 Hz is outside 8000-192000 Hz; resample it",
}
PROMPT_NOTES = {  # resampling to the stack's rate is routine and not noted; these are
    "prompt_stereo": ["2 channels averaged to mono"],
    "prompt_8k": ["8000 Hz (resampled to 24000 Hz) holds nothing above 4000 Hz: a clone of it may sound muffled"],
    "prompt_44k": [],
    "prompt_96k": [],
    "prompt_pcm24": [],
    "prompt_float": [],
    "prompt_float_hot": ["FLOAT peak 1.80 above full scale, scaled to 0.99"],
}


@pytest.mark.parametrize("case", sorted(PROMPT_ERRORS))
def test_broken_prompt_wav_fails_its_cells_only(prompt_run, case: str) -> None:
    res, report = prompt_run
    assert res.returncode == pytest.ExitCode.TESTS_FAILED, res.stdout[-3000:]
    cells = {c["prompt"]: c for c in report["cells"]}
    cell = cells[case]
    assert cell["status"] == "error"
    assert f"prompt {case!r}: " in cell["error"] and PROMPT_ERRORS[case] in cell["error"]
    # the message also reaches the terminal, on the cell's tests
    assert f"[prompt_probe-{case}-short_plain]" in res.stdout
    lost = missing_survivors(report, {("prompt_probe", p, "short_plain"): RAN for p in ["good", *PROMPT_NOTES]})
    record(case, lost=lost)


@pytest.mark.parametrize("case", sorted(PROMPT_NOTES))
def test_unusual_prompt_wav_is_converted_and_noted(prompt_run, case: str) -> None:
    """The probe stack refuses anything but mono float32 in [-1, 1] at 24 kHz: the cell ran, so it got that."""
    _, report = prompt_run
    cells = {c["prompt"]: c for c in report["cells"]}
    cell = cells[case]
    assert cell["status"] in RAN and "wer" in cell["checks"], cell.get("error")
    assert [n for n in cell["notes"] if n.startswith("prompt")] == [f"prompt {case!r}: {n}" for n in PROMPT_NOTES[case]]
    assert cells["good"]["notes"] == []
    lost = missing_survivors(report, {("prompt_probe", "good", "short_plain"): RAN})
    record(case, lost=lost)


# -- input refused before any cell runs: message, exit 4, previous report untouched ----------------
@pytest.fixture(scope="module")
def previous_report(prompt_run) -> bytes:
    """A real report.json from an earlier run; a refused run must leave it exactly as it was."""
    return json.dumps(prompt_run[1], indent=2).encode()


def _refused(pytester: pytest.Pytester, previous: bytes, *args: str, stacks: str = "piper",
             ret: int = pytest.ExitCode.USAGE_ERROR) -> tuple[pytest.RunResult, int]:
    out = pytester.path / "out"
    out.mkdir(exist_ok=True)
    (out / "report.json").write_bytes(previous)
    res = run_gate(pytester, *args, stacks=stacks)
    assert res.ret == ret, res.stdout.str()[-2000:] + res.stderr.str()[-2000:]
    after = (out / "report.json").read_bytes()
    lost = len(json.loads(previous)["cells"]) if after != previous else 0
    assert not (out / "SUMMARY.md").exists() and not list(out.glob(".takes-*"))
    return res, lost


SCENARIO_FILES: dict[str, tuple[dict[str, bytes], str]] = {
    "scenario_invalid_toml": ({"s.toml": b'id = "x"\ntext = \n'}, "s.toml: not valid UTF-8 TOML (Invalid value"),
    "scenario_not_utf8": ({"s.toml": b'id = "x"\ntext = "\xff\xfe"\n'}, "s.toml: not valid UTF-8 TOML ('utf-8' codec"),
    "scenario_missing_text": ({"s.toml": b'id = "x"\n'}, "s.toml: missing 'text' (the words to synthesize)"),
    "scenario_empty_text": ({"s.toml": b'id = "x"\ntext = "  "\n'}, "s.toml: 'text' is empty; give the words"),
    "scenario_duplicate_id": ({"a.toml": b'id = "dup"\ntext = "one"\n', "b.toml": b'id = "dup"\ntext = "two"\n'},
                              "duplicate scenario id 'dup' in */b.toml and */a.toml; ids must be unique"),
    "scenario_unknown_threshold": ({"s.toml": b'id = "x"\ntext = "hi"\n[thresholds]\nwerr = 0.1\n'},
                                   "s.toml: unknown threshold 'werr'; known: *wer*"),
    "scenario_negative_threshold": ({"s.toml": b'id = "x"\ntext = "hi"\n[thresholds]\nwer = -0.1\n'},
                                    "s.toml: threshold 'wer' is a ratio and cannot be negative (-0.1)"),
    "scenario_ratio_above_1": ({"s.toml": b'id = "x"\ntext = "hi"\n[thresholds]\nwer = 1.5\n'},
                               "s.toml: threshold 'wer' is a ratio between 0 and 1, got 1.5"),
    "scenario_threshold_not_number": ({"s.toml": b'id = "x"\ntext = "hi"\n[thresholds]\nwer = "low"\n'},
                                      "s.toml: threshold 'wer' must be a number, got 'low'"),
    "scenario_too_long": ({"s.toml": b'id = "x"\ntext = "' + b"word " * 4001 + b'"\n'},
                          "s.toml: 'text' has 20005 characters, more than the 20000 allowed; split it into scenarios"),
    "scenario_code_is_data": ({"s.toml": b'id = "x"\ntext = "hi"\nrun = "__import__(\'os\').system(\'touch PWNED\')"\n'},
                              "s.toml: unknown key(s) ['run']; allowed: id, text, description, *"),
}


@pytest.mark.parametrize("case", sorted(SCENARIO_FILES))
def test_bad_scenario_file_is_refused_before_any_cell(pytester: pytest.Pytester, previous_report: bytes,
                                                      case: str) -> None:
    files, message = SCENARIO_FILES[case]
    d = pytester.mkdir("my_scenarios")
    for name, body in files.items():
        (d / name).write_bytes(body)
    res, lost = _refused(pytester, previous_report, "--luxgate-scenarios=my_scenarios")
    expected = f"scenario file {d}/{message}" if case != "scenario_duplicate_id" else message
    assert says(res.stderr.str(), expected), res.stderr.str()
    assert not (pytester.path / "PWNED").exists()
    if case != "scenario_code_is_data":  # that one is recorded with the spoken-code run below
        record(case, lost=lost)


OPTION_ERRORS: dict[str, tuple[list[str], str, str]] = {
    "unknown_stack": ([], "nosuchstack", "*unknown stack 'nosuchstack'; known: *piper*"),
    "unknown_scenario_option": (["--luxgate-scenario=short_plain,nope"], "piper",
                                "*unknown scenario id(s) ['nope'] in --luxgate-scenario; known: *short_plain*"),
    "bad_keep_wavs": (["--luxgate-keep-wavs=some"], "piper", "*--luxgate-keep-wavs must be one of none|best|all, got 'some'*"),
    "bad_seed": (["--luxgate-seed=abc"], "piper", "*--luxgate-seed must be an integer, got 'abc'*"),
    "bad_threshold_option": (["--luxgate-threshold=wer=2"], "piper", "*threshold 'wer' is a ratio between 0 and 1, got 2.0*"),
    "prompts_file_invalid": (["--luxgate-prompts=bad_prompts.toml"], "piper", "*prompts file */bad_prompts.toml: not valid TOML*"),
    "transcript_empty": (["--luxgate-prompts=empty_text.toml"], "piper",
                         "*prompts file */empty_text.toml: prompt 'p' has an empty 'text'; give the exact transcript*"),
}


@pytest.mark.parametrize("case", sorted(OPTION_ERRORS))
def test_bad_option_is_refused_before_any_cell(pytester: pytest.Pytester, previous_report: bytes, case: str) -> None:
    args, stacks, message = OPTION_ERRORS[case]
    (pytester.path / "bad_prompts.toml").write_text("[[prompt]\nid = \n")
    (pytester.path / "empty_text.toml").write_text(f'[[prompt]]\nid = "p"\nwav = "{PROMPT_WAV}"\ntext = ""\n')
    res, lost = _refused(pytester, previous_report, *args, stacks=stacks)
    assert says(res.stderr.str(), message), res.stderr.str()
    record(case, lost=lost)


@pytest.mark.parametrize("policy", ["strict", "asr", "target-fallback"])
def test_empty_prompt_transcript_is_refused_under_every_policy(pytester: pytest.Pytester, previous_report: bytes,
                                                                 policy: str) -> None:
    """`text = ""` is a mistake, not a missing transcript: no policy guesses over it."""
    (pytester.path / "p.toml").write_text(f'[[prompt]]\nid = "p"\nwav = "{PROMPT_WAV}"\ntext = ""\n')
    res, lost = _refused(pytester, previous_report, "--luxgate-prompts=p.toml", f"--luxgate-prompt-text={policy}",
                         stacks="prompt_probe=fault_stacks:PromptProbe")
    assert "p.toml: prompt 'p' has an empty 'text'; give the exact transcript" in res.stderr.str()
    record("transcript_empty", lost=lost, tried=LEDGER.get("transcript_empty", {}).get("tried", 0) + 1)


def test_unknown_scenario_in_k_says_what_exists(pytester: pytest.Pytester, previous_report: bytes) -> None:
    res, lost = _refused(pytester, previous_report, "-k", "nope", ret=pytest.ExitCode.NO_TESTS_COLLECTED)
    assert says(res.stdout.str(), "luxgate: -k 'nope' matches none of the * gate tests; known scenarios: "
                "*long_paragraph*short_plain*stacks: piper"), res.stdout.str()
    record("unknown_scenario_k", lost=lost)


# -- prompt without transcript, under each policy ----------------------------------------------------
@pytest.mark.parametrize("policy", ["strict", "asr", "target-fallback"])
def test_missing_prompt_transcript_follows_the_policy(pytester: pytest.Pytester, policy: str) -> None:
    (pytester.path / "p.toml").write_text(
        f'[[prompt]]\nid = "good"\nwav = "{PROMPT_WAV}"\ntext = "{PROMPT_TEXT}"\n\n'
        f'[[prompt]]\nid = "untranscribed"\nwav = "{PROMPT_WAV}"\n')
    res = run_gate(pytester, "--luxgate-prompts=p.toml", f"--luxgate-prompt-text={policy}",
                   "--luxgate-scenario=short_plain", "--luxgate-keep-wavs=none", "-k", "wer or clipping",
                   stacks="prompt_probe=fault_stacks:PromptProbe")
    report = json.loads((pytester.path / "out" / "report.json").read_text())
    cells = {c["prompt"]: c for c in report["cells"]}
    cell = cells["untranscribed"]
    if policy == "strict":
        assert res.ret == pytest.ExitCode.TESTS_FAILED
        assert cell["status"] == "error"
        assert says(cell["error"], "prompt 'untranscribed' has no transcript and --luxgate-prompt-text is strict; "
                                   "add `text = \"...\"` (the exact words spoken)*or choose --luxgate-prompt-text asr")
    else:
        assert cell["status"] in RAN, cell.get("error")
        given = cell["versions"]["stack"]["prompt_texts"]
        if policy == "target-fallback":
            assert "Quick quality check for LuxTTS." in given
        else:  # the gate's own ASR heard the prompt: the words of its real transcript
            assert "Quick quality check for LuxTTS." not in given  # not the target text
            for heard in given:  # the prompt's own words (tiny.en may hear them exactly)
                assert {"morning", "train", "river", "walked"} <= set(re.findall(r"[a-z]+", heard.lower())), given
    lost = missing_survivors(report, {("prompt_probe", "good", "short_plain"): RAN})
    record({"strict": "transcript_missing_strict", "asr": "transcript_missing_asr",
            "target-fallback": "transcript_missing_target"}[policy], lost=lost)


# -- stacks that misbehave: that cell fails with the stack's message, the rest run -----------------
WAIT_SCENARIO = 'id = "café_wait"\ntext = "Wait, the café on the Rue de Rivoli is closed today."\n'
FAULT_STACKS = {"raises_on_wait": "RaisesOnWait", "empty_audio": "EmptyAudio", "nan_audio": "NaNAudio",
                "rate_not_int": "RateNotInt", "negative_rate": "NegativeRate",
                "claims_wrong_rate": "ClaimsWrongRate", "claims_double_rate": "ClaimsDoubleRate",
                "loops_forever": "LoopsForever"}


@pytest.fixture(scope="module")
def fault_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess, dict[str, Any]]:
    where = gate_dir(tmp_path_factory.mktemp("faults"))
    (where / "sc").mkdir()
    (where / "sc" / "wait.toml").write_text(WAIT_SCENARIO, encoding="utf-8")
    foreign = where / "out" / ".takes-another-run"
    foreign.mkdir(parents=True)
    (foreign / "their_take.wav").write_bytes(PROMPT_WAV.read_bytes())
    stacks = ",".join(["piper", *(f"{n}=fault_stacks:{c}" for n, c in FAULT_STACKS.items())])
    res = run_subprocess(where, "--luxgate-scenarios=sc", "--luxgate-scenario=short_plain,café_wait",
                         "--luxgate-keep-wavs=all", "-k", "wer or clipping or rate", stacks=stacks)
    return where, res, report_of(where)


STACK_ERRORS = {
    "stack_raises_mid_matrix": (("raises_on_wait", "café_wait"),
                                "stack 'raises_on_wait' raised RuntimeError: CUDA error: device-side assert triggered"),
    "stack_empty_audio": (("empty_audio", "short_plain"), "stack 'empty_audio' returned empty audio for"),
    "stack_nan_audio": (("nan_audio", "short_plain"), "stack 'nan_audio' returned 1 NaN/Inf samples of"),
    "stack_rate_not_int": (("rate_not_int", "short_plain"),
                           "stack 'rate_not_int' reported sample rate 22050.0 (float); Synthesized.sample_rate "
                           "must be the audio's rate in Hz, an int between 8000 and 192000"),
    "stack_rate_negative": (("negative_rate", "short_plain"), "stack 'negative_rate' reported sample rate -22050 (int)"),
    "stack_rate_wrong_gross": (("claims_wrong_rate", "short_plain"),
                               "s of audio at the reported 192000 Hz for 26 letters/digits, shorter than the 0.43 s "
                               "even the fastest speech takes; is the audio really at 192000 Hz?"),
    "stack_absurd_length": (("loops_forever", "short_plain"),
                            "s of audio at the reported 22050 Hz for 26 letters/digits, longer than the 36 s even the "
                            "slowest speech takes; is the audio really at 22050 Hz, or does the stack loop?"),
}
SURVIVORS = {("piper", "own_voice", "short_plain"): RAN, ("piper", "own_voice", "café_wait"): RAN,
             ("raises_on_wait", "own_voice", "short_plain"): RAN,
             ("claims_double_rate", "own_voice", "short_plain"): RAN,
             ("claims_double_rate", "own_voice", "café_wait"): RAN}


@pytest.mark.parametrize("case", sorted(STACK_ERRORS))
def test_misbehaving_stack_fails_that_cell_only(fault_run, case: str) -> None:
    _, res, report = fault_run
    assert res.returncode == pytest.ExitCode.TESTS_FAILED, res.stdout[-3000:] + res.stderr[-3000:]
    (stack, scenario), message = STACK_ERRORS[case]
    cells = {(c["stack"], c["scenario"]): c for c in report["cells"]}
    cell = cells[(stack, scenario)]
    assert cell["status"] == "error" and message in cell["error"], cell.get("error")
    assert message in res.stdout  # the failing tests say it too
    record(case, lost=missing_survivors(report, SURVIVORS))


def test_rate_mismatch_within_range_is_heard_by_the_checks(fault_run) -> None:
    """Audio at half the speed and pitch the stack claims: no sanity bound can tell it from a
    slow voice, so it is the checks' job: test_rate (and usually test_wer) fail with numbers."""
    _, res, report = fault_run
    cells = {(c["stack"], c["scenario"]): c for c in report["cells"]}
    for scenario in ("short_plain", "café_wait"):
        fast = cells[("claims_double_rate", scenario)]
        honest = cells[("piper", scenario)]
        assert fast["status"] == "failed" and not fast["checks"]["rate"]["passed"], fast["checks"]["rate"]
        assert fast["metrics"]["syllables_per_s"] > 1.8 * honest["metrics"]["syllables_per_s"]
        assert "syllables" in fast["checks"]["rate"]["message"]
    record("stack_rate_wrong_2x", lost=missing_survivors(report, SURVIVORS))


def test_non_ascii_scenario_runs_and_foreign_takes_are_left_alone(fault_run) -> None:
    where, _, report = fault_run
    cells = {(c["stack"], c["scenario"]): c for c in report["cells"]}
    cafe = cells[("piper", "café_wait")]
    assert cafe["status"] in RAN and cafe["text"].startswith("Wait, the café")
    assert cafe["wav"].startswith("wavs/piper/own_voice__caf__wait-")  # sanitised, hashed: distinct
    assert (where / "out" / cafe["wav"]).is_file()
    record("scenario_non_ascii", lost=missing_survivors(report, SURVIVORS))
    # another run's takes in our output dir are not ours to delete; our own are gone
    assert (where / "out" / ".takes-another-run" / "their_take.wav").is_file()
    assert [p.name for p in (where / "out").glob(".takes-*")] == [".takes-another-run"]
    record("foreign_takes", lost=missing_survivors(report, SURVIVORS))


def test_10k_character_scenario_is_chunked_not_refused(pytester: pytest.Pytester) -> None:
    """A 10,000-character text (a page of an audiobook) is a fair thing to gate: it is accepted
    and spoken in chunks. Speaking it end to end takes minutes (measured: README), so here the
    plugin collects its cells and the chunker's plan is checked; the end-to-end figure is a bench."""
    from pytest_luxgate.speech.chunking import split_text
    from pytest_luxgate.matrix.scenarios import load_file

    sentence = "The river bends twice before the old mill, and the path follows it closely. "
    text = (sentence * (10_000 // len(sentence) + 1))[:10_000].rsplit(" ", 1)[0] + "."
    d = pytester.mkdir("long")
    (d / "long.toml").write_text(f'id = "long_page"\ntext = "{text}"\n')
    scenario = load_file(d / "long.toml")
    assert len(scenario.text) > 9_900
    chunks = split_text(scenario.text, 100)
    assert len(chunks) >= 100 and max(map(len, chunks)) <= 100
    assert " ".join(chunks).split() == scenario.text.split()  # nothing dropped, nothing added
    res = run_gate(pytester, "--luxgate-scenarios=long", "--luxgate-scenario=long_page", "--co", "-q")
    assert res.ret == pytest.ExitCode.OK
    res.stdout.fnmatch_lines(["*test_wer?piper-own_voice-long_page?*"])
    record("scenario_10k_chars")


# -- ids that would be paths --------------------------------------------------------------------------
ODD_PROMPTS = ["../../up", "a/b", "a_b", "nul\u0000byte", "x" * 200, "Ünïcødé 🎤", "Intro", "intro"]
CODE_ID = "../../../tmp/../cöde/x"  # (NUL is in a prompt id: a command line cannot carry one)
CODE_TEXT = "__import__('os').system('touch PWNED') and eval('open(\"PWNED2\", \"w\")')"


@pytest.fixture(scope="module")
def odd_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess, dict[str, Any]]:
    root = tmp_path_factory.mktemp("odd")
    where = gate_dir(root / "run")
    body = "".join(f"[[prompt]]\nid = {json.dumps(pid, ensure_ascii=False)}\nwav = \"{PROMPT_WAV}\"\ntext = \"{PROMPT_TEXT}\"\n\n"
                   for pid in ODD_PROMPTS)
    (where / "p.toml").write_text(body, encoding="utf-8")
    (where / "sc").mkdir()
    (where / "sc" / "code.toml").write_text(f"id = {json.dumps(CODE_ID)}\ntext = {json.dumps(CODE_TEXT)}\n")
    res = run_subprocess(where, "--luxgate-prompts=p.toml", "--luxgate-scenarios=sc", "--luxgate-keep-wavs=all",
                         f"--luxgate-scenario={CODE_ID}",
                         "-k", "wer or clipping", "--luxgate-chunk-chars=0", stacks="prompt_probe=fault_stacks:PromptProbe")
    return root, res, report_of(where)


def test_odd_ids_never_write_outside_the_output_dir(odd_run) -> None:
    root, res, report = odd_run
    out = root / "run" / "out"
    cells = [c for c in report["cells"] if c["scenario"] == CODE_ID]
    assert sorted(c["prompt"] for c in cells) == sorted(ODD_PROMPTS)  # ids kept verbatim in the report
    assert all(c["status"] in RAN for c in cells), [c.get("error") for c in cells]
    wavs = [out / c["wav"] for c in cells]
    assert len(set(wavs)) == len(ODD_PROMPTS)  # collision-free, "Intro"/"intro" included
    assert len({str(w).lower() for w in wavs}) == len(ODD_PROMPTS)  # also on case-insensitive file systems
    for w in wavs:
        assert w.is_file() and w.resolve().is_relative_to(out.resolve()) and len(w.name) < 255
    # nothing anywhere else: the run dir holds only what the test put there plus out/
    written = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    outside = {p for p in written if not p.startswith("run/out/")}
    assert outside == {"run/p.toml", "run/sc/code.toml", "run/conftest.py", "run/test_luxgate_reliability_matrix.py"}, outside
    lost = sum(1 for c in cells if c["status"] not in RAN)
    record("ids_traversal", lost=lost, tried=len(ODD_PROMPTS) + 1)


def test_scenario_text_that_looks_like_code_is_only_spoken(odd_run) -> None:
    root, _, report = odd_run
    assert not list(root.rglob("PWNED*")) and not list(Path.cwd().glob("PWNED*"))
    cell = next(c for c in report["cells"] if c["prompt"] == "a_b")
    assert cell["text"] == CODE_TEXT and cell["status"] in RAN
    record("scenario_code_is_data", lost=0 if cell["status"] in RAN else 1, tried=2)


#: the package's only dynamic-code sites, each fed by model files the user points at, never by
#: scenario or prompt data (file, construct) -> why it is allowed
CODE_SITES = {
    ("linacodec_standin/vocoder/vocos.py", "__import__"):
        "class path from the LuxTTS weights' vocoder/config.yaml, as upstream vocos does",
    ("luxtts/stacks.py", "torch.load"): "the LuxTTS vocoder weights file (weights-only by default since torch 2.6)",
}


def test_package_has_no_path_from_data_to_code() -> None:
    """Scenario and prompt files are parsed by tomllib only, and nothing in the package can
    execute data: no eval/exec/compile, no pickle/marshal/shelve, YAML only through safe_load.
    (Stacks named with --luxgate-stacks name=module:Class are imported on purpose: code the
    user chose.) Model-loading sites are listed in CODE_SITES with the reason."""
    import ast

    import pytest_luxgate

    root = Path(pytest_luxgate.__file__).parent
    found = []
    for path in root.rglob("*.py"):
        rel = path.relative_to(root).as_posix()
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            site = None
            if isinstance(node, ast.Call):
                name = ast.unparse(node.func)
                if name in ("eval", "exec", "compile", "__import__", "torch.load", "pickle.load", "pickle.loads",
                            "marshal.loads", "yaml.load", "yaml.unsafe_load", "yaml.full_load"):
                    site = name
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                site = next((f"import {n}" for n in names if n.split(".")[0] in ("pickle", "marshal", "shelve",
                                                                                "dill", "cloudpickle")), None)
            if site and not any(rel.endswith(f) and site == c for f, c in CODE_SITES):
                found.append(f"{rel}:{node.lineno} {site}")
    assert not found, found
    record("no_eval_paths")


# -- faults: Ctrl-C, a second run, a full disk, an unwritable output dir -----------------------------
def _start_blocked_run(where: Path, *args: str) -> tuple[subprocess.Popen, Path]:
    """A gate run that finished short_plain (wer, clipping), then blocks inside the stack on the "Wait" scenario."""
    proc = start_blocked_run(where, "--luxgate-scenario=short_plain,punctuation_pauses", "-k", "wer or clipping",
                             *args, finished=2, preexec_fn=ctrl_c_reaches_it)
    return proc, where / "release"


def test_sigint_mid_run_writes_the_finished_cells_marked_incomplete(tmp_path: Path) -> None:
    proc, _ = _start_blocked_run(tmp_path)
    os.kill(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, out[-3000:] + err[-3000:]
    assert "KeyboardInterrupt" in out
    report = report_of(tmp_path)
    assert report["run"]["complete"] is False and "interrupted" in report["run"]["incomplete_reason"]
    assert "Incomplete run" in (tmp_path / "out" / "SUMMARY.md").read_text()
    done = {("blocks_on_wait", "own_voice", "short_plain"): RAN}
    assert leftovers(tmp_path / "out") == [] and not list((tmp_path / "out").glob(".takes-*"))
    record("sigint", lost=missing_survivors(report, done))


def test_second_run_on_the_same_output_dir_is_refused(tmp_path: Path, pytester: pytest.Pytester) -> None:
    first, release = _start_blocked_run(tmp_path)
    try:  # the second run alone, and under xdist (there the controller refuses at collection)
        seconds = [subprocess.run(gate_cmd("--luxgate-scenario=short_plain", *extra), cwd=gate_dir(tmp_path),
                                  env=gate_env(), capture_output=True, text=True, timeout=600)
                   for extra in ([], ["-n", "2"])]
    finally:
        release.touch()
    out, err = first.communicate(timeout=600)
    for second in seconds:
        assert second.returncode == pytest.ExitCode.USAGE_ERROR, second.stdout[-2000:] + second.stderr[-2000:]
        assert says(second.stderr, f"luxgate: output directory {tmp_path / 'out'} is in use by another gate run "
                                   f"(pid {first.pid} on *, started *: *); wait for it to finish, or give this "
                                   "run its own --luxgate-output DIR"), second.stderr
    assert first.returncode == pytest.ExitCode.OK or first.returncode == pytest.ExitCode.TESTS_FAILED, out[-3000:] + err
    report = report_of(tmp_path)
    assert report["run"]["complete"] is True and {c["stack"] for c in report["cells"]} == {"blocks_on_wait"}
    expected = {("blocks_on_wait", "own_voice", s): RAN for s in ("short_plain", "punctuation_pauses")}
    assert leftovers(tmp_path / "out") == []
    # once the first run is done the directory is free again (the kernel dropped its lock)
    third = run_gate(pytester, "--luxgate-scenario=short_plain", "--co", "-q")
    assert third.ret == pytest.ExitCode.OK
    record("concurrent_run", lost=missing_survivors(report, expected), tried=len(seconds))


DISK_FULL_CONFTEST = """
import resource, signal


def pytest_sessionstart(session):
    # From here on the kernel refuses to grow any file of this process (EFBIG, as ENOSPC on a
    # full disk): a real limit, not a patched Python function. Pipes (the terminal) still work,
    # as on a full disk. SIGXFSZ, which would kill the process, is ignored so writes fail instead.
    # Set at session start, not at exec: with no file writable at all Python's tempfile and
    # pytest's own output capture cannot start (as on a disk that was full before the run).
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
"""


def test_disk_full_keeps_every_verdict(tmp_path: Path, previous_report: bytes) -> None:
    where = gate_dir(tmp_path)
    with (where / "conftest.py").open("a") as fh:
        fh.write(DISK_FULL_CONFTEST)
    out = where / "out"
    out.mkdir()
    (out / "report.json").write_bytes(previous_report)
    res = subprocess.run(gate_cmd("--luxgate-scenario=short_plain", "-k", "wer or clipping", "-s"), cwd=where,
                         env=gate_env(), capture_output=True, text=True, timeout=900)
    assert res.returncode == pytest.ExitCode.INTERNAL_ERROR, res.stdout[-3000:] + res.stderr[-3000:]
    assert says(res.stdout, f"luxgate: could not write the report to {out} (File too large), nor to a temporary "
                            "directory (*); so no result is lost, here is report.json:"), res.stdout[-3000:]
    start = res.stdout.index("here is report.json:") + len("here is report.json:")
    dumped = json.loads(res.stdout[start:res.stdout.index("\n}", start) + 2])
    (cell,) = dumped["cells"]
    assert cell["status"] in RAN and {"wer", "clipping"} <= set(cell["checks"])
    assert any(n.startswith("take not kept: could not write it under") for n in cell["notes"]) and cell["wav"] is None
    # the previous report is whole: a failed write never truncates what was there
    assert (out / "report.json").read_bytes() == previous_report and leftovers(out) == []
    record("disk_full", lost=missing_survivors(dumped, {("piper", "own_voice", "short_plain"): RAN}))


def test_unwritable_output_dir_falls_back_and_says_where(pytester: pytest.Pytester) -> None:
    (pytester.path / "blocker").write_text("a regular file where a directory is needed")
    res = run_gate(pytester, "--luxgate-scenario=short_plain", "-k", "wer or clipping",
                   "--luxgate-output=blocker/out")
    assert res.ret == pytest.ExitCode.INTERNAL_ERROR
    line = next(ln for ln in res.stdout.lines if "could not write the report" in ln)
    assert says(line, f"luxgate: could not write the report to {pytester.path / 'blocker' / 'out'} (*); "
                      "it was written to * instead"), line
    fallback = Path(line.rsplit(" to ", 1)[1].split(" instead")[0])
    report = json.loads((fallback / "report.json").read_text())
    assert (fallback / "SUMMARY.md").is_file()
    (cell,) = report["cells"]
    assert cell["status"] in RAN and (fallback / cell["wav"]).is_file()  # the best take went with it
    assert "<audio " in (fallback / "report.html").read_text()  # and the page that plays it
    assert report["run"]["output_notes"][0].startswith(f"could not write the report to {pytester.path / 'blocker'}")
    record("output_unwritable", lost=missing_survivors(report, {("piper", "own_voice", "short_plain"): RAN}))


# -- the figures ---------------------------------------------------------------------------------------
def test_every_case_was_tried_and_handled(request: pytest.FixtureRequest) -> None:
    """Runs last (module order: test_fail_closed_* sort first). Computes README's figures from what
    the tests of every reliability module recorded."""
    here = Path(request.module.__file__).parent
    modules = {p.name for g in MODULE_GLOBS for p in here.glob(g)}
    wanted = set()
    for it in request.session.items:
        if it.path.name in modules:
            wanted.add((it.path.name, it.name.split("[")[0]))
    defined = {(m.__file__.rsplit("/", 1)[1], n) for m in {it.module for it in request.session.items
                                                          if it.path.name in modules}
               for n in dir(m) if n.startswith("test_")}
    if {it.path.name for it in request.session.items} < modules or wanted != defined:
        pytest.skip("only part of the reliability modules was selected; figures need all of them")
    tried = sum(v["tried"] for v in LEDGER.values())
    handled = sum(v["tried"] for v in LEDGER.values() if v["handled"])
    lost = sum(v["lost"] for v in LEDGER.values())
    missing = [c for c in case_ids() if c not in LEDGER]
    assert not missing, f"cases in the README table that no test tried: {missing}"
    figures = {"cases": len(CASES), "inputs_tried": tried, "handled": handled, "results_lost": lost,
               "rows": [{"case": c, "group": g, "input": i, "gets": w, "module": ORIGIN.get(c, ""), **LEDGER[c]}
                        for c, g, i, w in CASES]}
    if os.environ.get("LUXGATE_RELIABILITY_LEDGER"):
        Path(os.environ["LUXGATE_RELIABILITY_LEDGER"]).write_text(json.dumps(figures, indent=1))
    assert handled == tried and lost == 0
