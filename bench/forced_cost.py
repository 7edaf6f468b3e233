"""What the content-word rule's second opinion costs (BENCHMARKS.md, "Forcing the text").

Times, in one process on one core (the ASR's fixed thread count), Whisper base forced to the
text (`FasterWhisperASR.force`, float32 weights) on Piper takes of about 5, 15 and 28 s and a
60 s take forced window by window (judging/forcing.forced_reference), against the free decode
of the same take. The first force includes loading the float32 copy of the model.

    PYTHONPATH=. .venv/bin/python bench/forced_cost.py [--repeat 3]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import speech_corpus as corpus  # noqa: E402

from pytest_luxgate.asr import get_asr  # noqa: E402
from pytest_luxgate.judging.forcing import forced_reference  # noqa: E402
from pytest_luxgate.metrics.text import word_error  # noqa: E402

SENTENCES = ["The museum opens at nine in the morning, Monday to Friday, and on Sundays.",
             "Please bring your passport to the airport before six.",
             "The train to Boston leaves from platform four at noon.",
             "She wrote a long letter to her grandmother about the garden."]


def take(n_sentences: int, cache: Path) -> tuple[np.ndarray, int, str]:
    texts = [SENTENCES[k % len(SENTENCES)] for k in range(n_sentences)]
    parts = [corpus.piper(t, cache, seed=1) for t in texts]
    rate = parts[0][1]
    gap = np.zeros(int(0.3 * rate), np.float32)
    audio = np.concatenate([x for a, _ in parts for x in (a, gap)])
    return audio, rate, " ".join(texts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/luxgate-forced-cost"))
    a = ap.parse_args()
    a.cache.mkdir(parents=True, exist_ok=True)
    asr = get_asr("faster-whisper:base")
    audio, rate, text = take(1, a.cache)
    asr.transcribe(audio, rate)  # the int8 model warm
    t0 = time.perf_counter()
    asr.force(audio, rate, text)
    print(f"first force (loads the float32 copy of the model): {time.perf_counter() - t0:.2f} s")
    print("| take | free decode (int8, beam 5) | forced (float32), one window or window by window | windows |")
    print("|---|---|---|---|")
    for n in (1, 3, 6, 12):
        audio, rate, text = take(n, a.cache)
        dur = len(audio) / rate
        decode, forced = [], []
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            heard = asr.transcribe(audio, rate)
            decode.append(time.perf_counter() - t0)
            w = word_error(text, heard.text)
            asked = []

            def force(x, r, s):
                asked.append(1)
                return asr.force(x, r, s)

            t0 = time.perf_counter()
            forced_reference(w, heard.words, text, audio, rate, force)
            forced.append(time.perf_counter() - t0)
        print(f"| {dur:.1f} s | {min(decode):.2f} s | {min(forced):.2f} s | {len(asked)} |")


if __name__ == "__main__":
    main()
