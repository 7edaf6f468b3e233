"""Everything `luxgate tune` puts on disk goes through one `Store`, under one byte budget.

The old feedback loop filled disks; here every byte written under the output
directory is counted *before* it is written, including the temp copy an atomic
replace needs while the old file still exists, and the history lines:

- ``used`` starts as the size of whatever already lies in the directory (after
  the tuner's own earlier outputs are removed) and follows every write, remove
  and rename; `measure()` walks the directory to prove the count right.
- A write that would take ``used`` over the budget raises `BudgetExceeded`
  and writes nothing. Ordinary writes (WAVs, history) must also leave
  ``reserve`` bytes free: room for the final report, so a tune stopped by the
  budget can still say so.
- Temp files live in one directory, ``.tune-tmp-*``, removed by `close()`
  (called from a ``finally``, so on success, failure and Ctrl-C alike); a
  leftover from a killed run (SIGKILL cannot be caught) is removed by the
  next run in the same directory, a running tune's is not (core/held.py).

Sizes are apparent file sizes (bytes written), not filesystem blocks.
"""
from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import numpy as np

from ...core.atomic import inside, open_no_follow, remove_path
from ...core.held import HeldDir, clean_dead

TMP_PREFIX = ".tune-tmp-"


class BudgetExceeded(RuntimeError):
    """A write would take the output directory over --max-bytes; nothing was written."""

    def __init__(self, what: str, need: int, used: int, limit: int, reserve: int) -> None:
        self.what, self.need, self.used, self.limit = what, need, used, limit
        super().__init__(f"writing {what} ({need} bytes) would take the output directory to "
                         f"{used + need + reserve} of its {limit}-byte budget"
                         + (f" (keeping {reserve} bytes for the final report)" if reserve else ""))


def wav_bytes(audio: np.ndarray, rate: int) -> bytes:
    """A take as 16-bit PCM WAV bytes (the gate's own WAV format), built in memory."""
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, np.clip(audio, -1.0, 1.0), rate, subtype="PCM_16", format="WAV")
    return buf.getvalue()


def dir_bytes(root: Path) -> int:
    """Apparent size of every regular file under `root` (what the budget counts)."""
    total = 0
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            try:
                st = os.lstat(os.path.join(dirpath, name))
            except FileNotFoundError:  # renamed away while walking
                continue
            total += st.st_size
    return total


class Store:
    def __init__(self, root: Path, max_bytes: int | None, owned: tuple[str, ...] = ()) -> None:
        """`owned`: names (files or directories, relative to root) of an earlier tune's
        outputs; they are removed first, since this run writes them again."""
        self.root = Path(root)
        self.limit = max_bytes
        self.reserve = 0
        self.root.mkdir(parents=True, exist_ok=True)
        clean_dead(self.root, TMP_PREFIX)  # a killed tune's; a live one's (its lock held) stays
        for name in owned:  # a link at one of these names goes (only the link), never followed
            remove_path(self.root / name)
        self.used = dir_bytes(self.root)
        self.peak = self.used
        self._held = HeldDir(self.root, TMP_PREFIX)
        self.tmp = self._held.path
        self._sizes: dict[str, int] = {}
        self._n = 0

    # -- accounting -------------------------------------------------------
    def fits(self, nbytes: int, *, essential: bool = False) -> bool:
        if self.limit is None:
            return True
        return self.used + nbytes + (0 if essential else self.reserve) <= self.limit

    def _claim(self, what: str, nbytes: int, essential: bool) -> None:
        if not self.fits(nbytes, essential=essential):
            raise BudgetExceeded(what, nbytes, self.used, self.limit or 0,
                                 0 if essential else self.reserve)
        self.used += nbytes
        self.peak = max(self.peak, self.used)

    def size(self, rel: str) -> int:
        return self._sizes.get(rel, 0)

    # -- writing ------------------------------------------------------------
    def write(self, rel: str, data: bytes, *, essential: bool = False) -> Path:
        """Atomically (temp file + rename) replace root/rel with `data`."""
        self._claim(rel, len(data), essential)  # temp copy and old file coexist until the rename
        self._n += 1
        tmp = self.tmp / f"{self._n}-{Path(rel).name}"
        try:
            dest = inside(self.root, rel)  # no directory on the way is a link out of the root
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, dest)
        except BaseException:
            tmp.unlink(missing_ok=True)
            self.used -= len(data)
            raise
        self.used -= self._sizes.get(rel, 0)  # the old file is gone now
        self._sizes[rel] = len(data)
        return dest

    def append(self, rel: str, data: bytes) -> None:
        """Append to root/rel (a JSON-lines history); counted like any write."""
        self._claim(rel, len(data), essential=False)
        try:  # never appended through a link planted at the name
            fd = open_no_follow(inside(self.root, rel), os.O_WRONLY | os.O_APPEND | os.O_CREAT)
            with os.fdopen(fd, "ab") as fh:
                fh.write(data)
        except BaseException:
            self.used -= len(data)
            raise
        self._sizes[rel] = self._sizes.get(rel, 0) + len(data)

    def remove(self, rel: str) -> None:
        if rel in self._sizes:
            (self.root / rel).unlink(missing_ok=True)
            self.used -= self._sizes.pop(rel)

    def measure(self) -> int:
        """The directory's real size now (for tests and the report)."""
        return dir_bytes(self.root)

    def close(self) -> None:
        """Remove the temp directory (idempotent; safe in a finally)."""
        shutil.rmtree(self.tmp, ignore_errors=True)
        self._held.close()
