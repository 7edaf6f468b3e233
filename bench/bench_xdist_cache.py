"""xdist speed-up, warm-cache rerun, plugin overhead and peak memory, in one run (issue 6).

    .venv/bin/python bench/bench_xdist_cache.py [--rounds 2] [--json out.json]

Runs the default gate (`tests/gate`, default options: Piper, the standard
scenarios, Whisper base) as separate pytest processes, each with a fresh
output directory:

1. cold ``-n 0``  — empty cache dir A (cache writes included); the next cell's
   takes are made on a second thread beside this cell's ASR (run/ahead.py)
2. cold ``-n 2``  — empty cache dir B
3. cold ``-n 0 --luxgate-no-overlap`` — empty cache dir C: everything on one
   thread, so its synthesis and ASR timings are the uncontended floor that
   goal 1 of issue 18 divides by
4. warm ``-n 0``  — cache dir A again: no synthesis, no ASR

Rounds rotate the cold runs (n0, n2, one thread; then n2, one thread, n0; ...)
so machine load hits all alike; the figure is the median per kind. A small measuring plugin
(``-p _bench_probe``, loaded in the controller and every worker) records each
process's peak RSS and the time spent in the plugin's own bookkeeping
(collecting records, writing the report and WAVs, cache reads/writes).
Overhead shares are of the cold ``-n 0`` run's wall time:

* synthesis + ASR: the sums of the cells' ``timings.synthesis_s`` and ``asr_s``;
* detectors: the rest of the cells' timings (seams, joins, VAD and metrics, listeners);
* plugin bookkeeping: measured by the probe;
* start-up: interpreter, imports, model loads and pytest itself (wall minus the above).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent

PROBE = '''
import json, os, resource, time
import pytest

_T = {"plugin_s": 0.0, "parts": {}}

def _timed(obj, name):
    orig = getattr(obj, name)
    def wrapper(*a, **k):
        t0 = time.perf_counter()
        try:
            return orig(*a, **k)
        finally:
            dt = time.perf_counter() - t0
            _T["plugin_s"] += dt
            _T["parts"][name] = _T["parts"].get(name, 0.0) + dt
    setattr(obj, name, wrapper)

def pytest_configure(config):
    from pytest_luxgate.plugin import session
    from pytest_luxgate.run import cache, runner
    _timed(session.LuxgateSession, "ran_report")
    _timed(session.LuxgateSession, "finish")        # report.json, SUMMARY.md, WAVs (+ HTML report)
    from pytest_luxgate.report import outputs
    _timed(outputs, "_page")                        # report.html, inside finish: shown apart
    _timed(runner.CellRunner, "_record")          # record + the take's WAV
    for name in ("get_take", "put_take", "get_transcript", "put_transcript", "evict"):
        _timed(cache.ContentCache, name)

def pytest_unconfigure(config):
    out = os.environ.get("BENCH_PROBE_DIR")
    if out:
        who = getattr(config, "workerinput", {}).get("workerid", "controller")
        ru = resource.getrusage(resource.RUSAGE_SELF)
        with open(os.path.join(out, who + ".json"), "w") as fh:
            json.dump({"who": who, "peak_rss_mib": round(ru.ru_maxrss / 1024, 1),
                       "cpu_s": round(ru.ru_utime + ru.ru_stime, 2), **_T}, fh)
'''


def run_gate(workers: int, cache_dir: Path, tmp: Path, tag: str, *extra: str) -> dict:
    out, probe = tmp / f"out-{tag}", tmp / f"probe-{tag}"
    probe.mkdir()
    env = {**os.environ, "BENCH_PROBE_DIR": str(probe),
           "PYTHONPATH": os.pathsep.join([str(tmp), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "pytest", "tests/gate", "-q", "-p", "_bench_probe", "-n", str(workers),
           f"--luxgate-output={out}", f"--luxgate-cache-dir={cache_dir}", *extra]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    report_path = out / "report.json"
    if not report_path.exists():
        raise SystemExit(f"gate run {tag} wrote no report (exit {proc.returncode}):\n{proc.stdout[-3000:]}")
    report = json.loads(report_path.read_text())
    cells = report["cells"]
    t = {k: sum(float(c.get("timings", {}).get(k, 0) or 0) for c in cells)
         for k in {k for c in cells for k in c.get("timings", {})}}
    probes = [json.loads(p.read_text()) for p in sorted(probe.glob("*.json"))]
    return {
        "tag": tag, "workers": workers, "wall_s": round(wall, 2), "exit": proc.returncode,
        "cells": len(cells), "statuses": sorted(c["status"] for c in cells),
        "synthesized": sum(1 for c in cells if not c.get("cached", {}).get("synthesis")),
        "transcribed": sum(1 for c in cells if not c.get("cached", {}).get("asr")),
        "synthesis_s": round(t.get("synthesis_s", 0.0), 3), "asr_s": round(t.get("asr_s", 0.0), 3),
        "detectors_s": round(sum(v for k, v in t.items() if k not in ("synthesis_s", "asr_s")), 3),
        # finish() includes the HTML report (another feature, timed apart): counted once, in html_s
        "plugin_s": round(sum(p["plugin_s"] - 2 * p["parts"].get("_page", 0.0) for p in probes), 3),
        "html_s": round(sum(p["parts"].get("_page", 0.0) for p in probes), 3),
        "plugin_parts_s": {k: round(sum(p["parts"].get(k, 0.0) for p in probes), 3)
                           for k in sorted({k for p in probes for k in p["parts"]})},
        "peak_rss_mib": {p["who"]: p["peak_rss_mib"] for p in probes},
        # CPU seconds per process: unlike wall time, barely moved by other load on the machine
        "cpu_s": {p["who"]: p["cpu_s"] for p in probes},
        "audio_s": round(sum(c.get("audio_s", 0) for c in cells), 1),
    }


def summarize(runs: dict[str, list[dict]], load_before: Any, load_after: Any) -> dict:
    """The figures from the runs of each kind (medians); the breakdown of the wall time comes
    from the one-thread run, whose parts run one after another (in the overlapped run the
    cells' own timings overlap and add up to more than its wall time)."""
    med = {k: statistics.median(r["wall_s"] for r in v) for k, v in runs.items()}
    seq = min(runs["cold_one_thread"], key=lambda r: abs(r["wall_s"] - med["cold_one_thread"]))
    wall = seq["wall_s"]
    startup = wall - seq["synthesis_s"] - seq["asr_s"] - seq["detectors_s"] - seq["plugin_s"] - seq["html_s"]
    # goal 1: the cold run against the synthesis + ASR it cannot avoid, timed where nothing
    # else runs beside them (the one-thread run's own cell timings, median over rounds)
    floor = statistics.median(r["synthesis_s"] + r["asr_s"] for r in runs["cold_one_thread"])
    return {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "load_avg_before": [round(x, 2) for x in load_before],
        "load_avg_after": [round(x, 2) for x in load_after],
        "median_wall_s": med,
        "floor_synthesis_asr_s": round(floor, 3),
        "cold_vs_floor": round(med["cold_n0"] / floor, 2),
        "one_thread_vs_floor": round(med["cold_one_thread"] / floor, 2),
        "overlap_speedup": round(med["cold_one_thread"] / med["cold_n0"], 2),
        "speedup_n2": round(med["cold_n0"] / med["cold_n2"], 2),
        "speedup_n2_vs_one_thread": round(med["cold_one_thread"] / med["cold_n2"], 2),
        "warm_vs_cold": round(med["warm_n0"] / med["cold_n0"], 3),
        "warm_synthesized": [r["synthesized"] for r in runs["warm_n0"]],
        "warm_transcribed": [r["transcribed"] for r in runs["warm_n0"]],
        "one_thread_breakdown_s": {"wall": wall, "synthesis": seq["synthesis_s"], "asr": seq["asr_s"],
                                   "detectors": seq["detectors_s"], "plugin": seq["plugin_s"],
                                   "html_report": seq["html_s"], "plugin_parts": seq["plugin_parts_s"],
                                   "startup_models_pytest": round(startup, 2)},
        "share_not_synthesis_or_asr_one_thread": round(1 - (seq["synthesis_s"] + seq["asr_s"]) / wall, 3),
        "warm_plugin_s": statistics.median(r["plugin_s"] for r in runs["warm_n0"]),
        "peak_rss_mib": {k: v[-1]["peak_rss_mib"] for k, v in runs.items()},
        "cpu_s": {k: v[-1]["cpu_s"] for k, v in runs.items()},
        # CPU-bound limits on 2 cores: a run takes at least its busiest process's CPU time, and
        # at least its total CPU time / cores
        "cpu_bound_speedup_n2_vs_one_thread": round(sum(runs["cold_one_thread"][-1]["cpu_s"].values())
                                                    / max(runs["cold_n2"][-1]["cpu_s"].values()), 2),
        "cpu_total_s": {k: round(sum(v[-1]["cpu_s"].values()), 2) for k, v in runs.items()},
        "runs": runs,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--resummarize", type=Path, default=None,
                    help="recompute the figures from the runs stored in a results JSON (no gate runs)")
    args = ap.parse_args()
    if args.resummarize:
        old = json.loads(args.resummarize.read_text())
        result = summarize(old["runs"], old["load_avg_before"], old["load_avg_after"])
        print(json.dumps({k: v for k, v in result.items() if k != "runs"}, indent=2))
        if args.json:
            args.json.write_text(json.dumps(result, indent=2) + "\n")
        return
    load_before = os.getloadavg()
    runs: dict[str, list[dict]] = {"cold_n0": [], "cold_n2": [], "cold_one_thread": [], "warm_n0": []}
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        (tmp / "_bench_probe.py").write_text(PROBE)
        for r in range(args.rounds):
            a, b, c = tmp / f"cache-a{r}", tmp / f"cache-b{r}", tmp / f"cache-c{r}"
            order = [("cold_n0", 0, a, ()), ("cold_n2", 2, b, ()), ("cold_one_thread", 0, c, ("--luxgate-no-overlap",))]
            order = order[r % 3:] + order[:r % 3]
            for kind, n, cache, extra in order:
                runs[kind].append(run_gate(n, cache, tmp, f"{kind}-{r}", *extra))
                print(json.dumps(runs[kind][-1]), file=sys.stderr)
            runs["warm_n0"].append(run_gate(0, a, tmp, f"warm_n0-{r}"))
            print(json.dumps(runs["warm_n0"][-1]), file=sys.stderr)
    result = summarize(runs, load_before, os.getloadavg())
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
