"""Where a run's files go: report.json, SUMMARY.md, report.html and the kept WAVs, as one set.

Into the output directory. When the WAVs or the report cannot be written there
(unwritable, full, another run holds it), all of them go into one fresh temp
directory instead (WAVs already placed move along), so the report's WAV paths
and the page's players stay right. Whatever cannot be written even there is
named, never dropped: in the terminal line (`Placed.line`) and in the report's
``run.output_notes`` (SUMMARY.md's Notes, the page's header). When not even
report.json can be written anywhere, its text comes back (`Placed.dumped`) for
the terminal, so no verdict is lost.

Every write stays under the directory chosen: a link planted at a name it
writes (report.json, wavs/, a kept WAV's name) is replaced, never followed
(core.atomic.inside / move_inside; the report files' rename replaces a link).
"""
from __future__ import annotations

import dataclasses
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.atomic import copy_inside, move_inside
from .html import HtmlOptions, ImageCache, result_lines, write_html
from .matrix import write_report

FALLBACK_PREFIX = "luxgate-report-"


@dataclass
class KeptWav:
    """One take the keep policy keeps: where it is now and its name under the report's dir."""

    cell: dict[str, Any]
    src: Path
    rel: str
    take: int | None = None       # None: the cell's own `wav`; k: its `take_wavs[k]`
    placed: Path | None = None    # the directory it is in now, once moved
    copy: bool = False            # `src` is not ours to move (another report's WAV): copy it first


@dataclass
class Placed:
    dir: Path | None = None                 # where report.json and SUMMARY.md are (None: nowhere)
    moved: str | None = None                # why they are not in the output dir
    not_written: list[str] = field(default_factory=list)
    html_lines: list[str] = field(default_factory=list)
    dumped: str | None = None               # report.json's text when it could not be written at all
    dump_why: str = ""                      # why not even the temp dir took it

    @property
    def failed(self) -> bool:
        return bool(self.moved or self.not_written or self.dumped)

    def line(self, out: Path) -> str | None:
        """The terminal line: where everything went instead, and what could not be written."""
        if not self.failed:
            return None
        lost = f"; not written: {'; '.join(self.not_written)}" if self.not_written else ""
        if self.dumped is not None:
            return (f"luxgate: {self.moved or f'could not write the report to {out}'}, nor to a temporary "
                    f"directory ({self.dump_why}); so no result is lost, here is report.json:\n{self.dumped}")
        if self.moved:
            return f"luxgate: {self.moved}; it was written to {self.dir} instead{lost}"
        return f"luxgate: not written: {'; '.join(self.not_written)}; the rest of the report is in {self.dir}"


def plan_wavs(cells: list[dict[str, Any]], policy: str) -> list[KeptWav]:
    """The takes `policy` keeps (none | best: the best per stack and scenario | all), each with its
    name under wavs/; takes off every cell's temp paths (`wav` is set when it is placed)."""
    from ..judging.takes import take_score
    from ..matrix.cells import safe_name

    chosen: set[int] = set()
    if policy == "all":
        chosen = {i for i, c in enumerate(cells) if c.get("take_path")}
    elif policy == "best":
        best: dict[tuple[str, str], int] = {}
        for i, c in enumerate(cells):
            if not c.get("take_path"):
                continue
            group = (c["stack"], c["scenario"])
            if group not in best or take_score(c) > take_score(cells[best[group]]):
                best[group] = i
        chosen = set(best.values())
    kept = []
    for i, c in enumerate(cells):
        src, paths = c.pop("take_path", None), c.pop("take_paths", None) or []
        c["wav"] = None
        stem = f"wavs/{safe_name(c['stack'])}/{safe_name(c['prompt'])}__{safe_name(c['scenario'])}"
        if src is not None and i in chosen and Path(src).exists():
            kept.append(KeptWav(c, Path(src), f"{stem}.wav"))
        if policy == "all" and paths:  # every take of a several-take cell, as ...__takeK.wav
            c["take_wavs"] = [None] * len(paths)
            for k, other in enumerate(paths):
                if other is not None and other != src and Path(other).exists():
                    kept.append(KeptWav(c, Path(other), f"{stem}__take{k}.wav", take=k))
    return kept


