"""Stacks that wrap the real Piper stack and inject one fault each.

Used by the plugin's own tests to prove that one broken cell never takes the
run down. The speech is real; only the fault is injected.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from pytest_luxgate.stacks.base import StackUnavailable, Synthesized
from pytest_luxgate.stacks.piper import PiperStack


class RaisesOnWait(PiperStack):
    """Crashes mid-matrix on the punctuation scenario (text starts with 'Wait')."""

    name = "raises_on_wait"

    def synthesize(self, text: str, prompt: Any, params: dict[str, Any], seed: int) -> Synthesized:
        if text.startswith("Wait"):
            raise RuntimeError("CUDA error: device-side assert triggered (injected)")
        return super().synthesize(text, prompt, params, seed)


class NaNAudio(PiperStack):
    name = "nan_audio"

    def synthesize(self, text: str, prompt: Any, params: dict[str, Any], seed: int) -> Synthesized:
        out = super().synthesize(text, prompt, params, seed)
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


class ClippedGain(PiperStack):
    """Real speech with x4 gain and hard clipping: the clipping check must fail."""

    name = "clipped_gain"

    def synthesize(self, text: str, prompt: Any, params: dict[str, Any], seed: int) -> Synthesized:
        out = super().synthesize(text, prompt, params, seed)
        return Synthesized(np.clip(out.audio * 4.0, -1.0, 1.0), out.sample_rate, out.info)


class CloningPiper(PiperStack):
    """Declares voice cloning (it ignores the prompt) to exercise per-prompt cells."""

    name = "cloning_piper"
    clones_voice = True
    markers = ("torch",)


class InterruptedOnWait(PiperStack):
    """Ctrl-C arrives while the punctuation scenario is being synthesized."""

    name = "interrupted_on_wait"

    def synthesize(self, text: str, prompt: Any, params: dict[str, Any], seed: int) -> Synthesized:
        if text.startswith("Wait"):
            raise KeyboardInterrupt
        return super().synthesize(text, prompt, params, seed)
