"""Calibrate the seam detector on real speech: clean joins vs injected faults.

    .venv/bin/python bench/calibrate_seams.py [--quick] [--json FILE] [--cache DIR]

Speech comes from two unrelated synthesisers so the limits do not fit one
voice: Piper (en_US-joe-medium, 22.05 kHz) at several length/noise scales and
seeds, and espeak-ng with male, female and British voices at several speeds
(Piper normalises every pass to its peak, espeak-ng does not: both kinds of
chunk loudness a stack may have). Each
text is chunked by `split_text` (at 60 and 100 characters, for more joins),
each chunk synthesized on its own and the chunks joined by `join` (the gate's
own path). Per join it records the seam metrics of:

- clean: the join as the gate makes it;
- natural: the pauses inside the same text spoken in one pass (not joins at
  all: how much loudness and timbre vary across a pause in ordinary speech);
- click: the clean join plus a 3-sample impulse (peak 0.05-0.5 x the take's
  peak) within +-10 ms of the seam;
- hard_cut: the two chunks cut at a random point inside voiced speech (the
  last loud, low-frequency 20 ms frame of the first chunk, the first of the
  second) and butted together, no fade;
- level_up / level_down: the second chunk 6 dB louder / quieter, joined properly;
- muffled: the second chunk low-passed at 3 kHz (a vocoder/voice change), joined properly.

and for the whole-file click scan (`luxgate check` without --seams):

- scan_clean: the loudest transient of each one-pass take;
- scan_click: the same take with a 3-sample impulse (0.05-0.5 x peak) in the
  middle of a voiced frame or in a pause.

It prints distributions per metric and the detection rate at the limits in
pytest_luxgate/metrics/seams.py; docs/SEAMS.md holds a run's figures. Audio is
cached under --cache (default ~/.cache/luxgate/seams-corpus), so reruns that
only change the detector take seconds.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pytest_luxgate.speech.chunking import split_text  # noqa: E402
from pytest_luxgate.speech.joining import DEFAULT_CROSSFADE_S, join, pause_after, sound_bounds  # noqa: E402
from pytest_luxgate.metrics.level import db, window_rms  # noqa: E402
from pytest_luxgate.metrics import seams as S  # noqa: E402
from pytest_luxgate.metrics.seams import DEFAULTS, click_scan, seam_metrics  # noqa: E402

TEXTS = [
    "Today we are running a longer paragraph to evaluate whether the voice stays consistent from "
    "beginning to end, whether pauses feel natural, and whether final words remain intelligible "
    "without robotic trailing artifacts.",
    "Order number 8472 ships on March twenty first, two thousand twenty six at five thirty p.m., "
    "total one hundred twenty nine dollars and ninety five cents.",
    "The morning train was late, so we walked along the river and talked about the weekend. "
    "By noon the rain had stopped; the streets were bright again, and the market was full of people.",
    "Dr. Evans measured the sample twice: once at 9.5 degrees and once at room temperature. "
    "The results, she said, were surprising. Nobody expected the colder sample to grow faster.",
    "Please keep your ticket until the end of the journey. Inspectors may ask to see it at any time, "
    "and passengers without a valid ticket will be charged the full fare plus a penalty.",
    "She sells sea shells by the sea shore, and the shells she sells are surely sea shells. "
    "Fresh fish, crisp chips, and six thick thistle sticks were sold at the stall next door.",
]
PIPER = [  # (length_scale, noise_scale, noise_w_scale, seed)
    (1.0, 0.667, 0.8, 1), (0.8, 0.667, 0.8, 2), (1.25, 0.667, 0.8, 3),
    (1.0, 0.333, 0.6, 4), (1.0, 1.0, 1.0, 5), (1.1, 0.8, 0.9, 6),
]
ESPEAK = [("en-us+m3", 160), ("en-us+f3", 175), ("en-gb+m1", 150), ("en-us+m7", 190), ("en-us+f4", 140)]
CLICK_FRACS = (0.05, 0.1, 0.2, 0.5)
FAULTS = ("click", "hard_cut", "level_up", "level_down", "muffled")
METRICS = ("click_db", "level_jump_db", "spectral_jump_db")
LIMIT = {"click_db": "seam_click_db", "level_jump_db": "seam_level_jump_db",
         "spectral_jump_db": "seam_spectral_jump_db"}
CACHE = Path.home() / ".cache" / "luxgate" / "seams-corpus"


def cached(speak, engine: str, text: str, cfg: tuple, cache: Path) -> tuple[np.ndarray, int]:
    key = hashlib.sha256(json.dumps([engine, text, list(cfg)]).encode()).hexdigest()[:20]
    path = cache / f"{key}.wav"
    if path.exists():
        audio, rate = sf.read(str(path), dtype="float32")
        return audio, rate
    audio, rate = speak(text, cfg)
    cache.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), audio, rate, subtype="FLOAT")
    return audio, rate


# ---------------------------------------------------------------- voices

class Piper:
    def __init__(self) -> None:
        self.stack = None

    def __call__(self, text: str, cfg: tuple) -> tuple[np.ndarray, int]:
        if self.stack is None:  # loaded on first use: a cached corpus needs no model
            from pytest_luxgate.stacks.piper import PiperStack

            self.stack = PiperStack()
            self.stack.load()
            self.base = self.stack.default_params()
        ls, ns, nw, seed = cfg
        out = self.stack.synthesize(text, None, dict(self.base, length_scale=ls, noise_scale=ns,
                                                     noise_w_scale=nw), seed)
        return out.audio, out.sample_rate


def espeak(text: str, cfg: tuple) -> tuple[np.ndarray, int]:
    voice, speed = cfg
    with tempfile.TemporaryDirectory() as d:
        wav = Path(d) / "out.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(wav), text],
                       check=True, capture_output=True)
        audio, rate = sf.read(str(wav), dtype="float32")
    return audio, rate  # espeak-ng's own, fixed gain: chunks are not normalised one by one


# ---------------------------------------------------------------- faults

def voiced_frames(x: np.ndarray, rate: int) -> np.ndarray:
    """Start samples of 20 ms frames within 10 dB of the loud level whose energy is
    80 % or more below 1 kHz: vowels and nasals, not fricatives or bursts."""
    n = int(0.02 * rate)
    t, rms = window_rms(x, rate, 0.02, 0.01)
    lv = db(rms)
    f = np.fft.rfftfreq(n, 1.0 / rate)
    out = []
    for k in np.nonzero(lv >= np.percentile(lv, 95) - 10)[0]:
        s = int(t[k] * rate)
        if s + n > len(x):
            continue
        p = np.abs(np.fft.rfft(x[s:s + n] * np.hanning(n))) ** 2
        if p[f < 1000].sum() >= 0.8 * p.sum():
            out.append(s)
    return np.array(out, dtype=int)


def hard_cut(a: np.ndarray, b: np.ndarray, rate: int,
             rng: np.random.Generator) -> tuple[np.ndarray, float, float]:
    """A cut at a random point of the last voiced frame of `a`, butted to one in the first of `b`;
    also the sample jump at the cut re the RMS of the 20 ms before it."""
    n = int(0.02 * rate)
    cut_a = int(voiced_frames(a, rate)[-1] + rng.integers(0, n))
    cut_b = int(voiced_frames(b, rate)[0] + rng.integers(0, n))
    local = float(np.sqrt(np.mean(a[cut_a - n: cut_a] ** 2)))
    return np.concatenate([a[:cut_a], b[cut_b:]]), cut_a / rate, abs(float(b[cut_b] - a[cut_a - 1])) / local


def click(x: np.ndarray, at: int, frac: float) -> np.ndarray:
    """A 3-sample impulse (a DAC/edit click) of peak frac x the take's peak."""
    y = x.copy()
    y[at: at + 3] += np.float32(frac * float(np.abs(x).max())) * np.array([1.0, -0.7, 0.4], np.float32)
    return y


