"""Run guards: one gate run per output directory; a selection that matches no cell says so.

One run at a time per output directory: an advisory lock, taken before any cell runs.

Two gate runs writing report.json, SUMMARY.md and wavs/ into one directory
would leave a mix of both (each file is atomic, the set is not). The run that
comes second is refused at collection, before it synthesizes anything, with a
message naming the directory and the run holding it; it gets a usage error
(exit 4) and the first run's files are untouched.

The lock is ``flock`` on ``OUT/.luxgate.lock`` (POSIX; on platforms without
fcntl no lock is taken). The kernel drops it when the holding process exits,
however it exits (Ctrl-C, SIGKILL, a crash), so a stale lock cannot block the
next run. A run removes the lock file when it releases it (while still holding
it), and a file left by a killed run is taken and then removed by the next run;
a run that took the lock checks that the file it locked is still the one at the
path (another run may have just removed it), else it tries again. A link planted
at the lock's name is replaced, never followed. A run claims
the directory only once it has gate cells to run, so plain unit-test runs in a
project with the plugin installed never touch it. Under xdist the controller
claims it when the first worker reports its collection, before any test is
scheduled.

Temp take dirs (``OUT/.takes-*``, one per process that runs cells): the process
holds a flock on ``.takes-*/.lock`` for its whole life (the file is locked under a
temp name and renamed into place, so no one sees it unlocked). A run that claims
the output directory removes every ``.takes-*`` dir whose lock it can take: its
process is provably gone (the kernel dropped the flock). A dir whose lock is held
(a live run), or that has no lock file (being made, or by an older luxgate), or is
a link, is left alone.
"""
from __future__ import annotations

import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from ..core.atomic import open_no_follow
from ..core.held import HeldDir, clean_dead
from ..matrix.cells import cell_param

LOCK_NAME = ".luxgate.lock"
TAKES_PREFIX = ".takes-"


class TakesDir(HeldDir):
    """A fresh ``OUT/.takes-*`` dir this process holds (by flock) until it exits or `close`s."""

    def __init__(self, parent: Path, prefix: str = TAKES_PREFIX) -> None:
        super().__init__(parent, prefix)


def clean_dead_takes(out: Path) -> list[str]:
    """Remove the ``.takes-*`` dirs under `out` whose process is provably gone."""
    return clean_dead(out, TAKES_PREFIX)


class OutputBusy(pytest.UsageError):
    """Another run holds the output directory."""


class OutputLock:
    """An exclusive, non-blocking claim on one output directory for this process."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.path = out / LOCK_NAME
        self._fd: int | None = None
        #: why no lock could be taken (directory not writable): the run goes on and the
        #: report falls back to a writable place at the end (session.finish)
        self.unavailable: str | None = None
        #: dead runs' take dirs removed when the lock was taken
        self.cleaned: list[str] = []

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, clean: bool = True) -> None:
        """Claim the directory; raise OutputBusy naming the holder. Idempotent.

        `clean`: also remove dead runs' take dirs (only before this run's workers have
        made theirs: a finished worker's dir is unlocked until the controller empties it)."""
        if self._fd is not None or self.unavailable is not None:
            return
        try:
            import fcntl
        except ImportError:  # Windows: no advisory flock; runs are not serialised there
            self.unavailable = "no fcntl on this platform"
            return
        for _ in range(10):  # another run may remove the file between our open and our flock
            try:
                self.out.mkdir(parents=True, exist_ok=True)
                # a raw descriptor: nothing buffered that a failing flush (disk full) could raise on at close
                fd = open_no_follow(self.path, os.O_RDWR | os.O_CREAT)
            except OSError as exc:
                self.unavailable = f"{self.path}: {exc.strerror or exc}"
                return
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                holder = _describe(self.path)
                os.close(fd)
                raise OutputBusy(
                    f"luxgate: output directory {self.out} is in use by another gate run ({holder}); "
                    "wait for it to finish, or give this run its own --luxgate-output DIR") from None
            if _same_file(fd, self.path):
                break
            os.close(fd)  # we locked a file its last holder had just removed: take the new one
        else:
            self.unavailable = f"{self.path}: removed and recreated under us ten times"
            return
        try:  # who holds it, for the message the next run gets (best effort: the lock is what counts)
            os.ftruncate(fd, 0)
            os.pwrite(fd, (json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                       "started": time.strftime("%Y-%m-%d %H:%M:%S"),
                                       "argv": sys.argv[:8]}) + "\n").encode(), 0)
        except OSError:
            pass
        self._fd = fd
        if clean:
            self.cleaned = clean_dead_takes(self.out)

    def release(self) -> None:
        if self._fd is not None:
            if _same_file(self._fd, self.path):  # still ours: no one else can hold this file
                try:
                    self.path.unlink()
                except OSError:
                    pass
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None


