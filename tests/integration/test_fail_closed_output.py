"""Fail closed (issue 16), outputs: what a run, `luxgate tune` and `luxgate merge` write, where,
and what they leave behind.

Everything is real: Piper speaks, Whisper tiny.en listens, links are real symlinks planted
where a run will write, a killed run is a real SIGKILL, a dead run's take dir is one a real
run left. The runs share one take/transcript cache (filled by the first), so most of them
synthesize nothing; the cache test works on its own copy of it.
"""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
from reliability_ledger import (
    RAN,
    gate_dir,
    missing_survivors,
    record,
    register,
    run_subprocess,
    start_blocked_run,
)

from pytest_luxgate.cli import main as luxgate
from pytest_luxgate.cli.tune.command import EXIT_BAD_INPUT

ROWS = register([
    ("tune_no_space", "tune", "`luxgate tune` on a custom stack with no `tune_space()` and no `name` (its `speed` is words/min)",
     "exit 2, one line: `the stack declares no search space ... give --space FILE`; with `--space` it tunes in its own range"),
    ("output_report_blocked", "output", "`report.json` in the output dir is a directory (kept WAVs already placed there)",
     "report.json, SUMMARY.md, report.html and every kept WAV together in one temp dir, named in the terminal line "
     "and `run.output_notes`; exit 3"),
    ("output_html_blocked", "output", "`report.html` in the output dir is a directory",
     "report and WAVs in the output dir; the page named as not written in the terminal line and `run.output_notes`; exit 3"),
    ("merge_outputs", "merge", "`luxgate merge` of a run's report",
     "report.json, SUMMARY.md, report.html and the kept WAVs, as a run writes them"),
    ("merge_wav_outside", "merge", "a report whose `wav` is `../../elsewhere/x.wav`, an absolute path, or a link",
     "not copied; a warning names it; the merged cell has no WAV; nothing read or written outside"),
    ("killed_run_leftovers", "fault", "lock file and `.takes-*` dir of a run killed with SIGKILL",
     "the next run removes both; a live run's `.takes-*` (its lock held) and one with no lock file are left alone"),
    ("links_in_output", "safety", "symlinks planted at report.json, SUMMARY.md, report.html, `.luxgate.lock`, `wavs/`, "
     "a kept WAV's name, a `.takes-*` name",
     "each link replaced (or left, for `.takes-*`), nothing written through it"),
    ("links_in_tune_output", "safety", "symlinks planted at `luxgate tune`'s outputs (params, report, history, `wavs/`)",
     "each link replaced, nothing written through it"),
    ("cache_tampered", "cache", "cache entries truncated, edited, copied over another key",
     "misses: recomputed, and the verdicts equal the clean run's"),
])

SELECT = ("--luxgate-scenario=short_plain,medium_conversational", "-k", "wer or clipping")
CELLS = {("piper", "own_voice", s): RAN for s in ("short_plain", "medium_conversational")}


def _run(where: Path, cache: Path, *args: str, stacks: str = "piper") -> tuple[subprocess.CompletedProcess, dict]:
    res = run_subprocess(where, *SELECT, f"--luxgate-cache-dir={cache}", *args, stacks=stacks)
    report = where / "out" / "report.json"
    return res, (json.loads(report.read_text()) if report.is_file() and not report.is_symlink() else {})