def lowpass(x: np.ndarray, rate: int, hz: float = 3000.0) -> np.ndarray:
    spec = np.fft.rfft(x)
    f = np.fft.rfftfreq(len(x), 1.0 / rate)
    spec[f > hz] *= 10 ** (-40 / 20)
    return np.fft.irfft(spec, n=len(x)).astype(np.float32)


def pair_faults(chunks: list[np.ndarray], texts: list[str], i: int, rate: int,
                rng: np.random.Generator) -> dict[str, list[tuple[np.ndarray, list[float], int]]]:
    """Each fault applied to the join between chunk i and i+1, all other joins clean:
    (audio, every seam of it, index of the spoiled seam, extra fields for its row)."""
    pauses = [pause_after(t) for t in texts[:-1]]

    def joined(swap: np.ndarray | None = None) -> tuple[np.ndarray, list[float]]:
        parts = list(chunks)
        if swap is not None:
            parts[i + 1] = swap
        return join(parts, rate, crossfade_s=DEFAULT_CROSSFADE_S, pauses_s=pauses)

    out: dict[str, list[tuple[np.ndarray, list[float], int, dict]]] = {f: [] for f in FAULTS}
    clean, seams = joined()
    for frac in CLICK_FRACS:
        at = int((seams[i] + rng.uniform(-0.01, 0.01)) * rate)
        out["click"].append((click(clean, at, frac), seams, i, {"click_frac": frac}))
    # hard cut: the two chunks of this join only, so the other joins do not count
    for _ in range(3):
        y, t, ratio = hard_cut(chunks[i], chunks[i + 1], rate, rng)
        out["hard_cut"].append((y, [t], 0, {"jump_ratio": round(ratio, 3)}))
    for name, gain in (("level_up", 6.0), ("level_down", -6.0)):
        y, s = joined(chunks[i + 1] * np.float32(10 ** (gain / 20)))
        out[name].append((y, s, i, study(y, rate, s, i)))
    y, s = joined(lowpass(chunks[i + 1], rate))
    out["muffled"].append((y, s, i, study(y, rate, s, i)))
    return out


