"""The run lock and the `.takes-*` dirs (plugin/guards.py), and writes that never follow a link
(core/atomic.py): real processes, real flocks, real symlinks."""
from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import pytest

from pytest_luxgate.core.atomic import inside, move_inside, write_file_atomic
from pytest_luxgate.plugin.guards import (
    LOCK_NAME,
    OutputBusy,
    OutputLock,
    TakesDir,
    clean_dead_takes,
)


def _make_takes_and_exit(out: str) -> None:
    d = TakesDir(Path(out))
    (d.path / "take.wav").write_bytes(b"RIFF")
    os._exit(0)  # as SIGKILL would: nothing closes or removes anything


def test_dead_runs_takes_are_removed_live_ones_kept(tmp_path: Path) -> None:
    proc = multiprocessing.get_context("fork").Process(target=_make_takes_and_exit, args=(str(tmp_path),))
    proc.start()
    proc.join(30)
    (dead,) = tmp_path.glob(".takes-*")
    live = TakesDir(tmp_path)  # held by this process
    (tmp_path / ".takes-no-lock").mkdir()
    elsewhere = tmp_path.parent / f"{tmp_path.name}-elsewhere"
    elsewhere.mkdir()
    (elsewhere / ".lock").write_bytes(b"")
    (tmp_path / ".takes-link").symlink_to(elsewhere, target_is_directory=True)
    assert clean_dead_takes(tmp_path) == [dead.name]
    assert sorted(p.name for p in tmp_path.glob(".takes-*")) == sorted(
        [live.path.name, ".takes-no-lock", ".takes-link"])
    assert (elsewhere / ".lock").exists()
    live.close()  # once its process lets go, it is provably dead too
    assert clean_dead_takes(tmp_path) == [live.path.name]
    live2 = TakesDir(tmp_path)
    live2.drop_if_empty()  # nothing kept: no empty dir left behind
    assert not live2.path.exists()


def test_lock_file_is_removed_on_release_and_a_stale_one_is_taken(tmp_path: Path) -> None:
    (tmp_path / LOCK_NAME).write_text('{"pid": 1}\n')  # left by a killed run
    first = OutputLock(tmp_path)
    first.acquire()
    assert first.held
    second = OutputLock(tmp_path)
    with pytest.raises(OutputBusy, match=f"pid {os.getpid()}"):
        second.acquire()
    first.release()
    assert not (tmp_path / LOCK_NAME).exists()
    second.acquire()  # free again, on a fresh file
    assert second.held and (tmp_path / LOCK_NAME).exists()
    second.release()


def test_lock_never_follows_a_planted_link(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("ORIGINAL")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / LOCK_NAME).symlink_to(target)
    lock = OutputLock(tmp_path / "out")
    lock.acquire()
    assert lock.held and target.read_text() == "ORIGINAL"
    lock.release()
    assert target.read_text() == "ORIGINAL" and not (tmp_path / "out" / LOCK_NAME).exists()


def test_writes_under_a_root_never_follow_links(tmp_path: Path) -> None:
    root, elsewhere = tmp_path / "root", tmp_path / "elsewhere"
    elsewhere.mkdir()
    root.mkdir()
    (root / "wavs").symlink_to(elsewhere, target_is_directory=True)
    src = tmp_path / "take.wav"
    src.write_bytes(b"RIFF")
    dest = move_inside(src, root, "wavs/piper/a.wav")
    assert dest == root / "wavs" / "piper" / "a.wav" and dest.read_bytes() == b"RIFF"
    assert not (root / "wavs").is_symlink() and list(elsewhere.iterdir()) == []
    (root / "r.json").symlink_to(elsewhere / "r.json")
    write_file_atomic(root / "r.json", lambda tmp: Path(tmp).write_text("{}"), root=root)
    assert not (root / "r.json").is_symlink() and list(elsewhere.iterdir()) == []
    for bad in ("../x", "/etc/x", "wavs/../../x", ""):
        with pytest.raises(ValueError):
            inside(root, bad)
