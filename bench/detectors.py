"""Detector throughput: everything `analyze` does except ASR, per part, in CPU seconds.

    .venv/bin/python bench/detectors.py [--repeats 5] [--json out.json]

Takes: the five standard scenarios spoken by Piper (seed 1234, 2.3-11.8 s) and one long take
(the five texts twice, 73 s; its JSON key, long_73s). Each take is transcribed once by Whisper tiny.en (not measured:
the words are an input of the edges, pauses and text metrics). Then each part runs --repeats
times per take and its best CPU time (`time.process_time`, this process, all threads) is kept:
on a shared machine the best of N CPU times is the figure that depends least on the load.
"x real time" = audio seconds / CPU seconds (higher is faster).

Parts: the Silero VAD (a listener model, run in numpy: listeners/silero.py), the
loop search, start/tail edges, level + background, pauses, the text metrics (WER, content
words, sounds-alike WER, transcript repeats), speaking rate, the seam/click scan, the checks'
own measures, and `analyze` end to end with the transcript given (= all of the above).
That a speed-up left every number as it was: bench/detectors_equal.py.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def takes() -> list[tuple[str, Any, int, str]]:
    from pytest_luxgate.matrix.scenarios import load_dirs, standard_dir
    from pytest_luxgate.stacks.piper import PiperStack

    stack = PiperStack()
    stack.load()
    texts = {sc.id: sc.text for sc in load_dirs([standard_dir()])}
    texts["long_73s"] = " ".join(list(texts.values()) * 2)
    out = []
    for sid, text in texts.items():
        s = stack.synthesize(text, None, stack.default_params(), seed=1234)
        out.append((sid, s.audio, s.sample_rate, text))
    return out


def _best_cpu(fn: Callable[[], Any], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


def bench(all_takes: list, repeats: int = 5) -> dict:
    from pytest_luxgate.asr import get_asr
    from pytest_luxgate.judging.analysis import analyze
    from pytest_luxgate.judging.checks import CHECKS
    from pytest_luxgate.listeners.aligner import text_span
    from pytest_luxgate.listeners.vad import speech_segments
    from pytest_luxgate.metrics.content_words import (
        content_word_errors,
        hyp_probabilities,
        rare_words,
        sounds_alike_wer,
    )
    from pytest_luxgate.metrics.edges import edge_metrics
    from pytest_luxgate.metrics.level import background_dbfs, level_metrics
    from pytest_luxgate.metrics.loops import audio_loops
    from pytest_luxgate.metrics.pauses import pause_metrics
    from pytest_luxgate.metrics.rate import speaking_rate
    from pytest_luxgate.metrics.seams import seam_metrics
    from pytest_luxgate.metrics.text import repeat_metrics, word_error

    asr = get_asr("faster-whisper:tiny.en")
    per_take: dict[str, dict[str, float]] = {}
    for sid, a, sr, text in all_takes:
        tr = asr.transcribe(a, sr)
        words = tr.words
        seg = speech_segments(a, sr)
        ev = analyze(a, sr, text, "x", seams=[], transcriber=lambda *_: tr)  # warm-up (wordfreq, VAD model)

        def text_metrics() -> None:
            wer = word_error(text, tr.text)
            content_word_errors(wer, hyp_probabilities(wer.hyp_words, [(w.text, w.probability) for w in words]),
                                rare=rare_words(text))
            sounds_alike_wer(wer)
            repeat_metrics(text, tr.text, wer=wer)  # as analyze calls it

        def measures() -> None:
            for row in CHECKS.values():
                if row.measure is not None:
                    row.measure(ev, a, sr)

        parts = {
            "vad": lambda: speech_segments(a, sr),
            "loops": lambda: audio_loops(a, sr),
            "edges": lambda: edge_metrics(a, sr, seg, words, expected_text=text),
            "level": lambda: (level_metrics(a, sr), background_dbfs(a, sr, seg)),
            "pauses": lambda: pause_metrics(a, sr, words, text, room_dbfs=background_dbfs(a, sr, seg)),
            "text": text_metrics,
            "rate": lambda: speaking_rate(text, seg),
            "seams": lambda: seam_metrics(a, sr, []),
            # the text's forced alignment (CMU Sphinx): a recogniser's pass, inside analyze
            "align": lambda: text_span(a, sr, text),
            "measures": measures,
            "analyze": lambda: analyze(a, sr, text, "x", seams=[], transcriber=lambda *_: tr),
        }
        per_take[sid] = {"audio_s": len(a) / sr, **{k: _best_cpu(fn, repeats) for k, fn in parts.items()}}
    return summarize(per_take)


def summarize(per_take: dict[str, dict[str, float]]) -> dict:
    def xrt(rows: list[dict[str, float]], key: str) -> float:
        return round(sum(r["audio_s"] for r in rows) / max(sum(r[key] for r in rows), 1e-9), 1)

    # the long take by its key: "long_paragraph" is one of the five scenarios (until 2026-12-05
    # it was counted with the long take: "five scenarios" were four, 24.8 s, and "the 85 s take"
    # was long_paragraph + the long take)
    short = [r for k, r in per_take.items() if k != "long_73s"]
    long = [r for k, r in per_take.items() if k == "long_73s"]
    keys = [k for k in next(iter(per_take.values())) if k != "audio_s"]
    out: dict[str, Any] = {}
    for name, rows in (("five_scenarios", short), ("long_73s", long)):
        if not rows:
            continue
        no_vad = [{**r, "no_vad": r["analyze"] - r["vad"]} for r in rows]
        out[name] = {"audio_s": round(sum(r["audio_s"] for r in rows), 1),
                     "analyze_x_real_time": xrt(rows, "analyze"),
                     "analyze_without_vad_x_real_time": xrt(no_vad, "no_vad"),
                     "cpu_s": {k: round(sum(r[k] for r in rows), 4) for k in keys},
                     "x_real_time": {k: xrt(rows, k) for k in keys}}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--blas-threads", choices=("gate", "default"), default="gate",
                    help="gate: numpy's BLAS on one thread, as every luxgate process has it "
                         "(core/threads.py); default: what numpy picks")
    a = ap.parse_args()
    if a.blas_threads == "gate":
        from pytest_luxgate.core.threads import pin_blas_threads

        pin_blas_threads()
    res = bench(takes(), a.repeats)
    res["blas_threads"] = a.blas_threads
    text = json.dumps(res, indent=2)
    if a.json:
        a.json.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