def natural_pauses(x: np.ndarray, rate: int, min_gap_s: float = 0.15) -> list[float]:
    """Centres of the pauses (>= min_gap_s below -40 dB re the loud level) inside one-pass speech."""
    t, rms = window_rms(x, rate, 0.01, 0.005)
    lv = db(rms)
    quiet = lv < np.percentile(lv, 95) - 40
    first, last = sound_bounds(x, rate)
    out, start = [], None
    for k, q in enumerate(quiet):
        if q and start is None:
            start = k
        elif not q and start is not None:
            a, b = t[start], t[k - 1] + 0.01
            if b - a >= min_gap_s and a > first / rate and b < last / rate:
                out.append((a + b) / 2)
            start = None
    return out


# ---------------------------------------------------------------- design study

STUDY_SPANS = (0.3, 0.6, 1.0)


def study(x: np.ndarray, rate: int, seams: list[float], i: int) -> dict:
    """The alternatives the detector's design rejected, at seam i: the level jump when each side
    is only the nearest 0.3/0.6/1.0 s of active speech, and the spectral jump over all frames."""
    ft, fd = S._frames(x, rate)
    bounds = [0.0, *sorted(seams), len(x) / rate]
    sides = []
    for a, b in ((bounds[i], bounds[i + 1]), (bounds[i + 1], bounds[i + 2])):
        idx = np.nonzero((ft >= a) & (ft + S.FRAME_S <= b))[0]
        if not idx.size:
            return {}
        sides.append(idx[fd[idx] >= np.percentile(fd[idx], 95) + S.ACTIVE_DB])
    out: dict = {}
    hop = S.FRAME_S / 2
    for span in STUDY_SPANS:
        k = int(round(span / hop))
        before, after = sides[0][-k:], sides[1][:k]
        if len(before) * hop >= S.MIN_ACTIVE_S and len(after) * hop >= S.MIN_ACTIVE_S:
            out[f"level_{span:g}s"] = round(float(_power_db(fd[after]) - _power_db(fd[before])), 2)
    n = int(round(S.FRAME_S * rate))
    spectra = []
    for idx in sides:
        starts = np.round(ft[idx] * rate).astype(int)
        starts = starts[starts + n <= len(x)]
        p = np.mean(np.abs(np.fft.rfft(x[starts[:, None] + np.arange(n)] * np.hanning(n), axis=1)) ** 2, axis=0)
        bands = 10 * np.log10(S._mel_matrix(n, rate) @ p + 1e-20)
        spectra.append(bands - bands.mean())
    out["spectral_all_frames"] = round(float(np.sqrt(np.mean((spectra[1] - spectra[0]) ** 2))), 2)
    return out


