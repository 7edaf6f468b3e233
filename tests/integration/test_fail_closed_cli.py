"""Fail closed (issue 16): `luxgate check` and the gate's ASR and generation-parameter options.

`luxgate check` judges with the gate's own set of checks, says every check it
could not run and never calls such a take PASS; it refuses a take too long to
judge from the file's header, before reading a sample; every bad input is one
line naming the option or file and the value (exit 2), and the other takes of
a many-file run are still judged. In the gate, an unknown ASR model or an
unknown generation parameter is a usage error (exit 4) before any synthesis,
naming the option and what is known, instead of an error in every cell.

All real: Piper speaks, Whisper tiny.en listens, the long file is a real WAV
(a sparse file: the header says 3 hours of digital silence, and every sample
of it reads back as zero).
"""
from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from pytester_gate import read_report, run_gate
from reliability_ledger import record, refused_run, register

from pytest_luxgate.asr import get_asr
from pytest_luxgate.cli import EXIT_BAD_INPUT, EXIT_FAIL, EXIT_PASS, main
from pytest_luxgate.cli.check_inputs import DEFAULT_MAX_SECONDS
from pytest_luxgate.core.audio import write_wav_atomic
from pytest_luxgate.judging.checks import CHECKS
from pytest_luxgate.listeners import dnsmos, speaker
from pytest_luxgate.matrix.prompts import DEFAULT_FILE

FAST = ["--asr", "tiny.en"]
PROMPT_A = DEFAULT_FILE.parent / "prompt_a.wav"  # Piper's own voice (joe): a Piper take sounds like it
needs_listen = pytest.mark.skipif(bool(dnsmos.unavailable() or speaker.unavailable()),
                                  reason=str(dnsmos.unavailable() or speaker.unavailable()))

ROWS = register([
    ("cli_long_file", "luxgate check", "3-hour WAV; a 3 s take over `--max-duration 2`",
     "exit 2 from the header, before any sample is read: `FILE: 10800 s long (180.0 min), over --max-duration "
     "120 s; split it into takes, or raise --max-duration`; memory stays < 1 GB"),
    ("cli_unknown_asr", "luxgate check", "`--asr nonexistent-model`, `--asr nope:x`",
     "exit 2, no model loaded: `--asr: unknown ASR model 'nonexistent-model' ...; known: ...`"),
    ("cli_binary_text_file", "luxgate check", "`--text-file` binary: NUL bytes (valid UTF-8), or not UTF-8",
     "exit 2: `--text-file FILE: not text (control character '\\x00' at offset 0)` / `not UTF-8 text`"),
    ("cli_bad_threshold", "luxgate check", "`--threshold wer=abc`, `--threshold nope=1`",
     "exit 2: `--threshold wer: must be a number, got 'abc'` / `--threshold: unknown threshold 'nope'`"),
    ("cli_default_checks", "luxgate check", "a take with a 0.36 s pause inside a phrase, default checks",
     "FAIL on `pauses`, exit 1: the default is every check the gate runs"),
    ("cli_check_not_run", "luxgate check", "no `--prompt`: the voice check cannot run",
     "INCOMPLETE, exit 1, `skipped: {voice: ...give --prompt...}`; `--skip voice` passes, listed as excluded"),
    ("cli_many_bad_inputs", "luxgate check",
     "missing, corrupt, NaN, empty text, binary text, 3-hour file and a wrong manifest line among good takes",
     "one line each naming the file (or manifest line) and the value, exit 2; every good take still judged"),
    ("gate_unknown_asr", "options", "`--luxgate-asr=nonexistent`, `=nope:tiny.en`, a CT2 dir without model.bin",
     "usage error before any synthesis: `--luxgate-asr: unknown ASR model 'nonexistent' ...; known: ...`"),
    ("gate_unknown_param", "options",
     "unknown generation parameter in `--luxgate-params`, a params file, a scenario's `[params]`; a bad value",
     "usage error before any synthesis: `--luxgate-params: unknown generation parameter 'lenght_scale' "
     "...; stack 'piper' knows: length_scale, ...`"),
])


def long_silent_wav(path: Path, seconds: float, rate: int = 16000) -> Path:
    """A real 16-bit PCM WAV of `seconds` of digital silence, written as a sparse file: the
    header is what a recorder writes, and the samples read back as zeros without taking disk."""
    data = int(seconds * rate) * 2
    header = (b"RIFF" + struct.pack("<I", 36 + data) + b"WAVE" + b"fmt " +
              struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16) + b"data" + struct.pack("<I", data))
    with open(path, "wb") as fh:
        fh.write(header)
        fh.truncate(len(header) + data)
    return path


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict], str]:
    code = main(["check", *args, "--json", *FAST])
    out = capsys.readouterr()
    return code, [json.loads(line) for line in out.out.splitlines() if line.strip()], out.err


