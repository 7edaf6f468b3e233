"""Cost of the listener checks (issue 9): model first load, per clip, and per gate cell.

    .venv/bin/python bench/listeners.py [--skip-gate]

* DNSMOS (speechmos) and the resemblyzer encoder, each in a fresh process:
  import + model load + first clip, then every further clip, on the five
  standard scenario takes spoken by Piper (seed 1234);
* pauses (pure numpy) per clip;
* the default gate (tests/gate) with and without the three new tests, so the
  added cost per cell is measured where users pay it.
Prints JSON; the figures in BENCHMARKS.md ("Listener checks") come from here.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
which = sys.argv[1]
from pytest_luxgate.matrix.scenarios import load_dirs, standard_dir
from pytest_luxgate.stacks.piper import PiperStack
from pytest_luxgate.speech.synthesis import synthesize_chunked
from pytest_luxgate.speech.chunking import ChunkingOptions
s = PiperStack(); s.load()
takes = [synthesize_chunked(s, sc.text, None, s.default_params(), 1234, ChunkingOptions())
         for sc in load_dirs([standard_dir()])]
out = {"audio_s": [round(t.seconds, 2) for t in takes]}
if which == "dnsmos":
    from pytest_luxgate.listeners import dnsmos
    t0 = time.perf_counter(); dnsmos.unavailable(); out["import_s"] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter(); dnsmos.score(takes[0].audio, takes[0].sample_rate)
    out["first_clip_s"] = round(time.perf_counter() - t0, 2)
    per = []
    for t in takes:
        t0 = time.perf_counter(); dnsmos.score(t.audio, t.sample_rate); per.append(round(time.perf_counter() - t0, 3))
    out["per_clip_s"] = per
elif which == "speaker":
    from pytest_luxgate.listeners import speaker
    from pytest_luxgate.matrix.prompts import DEFAULT_FILE, load_prompts, read_prompt_audio
    prompt = read_prompt_audio(load_prompts(DEFAULT_FILE)[0])
    t0 = time.perf_counter(); speaker.unavailable(); out["import_s"] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter(); speaker._encoder(); out["load_s"] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter(); speaker.voice_match(takes[0].audio, takes[0].sample_rate, *prompt)
    out["first_match_s"] = round(time.perf_counter() - t0, 2)
    per = []
    for t in takes:
        t0 = time.perf_counter(); speaker.voice_match(t.audio, t.sample_rate, *prompt)
        per.append(round(time.perf_counter() - t0, 3))
    out["per_match_s"] = per
else:
    from pytest_luxgate.asr import get_asr
    from pytest_luxgate.metrics.pauses import pause_metrics
    asr = get_asr("base")
    per = []
    for t, sc in zip(takes, load_dirs([standard_dir()])):
        words = asr.transcribe(t.audio, t.sample_rate).words
        t0 = time.perf_counter(); pause_metrics(t.audio, t.sample_rate, words, sc.text)
        per.append(round(time.perf_counter() - t0, 4))
    out["per_clip_s"] = per
print(json.dumps(out))
"""


def child(which: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", CHILD, which], cwd=ROOT, capture_output=True, text=True, check=False,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(Path.home())})
    if proc.returncode:
        raise RuntimeError(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def gate(*k: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "pytest", "tests/gate", "-q", "-p", "no:cacheprovider",
                               f"--luxgate-output={tmp}/out", *k], cwd=ROOT, capture_output=True, text=True,
                              check=False)
        wall = time.perf_counter() - t0
        try:
            cells = json.loads(Path(tmp, "out", "report.json").read_text())["cells"]
        except OSError:
            raise RuntimeError(proc.stdout[-3000:] + proc.stderr[-3000:]) from None
    return {"wall_s": round(wall, 1), "exit": proc.returncode, "tail": proc.stdout.strip().splitlines()[-1],
            "quality_s": [c["timings"].get("quality_s") for c in cells],
            "analysis_s": round(sum(c["timings"]["analysis_s"] for c in cells), 2)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-gate", action="store_true")
    args = ap.parse_args()
    out = {"dnsmos": child("dnsmos"), "speaker": child("speaker"), "pauses": child("pauses")}
    print(json.dumps(out, indent=1), flush=True)
    if not args.skip_gate:
        out["gate_without"] = gate("-k", "not test_quality and not test_pauses and not test_voice")
        out["gate_with"] = gate()
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
