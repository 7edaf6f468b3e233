"""Combine shard reports (``--luxgate-shard I/N`` on several CI machines) into one.

    luxgate merge shard1/report.json shard2/report.json ... -o merged/ [--force]

The merged directory gets what a run writes: report.json, SUMMARY.md,
report.html and the shards' kept WAVs (report/outputs.py: all in a temp dir
instead when they cannot be written there, and said so). A WAV path in a shard
report must be a file under that report's wavs/; anything else (``..``, an
absolute path, a link) is not copied, and the merge says so;
the exit code is the merged verdict (0 pass, 1 fail, 2 refused or bad input).
Runs that measured different things are refused unless ``--force``: a
different pytest-luxgate version, ASR model, seed, stack list, parameters,
thresholds, chunking or required stacks; shards of different N, a shard given
twice, a shard missing, or one cell in two reports. Only facts about *where*
a shard ran (Python, platform, start time, duration) may differ; they are
kept per input under ``run.merged_from``.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .html import HtmlOptions
from .matrix import SCHEMA_VERSION, build_report
from .outputs import KeptWav, Placed, write_outputs
from .verdict import release_failures, run_verdict

#: run facts that must match for reports to be one matrix
MUST_MATCH = ("version", "asr", "seed", "stacks", "keep_wavs", "config")


class MergeError(ValueError):
    """The reports cannot be merged; the message names the files and the difference."""


def load(path: Path) -> dict[str, Any]:
    try:
        report = json.loads(Path(path).read_text("utf-8"))
    except OSError as exc:
        raise MergeError(f"{path}: cannot read it ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise MergeError(f"{path}: not JSON ({exc})") from None
    if not isinstance(report, dict) or "cells" not in report or "run" not in report:
        raise MergeError(f"{path}: not a luxgate report.json (no 'run'/'cells')")
    if report.get("schema") != SCHEMA_VERSION:
        raise MergeError(f"{path}: report schema {report.get('schema')!r}, this luxgate reads {SCHEMA_VERSION}")
    return report


def conflicts(paths: list[Path], reports: list[dict[str, Any]]) -> list[str]:
    """Every reason these reports are not shards of one run (empty: they are)."""
    problems = []
    first = reports[0]["run"]
    for path, rep in zip(paths[1:], reports[1:]):
        for key in MUST_MATCH:
            if rep["run"].get(key) != first.get(key):
                problems.append(f"{key} differs: {paths[0]} has {first.get(key)!r}, "
                                f"{path} has {rep['run'].get(key)!r}")
    shards = [r["run"].get("shard") for r in reports]
    if any(shards):
        counts = {s["count"] for s in shards if s}
        if None in shards or len(counts) > 1:
            problems.append("the reports mix shard counts: " + ", ".join(
                f"{p}: {_shard_name(s)}" for p, s in zip(paths, shards)))
        else:
            (n,) = counts
            seen = [s["index"] for s in shards]
            dup = sorted({i for i in seen if seen.count(i) > 1})
            missing = sorted(set(range(1, n + 1)) - set(seen))
            if dup:
                problems.append(f"shard(s) {', '.join(f'{i}/{n}' for i in dup)} given more than once")
            if missing:
                problems.append(f"shard(s) {', '.join(f'{i}/{n}' for i in missing)} missing")
    owner: dict[tuple[str, str, str], Path] = {}
    for path, rep in zip(paths, reports):
        for c in rep["cells"]:
            key = (c["stack"], c["prompt"], c["scenario"])
            if key in owner:
                problems.append(f"cell {'/'.join(key)} is in both {owner[key]} and {path}")
            owner.setdefault(key, path)
    return problems


def _shard_name(shard: dict[str, Any] | None) -> str:
    return "unsharded" if shard is None else f"shard {shard['index']}/{shard['count']}"


def merge(paths: list[Path], out_dir: Path, *,
          force: bool = False) -> tuple[dict[str, Any], list[str], Placed]:
    """Merge and write; returns (merged report, warnings, where it went). MergeError when refused."""
    if not paths:
        raise MergeError("give at least one report.json")
    reports = [load(p) for p in paths]
    problems = conflicts(paths, reports)
    if problems and not force:
        raise MergeError("refusing to merge (use --force to merge anyway):\n  " + "\n  ".join(problems))
    cells: dict[tuple[str, str, str], dict[str, Any]] = {}
    wavs: list[KeptWav] = []
    for path, rep in zip(paths, reports):
        for c in rep["cells"]:
            key = (c["stack"], c["prompt"], c["scenario"])
            if key in cells:  # only with --force: the first report's cell stays
                continue
            c = dict(c)
            rel, c["wav"] = c.get("wav"), None
            takes = c.get("take_wavs")
            if takes:  # the best take's entry is the cell's own WAV (outputs._place fills it in)
                c["take_wavs"] = [None] * len(takes)
            for k, name in [(None, rel), *enumerate(takes or [])]:
                if not name or (k is not None and name == rel):
                    continue
                src, why = shard_wav(Path(path), name)
                if why:
                    problems.append(f"{src}: {why}; the merged cell has none")
                else:
                    wavs.append(KeptWav(c, src, name, take=k, copy=True))
            cells[key] = c
    run = {k: v for k, v in reports[0]["run"].items()
           if k not in ("shard", "started", "duration_s", "python", "platform", "workers", "overlap", "release_failures",
                        "verdict", "verdict_reasons", "judged", "expected")}
    run["merged_from"] = [{"report": str(p), **{k: r["run"].get(k) for k in
                           ("shard", "python", "platform", "started", "duration_s", "complete", "passed")}}
                          for p, r in zip(paths, reports)]
    run["started"] = min(str(r["run"].get("started", "")) for r in reports)
    run["duration_s"] = max(float(r["run"].get("duration_s", 0) or 0) for r in reports)
    run["complete"] = all(r["run"].get("complete", True) for r in reports)
    incomplete = [r["run"].get("incomplete_reason") for r in reports if r["run"].get("incomplete_reason")]
    if incomplete:
        run["incomplete_reason"] = "; ".join(incomplete)
    cell_list = list(cells.values())
    required = (run.get("config") or {}).get("require") or []
    failures = release_failures(required, cell_list, sharded=False)
    if required:
        run["release_failures"] = failures
    # the whole: every shard's cells, judged on the checks the shards were asked for
    expected = [r["run"].get("expected") for r in reports]
    known = all(isinstance(e, dict) for e in expected)
    run.update(run_verdict(cell_list, expected=[k for e in expected for k in e["cells"]] if known else None,
                           checks=expected[0]["checks"] if known else (),
                           interrupted=run.get("incomplete_reason") if not run["complete"] else None,
                           failures=failures).to_run())
    if known:
        run["expected"] = {"cells": list(dict.fromkeys(k for e in expected for k in e["cells"])),
                           "checks": expected[0]["checks"]}
    if problems:
        run["merge_warnings"] = problems
    report = build_report(cell_list, run)
    placed = write_outputs(report, out_dir, wavs, HtmlOptions(out_dir / "report.html"))
    return report, problems, placed


def shard_wav(report_path: Path, rel: str) -> tuple[Path, str | None]:
    """(the WAV a shard report names, why it cannot be used or None)."""
    base = report_path.parent
    rp = Path(str(rel))
    if rp.is_absolute() or ".." in rp.parts or not rp.parts or rp.parts[0] != "wavs":
        return base / rel, "kept WAV path is not a file under the report's wavs/"
    src = base / rp
    if any(p.is_symlink() for p in [src, *list(src.parents)[: len(rp.parts) - 1]]):
        return src, "kept WAV is reached through a link"
    if not src.is_file():
        return src, "kept WAV missing"
    return src, None


# -- `luxgate merge` ------------------------------------------------------------------