def _one_line_error(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("luxgate: error: "), err
    assert "Traceback" not in err
    return lines[0]


# -- long input: refused from the header -----------------------------------------------------------
MEASURE = """import sys, time
from pytest_luxgate.cli import main
t0 = time.process_time()  # CPU seconds: what the refusal costs, whatever else the machine runs
code = main(sys.argv[1:])
# VmHWM, not ru_maxrss: the latter keeps the forking parent's size across exec (a big pytest)
hwm = next(int(ln.split()[1]) for ln in open("/proc/self/status") if ln.startswith("VmHWM:"))
print(f"MEASURED rss_kb={hwm} s={time.process_time() - t0:.2f}",
      file=sys.stderr)
sys.exit(code)
"""


def test_a_three_hour_file_is_refused_from_its_header(tmp_path: Path, piper_wav) -> None:
    long = long_silent_wav(tmp_path / "three_hours.wav", 3 * 3600)
    assert sf.info(str(long)).duration == 3 * 3600  # a real WAV that libsndfile reads as 3 hours
    proc = subprocess.run([sys.executable, "-c", MEASURE, "check", str(long), "--text", "You", *FAST],
                          capture_output=True, text=True, timeout=300, env={**os.environ})
    measured = [line for line in proc.stderr.splitlines() if line.startswith("MEASURED")]
    err = "\n".join(line for line in proc.stderr.splitlines() if not line.startswith("MEASURED"))
    assert proc.returncode == EXIT_BAD_INPUT, proc.stderr
    line = _one_line_error(err)
    assert line == (f"luxgate: error: {long}: 10800 s long (180.0 min), over --max-duration "
                    f"{DEFAULT_MAX_SECONDS:g} s; split it into takes, or raise --max-duration (memory and "
                    "time grow with the length)")
    rss_kb, seconds = (float(kv.split("=")[1]) for kv in measured[0].split()[1:])
    # before: 12 GB within a minute; refused from the header it costs what the imports cost
    assert rss_kb < 1024 * 1024 and seconds < 60, measured

    # both ways: a take within the limit is judged, the same take over a lower limit is not
    wav, text = piper_wav
    assert main(["check", str(wav), "--text", text, "--checks", "wer", "--max-duration", "30", *FAST]) == EXIT_PASS
    assert main(["check", str(wav), "--text", text, "--checks", "wer", "--max-duration", "2", *FAST]) \
        == EXIT_BAD_INPUT
    record("cli_long_file", tried=2)


def test_a_long_prompt_and_a_bad_limit_are_refused(capsys, tmp_path: Path, piper_wav) -> None:
    wav, text = piper_wav
    long = long_silent_wav(tmp_path / "prompt.wav", 2 * 3600)
    code, out, err = _json(capsys, str(wav), "--text", text, "--prompt", str(long))
    assert code == EXIT_BAD_INPUT
    assert out[0]["error"].startswith(f"--prompt: {long}: 7200 s long (120.0 min), over --max-duration")
    _one_line_error(err)
    for bad in ("0", "-5", "abc", "inf"):
        code, out, err = _json(capsys, str(wav), "--text", text, "--max-duration", bad)
        assert code == EXIT_BAD_INPUT
        assert _one_line_error(err) == ("luxgate: error: --max-duration: expected seconds > 0 like "
                                        f"{DEFAULT_MAX_SECONDS:g}, got {bad!r}")


# -- option values that named nothing or raised ------------------------------------------------------
@pytest.mark.parametrize("spec, message", [
    ("nonexistent-model", "--asr: unknown ASR model 'nonexistent-model': not a bundled model and no such "
                          "directory; known: faster-whisper:tiny.en, faster-whisper:base"),
    ("nope:tiny.en", "--asr: unknown ASR backend 'nope' in 'nope:tiny.en'; known: faster-whisper:tiny.en"),
])
def test_an_unknown_asr_is_one_line_exit_2(capsys, piper_wav, spec: str, message: str) -> None:
    wav, text = piper_wav
    code = main(["check", str(wav), "--text", text, "--asr", spec])
    assert code == EXIT_BAD_INPUT
    assert _one_line_error(capsys.readouterr().err).startswith(f"luxgate: error: {message}")
    record("cli_unknown_asr", tried=2)


def test_a_binary_text_file_is_refused_and_a_text_file_is_read(capsys, tmp_path: Path, piper_wav) -> None:
    wav, text = piper_wav
    nul = tmp_path / "nul.bin"
    nul.write_bytes(b"\x00\x01\x02hello\x00")  # valid UTF-8, not text
    code = main(["check", str(wav), "--text-file", str(nul), *FAST])
    assert code == EXIT_BAD_INPUT
    assert _one_line_error(capsys.readouterr().err) == \
        f"luxgate: error: --text-file {nul}: not text (control character '\\x00' at offset 0); give a text file"
    code = main(["check", str(wav), "--text-file", str(wav), *FAST])  # a WAV as the text
    assert code == EXIT_BAD_INPUT
    assert _one_line_error(capsys.readouterr().err).startswith(f"luxgate: error: --text-file {wav}: not UTF-8 text")
    good = tmp_path / "text.txt"
    good.write_text(text + "\n")
    assert main(["check", str(wav), "--text-file", str(good), "--checks", "wer", *FAST]) == EXIT_PASS
    record("cli_binary_text_file", tried=3)


@pytest.mark.parametrize("value, message", [
    ("wer=abc", "--threshold wer: must be a number, got 'abc'"),
    ("nope=1", "--threshold: unknown threshold 'nope'; known: after_sonorant_text_s, after_text_s, "
               "before_sonorant_text_s, before_text_s, click_scan_db, "),
    ("wer", "--threshold: expected KEY=VALUE, got 'wer'"),
    ("wer=nan", "--threshold: threshold 'wer' must be finite, got nan"),
])
def test_a_bad_threshold_names_the_option_and_value(capsys, piper_wav, value: str, message: str) -> None:
    wav, text = piper_wav
    assert main(["check", str(wav), "--text", text, "--threshold", value, *FAST]) == EXIT_BAD_INPUT
    assert _one_line_error(capsys.readouterr().err).startswith(f"luxgate: error: {message}")
    record("cli_bad_threshold", tried=4)


# -- the default set is the gate's; what did not run is never PASS ----------------------------------
@pytest.mark.parametrize("args, message", [
    (["--skip", "wer,repeat,start,tail,clipping,rate,seams,pauses,quality,voice"],
     "--checks '' and --skip 'wer,repeat,start,tail,clipping,rate,seams,pauses,quality,voice' leave no check to run"),
    (["--checks", "wer", "--skip", "wer"], "--checks 'wer' and --skip 'wer' leave no check to run"),
    (["--skip", "vocie"], "--skip: unknown check(s) 'vocie'; known: wer, repeat, "),
])
def test_nothing_to_judge_is_bad_input_not_a_pass(capsys, piper_wav, args: list[str], message: str) -> None:
    wav, text = piper_wav
    assert main(["check", str(wav), "--text", text, *args, *FAST]) == EXIT_BAD_INPUT
    assert _one_line_error(capsys.readouterr().err).startswith(f"luxgate: error: {message}")


@pytest.fixture(scope="module")
def paused(piper_take, tmp_path_factory) -> Path:
    """The Piper take with 0.36 s of silence spliced between "jumps" and "over" (no comma there)."""
    audio, rate, _ = piper_take
    words = get_asr("tiny.en").transcribe(audio, rate).words
    i = [w.text.strip(" ,.").lower() for w in words].index("over")
    at = int((words[i - 1].end + words[i].start) / 2 * rate)
    spliced = np.concatenate([audio[:at], np.zeros(int(0.36 * rate), np.float32), audio[at:]])
    return write_wav_atomic(tmp_path_factory.mktemp("paused") / "paused.wav", spliced, rate)


def test_default_checks_are_the_gates_and_a_pause_inside_a_phrase_fails(capsys, piper_wav, paused) -> None:
    wav, text = piper_wav
    code, (out,), _ = _json(capsys, str(wav), "--text", text, "--skip", "voice")
    assert list(out["checks"]) == [n for n in CHECKS if n != "voice"]  # pauses and quality among them
    assert out["excluded"] == ["voice"] and "skipped" not in out
    assert code == EXIT_PASS and out["passed"], {n: c["message"] for n, c in out["checks"].items()}

    code, (out,), _ = _json(capsys, str(paused), "--text", text, "--skip", "voice")
    assert code == EXIT_FAIL and not out["passed"]
    assert not out["checks"]["pauses"]["passed"]
    assert out["checks"]["pauses"]["message"].startswith("pause_gap_s 0.3")
    record("cli_default_checks", tried=2)


@needs_listen
def test_a_check_that_cannot_run_is_incomplete_never_pass(capsys, piper_wav) -> None:
    wav, text = piper_wav
    code, (out,), _ = _json(capsys, str(wav), "--text", text)
    assert code == EXIT_FAIL and out["passed"] is False
    assert set(out["checks"]) == set(CHECKS) - {"voice"} and all(c["passed"] for c in out["checks"].values())
    assert set(out["skipped"]) == {"voice"} and "give --prompt PROMPT.wav" in out["skipped"]["voice"]
    main(["check", str(wav), "--text", text, *FAST])  # the text output says it in its headline
    said = capsys.readouterr().out
    assert said.startswith(f"{wav}: INCOMPLETE (1 check(s) not run: voice)\n") and "  not run voice: " in said

    code, (out,), _ = _json(capsys, str(wav), "--text", text, "--prompt", str(PROMPT_A))
    assert code == EXIT_PASS and out["passed"] and set(out["checks"]) == set(CHECKS)
    assert "skipped" not in out and "excluded" not in out
    record("cli_check_not_run", tried=2)


# -- many takes: every bad one said in one line, every good one judged -----------------------------
def test_bad_inputs_among_many_takes_lose_no_verdict(capsys, tmp_path: Path, piper_take) -> None:
    audio, rate, text = piper_take
    good = write_wav_atomic(tmp_path / "good.wav", audio, rate)
    (tmp_path / "good.txt").write_text(text)
    (tmp_path / "corrupt.wav").write_bytes(b"RIFF\x00\x00garbage" * 10)
    nan = audio.copy()
    nan[100:103] = np.nan
    sf.write(tmp_path / "nan.wav", nan, rate, subtype="FLOAT")
    write_wav_atomic(tmp_path / "empty_text.wav", audio, rate)
    (tmp_path / "empty_text.txt").write_text("  \n")
    write_wav_atomic(tmp_path / "binary_text.wav", audio, rate)
    (tmp_path / "binary_text.txt").write_bytes(b"\x00\x00\x00")
    long_silent_wav(tmp_path / "long.wav", 3 * 3600)
    for name in ("corrupt", "nan", "long"):
        (tmp_path / f"{name}.txt").write_text(text)
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(json.dumps({"wav": "good.wav", "txt": "typo"}) + "\n"
                        + json.dumps({"wav": "good.wav", "text": text}) + "\n")
    names = ["good", "missing", "corrupt", "nan", "empty_text", "binary_text", "long"]
    code, out, err = _json(capsys, *(str(tmp_path / f"{n}.wav") for n in names), "--manifest", str(manifest),
                           "--checks", "wer,clipping")
    assert code == EXIT_BAD_INPUT and "Traceback" not in err
    assert len(out) == len(names) + 2
    by = dict(zip(names + ["manifest_line", "manifest_good"], out))
    expected = {
        "missing": f"{tmp_path}/missing.wav: file not found; check the path",
        "corrupt": f"{tmp_path}/corrupt.wav: not a readable audio file",
        "nan": f"{tmp_path}/nan.wav: contains 3 NaN or Inf samples of",
        "empty_text": f"the text for {tmp_path}/empty_text.wav is empty",
        "binary_text": f"text file {tmp_path}/binary_text.txt: not text (control character '\\x00' at offset 0)",
        "long": f"{tmp_path}/long.wav: 10800 s long (180.0 min), over --max-duration {DEFAULT_MAX_SECONDS:g} s",
        "manifest_line": f"--manifest {manifest}:1: needs \"wav\" and \"text\" or \"text_file\"",
    }
    errors = [line for line in err.splitlines() if line.strip()]
    assert len(errors) == len(expected)  # one line each
    for name, start in expected.items():
        assert by[name]["passed"] is False and by[name]["error"].startswith(start), (name, by[name])
        assert f"luxgate: error: {by[name]['error']}" in errors
    survivors = [by["good"], by["manifest_good"]]
    lost = sum(1 for s in survivors if not (s.get("passed") is True and s["checks"]["wer"]["passed"]))
    assert by["manifest_good"]["wav"] == str(good)
    record("cli_many_bad_inputs", lost=lost, tried=len(expected))


def test_a_missing_take_with_its_text_names_the_file(capsys, tmp_path: Path) -> None:
    (tmp_path / "gone.txt").write_text("Words for a take that is not there.")
    code, (out,), err = _json(capsys, str(tmp_path / "gone.wav"))
    assert code == EXIT_BAD_INPUT and out["error"].startswith(f"{tmp_path}/gone.wav: file not found")
    _one_line_error(err)


# -- the gate: refused before any synthesis -------------------------------------------------------
PREVIOUS = json.dumps({"cells": [{"stack": "piper", "prompt": "own_voice", "scenario": s} for s in "ab"]})


def _refused(pytester: pytest.Pytester, *args: str, stacks: str = "piper") -> tuple[str, int]:
    """Run the gate, expect a usage error; returns stderr and the previous results it lost."""
    _, err, kept = refused_run(pytester, PREVIOUS.encode(), *args, stacks=stacks)
    return err, 0 if kept else 2


@pytest.mark.parametrize("spec, message", [
    ("nonexistent", "ERROR: --luxgate-asr: unknown ASR model 'nonexistent': not a bundled model and no such "
                    "directory; known: faster-whisper:tiny.en, faster-whisper:base"),
    ("nope:tiny.en", "ERROR: --luxgate-asr: unknown ASR backend 'nope' in 'nope:tiny.en'; known: "),
    ("faster-whisper:empty_dir", "ERROR: --luxgate-asr: ASR 'faster-whisper:empty_dir': no model.bin in empty_dir"),
])
def test_gate_refuses_an_unknown_asr_before_any_cell(pytester: pytest.Pytester, spec: str, message: str) -> None:
    pytester.mkdir("empty_dir")
    err, lost = _refused(pytester, f"--luxgate-asr={spec}")
    assert err.strip().splitlines()[0].startswith(message), err
    record("gate_unknown_asr", lost=lost, tried=3)


PARAM_CASES = {
    "option": (["--luxgate-params=lenght_scale=1.1"],
               "ERROR: --luxgate-params: unknown generation parameter 'lenght_scale' (value '1.1'); stack "
               "'piper' knows: length_scale, noise_scale, noise_w_scale, volume"),
    "value": (["--luxgate-params=length_scale=fast"],
              "ERROR: --luxgate-params: stack 'piper': parameter 'length_scale': 'fast' is not a float"),
    "file": (["--luxgate-params-file=typo.toml"],
             "ERROR: --luxgate-params-file {path}/typo.toml [params.piper.own_voice]: unknown generation "
             "parameter 'lenght_scale' (value 1.1); stack 'piper' knows: length_scale, "),
    "scenario": (["--luxgate-scenarios=extra", "--luxgate-scenario=slow"],
                 "ERROR: scenario 'slow' [params] ({path}/extra/slow.toml): unknown generation parameter "
                 "'speed' (value 0.5); stack 'piper' knows: length_scale, "),
}


@pytest.mark.parametrize("case", sorted(PARAM_CASES))
def test_gate_refuses_an_unknown_generation_parameter(pytester: pytest.Pytester, case: str) -> None:
    args, message = PARAM_CASES[case]
    (pytester.path / "typo.toml").write_text("[params.piper.own_voice]\nlenght_scale = 1.1\n"
                                             "[params.torch.prompt_a]\nnot_in_this_run = 1\n")
    (pytester.mkdir("extra") / "slow.toml").write_text('id = "slow"\ntext = "Slow and steady."\n'
                                                         "[params]\nspeed = 0.5\n")
    err, lost = _refused(pytester, *args)
    assert err.strip().splitlines()[0].startswith(message.format(path=pytester.path)), err
    record("gate_unknown_param", lost=lost, tried=len(PARAM_CASES))


def test_gate_takes_a_known_parameter_and_one_only_another_stack_has(pytester: pytest.Pytester) -> None:
    """Both ways: a parameter the stack has reaches it; a LuxTTS parameter in a run that also
    gates Piper is not a typo (usage error) but an error of the Piper cells that cannot take it."""
    res = run_gate(pytester, "--luxgate-params=length_scale=1.05", "--luxgate-scenario=short_plain",
                   "-k", "test_wer")
    assert res.ret == pytest.ExitCode.OK, res.stdout.str()[-2000:]
    (cell,) = read_report(pytester)["cells"]
    assert cell["versions"]["params"]["length_scale"] == 1.05
    res = run_gate(pytester, "--luxgate-params=num_steps=3", "--luxgate-scenario=short_plain", "-k",
                   "piper and test_wer", "--luxgate-luxtts-path=no-weights-here", stacks="piper,torch")
    assert res.ret == pytest.ExitCode.TESTS_FAILED, res.stderr.str()[-2000:]
    cells = [c for c in read_report(pytester)["cells"] if c["stack"] == "piper"]
    assert "no generation parameter 'num_steps'" in cells[0]["error"]
