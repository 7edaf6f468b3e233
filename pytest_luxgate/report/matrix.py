"""The matrix report: report.json and SUMMARY.md, written atomically (the set: outputs.py).

Input is the list of cell records (plain dicts, as they crossed from workers);
nothing here runs models or knows about pytest.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable

from ..core.atomic import write_file_atomic
from ..judging.takes import take_score
from .summary import render_summary
from .verdict import STATUS_ICON

SCHEMA_VERSION = 1


def write_atomic(path: Path, text: str) -> None:
    """Temp file in the same directory, fsync, rename: never a half-written report (and a link
    planted at `path` is replaced by the rename, never written through)."""
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
