"""Baseline tolerances against the spread they must absorb (issue 15, item 1).

A baseline comparison is a verdict too: a tolerance narrower than what a
tiny numeric perturbation moves a metric by would flip it from machine to
machine, and one far wider than what a regression moves it by would never
fire. This runs the default gate (Piper, the five standard scenarios, Whisper
base, every listener) in fresh subprocesses, without the cache, under

* the perturbations a release meets: `-n 0`, `-n 2`, `-p no:xdist`, and
  `CT2_FORCE_CPU_ISA` GENERIC, AVX, AVX2 (AVX512 where the CPU has it);
* other seeds (`--luxgate-seed`): take-to-take variation of the engine, the
  spread a baseline recorded on one take must also allow for a stochastic engine
  judged on one take,

and prints, for every baselined metric, its tolerance (at the default cells'
values: atol + rtol x |baseline|) beside the largest spread over a cell under
the perturbations and under seeds. Results: bench/results_baseline_spread.json
(tests/unit/test_baseline_spread.py holds the registry's tolerances to it).

    PYTHONPATH=. .venv/bin/python bench/baseline_spread.py            # ~12 runs of the gate
    PYTHONPATH=. .venv/bin/python bench/baseline_spread.py --report   # the table from the JSON
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pytest_luxgate.baselines.spec import METRICS  # noqa: E402

OUT = ROOT / "bench" / "results_baseline_spread.json"
BASE = ["-k", "not test_baseline", "--luxgate-no-cache", "--luxgate-keep-wavs=none", "-p", "no:cacheprovider",
        "-q", "--no-header", "-rN"]
SEEDS = (1, 2)


def _cpu_has(flag: str) -> bool:
    try:
        from numpy._core._multiarray_umath import __cpu_features__
    except ImportError:  # numpy 1
        from numpy.core._multiarray_umath import __cpu_features__
    return bool(__cpu_features__.get(flag))


def conditions() -> dict[str, tuple[list[str], dict[str, str]]]:
    out: dict[str, tuple[list[str], dict[str, str]]] = {
        "-n 0": (["-n", "0"], {}), "-n 2": (["-n", "2"], {}), "no xdist": (["-p", "no:xdist"], {})}
    for isa in ["GENERIC", "AVX", "AVX2"] + (["AVX512"] if _cpu_has("AVX512F") else []):
        out[f"ISA {isa}"] = (["-n", "0"], {"CT2_FORCE_CPU_ISA": isa})
    return out


def run_gate(extra: list[str], env: dict[str, str]) -> dict[str, dict[str, Any]]:
    """One cold run of the default gate; cell id -> its metrics."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pytest", str(ROOT / "tests" / "gate"), f"--luxgate-output={tmp}/out",
               *BASE, *extra]
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "CT2_"))}
        subprocess.run(cmd, cwd=ROOT, env={**full_env, **env}, capture_output=True, text=True, timeout=1800)
        report = json.loads((Path(tmp) / "out" / "report.json").read_text())
    return {c["cell"]: c["metrics"] for c in report["cells"]}


def spread(runs: list[dict[str, dict[str, Any]]], metric: str) -> tuple[float | None, str]:
    """The largest max - min of a metric over the runs, in any cell (and that cell)."""
    best, where = None, ""
    tol = METRICS[metric]
    for cell in runs[0]:
        vals = []
        for r in runs:
            v = r.get(cell, {}).get(metric)
            if isinstance(v, (int, float)):
                vals.append(max(float(v), tol.floor) if tol.floor is not None else float(v))
            elif tol.floor is not None and v is None:
                vals.append(tol.floor)
        if len(vals) < 2:
            continue
        d = (max(abs(v) for v in vals) - min(abs(v) for v in vals)) if tol.magnitude else max(vals) - min(vals)
        if best is None or d > best:
            best, where = d, cell
    return best, where


def allowance(metric: str, runs: list[dict[str, dict[str, Any]]]) -> float:
    """The tolerance at the smallest |value| a default cell has (rtol scales with it)."""
    tol = METRICS[metric]
    vals = [abs(float(r[c][metric])) for r in runs[:1] for c in r if isinstance(r[c].get(metric), (int, float))]
    return tol.atol + tol.rtol * (min(vals) if vals else 0.0)


def table(data: dict[str, Any]) -> str:
    pert = list(data["perturbations"].values())
    seeds = [data["perturbations"]["-n 0"], *data["seeds"].values()]  # the default seed and the others
    lines = ["| metric | direction | tolerance (at the default cells) | spread under perturbations (cell) "
             "| spread over 3 seeds: default, 1, 2 (cell) |", "|---|---|---|---|---|"]
    for m, tol in METRICS.items():
        if tol.direction == "info":
            continue
        p, pc = spread(pert, m)
        s, sc = spread(seeds, m)
        if p is None and s is None:
            continue
        fmt = (lambda v, c: "-" if v is None else f"{v:.{tol.decimals}f} {tol.unit} ({c})".replace("  ", " "))
        lines.append(f"| {m} | {tol.direction} | {allowance(m, pert):.{tol.decimals}f} {tol.unit} | "
                     f"{fmt(p, pc)} | {fmt(s, sc)} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--report", action="store_true", help="print the table from the saved JSON")
    ap.add_argument("--resume", action="store_true", help="keep the runs already in the JSON")
    a = ap.parse_args()
    if not a.report:
        data: dict[str, Any] = {"perturbations": {}, "seeds": {}}
        if a.resume and OUT.exists():
            data = json.loads(OUT.read_text())
        data["when"] = time.strftime("%Y-%m-%d")
        todo = [("perturbations", name, extra, env) for name, (extra, env) in conditions().items()]
        todo += [("seeds", str(seed), ["-n", "0", f"--luxgate-seed={seed}"], {}) for seed in SEEDS]
        for group, name, extra, env in todo:
            if name in data[group]:
                continue
            t0 = time.time()
            data[group][name] = run_gate(extra, env)
            print(f"{group} {name}: {time.time() - t0:.0f} s", flush=True)
            OUT.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")  # a long run keeps what it did
    print(table(json.loads(OUT.read_text())))


if __name__ == "__main__":
    main()
