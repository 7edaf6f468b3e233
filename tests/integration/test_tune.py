"""`luxgate tune` end to end on real Piper speech with an injected, parameter-controlled fault.

The fault stack `padded_tail` (tests/fault_stacks.py) appends a robotic buzz of
`pad_frames` frames after the last word, as LuxTTS's duration padding does; at
its default (40) the gate's tail check fails. The tuner must find a setting
that passes every check, within budget, on disk within its byte budget, and
the gate must pass when it reads the tuned parameters back.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import tomllib
from pathlib import Path

import pytest
from pytester_gate import TESTS, read_report, run_gate

from pytest_luxgate.cli import main
from pytest_luxgate.cli.tune.command import EXIT_BAD_INPUT, EXIT_FAIL, EXIT_INTERRUPTED, EXIT_PASS
from pytest_luxgate.cli.tune.setup import minimum_bytes
from pytest_luxgate.cli.tune.store import TMP_PREFIX

STACK = "padded_tail=fault_stacks:PaddedTail"
BASE = ["tune", "--stack", STACK, "--scenario", "short_plain", "--asr", "faster-whisper:tiny.en"]


def _disk(root: Path) -> int:
    """Bytes under `root`, measured independently of the tuner's own bookkeeping."""
    total = 0
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except FileNotFoundError:
                pass
    return total


class DiskWatch(threading.Thread):
    """Walks the output directory every few milliseconds while a tune runs; keeps the peak."""

    def __init__(self, root: Path) -> None:
        super().__init__(daemon=True)
        self.root, self.peak, self.samples, self.saw_tmp = root, 0, 0, False
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            if self.root.exists():
                self.peak = max(self.peak, _disk(self.root))
                self.saw_tmp |= any(p.name.startswith(TMP_PREFIX) for p in self.root.iterdir())
                self.samples += 1
            time.sleep(0.002)

    def __enter__(self) -> "DiskWatch":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop_event.set()
        self.join()


def _tune(out: Path, *args: str) -> tuple[int, DiskWatch]:
    with DiskWatch(out) as watch:
        code = main([*BASE, "-o", str(out), *args])
    return code, watch


def _report(out: Path) -> dict:
    return json.loads((out / "tune-report.json").read_text())


def test_tune_fixes_the_fault_within_budget_and_the_gate_passes_on_the_result(pytester: pytest.Pytester) -> None:
    out, cache = pytester.path / "tune", pytester.path / "cache"
    budget = 1_000_000
    args = ("--rounds", "6", "--candidates", "4", "--max-bytes", str(budget), "--history", "all",
            "--cache-dir", str(cache))
    code, watch = _tune(out, *args)
    rep = _report(out)
    prompt = rep["prompts"]["own_voice"]
    assert code == EXIT_PASS, rep["run"]["stop_reason"]
    assert rep["run"]["passed"] and rep["run"]["stop_reason"] == "passed" and rep["run"]["complete"]
    # the path starts at the defaults, failing the tail check, and ends passing every check
    assert prompt["path"][0]["params"]["pad_frames"] == 40 and "short_plain:tail" in prompt["path"][0]["failing"]
    assert prompt["best"]["failing"] == [] and prompt["best"]["params"]["pad_frames"] < 40
    assert prompt["evaluations"] <= 1 + 6 * 4
    assert {c["passed"] for c in prompt["best"]["checks"]["short_plain"].values()} == {True}
    # storage: only the best take, the budget never exceeded while it ran, no temp left
    assert sorted(p.name for p in (out / "wavs").iterdir()) == ["own_voice.wav"]
    assert watch.samples > 10 and watch.saw_tmp
    assert watch.peak <= budget and _disk(out) <= budget
    assert not [p for p in out.iterdir() if p.name.startswith(TMP_PREFIX)]
    history = [json.loads(line) for line in (out / "history.jsonl").read_text().splitlines()]
    assert sum(1 for h in history if "candidate" in h) == prompt["evaluations"]
    assert [h["round"] for h in history if "candidate" not in h] == list(range(rep["run"]["rounds_done"] + 1))
    assert all("audio" not in h for h in history)
    tuned = tomllib.loads((out / "tuned-params.toml").read_text())["params"]["padded_tail"]["own_voice"]
    assert tuned["pad_frames"] == prompt["best"]["params"]["pad_frames"]
    assert "pad_frames" in (out / "TUNE.md").read_text()

    # a resumed tune (same seed, same cache) takes the same path without synthesizing anything
    code2, _ = _tune(out, *args)
    rep2 = _report(out)
    assert code2 == EXIT_PASS
    assert rep2["prompts"]["own_voice"]["best"]["params"] == prompt["best"]["params"]
    assert [s["params"] for s in rep2["prompts"]["own_voice"]["path"]] == [s["params"] for s in prompt["path"]]
    assert all(s["cached"] == 1 for s in rep2["prompts"]["own_voice"]["path"])

    # the gate reads the tuned parameters back and passes on them
    result = run_gate(pytester, "--luxgate-scenario=short_plain", "--luxgate-params-file=tune/tuned-params.toml",
                      stacks=STACK)
    gate = read_report(pytester)
    cell = gate["cells"][0]
    assert cell["versions"]["params"]["pad_frames"] == tuned["pad_frames"]
    assert cell["status"] == "passed", result.stdout.str()[-3000:]
    assert result.ret == 0