def _power_db(frames_db: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(10 ** (frames_db / 10))))


# ---------------------------------------------------------------- run

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="2 texts, 2 Piper and 2 espeak settings")
    ap.add_argument("--json", type=Path, default=None, help="write every measured value here")
    ap.add_argument("--cache", type=Path, default=CACHE, help="synthesized audio cache")
    args = ap.parse_args()
    texts = TEXTS[:2] if args.quick else TEXTS
    piper = Piper()
    voices = [("piper", piper, cfg) for cfg in (PIPER[:2] if args.quick else PIPER)]
    voices += [("espeak", espeak, cfg) for cfg in (ESPEAK[:2] if args.quick else ESPEAK)]
    rng = np.random.default_rng(0)
    rows: list[dict] = []
    t0 = time.perf_counter()
    for engine, speak, cfg in voices:
        def say(text: str) -> tuple[np.ndarray, int]:
            return cached(speak, engine, text, cfg, args.cache)

        for ti, text in enumerate(texts):
            whole, rate = say(text)
            rows += _scan_rows(engine, cfg, ti, whole, rate, rng)
            pauses = natural_pauses(whole, rate)
            if pauses:
                for s in seam_metrics(whole, rate, pauses).seams:
                    rows.append({"kind": "natural", "engine": engine, "cfg": str(cfg), "text": ti,
                                 "max_chars": 0, **{k: getattr(s, k) for k in METRICS},
                                 **study(whole, rate, pauses, s.index)})
            for max_chars in (60, 100):
                chunk_texts = split_text(text, max_chars)
                if len(chunk_texts) < 2:
                    continue
                chunks = [say(c)[0] for c in chunk_texts]
                audio, seams = join(chunks, rate, pauses_s=[pause_after(c) for c in chunk_texts[:-1]])
                m = seam_metrics(audio, rate, seams)
                for s in m.seams:
                    rows.append({"kind": "clean", "engine": engine, "cfg": str(cfg), "text": ti,
                                 "max_chars": max_chars, **{k: getattr(s, k) for k in METRICS},
                                 **study(audio, rate, seams, s.index)})
                for i in range(len(chunks) - 1):
                    for fault, takes in pair_faults(chunks, chunk_texts, i, rate, rng).items():
                        for y, s, k, extra in takes:
                            rows.append({**_row(fault, engine, cfg, ti, max_chars, y, rate, s, k), **extra})
        print(f"{engine} {cfg}: {len(rows)} rows, {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    print(render(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


def _scan_rows(engine: str, cfg: tuple, ti: int, x: np.ndarray, rate: int,
               rng: np.random.Generator) -> list[dict]:
    base = {"engine": engine, "cfg": str(cfg), "text": ti}
    rows = [{"kind": "scan_clean", **base, "scan_db": max((d for _, d in click_scan(x, rate)), default=0.0)}]
    voiced = voiced_frames(x, rate)
    pauses = natural_pauses(x, rate)
    for where, at_s in (("voiced", voiced[len(voiced) // 2] / rate + rng.uniform(0, 0.02)),
                        ("pause", pauses[0] if pauses else None)):
        if at_s is None:
            continue
        for frac in CLICK_FRACS:
            hits = [d for t, d in click_scan(click(x, int(at_s * rate), frac), rate) if abs(t - at_s) <= 0.003]
            rows.append({"kind": "scan_click", **base, "where": where, "click_frac": frac,
                         "scan_db": max(hits, default=0.0)})
    return rows


def _row(kind: str, engine: str, cfg: tuple, ti: int, max_chars: int, y: np.ndarray, rate: int,
         seams: list[float], k: int) -> dict:
    s = seam_metrics(y, rate, seams).seams[k]
    return {"kind": kind, "engine": engine, "cfg": str(cfg), "text": ti, "max_chars": max_chars,
            **{k: getattr(s, k) for k in METRICS}}


def _stats(values: list[float]) -> str:
    v = np.array(values, dtype=float)
    if v.size == 0:
        return "n=0"
    return (f"n={v.size} min {v.min():.1f} p5 {np.percentile(v, 5):.1f} med {np.median(v):.1f} "
            f"p95 {np.percentile(v, 95):.1f} max {v.max():.1f}")


def _groups(rows: list[dict], kind: str) -> list[tuple[str, list[dict]]]:
    sel = [r for r in rows if r["kind"] == kind]
    if kind in ("click", "scan_click"):
        keys = sorted({(r.get("where", ""), r["click_frac"]) for r in sel})
        return [(f"{kind} {w} x{f:g}".replace("  ", " "),
                 [r for r in sel if (r.get("where", ""), r["click_frac"]) == (w, f)]) for w, f in keys]
    return [(kind, sel)]


def _lines(rows: list[dict], kinds: list[str], metric: str, limit: float) -> list[str]:
    lines = []
    for kind in kinds:
        for name, sel in _groups(rows, kind):
            vals = [abs(r[metric]) for r in sel if r.get(metric) is not None]
            for engine in ("piper", "espeak"):
                ev = [abs(r[metric]) for r in sel if r.get(metric) is not None and r["engine"] == engine]
                lines.append(f"  {name:<22} {engine:<7} {_stats(ev)}")
            lines.append(f"  {name:<22} {'all':<7} {_stats(vals)}  over limit: {sum(v > limit for v in vals)}"
                         f"/{len(vals)}")
    return lines


def render(rows: list[dict]) -> str:
    lines = []
    for metric in METRICS:
        limit = DEFAULTS[LIMIT[metric]]
        lines.append(f"\n## {metric} at seams (limit {limit:g}; absolute values)")
        lines += _lines(rows, ["clean", "natural", *FAULTS], metric, limit)
    limit = DEFAULTS["click_scan_db"]
    lines.append(f"\n## whole-file click scan (limit {limit:g})")
    lines += _lines(rows, ["scan_clean", "scan_click"], "scan_db", limit)
    lines.append("\n## design study (rejected alternatives; absolute values)")
    for field in [*(f"level_{s:g}s" for s in STUDY_SPANS), "level_jump_db", "spectral_all_frames",
                  "spectral_jump_db"]:
        for kind in ("clean", "natural", "level_up", "level_down", "muffled"):
            for engine in ("piper", "espeak"):
                v = [abs(r[field]) for r in rows if r["kind"] == kind and r["engine"] == engine
                     and r.get(field) is not None]
                lines.append(f"  {field:<20} {kind:<10} {engine:<7} {_stats(v)}")
    cuts = [r for r in rows if r["kind"] == "hard_cut"]
    missed = [r["jump_ratio"] for r in cuts if r["click_db"] <= DEFAULTS["seam_click_db"]]
    caught = [r["jump_ratio"] for r in cuts if r["click_db"] > DEFAULTS["seam_click_db"]]
    lines.append("\n## hard cuts: sample jump at the cut re the RMS of the 20 ms before it")
    lines.append(f"  missed {_stats(missed)}\n  caught {_stats(caught)}")
    verdicts = []
    for kind in ["clean", "natural", *FAULTS]:
        sel = [r for r in rows if r["kind"] == kind]
        hit = [any(r[m] is not None and abs(r[m]) > DEFAULTS[LIMIT[m]] for m in METRICS) for r in sel]
        verdicts.append(f"{kind}: {sum(hit)}/{len(hit)}")
    lines.append("\n## joins failing any seam limit\n  " + ", ".join(verdicts))
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
