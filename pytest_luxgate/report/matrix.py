"""The matrix report: report.json, SUMMARY.md and the kept WAVs, written atomically.

Input is the list of cell records (plain dicts, as they crossed from workers);
nothing here runs models or knows about pytest.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any, Iterable

from ..core.atomic import write_file_atomic
from ..judging.takes import take_score
from ..matrix.cells import safe_name
from .summary import render_summary
from .verdict import STATUS_ICON

SCHEMA_VERSION = 1


def write_atomic(path: Path, text: str) -> None:
    """Temp file in the same directory, fsync, rename: never a half-written report."""
    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())

    write_file_atomic(path, write, prefix=f".{path.name}.")


def sort_key(cell: dict[str, Any]) -> tuple[str, str, str]:
    return (cell["stack"], cell["prompt"], cell["scenario"])


def summarize(cells: list[dict[str, Any]]) -> dict[str, int]:
    counts = {"cells": len(cells)}
    for status in STATUS_ICON:
        counts[status] = sum(1 for c in cells if c.get("status") == status)
    return counts


def keep_wavs(cells: list[dict[str, Any]], policy: str, out_dir: Path) -> None:
    """Move the takes the policy keeps under out_dir/wavs; set each cell's `wav`."""
    chosen: set[int] = set()
    if policy == "all":
        chosen = {i for i, c in enumerate(cells) if c.get("take_path")}
        _keep_other_takes(cells, out_dir)
    elif policy == "best":
        best: dict[tuple[str, str], int] = {}
        for i, c in enumerate(cells):
            if not c.get("take_path"):
                continue
            group = (c["stack"], c["scenario"])
            if group not in best or take_score(c) > take_score(cells[best[group]]):
                best[group] = i
        chosen = set(best.values())
    for c in cells:
        c.pop("take_paths", None)  # the other takes of a cell stay only under "all"
    for i, c in enumerate(cells):
        src = c.pop("take_path", None)
        c["wav"] = None
        if src is None or i not in chosen or not Path(src).exists():
            continue
        dest = out_dir / "wavs" / safe_name(c["stack"]) / f"{safe_name(c['prompt'])}__{safe_name(c['scenario'])}.wav"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(src, dest)
        c["wav"] = str(dest.relative_to(out_dir))
    for c in cells:
        if "take_wavs" in c:  # the best take is the cell's own WAV
            c["take_wavs"] = [w or c["wav"] for w in c["take_wavs"]]


def _keep_other_takes(cells: list[dict[str, Any]], out_dir: Path) -> None:
    """--luxgate-keep-wavs all with several takes per cell: every take, as ``...__takeK.wav``."""
    for c in cells:
        paths = c.pop("take_paths", None) or []
        kept = []
        for k, src in enumerate(paths):
            if src is None or src == c.get("take_path") or not Path(src).exists():
                kept.append(None)  # the best take: kept as the cell's own WAV below
                continue
            dest = out_dir / "wavs" / safe_name(c["stack"]) / \
                f"{safe_name(c['prompt'])}__{safe_name(c['scenario'])}__take{k}.wav"
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(src, dest)
            kept.append(str(dest.relative_to(out_dir)))
        if paths:
            c["take_wavs"] = kept


def build_report(cells: Iterable[dict[str, Any]], run: dict[str, Any]) -> dict[str, Any]:
    ordered = sorted(cells, key=sort_key)
    for c in ordered:
        c["score"] = list(take_score(c))
    return {"schema": SCHEMA_VERSION, "run": run, "summary": summarize(ordered), "cells": ordered}


def write_report(report: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / "report.json", out_dir / "SUMMARY.md"
    write_atomic(json_path, json.dumps(report, indent=2, sort_keys=False, default=_jsonable) + "\n")
    write_atomic(md_path, render_summary(report))
    return json_path, md_path


def _jsonable(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON-serialisable: {type(obj).__name__}")
