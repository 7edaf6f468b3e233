"""LuxTTS stacks on the tiny random checkpoint: import, load and synthesis cost.

    .venv/bin/python bench/luxtts.py [--takes 3]

Each stack runs in a fresh process (so the import is cold): import time of
the stack's LuxTTS modules (torch, mlx, zipvoice, transformers...), load time
(weights -> model), prompt encoding, and synthesis RTF (seconds of compute per
second of 48 kHz audio) for a 31-character text, mean of N takes after one
warm-up take. The tiny model's numbers are a floor for the code around the
model (tokenizer, feature extraction, vocoder overhead), not LuxTTS speed.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r'''
import json, sys, time
t0 = time.perf_counter()
from pytest_luxgate.stacks.base import set_stack_options
from pytest_luxgate.stacks.luxtts.stacks import LuxTTSMLXStack, LuxTTSTorchStack, DEFAULT_PARAMS
from pytest_luxgate.stacks.luxtts.runtime import import_luxtts
from pytest_luxgate.matrix.prompts import load_prompts, read_prompt_audio
name, path, takes = sys.argv[1], sys.argv[2], int(sys.argv[3])
mods = {"mlx": ("mlx.core", "zipvoice.luxvoice", "zipvoice.mlx.modeling_utils"),
        "torch": ("torch", "zipvoice.modeling_utils", "zipvoice.luxvoice")}[name]
t1 = time.perf_counter(); import_luxtts(*mods); import_s = time.perf_counter() - t1
set_stack_options({"luxtts_path": path, "luxtts_device": "cpu"})
stack = {"mlx": LuxTTSMLXStack, "torch": LuxTTSTorchStack}[name]()
t1 = time.perf_counter(); stack.load(); load_s = time.perf_counter() - t1
p = load_prompts()[0]; wav, rate = read_prompt_audio(p)
t1 = time.perf_counter(); enc = stack.encode_prompt(wav, rate, p.text, dict(DEFAULT_PARAMS)); enc_s = time.perf_counter() - t1
text = "Quick quality check for LuxTTS."
stack.synthesize(text, enc, dict(DEFAULT_PARAMS), 0)
secs, audio = 0.0, 0.0
for i in range(takes):
    t1 = time.perf_counter(); out = stack.synthesize(text, enc, dict(DEFAULT_PARAMS), i + 1); secs += time.perf_counter() - t1
    audio += out.audio.size / out.sample_rate
print(json.dumps({"import_s": round(import_s, 2), "load_s": round(load_s, 2), "encode_prompt_s": round(enc_s, 3),
                  "synth_s_per_take": round(secs / takes, 3), "audio_s_per_take": round(audio / takes, 3),
                  "rtf": round(secs / audio, 3)}))
'''


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--takes", type=int, default=3)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from pytest_luxgate.stacks.luxtts.tiny import build_tiny_checkpoint

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = build_tiny_checkpoint(Path(tmp) / "tiny")
        for name in ("mlx", "torch"):
            out = subprocess.run([sys.executable, "-c", CHILD, name, str(path), str(args.takes)], cwd=ROOT,
                                 capture_output=True, text=True, check=True).stdout
            results[name] = json.loads(out.strip().splitlines()[-1])
    print("| stack | import (s) | load (s) | encode prompt (s) | synth per take (s) | audio per take (s) | RTF |")
    print("|---|---|---|---|---|---|---|")
    for name, r in results.items():
        print(f"| {name} | {r['import_s']} | {r['load_s']} | {r['encode_prompt_s']} | {r['synth_s_per_take']} "
              f"| {r['audio_s_per_take']} | {r['rtf']} |")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