def _same_file(fd: int, path: Path) -> bool:
    try:
        a, b = os.fstat(fd), os.lstat(path)
    except OSError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _describe(path: Path) -> str:
    try:
        info: dict[str, Any] = json.loads(path.read_text("utf-8") or "{}")
    except (OSError, ValueError):
        return "holder unknown"
    return (f"pid {info.get('pid', '?')} on {info.get('host', '?')}, started {info.get('started', '?')}: "
            f"{' '.join(map(str, info.get('argv', [])))}").strip()


def has_gate_ids(ids: Any, cell_ids: set[str]) -> bool:
    """Do these collected node ids include a gate cell (``test_wer[piper-own_voice-x]``)?"""
    # pytest writes non-ASCII ids escaped ("caf\\xe9") unless told otherwise: match both
    known = cell_ids | {c.encode("unicode_escape").decode("ascii") for c in cell_ids}
    return any(nid.endswith("]") and nid[nid.index("[") + 1:-1] in known for nid in ids if "[" in nid)


class OutputGuard:
    """Hooks that claim the output directory once the run is known to hold gate cells,
    and explain a -k/-m that deselected every gate cell (pytest then exits 5)."""

    def __init__(self, session: Any) -> None:
        self.lux = session
        self.deselected_cells = 0
        self.selected_cells = 0
        self.selected_items = -1  # unknown until collection finishes (xdist controller: never)

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        """hookspec: pytest_deselected"""
        self.deselected_cells += sum(1 for it in items if _is_cell(it))

    def pytest_terminal_summary(self, terminalreporter: Any, config: pytest.Config) -> None:
        """hookspec: pytest_terminal_summary — an unknown scenario id in -k is named as such."""
        # only when the selection left nothing at all to run (pytest exits 5): a -k that picks
        # unit tests next to the gate is a choice, not a typo
        if self.deselected_cells and self.selected_items == 0 and not self.lux.is_worker:
            given = " ".join(f"{flag} {val!r}" for flag, val in
                             (("-k", config.getoption("keyword")), ("-m", config.getoption("markexpr"))) if val)
            scenarios = sorted({c.scenario for c in self.lux.matrix()})
            terminalreporter.write_line(
                f"luxgate: {given or 'the selection'} matches none of the {self.deselected_cells} gate tests; "
                f"known scenarios: {', '.join(scenarios)}; stacks: {', '.join(self.lux.cfg.stacks)} "
                "(test ids read test_CHECK[STACK-PROMPT-SCENARIO])")

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """hookspec: pytest_collection_finish — without xdist, claim before the first cell runs."""
        self.selected_cells = sum(1 for it in session.items if _is_cell(it))
        self.selected_items = len(session.items)
        if not self.lux.is_worker and self.selected_cells:
            self.lux.output_lock.acquire()

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        """hookspec (xdist): the controller claims before anything is scheduled."""
        if not self.lux.output_lock.held and has_gate_ids(ids, {c.id for c in self.lux.matrix()}):
            self.lux.output_lock.acquire()

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """hookspec: pytest_unconfigure — normally released by finish(); this covers aborts."""
        self.lux.output_lock.release()


def _is_cell(item: pytest.Item) -> bool:
    return cell_param(item) is not None
