"""Which bundled Whisper is the default? WER and speed on varied clean speech.

Clips: the five standard scenario texts spoken by Piper (3 seeds, default
length scale and 0.85/1.2) and by espeak-ng (two voices): clean speech, so
every word error here is the ASR's, and a gate would report it as a TTS
failure. Run: .venv/bin/python bench/asr_choice.py
"""
from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pytest_luxgate.asr import get_asr  # noqa: E402
from pytest_luxgate.core.audio import read_wav  # noqa: E402
from pytest_luxgate.metrics.text import word_error  # noqa: E402
from pytest_luxgate.matrix.scenarios import load_dirs, standard_dir  # noqa: E402
from pytest_luxgate.stacks.piper import PiperStack  # noqa: E402


def clips() -> list[tuple[str, object, int, str]]:
    stack = PiperStack()
    stack.load()
    out = []
    for sc in load_dirs([standard_dir()]):
        for seed, ls in ((1, 1.0), (2, 1.0), (3, 1.0), (4, 0.85), (5, 1.2)):
            p = dict(stack.default_params(), length_scale=ls)
            s = stack.synthesize(sc.text, None, p, seed)
            out.append((f"piper/{sc.id}/s{seed}/ls{ls}", s.audio, s.sample_rate, sc.text))
        for voice in ("en-us+m3", "en-gb+f2"):
            with tempfile.TemporaryDirectory() as tmp:
                wav = Path(tmp) / "e.wav"
                subprocess.run(["espeak-ng", "-v", voice, "-s", "160", "-w", str(wav), sc.text], check=True)
                a, sr = read_wav(wav)
            out.append((f"espeak/{sc.id}/{voice}", a, sr, sc.text))
    return out


def main() -> None:
    data = clips()
    audio_s = sum(len(a) / sr for _, a, sr, _ in data)
    result = {"clips": len(data), "audio_s": round(audio_s, 1)}
    for spec in ("faster-whisper:tiny.en", "faster-whisper:base"):
        asr = get_asr(spec)
        asr.transcribe(data[0][1], data[0][2])
        t0 = time.perf_counter()
        wers = {name: word_error(text, asr.transcribe(a, sr).text).wer for name, a, sr, text in data}
        rtf = (time.perf_counter() - t0) / audio_s
        by_engine = {e: round(statistics.mean(v for k, v in wers.items() if k.startswith(e)), 3)
                     for e in ("piper", "espeak")}
        result[spec] = {"rtf": round(rtf, 3), "mean_wer": round(statistics.mean(wers.values()), 3),
                        "mean_wer_by_engine": by_engine,
                        "clips_over_0.2": sum(v > 0.2 for v in wers.values()),
                        "worst": sorted(wers.items(), key=lambda kv: -kv[1])[:4]}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
