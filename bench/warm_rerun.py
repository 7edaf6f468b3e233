"""Warm rerun of the default gate: where a run with every take and transcript cached spends its time.

    .venv/bin/python bench/warm_rerun.py [--cache-dir DIR] [--runs 3] [--profile]

Runs `pytest tests/gate -n 0` once to fill the cache (skipped when --cache-dir already holds
it), then --runs warm reruns in fresh processes. Per run: wall seconds and the process's CPU
seconds (user + system, from getrusage of the child: on a shared machine CPU time is the figure
that does not depend on the load). Reported: best and median of each. With --profile, one more
warm run under cProfile prints the 25 most expensive functions (cumulative).

PYTHONDONTWRITEBYTECODE=1 (set on some CI and sandbox machines) makes every run compile every
module from source and makes pytest re-run its assertion rewriting on each import: the script
measures both settings (--bytecode both|on|off) since they differ by about a second.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(args: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode not in (0, 1):
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
    return wall, cpu, proc.returncode


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache-dir", type=Path, default=None)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--bytecode", choices=["both", "on", "off"], default="both")
    ap.add_argument("--profile", action="store_true")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="luxgate-warm-")
    cache = a.cache_dir or Path(tmp, "cache")
    gate = ["-m", "pytest", "tests/gate", "-n", "0", "-q", "-p", "no:cacheprovider",
            f"--luxgate-cache-dir={cache}", f"--luxgate-output={tmp}/out"]
    base_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    results: dict = {}
    if not (cache / "synth").is_dir():
        wall, cpu, rc = _run(gate, base_env)
        results["cold"] = {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "exit": rc}
    settings = {"on": base_env, "off": {**base_env, "PYTHONDONTWRITEBYTECODE": "1"}}
    for name, env in settings.items():
        if a.bytecode not in ("both", name):
            continue
        _run(gate, env)  # a first warm run writes the .pyc / rewritten-assert caches where allowed
        runs = [_run(gate, env) for _ in range(a.runs)]
        walls, cpus = [r[0] for r in runs], [r[1] for r in runs]
        results[f"warm_bytecode_{name}"] = {
            "wall_best_s": round(min(walls), 2), "wall_median_s": round(statistics.median(walls), 2),
            "cpu_best_s": round(min(cpus), 2), "cpu_median_s": round(statistics.median(cpus), 2),
            "exit": sorted({r[2] for r in runs})}
    if a.profile:
        prof = Path(tmp, "warm.prof")
        _run(["-m", "cProfile", "-o", str(prof), *gate], base_env)
        import pstats

        pstats.Stats(str(prof)).sort_stats("cumulative").print_stats(25)
    report = report_of(Path(tmp, "out"))
    results["cells"] = report
    print(json.dumps(results, indent=2))


def report_of(out: Path) -> dict:
    """What the last warm run took from the cache, from its own report.json."""
    try:
        cells = json.loads((out / "report.json").read_text())["cells"]
    except (OSError, ValueError, KeyError):
        return {}
    return {"cells": len(cells),
            "synthesized": sum(1 for c in cells if not (c.get("cached") or {}).get("synthesis")),
            "transcribed": sum(1 for c in cells if not (c.get("cached") or {}).get("asr"))}


if __name__ == "__main__":
    main()