def write_outputs(report: dict[str, Any], out: Path, wavs: list[KeptWav], html: HtmlOptions,
                  images: ImageCache | None = None, busy: str | None = None) -> Placed:
    """Write the set into `out` (or, if `busy` names why not, straight into a temp dir)."""
    placed = Placed()
    if busy is None:
        try:
            failed = _place(wavs, out, strict=True)
            if failed:
                placed.not_written.append(f"{len(failed)} kept WAV(s): {', '.join(failed)}")
            _notes(report, placed)
            write_report(report, out)
            placed.dir = out
        except (OSError, ValueError) as exc:
            placed.moved = f"could not write the report to {out} ({_why(exc)})"
    else:
        placed.moved = busy
    if placed.dir is not None:
        _page(report, out, html, images, placed)
        return placed
    try:
        fallback = Path(tempfile.mkdtemp(prefix=FALLBACK_PREFIX))
    except OSError as exc:
        placed.not_written.append(f"every file: no temporary directory ({_why(exc)})")
        _dump(report, placed, _why(exc))
        return placed
    placed.not_written.clear()  # counted again below, for this directory
    failed = _place(wavs, fallback, strict=False)
    if failed:
        placed.not_written.append(f"{len(failed)} kept WAV(s): {', '.join(failed)}")
    page = dataclasses.replace(html, path=fallback / "report.html") if html.path is not None else html
    _notes(report, placed)
    try:
        write_report(report, fallback)
    except OSError as exc:
        placed.not_written.append(f"report.json, SUMMARY.md, report.html ({_why(exc)})")
        _dump(report, placed, _why(exc))
        return placed
    placed.dir = fallback
    _page(report, fallback, page, images, placed)
    return placed


def _page(report: dict[str, Any], where: Path, html: HtmlOptions, images: ImageCache | None,
          placed: Placed) -> None:
    """report.html; if it cannot be written, say so in the report (rewritten) and the terminal."""
    try:
        result = write_html(report, where, html, images)
    except Exception as exc:
        why = f"{type(exc).__name__}: {exc}" if not isinstance(exc, OSError) else _why(exc)
        placed.not_written.append(f"report.html at {html.path} ({why})")
        _notes(report, placed)
        try:  # the report itself names what is missing
            write_report(report, where)
        except OSError:
            pass
        return
    if result is not None:
        placed.html_lines = result_lines(result)


def _place(wavs: list[KeptWav], root: Path, *, strict: bool) -> list[str]:
    """Move every kept WAV under `root` (from wherever it is now); set the cells' fields to what
    is there. `strict`: the first failure raises (the caller moves everything elsewhere)."""
    failed = []
    for w in wavs:
        if w.placed == root:
            continue
        if not w.src.is_file():  # the take itself is gone (not this directory's fault)
            failed.append(f"{w.rel}: its take {w.src} is gone")
            continue
        try:
            w.src = (copy_inside if w.copy and w.placed is None else move_inside)(w.src, root, w.rel)
            w.placed = root
        except (OSError, ValueError) as exc:
            if strict:
                raise
            failed.append(f"{w.rel}: {_why(exc)}")
    for w in wavs:
        rel = w.rel if w.placed == root else None
        if w.take is None:
            w.cell["wav"] = rel
        else:
            w.cell["take_wavs"][w.take] = rel
    for c in {id(w.cell): w.cell for w in wavs}.values():
        if "take_wavs" in c:  # the best take is the cell's own WAV
            c["take_wavs"] = [t or c["wav"] for t in c["take_wavs"]]
    return failed


def _notes(report: dict[str, Any], placed: Placed) -> None:
    notes = []
    if placed.moved:
        notes.append(f"{placed.moved}; every file of this report was written to a temporary directory instead")
    notes += [f"not written: {n}" for n in placed.not_written]
    if notes:
        report["run"]["output_notes"] = notes
    else:
        report["run"].pop("output_notes", None)


def _dump(report: dict[str, Any], placed: Placed, why: str) -> None:
    _notes(report, placed)
    placed.dump_why = why
    placed.dumped = json.dumps(report, indent=1, default=str)


def _why(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc)
