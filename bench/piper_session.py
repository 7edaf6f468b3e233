"""Piper: what the fresh ONNX Runtime session per take costs, and whether a reused one keeps the audio.

    .venv/bin/python bench/piper_session.py [--repeats 3]

For the five standard scenarios (seed 1234): the best-of-N wall and CPU seconds of a whole
`PiperStack.synthesize` and of building the session alone (what synthesize does first), and
whether a session reused across two takes of one seed gives the same audio (it does not:
ONNX Runtime seeds each random kernel once, at session creation).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _best(fn, repeats: int) -> tuple[float, float]:
    wall = cpu = float("inf")
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        fn()
        wall, cpu = min(wall, time.perf_counter() - w), min(cpu, time.process_time() - c)
    return wall, cpu


def main() -> None:
    import onnxruntime as ort
    from piper import SynthesisConfig

    from pytest_luxgate.matrix.scenarios import load_dirs, standard_dir
    from pytest_luxgate.stacks.piper import PiperStack

    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    stack = PiperStack()
    stack.load()
    p = stack.default_params()
    stack.synthesize("Warm up.", None, p, 1)
    model = stack._model_bytes

    def session() -> object:
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        return ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])

    rows = {}
    audio_s = 0.0
    for sc in load_dirs([standard_dir()]):
        take = stack.synthesize(sc.text, None, p, 1234).audio
        audio_s += len(take) / 22050
        rows[sc.id] = {"synth": _best(lambda: stack.synthesize(sc.text, None, p, 1234), a.repeats),
                       "session": _best(session, a.repeats)}
    # a reused session: the second take of seed 1234 is not the first
    cfg = SynthesisConfig(length_scale=p["length_scale"], noise_scale=p["noise_scale"],
                          noise_w_scale=p["noise_w_scale"], volume=p["volume"])
    text = load_dirs([standard_dir()])[0].text
    ort.set_seed(1234)
    stack._voice.session = session()
    once = np.concatenate([c.audio_float_array for c in stack._voice.synthesize(text, cfg)])
    again = np.concatenate([c.audio_float_array for c in stack._voice.synthesize(text, cfg)])
    synth = sum(r["synth"][0] for r in rows.values())
    sess = sum(r["session"][0] for r in rows.values())
    out = {"audio_s": round(audio_s, 1),
           "synthesize_wall_s": round(synth, 3), "synthesize_cpu_s": round(sum(r["synth"][1] for r in rows.values()), 3),
           "session_wall_s": round(sess, 3), "session_cpu_s": round(sum(r["session"][1] for r in rows.values()), 3),
           "session_share_of_synthesis": round(sess / synth, 3),
           "rtf_with_fresh_session": round(synth / audio_s, 3), "rtf_without": round((synth - sess) / audio_s, 3),
           "reused_session_same_audio": bool(np.array_equal(once, again)),
           "reused_session_samples_differing": int(np.sum(once[: min(len(once), len(again))]
                                                          != again[: min(len(once), len(again))]))}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
