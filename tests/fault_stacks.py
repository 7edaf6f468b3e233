"""Stacks that wrap the real Piper stack and inject one fault each.

Used by the plugin's own tests to prove that one broken cell never takes the
run down. The speech is real; only the fault is injected.
"""
from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from pytest_luxgate.stacks.base import StackUnavailable, Synthesized
from pytest_luxgate.stacks.piper import PiperStack


class _Altered(PiperStack):
    """Real Piper speech, then `alter` injects the fault into the take."""

    def alter(self, out: Synthesized, seed: int) -> Synthesized:
        raise NotImplementedError

    def synthesize(self, text: str, prompt: Any, params: dict[str, Any], seed: int) -> Synthesized:
        return self.alter(super().synthesize(text, prompt, params, seed), seed)


class _OnWait(PiperStack):
    """The fault strikes while the punctuation scenario (its text starts with 'Wait') is spoken."""

    def on_wait(self) -> None:
        raise NotImplementedError

    def synthesize(self, text: str, prompt: Any, params: dict[str, Any], seed: int) -> Synthesized:
        if text.startswith("Wait"):
            self.on_wait()
        return super().synthesize(text, prompt, params, seed)


class RaisesOnWait(_OnWait):
    """Crashes mid-matrix on the punctuation scenario."""

    name = "raises_on_wait"

    def on_wait(self) -> None:
        raise RuntimeError("CUDA error: device-side assert triggered (injected)")


