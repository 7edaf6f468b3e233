"""Chunking on vs off on the default stack: WER, every check, and what a seam costs.

    .venv/bin/python bench/chunking.py [--seeds N] [--asr faster-whisper:base] [--json FILE]

For long_paragraph and numbers_symbols, each take is made the way the gate
makes it (`synthesize_chunked` on Piper, the cell's own seed first, then
further seeds) with chunking off (max_chars 0) and on (the default), analysed
with the gate's ASR and judged by every check at the default thresholds.
Timings: synthesis (all chunk passes), the join, the seam analysis (seam
metrics at the join times), and the added time per seam = (join + seam
analysis) / seams. Prints Markdown; --json writes the raw rows.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pytest_luxgate.judging.analysis import analyze  # noqa: E402
from pytest_luxgate.matrix.cells import OWN_VOICE, Cell  # noqa: E402
from pytest_luxgate.judging.checks import CHECK_NAMES, judge  # noqa: E402
from pytest_luxgate.speech.chunking import ChunkingOptions  # noqa: E402
from pytest_luxgate.core.defaults import DEFAULT_ASR, DEFAULT_SEED  # noqa: E402
from pytest_luxgate.metrics.seams import seam_metrics  # noqa: E402
from pytest_luxgate.run.runner import _cell_seed  # noqa: E402
from pytest_luxgate.matrix.scenarios import load_dirs, standard_dir  # noqa: E402
from pytest_luxgate.stacks.piper import PiperStack  # noqa: E402
from pytest_luxgate.speech.synthesis import synthesize_chunked  # noqa: E402
from pytest_luxgate.judging.thresholds import resolve  # noqa: E402

SCENARIOS = ("long_paragraph", "numbers_symbols")


def run(seeds: int, asr: str) -> list[dict]:
    stack = PiperStack()
    stack.load()
    scenarios = {s.id: s for s in load_dirs([standard_dir()])}
    thresholds = resolve()
    rows = []
    for sid in SCENARIOS:
        text = scenarios[sid].text
        first = _cell_seed(DEFAULT_SEED, Cell("piper", OWN_VOICE, sid))
        for k in range(seeds):
            seed = first + k
            for label, opts in (("off", ChunkingOptions(max_chars=0)), ("on", ChunkingOptions())):
                take = synthesize_chunked(stack, text, None, stack.default_params(), seed, opts)
                ev = analyze(take.audio, take.sample_rate, text, asr, seams=take.seams)
                checks = {n: judge(n, ev, thresholds) for n in CHECK_NAMES}
                seam_s = _seam_time(take) if take.seams else 0.0
                rows.append({
                    "scenario": sid, "seed": seed, "chunking": label, "chunks": len(take.chunks),
                    "seams": len(take.seams), "audio_s": round(take.seconds, 2),
                    "wer": round(ev.wer.wer, 3), "transcript": ev.transcript.text,
                    "checks": {n: c.passed for n, c in checks.items()},
                    "failing": {n: c.message.split("\n")[0] for n, c in checks.items() if not c.passed},
                    "synthesis_s": round(take.synthesis_s, 3), "join_s": round(take.join_s, 5),
                    "seam_analysis_s": round(seam_s, 5),
                })
                print(f"{sid} seed {seed} chunking {label}: wer {rows[-1]['wer']}, "
                      f"failing {list(rows[-1]['failing'])}", file=sys.stderr)
    return rows


def _seam_time(take, repeats: int = 5) -> float:
    """Median wall time of the seam metrics on this take (what the seams check adds to analysis)."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        seam_metrics(take.audio, take.sample_rate, take.seams)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def render(rows: list[dict], asr: str) -> str:
    out = [f"Piper (en_US-joe-medium), ASR `{asr}`, default thresholds; "
           f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores.", "",
           "| scenario | chunking | seeds | chunks | mean WER | " + " | ".join(CHECK_NAMES) + " | synthesis s |",
           "|---|---|---|---|---|" + "---|" * len(CHECK_NAMES) + "---|"]
    for sid in SCENARIOS:
        for label in ("off", "on"):
            sel = [r for r in rows if r["scenario"] == sid and r["chunking"] == label]
            # a one-pass take has no seams: the gate skips test_seams there
            passes = ["skip" if n == "seams" and not any(r["seams"] for r in sel)
                      else f"{sum(r['checks'][n] for r in sel)}/{len(sel)}" for n in CHECK_NAMES]
            out.append(f"| {sid} | {label} | {len(sel)} | {sel[0]['chunks']} | "
                       f"{statistics.mean(r['wer'] for r in sel):.3f} | " + " | ".join(passes) +
                       f" | {statistics.mean(r['synthesis_s'] for r in sel):.2f} |")
    seamed = [r for r in rows if r["seams"]]
    per_seam = [(r["join_s"] + r["seam_analysis_s"]) / r["seams"] for r in seamed]
    join = [r["join_s"] / r["seams"] for r in seamed]
    ana = [r["seam_analysis_s"] / r["seams"] for r in seamed]
    out += ["", f"Added time per seam: {1000 * statistics.mean(per_seam):.1f} ms "
            f"(join {1000 * statistics.mean(join):.1f} ms + seam analysis {1000 * statistics.mean(ana):.1f} ms; "
            f"max {1000 * max(per_seam):.1f} ms over {len(seamed)} chunked takes). "
            "Chunked synthesis itself costs one stack pass per chunk (Piper: a fresh ONNX session each)."]
    errs = [r for r in rows if r["wer"] > 0]
    if errs:
        out += ["", "Takes with word errors (what was heard):"]
        out += [f"- {r['scenario']} seed {r['seed']} chunking {r['chunking']} (WER {r['wer']}): "
                f"“{r['transcript']}”" for r in errs]
    fails = [r for r in rows if r["failing"]]
    if fails:
        out += ["", "Failing checks:"]
        out += [f"- {r['scenario']} seed {r['seed']} chunking {r['chunking']}: " +
                "; ".join(f"{n}: {m}" for n, m in r["failing"].items()) for r in fails]
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=3, help="seeds per scenario (the cell's own first)")
    ap.add_argument("--asr", default=DEFAULT_ASR)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    rows = run(args.seeds, args.asr)
    print(render(rows, args.asr))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