def test_round_budget_stops_cleanly_with_the_best_so_far(tmp_path: Path) -> None:
    out = tmp_path / "out"
    space = tmp_path / "space.toml"
    space.write_text("pad_frames = [45, 60]\n")  # no setting in reach passes: the rounds run out
    code, watch = _tune(out, "--rounds", "1", "--candidates", "2", "--checks", "tail", "--no-cache",
                        "--max-bytes", "600K", "--space", str(space))
    rep = _report(out)
    prompt = rep["prompts"]["own_voice"]
    assert code == EXIT_FAIL and rep["run"]["stop_reason"] == "rounds" and rep["run"]["complete"]
    assert prompt["evaluations"] == 3 and not prompt["passed"]
    assert prompt["start"]["params"]["pad_frames"] == 45  # the default 40, clipped into the space
    start, best = prompt["start"]["score"], prompt["best"]["score"]
    assert best <= start  # the best so far, never worse than where it started
    tuned = tomllib.loads((out / "tuned-params.toml").read_text())["params"]["padded_tail"]["own_voice"]
    assert tuned["pad_frames"] == prompt["best"]["params"]["pad_frames"]
    assert (out / "wavs" / "own_voice.wav").exists() and watch.peak <= 600 * 1024


def test_time_budget_stops_before_a_candidate_that_would_overrun(tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, _ = _tune(out, "--max-seconds", "0.5", "--checks", "tail", "--no-cache", "--max-bytes", "600K")
    rep = _report(out)
    assert code == EXIT_FAIL and rep["run"]["stop_reason"] == "time"
    assert rep["prompts"]["own_voice"]["evaluations"] == 1  # the start is always evaluated
    assert (out / "tuned-params.toml").exists() and (out / "wavs" / "own_voice.wav").exists()


def test_byte_budget_stops_cleanly_and_is_never_exceeded(tmp_path: Path) -> None:
    """A budget that passes the start check but cannot keep the (longer than estimated) take."""
    import argparse

    from pytest_luxgate.cli.tune.setup import _setup

    out = tmp_path / "out"
    args = ["--params", "length_scale=1.4", "--checks", "tail", "--no-cache", "--history", "all"]
    ns = argparse.Namespace(**{**vars(_parse([*BASE, *args])), "output": out})
    need, _ = minimum_bytes(_setup(ns), ns)
    budget = need + 500
    code, watch = _tune(out, *args, "--max-bytes", str(budget), "--rounds", "3")
    rep = _report(out)
    assert code == EXIT_FAIL and rep["run"]["stop_reason"].startswith("bytes"), rep["run"]["stop_reason"]
    prompt = rep["prompts"]["own_voice"]
    assert prompt["evaluations"] >= 1 and "best" in prompt
    assert (out / "tuned-params.toml").exists()
    assert watch.peak <= budget and _disk(out) <= budget
    assert not [p for p in out.iterdir() if p.name.startswith(TMP_PREFIX)]


def _parse(argv: list[str]):
    from pytest_luxgate.cli import _parser

    return _parser().parse_args(argv)


def test_budget_too_small_for_one_take_is_refused_before_any_work(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    code = main([*BASE, "-o", str(out), "--max-bytes", "20K", "--no-cache"])
    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT
    assert "--max-bytes 20480 cannot hold even one take" in err and "Give --max-bytes" in err
    assert not out.exists()


@pytest.mark.parametrize("bad, match", [
    (["--stack", "nope"], "unknown stack"),
    (["--scenario", "nope"], "unknown scenario"),
    (["--params", "lenght_scale=1"], "no generation parameter 'lenght_scale'"),
    (["--checks", "tial"], "unknown check"),
    (["--max-bytes", "lots"], "--max-bytes: expected bytes"),
    (["--rounds", "-1"], "--rounds must be"),
    (["--threshold", "rate_min_sps=9", "--threshold", "rate_max_sps=3"], "rate_min_sps"),  # an empty band
])
def test_bad_input_exits_2_naming_the_option(tmp_path: Path, capsys, bad: list[str], match: str) -> None:
    code = main([*BASE, "-o", str(tmp_path / "out"), "--no-cache", *bad])
    assert code == EXIT_BAD_INPUT and match in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_ctrl_c_leaves_no_temp_files_and_the_best_so_far(tmp_path: Path) -> None:
    """A real SIGINT to a real `luxgate tune` process in the middle of its search."""
    out = tmp_path / "out"
    budget = 800_000
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "pytest_luxgate.cli", *BASE, "-o", str(out), "--rounds", "50",
           "--candidates", "4", "--checks", "tail", "--params", "pad_frames=60", "--no-cache",
           "--history", "all", "--max-bytes", str(budget)]
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        history = out / "history.jsonl"
        deadline = time.monotonic() + 240
        saw_tmp = False
        while time.monotonic() < deadline and proc.poll() is None:
            saw_tmp |= out.exists() and any(p.name.startswith(TMP_PREFIX) for p in out.iterdir())
            if history.exists() and history.read_text().count('"candidate"') >= 2:  # mid-search
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the tune ended before it could be interrupted"
        assert saw_tmp
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == EXIT_INTERRUPTED, err[-2000:]
    assert "Traceback" not in err
    assert not [p for p in out.iterdir() if p.name.startswith(TMP_PREFIX)]
    rep = _report(out)
    assert rep["run"]["stop_reason"] == "interrupted" and rep["run"]["complete"] is False
    assert rep["prompts"]["own_voice"]["evaluations"] >= 2
    tuned = tomllib.loads((out / "tuned-params.toml").read_text())
    assert "pad_frames" in tuned["params"]["padded_tail"]["own_voice"]
    assert _disk(out) <= budget


def test_gate_rejects_a_bad_params_file_and_names_it(pytester: pytest.Pytester) -> None:
    result = run_gate(pytester, "--luxgate-scenario=short_plain", "--luxgate-params-file=missing.toml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--luxgate-params-file: params file *missing.toml: cannot read it*"])
    (pytester.path / "typo.toml").write_text("[params.piper.own_voice]\nlenght_scale = 1.1\n")
    result = run_gate(pytester, "--luxgate-scenario=short_plain", "--luxgate-params-file=typo.toml",
                      "-k", "test_wer")
    assert result.ret == pytest.ExitCode.USAGE_ERROR  # refused before any synthesis (issue 16)
    result.stderr.fnmatch_lines(["*--luxgate-params-file *typo.toml [[]params.piper.own_voice[]]: unknown "
                                 "generation parameter 'lenght_scale'*"])


