"""A probe, not a detector of the gate: voicing where the text's edge phone is voiceless.

Speech-like garbage (reversed speech, speech-shaped noise) glued to a word is the glued-noise
fault the edge rules catch least (docs/CALIBRATION.md). One principle that needs no threshold
on loudness or spectrum: a word whose first phone is a voiceless obstruent (/p t k f th s sh
ch/) cannot begin with voicing, and one whose last phone is one cannot end with it. So a
voiced run (glued.VOICED_MIN_RUN periodic frames over VOICED_LEVEL_DB) that lies before the
first phone's aligned start (a phone-level pass of the same CMU Sphinx alignment) and is
followed by at least --unvoiced unvoiced frames is sound the text does not have; mirrored
after the last phone. /h/ is left out: speakers voice it (a human "he" of the held set).

For each row of `calibrate_glued_noise.py`'s set (the same clips and bursts, Whisper words
cached) this prints the catches of today's start/tail verdicts and of those verdicts OR the
probe, and every clean take the probe flags, with what Whisper heard in it:

    .venv/bin/python bench/probe_voiceless_edges.py --set held --n 24 --seed 89
    .venv/bin/python bench/probe_voiceless_edges.py --set kokoro --n 30 --seed 83
"""
from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import calibrate_glued_noise as G  # noqa: E402  (puts the repo and tests/ on sys.path)

from pytest_luxgate.core.audio import to_16k  # noqa: E402
from pytest_luxgate.listeners import aligner as A  # noqa: E402
from pytest_luxgate.listeners.vad import speech_segments  # noqa: E402
from pytest_luxgate.metrics import glued  # noqa: E402
from pytest_luxgate.metrics.level import speech_level_db, true_runs  # noqa: E402

VOICELESS = frozenset({"P", "T", "K", "F", "TH", "S", "SH", "CH"})
SEARCH_S = 0.4  # how far before the first phone (after the last) voicing is looked for


def edge_phones(audio: np.ndarray, sr: int, text: str) -> tuple[tuple[str, float, float], ...] | None:
    """(phone, start, end) of the text's first and last phones: the aligner's word pass, then
    pocketsphinx's phone pass (set_alignment) on the same decoder."""
    pcm = A.to_pcm16(to_16k(audio, sr))
    with A._ALIGNER._lock:
        for wide in (False, True):
            d = A._ALIGNER._decoder(wide)
            words = A._ALIGNER.words(d, text)
            try:
                d.set_align_text(" ".join(words))
                _decode(d, pcm)
                if d.hyp() is None:
                    continue
                d.set_alignment()  # the phone pass, on the word pass's result
                _decode(d, pcm)
                spoken = [[(p.name, p.start, p.duration) for p in w] for w in d.get_alignment()
                          if w.name not in A.FILLERS]
                d.set_align_text(" ".join(words))  # the decoder back in the word search the gate uses
            except RuntimeError:
                A._ALIGNER._decoders.pop(wide, None)
                continue
            if not spoken:
                return None
            return tuple((name, start * A.FRAME_S, (start + n) * A.FRAME_S)
                         for name, start, n in (spoken[0][0], spoken[-1][-1]))
    return None


def _decode(d: Any, pcm: bytes) -> None:
    d.reinit_feat()
    d.start_utt()
    d.process_raw(pcm, full_utt=True)
    d.end_utt()


def voiced_runs(x: np.ndarray, sr: int, level_db: float, a: float, b: float) -> list[tuple[float, float, int, int]]:
    """(start, end, unvoiced frames before, unvoiced frames after) of each voiced run in [a, b]."""
    fr = glued._Frames(x, sr, level_db, a, b)
    if fr.n == 0:
        return []
    v = fr.voiced(0, fr.n, min_run=glued.VOICED_MIN_RUN)
    out = []
    for s, e in true_runs(v):
        if e - s < glued.VOICED_MIN_RUN:
            continue
        before, after = ~v[:s][::-1], ~v[e:]
        out.append((float(fr.t[s]), float(fr.t[e - 1] + glued.FRAME_S),
                    int(np.argmin(before)) if (~before).any() else len(before),
                    int(np.argmin(after)) if (~after).any() else len(after)))
    return out


def probe(audio: np.ndarray, sr: int, text: str, unvoiced: int, min_s: float) -> dict[str, bool]:
    phones = edge_phones(audio, sr, text)
    if phones is None:
        return {"probe_start": False, "probe_tail": False}
    level = speech_level_db(audio, sr, speech_segments(audio, sr))
    (p0, s0, e0), (p1, s1, e1) = phones
    start = p0 in VOICELESS and any(
        a <= s0 and after >= unvoiced and b - a >= min_s
        for a, b, _, after in voiced_runs(audio, sr, level, max(0.0, s0 - SEARCH_S), e0))
    tail = p1 in VOICELESS and any(
        b >= e1 and before >= unvoiced and b - a >= min_s
        for a, b, before, _ in voiced_runs(audio, sr, level, s1, min(len(audio) / sr, e1 + SEARCH_S)))
    return {"probe_start": bool(start), "probe_tail": bool(tail), "phones": phones}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", choices=tuple(G.SETS), default="held")
    ap.add_argument("--n", type=int, default=24)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/luxgate-calibration"))
    ap.add_argument("--unvoiced", type=int, default=5, help="unvoiced frames between the run and the word")
    ap.add_argument("--min-s", type=float, default=0.07, help="shortest voiced run counted (s)")
    args = ap.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)

    def measure(audio: np.ndarray, sr: int, text: str, asr: Any, room: float | None) -> dict[str, Any]:
        return {**G.verdicts(audio, sr, text, asr, room), **probe(audio, sr, text, args.unvoiced, args.min_s)}

    rows = G.run(args.set, args.n, args.cache, args.seed, measure=measure)
    caught = collections.defaultdict(lambda: [0, 0, 0])
    for r in rows:
        if r["fault"] == "clean":
            for side in ("start", "tail"):
                if r[f"probe_{side}"]:
                    print(f"clean {side} flagged: {r['clip']} phones {r.get('phones')} heard {r['words']!r}"
                          f" (fails today: {r[f'{side}_fail']})")
            continue
        if r["glue"] != "glued":
            continue
        side = "start" if r["side"] == "lead" else "tail"
        kind = "speech-like" if r["fault"] in ("speech_shaped", "reversed_speech") else "broadband"
        c = caught[(kind, side)]
        c[0] += r[f"{side}_fail"]
        c[1] += r[f"{side}_fail"] or r[f"probe_{side}"]
        c[2] += 1
    for (kind, side), (today, both, n) in sorted(caught.items()):
        print(f"{kind} glued, {side}: today {today}/{n}, with the probe {both}/{n}")


if __name__ == "__main__":
    main()
