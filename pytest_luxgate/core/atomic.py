"""Write a file or build a directory in a temp sibling and rename it into place.

Several xdist workers may build the same cache entry at once: each builds its
own copy and the first rename wins, so no reader ever sees half a model.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator


@contextmanager
def atomic_directory(out_dir: Path, marker: str) -> Iterator[Path]:
    """Yield a temp dir to fill; on success it becomes `out_dir` (which holds `marker`)."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    try:
        yield tmp
        try:
            tmp.rename(out_dir)
        except OSError:
            # another process won the race; its copy is as good as ours
            if not (out_dir / marker).exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def public_mode(fd: int) -> None:
    """Give a mkstemp file the mode a plain open() would (mkstemp makes it 0600).

    Reports and kept WAVs are meant to be read by others: a CI job serving the
    output folder, a teammate on a shared build machine.
    """
    umask = os.umask(0)
    os.umask(umask)
    os.fchmod(fd, 0o666 & ~umask)


def write_file_atomic(path: Path, write: Callable[[str], None], *, prefix: str = ".tmp-",
                      suffix: str = "", public: bool = True) -> None:
    """`write(tmp)` fills a temp file beside `path`, which then replaces `path` (or is removed).

    `public`: the file gets the mode a plain open() would (see `public_mode`).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=path.parent)
    try:
        if public:
            public_mode(fd)
        os.close(fd)
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