@pytest.mark.parametrize("policy", ["strict", "target-fallback"])
def test_prompt_text_policy_reaches_the_cells(tmp_path: Path, policy: str) -> None:
    """A prompt without a transcript: under strict (the default, as the gate) the cell is an error
    that names the option; --prompt-text target-fallback lets it run, as --luxgate-prompt-text does."""
    from pytest_luxgate.matrix.prompts import DEFAULT_FILE

    prompts = tmp_path / "p.toml"
    prompts.write_text(f'[[prompt]]\nid = "bare"\nwav = "{DEFAULT_FILE.parent / "prompt_a.wav"}"\n')
    out = tmp_path / "out"
    code = main(["tune", "--stack", "prompt_probe=fault_stacks:PromptProbe", "--prompts", str(prompts),
                 "--scenario", "short_plain", "--asr", "faster-whisper:tiny.en", "--checks", "wer",
                 "--rounds", "0", "--no-cache", "-o", str(out), "--prompt-text", policy])
    start = _report(out)["prompts"]["bare"]["start"]
    errors = [c for c in start["checks"].values() if "error" in c]
    if policy == "strict":
        assert code == EXIT_FAIL and errors and "--luxgate-prompt-text" in errors[0]["error"], start
    else:
        assert code == 0 and not errors and start["checks"]["short_plain"]["wer"]["passed"], start
