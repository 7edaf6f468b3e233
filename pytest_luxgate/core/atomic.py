"""Write a file or build a directory in a temp sibling and rename it into place.

Several xdist workers may build the same cache entry at once: each builds its
own copy and the first rename wins, so no reader ever sees half a model.
"""
from __future__ import annotations

import errno
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
                      suffix: str = "", public: bool = True, root: Path | None = None) -> None:
    """`write(tmp)` fills a temp file beside `path`, which then replaces `path` (or is removed).

    `public`: the file gets the mode a plain open() would (see `public_mode`).
    `root`: the directory `path` must stay inside: a symlink planted on the way
    (a directory of `path` under `root`) is replaced by a real directory first
    (`inside`). The rename itself replaces a link at `path`, never follows it.
    """
    if root is not None:
        path = inside(root, path.relative_to(root))
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


def _no_escape(rel: Path) -> None:
    if rel.is_absolute() or any(part in ("..", "") for part in rel.parts) or not rel.parts:
        raise ValueError(f"{str(rel)!r} is not a path inside the directory")


def inside(root: Path, rel: str | Path) -> Path:
    """`root/rel`, with every directory between them a real directory made by us if missing.

    Nothing under `root` is followed out of it: `rel` must be relative without
    ``..`` (ValueError), and a symlink where a directory is needed is removed
    (only the link) and replaced by a real directory, so a file written at the
    returned path lands under `root`. `root` itself may be a link: the user chose it.
    """
    rel = Path(rel)
    _no_escape(rel)
    root.mkdir(parents=True, exist_ok=True)
    here = root
    for part in rel.parts[:-1]:
        here = here / part
        if here.is_symlink():
            here.unlink()
        try:
            here.mkdir()
        except FileExistsError:
            if not here.is_dir():
                raise NotADirectoryError(20, "not a directory", str(here)) from None
    return here / rel.parts[-1]


def move_inside(src: Path, root: Path, rel: str | Path) -> Path:
    """Move file `src` to `root/rel` (see `inside`), replacing whatever file or link is there
    (a link is replaced, never written through); across filesystems by copy + rename."""
    dest = inside(root, rel)
    try:
        os.replace(src, dest)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        write_file_atomic(dest, lambda tmp: shutil.copyfile(src, tmp), prefix=f".{dest.name}.")
        Path(src).unlink(missing_ok=True)
    return dest


def copy_inside(src: Path, root: Path, rel: str | Path) -> Path:
    """Copy file `src` to `root/rel` (see `inside`): a temp copy renamed over whatever is there."""
    dest = inside(root, rel)
    write_file_atomic(dest, lambda tmp: shutil.copyfile(src, tmp), prefix=f".{dest.name}.")
    return dest


def remove_path(path: Path) -> None:
    """Remove a file, a link (only the link) or a directory tree; missing is fine."""
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        path.unlink(missing_ok=True)
    elif path.is_dir():
        shutil.rmtree(path, ignore_errors=True)


def open_no_follow(path: Path, flags: int, mode: int = 0o644) -> int:
    """os.open that never follows a link at `path`: a link there is removed and a file made."""
    flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        return os.open(path, flags, mode)
    except OSError:
        if not path.is_symlink():
            raise
        path.unlink()
        return os.open(path, flags, mode)