class NaNAudio(_Altered):
    name = "nan_audio"

    def alter(self, out: Synthesized, seed: int) -> Synthesized:
        audio = out.audio.copy()
        audio[len(audio) // 2] = np.nan
        return Synthesized(audio, out.sample_rate, out.info)


class EmptyAudio(PiperStack):
    name = "empty_audio"

    def synthesize(self, text: str, prompt: Any, params: dict[str, Any], seed: int) -> Synthesized:
        return Synthesized(np.zeros(0, dtype=np.float32), 22050, {})


class CannotLoad(PiperStack):
    name = "cannot_load"

    def load(self) -> None:
        raise StackUnavailable("weights not found in /nonexistent (injected)")


class CrashesOnLoad(PiperStack):
    name = "crashes_on_load"

    def load(self) -> None:
        raise OSError("libmlx.so: cannot open shared object file (injected)")


class ClippedGain(_Altered):
    """Real speech with x4 gain and hard clipping: the clipping check must fail."""

    name = "clipped_gain"

    def alter(self, out: Synthesized, seed: int) -> Synthesized:
        return Synthesized(np.clip(out.audio * 4.0, -1.0, 1.0), out.sample_rate, out.info)


class CloningPiper(PiperStack):
    """Declares voice cloning (it ignores the prompt) to exercise per-prompt cells."""

    name = "cloning_piper"
    clones_voice = True
    markers = ("torch",)


class InterruptedOnWait(_OnWait):
    """Ctrl-C arrives while the punctuation scenario is being synthesized."""

    name = "interrupted_on_wait"

    def on_wait(self) -> None:
        raise KeyboardInterrupt


class PaddedTail(PiperStack):
    """Real speech followed by a frozen-frame buzz as long as `pad_frames` vocoder frames.

    LuxTTS's `duration_pad_frames` adds frames after the text; too many of them
    come out as a robotic tail. Here each frame (256 samples at 24 kHz, ~10.7 ms)
    adds a sustained 110 Hz harmonic tone at -6 dB re the speech, right after
    the last word: at the default 40 frames the tail check fails, and a tuner
    that lowers `pad_frames` can fix it (issue 11).
    """

    name = "padded_tail"
    FRAME_S = 256 / 24_000

    def default_params(self) -> dict[str, Any]:
        return {**super().default_params(), "pad_frames": 40}

    def tune_space(self) -> dict[str, Any]:
        return {"length_scale": [0.75, 1.4], "noise_scale": [0.3, 1.0], "pad_frames": [0, 60]}

    def synthesize(self, text: str, prompt: Any, params: dict[str, Any], seed: int) -> Synthesized:
        base = {k: v for k, v in params.items() if k != "pad_frames"}
        out = super().synthesize(text, prompt, base, seed)
        audio, sr = out.audio, out.sample_rate
        n = int(round(int(params["pad_frames"]) * self.FRAME_S * sr))
        if n <= 0:
            return out
        hop = int(0.01 * sr)
        frames = audio[: len(audio) // hop * hop].reshape(-1, hop)
        env = 20 * np.log10(np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1)) + 1e-9)
        loud = np.nonzero(env > env.max() - 40)[0]
        end = int((loud[-1] + 1) * hop)
        speech_rms = float(np.sqrt(np.mean(frames[env > env.max() - 20].astype(np.float64) ** 2)))
        t = np.arange(n) / sr
        buzz = sum(np.sin(2 * np.pi * 110 * k * t) / k for k in range(1, 16))
        buzz *= speech_rms * 10 ** (-6 / 20) / (np.sqrt(np.mean(buzz ** 2)) + 1e-12)
        fade = min(n // 2, int(0.005 * sr))
        buzz[:fade] *= np.linspace(0, 1, fade)
        buzz[len(buzz) - fade:] *= np.linspace(1, 0, fade)
        padded = np.concatenate([audio[:end], buzz.astype(np.float32), audio[end:]])
        return Synthesized(padded, sr, out.info)


class NoisyStart(_Altered):
    """Real speech after 0.4 s of quiet noise (-45 dB re the speech RMS): below test_start's
    absolute limit (-38 dB), but a regression against a clean baseline."""

    name = "noisy_start"

    def alter(self, out: Synthesized, seed: int) -> Synthesized:
        rms = float(np.sqrt(np.mean(out.audio.astype(np.float64) ** 2)))
        noise = np.random.default_rng(seed).standard_normal(int(0.4 * out.sample_rate)) * rms * 10 ** (-45 / 20)
        return Synthesized(np.concatenate([noise.astype(np.float32), out.audio]), out.sample_rate, out.info)


# -- reliability faults (tests/integration/test_reliability.py) ------------------------------------------
class RateNotInt(_Altered):
    """Reports its (correct) rate as a float: the protocol wants an int in Hz."""

    name = "rate_not_int"

    def alter(self, out: Synthesized, seed: int) -> Synthesized:
        return Synthesized(out.audio, float(out.sample_rate), out.info)


class NegativeRate(_Altered):
    name = "negative_rate"

    def alter(self, out: Synthesized, seed: int) -> Synthesized:
        return Synthesized(out.audio, -out.sample_rate, out.info)


class ClaimsWrongRate(_Altered):
    """Real 22.05 kHz speech reported as 192 kHz: no one can say the text that fast."""

    name = "claims_wrong_rate"

    def alter(self, out: Synthesized, seed: int) -> Synthesized:
        return Synthesized(out.audio, 192000, out.info)


class ClaimsDoubleRate(_Altered):
    """Real 22.05 kHz speech reported as 44.1 kHz: plausible length, so the checks must hear it."""

    name = "claims_double_rate"

    def alter(self, out: Synthesized, seed: int) -> Synthesized:
        return Synthesized(out.audio, 2 * out.sample_rate, out.info)


class LoopsForever(_Altered):
    """Returns its take 40 times over: far longer than any speaker takes for the text."""

    name = "loops_forever"

    def alter(self, out: Synthesized, seed: int) -> Synthesized:
        return Synthesized(np.tile(out.audio, 40), out.sample_rate, out.info)


class BlocksOnWait(_OnWait):
    """Holds the punctuation scenario ("Wait, ...") until told to go on.

    Touches $LUXGATE_FAULT_READY when it starts waiting and waits for
    $LUXGATE_FAULT_RELEASE to exist (at most 300 s): the test then sends a real
    SIGINT, or starts a second run on the same output directory, at a known point.
    """

    name = "blocks_on_wait"

    def on_wait(self) -> None:
        Path(os.environ["LUXGATE_FAULT_READY"]).touch()
        release = Path(os.environ["LUXGATE_FAULT_RELEASE"])
        deadline = time.monotonic() + 300
        while not release.exists() and time.monotonic() < deadline:
            time.sleep(0.05)  # a SIGINT lands here as KeyboardInterrupt, as in any Python code


class PromptProbe(PiperStack):
    """A cloning stack that insists on well-formed prompts, as a real encoder would.

    Declares prompt_sample_rate = 24000 and refuses (raises) anything but mono
    float32 in [-1, 1] at that rate with a transcript, so a passing cell proves
    the gate resampled, downmixed and scaled the prompt file it was given.
    """

    name = "prompt_probe"
    clones_voice = True
    prompt_sample_rate = 24000

    def __init__(self) -> None:
        super().__init__()
        self.prompt_texts: set[str] = set()

    def describe(self) -> dict[str, Any]:
        # the transcripts it was given land in each record's versions.stack, for the policy tests
        return {**super().describe(), "prompt_texts": sorted(self.prompt_texts)}

    def encode_prompt(self, wav: np.ndarray, sample_rate: int, text: str | None,
                      params: dict[str, Any]) -> dict[str, Any]:
        if sample_rate != self.prompt_sample_rate:
            raise ValueError(f"prompt at {sample_rate} Hz, expected {self.prompt_sample_rate}")
        if wav.ndim != 1 or wav.dtype != np.float32 or not np.all(np.isfinite(wav)) or np.abs(wav).max() > 1:
            raise ValueError(f"prompt not mono float32 in [-1, 1]: {wav.dtype} {wav.shape}")
        if not text:
            raise ValueError("prompt without transcript")
        self.prompt_texts.add(text)
        return {"seconds": len(wav) / sample_rate, "text": text}


class KilledOnWait(_OnWait):
    """The process dies (SIGKILL, as a segfault in a native library would) on the punctuation
    scenario. Only ever run under xdist (-n 2): it kills the worker, not the test session."""

    name = "killed_on_wait"

    def on_wait(self) -> None:
        os.kill(os.getpid(), signal.SIGKILL)


class ClicksOnOddSeeds(_Altered):
    """A stochastic fault, as a flow-matching engine's: takes of odd seeds start with a loud
    click 0.3 s before the speech (test_start fails them), even seeds are clean."""

    name = "clicks_on_odd_seeds"

    def alter(self, out: Synthesized, seed: int) -> Synthesized:
        if seed % 2 == 0:
            return out
        lead = np.zeros(int(0.3 * out.sample_rate), dtype=np.float32)
        lead[len(lead) // 2] = 0.9
        return Synthesized(np.concatenate([lead, out.audio]), out.sample_rate, out.info)


# -- fail closed: stacks whose output or loading is wrong in ways a run once passed (issue 16) ------------
class ReturnsNone(PiperStack):
    """synthesize() forgets its return statement."""

    name = "returns_none"

    def synthesize(self, text: str, prompt: Any, params: dict[str, Any], seed: int) -> Any:
        super().synthesize(text, prompt, params, seed)
        return None


class ReturnsTuple(PiperStack):
    """synthesize() returns (audio, rate), as many TTS libraries do, instead of Synthesized."""

    name = "returns_tuple"

    def synthesize(self, text: str, prompt: Any, params: dict[str, Any], seed: int) -> Any:
        out = super().synthesize(text, prompt, params, seed)
        return out.audio, out.sample_rate


class ExitsOnSynthesize(PiperStack):
    """A wrapped command-line tool that calls sys.exit(3) when it is done."""

    name = "exits_on_synthesize"

    def synthesize(self, text: str, prompt: Any, params: dict[str, Any], seed: int) -> Any:
        import sys

        sys.exit(3)


class RaisesInInit(PiperStack):
    name = "raises_in_init"

    def __init__(self) -> None:
        raise RuntimeError("config.json: missing key 'voice' (injected)")


class Int16Audio(_Altered):
    """Real Piper speech returned as 16-bit PCM integers: the samples of the WAV it would write."""

    name = "int16_audio"

    def alter(self, out: Synthesized, seed: int) -> Synthesized:
        import io

        import soundfile as sf

        buf = io.BytesIO()
        sf.write(buf, np.clip(out.audio, -1.0, 1.0), out.sample_rate, subtype="PCM_16", format="WAV")
        buf.seek(0)
        pcm, _ = sf.read(buf, dtype="int16")
        return Synthesized(pcm, out.sample_rate, out.info)


class Int64Audio(_Altered):
    """Real Piper speech as int64 (numpy's default int): no PCM format, so no scale to trust."""

    name = "int64_audio"

    def alter(self, out: Synthesized, seed: int) -> Synthesized:
        return Synthesized(np.round(out.audio * 32767).astype(np.int64), out.sample_rate, out.info)


class ThreadProbe(PiperStack):
    """Real Piper that notes which threads its synthesize() ran on (describe() says): the
    overlap (run/ahead.py) calls a stack that allows it (Piper: overlap = True) from its second
    thread, and any other stack from the main thread."""

    name = "thread_probe"

    def __init__(self) -> None:
        super().__init__()
        self.threads: set[str] = set()

    def synthesize(self, text: str, prompt: Any, params: dict[str, Any], seed: int) -> Synthesized:
        self.threads.add(threading.current_thread().name)
        return super().synthesize(text, prompt, params, seed)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "threads": sorted(self.threads)}


class MainThreadProbe(ThreadProbe):
    """The same, for a stack that does not declare `overlap` (the default: False)."""

    name = "main_thread_probe"
    overlap = False


class SaysOtherWords(PiperStack):
    """Says two content words other than the text's ("stadium" for "museum", "Mondays" for
    "Sundays"): a TTS that reads the wrong words, clearly."""

    name = "says_other_words"

    def synthesize(self, text: str, prompt: Any, params: dict[str, Any], seed: int) -> Synthesized:
        return super().synthesize(text.replace("museum", "stadium").replace("Sundays", "Mondays"),
                                  prompt, params, seed)
