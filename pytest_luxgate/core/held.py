"""Temp dirs held by the process that made them, so a later process can tell a dead one.

The maker holds a flock on ``DIR/.lock`` for its whole life (the file is locked under a
temp name and renamed into place, so no one ever sees it unlocked). The kernel drops the
flock however the maker ends (Ctrl-C, SIGKILL, a crash): a dir whose lock can be taken is
provably abandoned and may be removed; one whose lock is held (a live process), that has
no lock file (being made, or by an older version) or that is a link is left alone. Used
for the gate's ``.takes-*`` dirs (plugin/guards.py) and `luxgate tune`'s ``.tune-tmp-*``.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

TAKES_LOCK = ".lock"


class HeldDir:
    """A fresh temp dir under `parent` this process holds (by flock) until it exits or `close`s."""

    def __init__(self, parent: Path, prefix: str) -> None:
        self.path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
        self._fd: int | None = None
        try:
            import fcntl
        except ImportError:
            return
        try:
            fd, tmp = tempfile.mkstemp(prefix=".lock-", dir=self.path)
        except OSError:  # a full disk: the dir matters more; without a lock it is never cleaned
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a fresh file: no one else has it
            os.rename(tmp, self.path / TAKES_LOCK)  # appears already locked
        except OSError:
            os.close(fd)
            Path(tmp).unlink(missing_ok=True)
            return
        self._fd = fd

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def drop_if_empty(self) -> None:
        """Remove the dir if it holds nothing but its lock (a worker that kept no take)."""
        if [p.name for p in self.path.iterdir()] in ([], [TAKES_LOCK]):
            (self.path / TAKES_LOCK).unlink(missing_ok=True)
            try:
                self.path.rmdir()
            except OSError:
                pass
        self.close()


def clean_dead(parent: Path, prefix: str) -> list[str]:
    """Remove the `prefix`* dirs under `parent` whose process is provably gone: their lock file
    is there and can be locked now. Returns the names removed."""
    try:
        import fcntl
    except ImportError:
        return []
    removed = []
    for d in sorted(parent.glob(prefix + "*")):
        if d.is_symlink() or not d.is_dir():
            continue  # not a dir a run made: not ours to judge
        try:
            fd = os.open(d / TAKES_LOCK, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue  # no lock file: being made right now, or not one of ours
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue  # held: a live process's dir
        try:
            shutil.rmtree(d, ignore_errors=True)
            removed.append(d.name)
        finally:
            os.close(fd)
    return removed