def _verdicts(report: dict) -> dict:
    return {(c["stack"], c["prompt"], c["scenario"]): (c["status"], c["transcript"], c["metrics"].get("wer"),
                                                       {n: k["passed"] for n, k in c["checks"].items()})
            for c in report["cells"]}


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A clean run that fills the shared cache; later runs compare with it."""
    root = tmp_path_factory.mktemp("base")
    cache = root / "cache"
    res, report = _run(gate_dir(root / "run"), cache, "--luxgate-keep-wavs=all")
    assert res.returncode in (0, 1), res.stdout[-3000:] + res.stderr[-3000:]
    assert len(report["cells"]) == 2 and all(c["cached"]["synthesis"] is False for c in report["cells"])
    shutil.copytree(cache, root / "pristine")  # the cache of this run alone (later runs add to `cache`)
    return {"root": root, "cache": cache, "out": root / "run" / "out", "report": report,
            "pristine": root / "pristine"}


# -- outputs go together, and what is missing is named ------------------------------------------------
def _fallback_of(line: str) -> Path:
    start = line.index("it was written to ") + len("it was written to ")
    return Path(line[start:line.index(" instead", start)])


def test_blocked_report_moves_every_file_together(base, tmp_path: Path) -> None:
    where = gate_dir(tmp_path)
    (where / "out" / "report.json").mkdir(parents=True)  # writes fail after the WAVs were placed
    res, _ = _run(where, base["cache"], "--luxgate-keep-wavs=all")
    assert res.returncode == pytest.ExitCode.INTERNAL_ERROR, res.stdout[-3000:]
    line = next(ln for ln in res.stdout.splitlines() if "could not write the report" in ln)
    assert line.startswith(f"luxgate: could not write the report to {where / 'out'} (Is a directory); "
                           "it was written to ") and line.endswith(" instead"), line
    fallback = _fallback_of(line)
    report = json.loads((fallback / "report.json").read_text())
    assert {"report.json", "SUMMARY.md", "report.html", "wavs"} <= {p.name for p in fallback.iterdir()}
    for cell in report["cells"]:  # every kept take went with it, none stayed behind
        assert (fallback / cell["wav"]).is_file()
    assert not (where / "out" / "wavs").exists() or not list((where / "out" / "wavs").rglob("*.wav"))
    note = report["run"]["output_notes"][0]
    assert note.startswith(f"could not write the report to {where / 'out'} (Is a directory)")
    assert note in (fallback / "SUMMARY.md").read_text()
    page = (fallback / "report.html").read_text()
    assert page.count("<audio ") == 2 and "Is a directory" in page
    record("output_report_blocked", lost=missing_survivors(report, CELLS))


def test_blocked_page_is_named_not_dropped(base, tmp_path: Path) -> None:
    where = gate_dir(tmp_path)
    (where / "out" / "report.html").mkdir(parents=True)
    res, report = _run(where, base["cache"])
    assert res.returncode == pytest.ExitCode.INTERNAL_ERROR, res.stdout[-3000:]
    line = next(ln for ln in res.stdout.splitlines() if "not written" in ln)
    assert line == (f"luxgate: not written: report.html at {where / 'out' / 'report.html'} (Is a directory); "
                    f"the rest of the report is in {where / 'out'}"), line
    assert report["run"]["output_notes"] == [f"not written: report.html at {where / 'out' / 'report.html'} "
                                             "(Is a directory)"]
    assert "not written: report.html" in (where / "out" / "SUMMARY.md").read_text()
    assert all((where / "out" / c["wav"]).is_file() for c in report["cells"] if c["wav"])
    record("output_html_blocked", lost=missing_survivors(report, CELLS))


# -- luxgate merge -------------------------------------------------------------------------------------
def test_merge_writes_what_a_run_writes(base, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    merged = tmp_path / "merged"
    code = luxgate(["merge", str(base["out"] / "report.json"), "-o", str(merged)])
    assert code == (0 if base["report"]["run"]["passed"] else 1), capsys.readouterr()
    assert {p.name for p in merged.iterdir()} == {"report.json", "SUMMARY.md", "report.html", "wavs"}
    report = json.loads((merged / "report.json").read_text())
    assert all((merged / c["wav"]).is_file() for c in report["cells"])
    assert (merged / "report.html").read_text().count("<audio ") == 2
    assert f"luxgate merge: html {merged / 'report.html'}" in capsys.readouterr().out
    record("merge_outputs", lost=missing_survivors(report, CELLS))


def test_merge_copies_no_wav_from_outside_its_report(base, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    secret = tmp_path / "elsewhere" / "x.wav"
    secret.parent.mkdir()
    secret.write_bytes(b"not yours")
    shard = tmp_path / "shard"
    shutil.copytree(base["out"], shard)
    report = json.loads((shard / "report.json").read_text())
    first, second = report["cells"]
    first["wav"] = "../elsewhere/x.wav"
    second["wav"] = str(secret)
    (shard / "report.json").write_text(json.dumps(report))
    merged = tmp_path / "merged"
    (merged / "wavs").mkdir(parents=True)
    (merged / "wavs" / "piper").symlink_to(secret.parent, target_is_directory=True)  # and a link to write through
    luxgate(["merge", str(shard / "report.json"), "-o", str(merged)])
    err = capsys.readouterr().err
    assert "../elsewhere/x.wav: kept WAV path is not a file under the report's wavs/; the merged cell has none" in err
    assert f"{secret}: kept WAV path is not a file under the report's wavs/" in err
    out = json.loads((merged / "report.json").read_text())
    assert [c["wav"] for c in out["cells"]] == [None, None]
    assert sorted(p.name for p in secret.parent.iterdir()) == ["x.wav"] and secret.read_bytes() == b"not yours"
    # a WAV reached through a link in the shard is not copied either; a real one is, past the planted link
    real = json.loads((base["out"] / "report.json").read_text())
    (shard / "report.json").write_text(json.dumps(real))
    victim = shard / real["cells"][0]["wav"]
    victim.unlink()
    victim.symlink_to(secret)
    luxgate(["merge", str(shard / "report.json"), "-o", str(merged)])
    assert "kept WAV is reached through a link" in capsys.readouterr().err
    out = json.loads((merged / "report.json").read_text())
    assert out["cells"][0]["wav"] is None and (merged / out["cells"][1]["wav"]).is_file()
    assert not (merged / "wavs" / "piper").is_symlink()
    assert sorted(p.name for p in secret.parent.iterdir()) == ["x.wav"] and secret.read_bytes() == b"not yours"
    record("merge_wav_outside", lost=missing_survivors(out, CELLS))


# -- leftovers of killed runs ---------------------------------------------------------------------------
def _start_blocked_run(where: Path, cache: Path) -> subprocess.Popen:
    """A gate run that finished short_plain, then blocks inside the stack on the "Wait" scenario."""
    return start_blocked_run(where, "--luxgate-scenario=short_plain,punctuation_pauses", "-k", "wer",
                             f"--luxgate-cache-dir={cache}", finished=1)


def test_killed_runs_lock_and_takes_are_cleaned_live_ones_kept(base, tmp_path: Path) -> None:
    where = gate_dir(tmp_path)
    proc = _start_blocked_run(where, base["cache"])
    out = where / "out"
    takes = [p for p in out.glob(".takes-*")]
    assert len(takes) == 1 and list(takes[0].glob("*.wav")), "the killed run had kept a take"
    os.kill(proc.pid, signal.SIGKILL)  # nothing of it runs again: no finally, no atexit
    proc.communicate(timeout=60)
    assert (out / ".luxgate.lock").is_file() and takes[0].is_dir()
    # a live run's take dir (its lock held, here by this process) and one with no lock file at all
    live = out / ".takes-live"
    live.mkdir()
    (live / "their_take.wav").write_bytes(b"RIFF")
    fd = os.open(live / ".lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    unlocked = out / ".takes-no-lock-file"
    unlocked.mkdir()
    try:
        res, report = _run(where, base["cache"])
    finally:
        os.close(fd)
    assert res.returncode in (0, 1), res.stdout[-3000:] + res.stderr[-3000:]
    assert not takes[0].exists(), "the killed run's takes were left behind"
    assert not (out / ".luxgate.lock").exists(), "the lock file was left behind"
    assert sorted(p.name for p in out.glob(".takes-*")) == [".takes-live", ".takes-no-lock-file"]
    assert (live / "their_take.wav").is_file()
    # the lock still works after its file was removed: a run in progress holds a fresh one
    record("killed_run_leftovers", lost=missing_survivors(report, CELLS))


# -- nothing written through a link -----------------------------------------------------------------------
def _plant(link: Path, target: Path, content: bytes | None = b"ORIGINAL") -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    if content is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    link.symlink_to(target, target_is_directory=content is None)


def _untouched(elsewhere: Path, expected: dict[str, bytes]) -> None:
    found = {str(p.relative_to(elsewhere)): p.read_bytes() for p in elsewhere.rglob("*") if p.is_file()}
    assert found == expected


def test_links_in_the_output_dir_are_never_written_through(base, tmp_path: Path) -> None:
    where, elsewhere = gate_dir(tmp_path / "w"), tmp_path / "elsewhere"
    out = where / "out"
    files = {"report.json": "r", "SUMMARY.md": "s", "report.html": "h", ".luxgate.lock": "lock"}
    for name, target in files.items():
        _plant(out / name, elsewhere / target)
    (elsewhere / "wavdir").mkdir()
    _plant(out / "wavs", elsewhere / "wavdir", content=None)  # a directory link
    (elsewhere / "takes").mkdir()
    (elsewhere / "takes" / ".lock").write_bytes(b"")
    (out / ".takes-planted").symlink_to(elsewhere / "takes", target_is_directory=True)
    expected = {t: b"ORIGINAL" for t in files.values()} | {"takes/.lock": b""}
    res, report = _run(where, base["cache"])
    assert res.returncode in (0, 1), res.stdout[-3000:] + res.stderr[-3000:]
    _untouched(elsewhere, expected)
    for name in [*files, "wavs"]:
        assert not (out / name).is_symlink(), name
    assert (out / ".takes-planted").is_symlink()  # not a run's dir: not ours to remove
    assert all((out / c["wav"]).is_file() for c in report["cells"] if c["wav"])
    # again, with a link at the kept WAV's own name
    kept = next(c["wav"] for c in report["cells"] if c["wav"])
    (out / kept).unlink()
    _plant(out / kept, elsewhere / "w.wav")
    expected["w.wav"] = b"ORIGINAL"
    res, report = _run(where, base["cache"])
    assert res.returncode in (0, 1)
    _untouched(elsewhere, expected)
    assert not (out / kept).is_symlink() and (out / kept).read_bytes()[:4] == b"RIFF"
    record("links_in_output", lost=missing_survivors(report, CELLS))


def test_links_in_the_tune_output_are_never_written_through(base, tmp_path: Path) -> None:
    out, elsewhere = tmp_path / "tune", tmp_path / "elsewhere"
    names = {"tuned-params.toml": "p", "tune-report.json": "r", "TUNE.md": "m", "history.jsonl": "h"}
    for name, target in names.items():
        _plant(out / name, elsewhere / target)
    (elsewhere / "wavdir").mkdir()
    _plant(out / "wavs", elsewhere / "wavdir", content=None)
    code = luxgate(["tune", "--stack", "padded_tail=fault_stacks:PaddedTail", "--scenario", "short_plain",
                    "--asr", "faster-whisper:tiny.en", "--rounds", "0", "--checks", "tail",
                    "--cache-dir", str(base["cache"]), "-o", str(out)])
    assert code in (0, 1)
    _untouched(elsewhere, {t: b"ORIGINAL" for t in names.values()})
    assert not any((out / n).is_symlink() for n in [*names, "wavs"])
    assert (out / "wavs" / "own_voice.wav").is_file()
    assert "pad_frames" in tomllib.loads((out / "tuned-params.toml").read_text())["params"]["padded_tail"]["own_voice"]
    record("links_in_tune_output")


# -- luxgate tune: a search space is the stack's or the user's, never borrowed by name ---------------------
def test_tune_needs_a_declared_or_given_space(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    args = ["tune", "--stack", "wpm=output_stacks:WordsPerMinute", "--scenario", "short_plain",
            "--asr", "faster-whisper:tiny.en", "--rounds", "0", "--checks", "rate", "--no-cache"]
    code = luxgate([*args, "-o", str(tmp_path / "none")])
    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT
    assert err == ("luxgate tune: error: --stack wpm: the stack declares no search space (a tune_space() "
                   "method) and no --space FILE was given; give --space FILE with a range for the parameters "
                   "to tune (the stack's: speed)\n"), err
    assert not (tmp_path / "none").exists()
    space = tmp_path / "space.toml"
    space.write_text("speed = [140, 200]\n")
    code = luxgate([*args, "--space", str(space), "-o", str(tmp_path / "out")])
    assert code in (0, 1), capsys.readouterr().err
    tuned = tomllib.loads((tmp_path / "out" / "tuned-params.toml").read_text())["params"]["wpm"]["own_voice"]
    assert tuned["speed"] == 160  # its own unit, in the user's range: never LuxTTS's 0.8-1.15
    rep = json.loads((tmp_path / "out" / "tune-report.json").read_text())
    assert rep["space"] == {"source": f"--space {space}", "dims": {"speed": {"min": 140.0, "max": 200.0, "type": "int"}}}
    record("tune_no_space")


# -- a cache entry that is not what it claims is a miss ------------------------------------------------------
def test_tampered_cache_entries_are_misses(base, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    shutil.copytree(base["pristine"], cache)
    where = gate_dir(tmp_path / "w")
    synth = sorted((cache / "synth").rglob("*.npz"))
    asr = sorted((cache / "asr").rglob("*.json"))
    assert len(synth) == 2 and len(asr) == 2
    # a warm run first: every take and transcript a hit, the same verdicts
    res, warm = _run(where, cache)
    assert all(c["cached"] == {"synthesis": True, "asr": True} for c in warm["cells"])
    assert _verdicts(warm) == _verdicts(base["report"])
    # one take truncated, the other overwritten with the first's entry (another key inside)
    whole = synth[0].read_bytes()
    synth[0].write_bytes(whole[: len(whole) // 2])
    synth[1].write_bytes(whole)
    res, report = _run(where, cache)
    assert res.returncode in (0, 1), res.stdout[-3000:]
    assert [c["cached"]["synthesis"] for c in report["cells"]] == [False, False]
    assert _verdicts(report) == _verdicts(base["report"])
    # transcripts edited in place: the words a check would judge are not trusted
    for p in asr:
        data = p.read_bytes()
        p.write_bytes(data.replace(b'"text": "', b'"text": "All good. ', 1))
    res, report = _run(where, cache)
    assert [c["cached"] for c in report["cells"]] == [{"synthesis": True, "asr": False}] * 2
    assert _verdicts(report) == _verdicts(base["report"])
    record("cache_tampered", lost=missing_survivors(report, CELLS), tried=3)
