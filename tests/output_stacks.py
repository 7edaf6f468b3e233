"""Stacks for tests/integration/test_fail_closed_output.py (real Piper speech underneath)."""
from __future__ import annotations

from typing import Any

import numpy as np

from pytest_luxgate.stacks.base import Synthesized
from pytest_luxgate.stacks.piper import PiperStack


class WordsPerMinute:
    """A stack written from the README by a new user: its `speed` is words per minute
    (default 160), it declares no `tune_space()` and, unlike the built-ins, has no `name`.
    Piper speaks underneath, its length scale set from the speed."""

    markers: tuple[str, ...] = ()
    clones_voice = False

    def __init__(self) -> None:
        self._piper = PiperStack()

    def load(self) -> None:
        self._piper.load()

    def describe(self) -> dict[str, Any]:
        return {**self._piper.describe(), "wrapper": "words-per-minute"}

    def default_params(self) -> dict[str, Any]:
        return {"speed": 160}

    def encode_prompt(self, wav: np.ndarray, sample_rate: int, text: str | None, params: dict[str, Any]) -> None:
        return None

    def synthesize(self, text: str, prompt: Any, params: dict[str, Any], seed: int) -> Synthesized:
        piper = {**self._piper.default_params(), "length_scale": 160.0 / float(params["speed"])}
        return self._piper.synthesize(text, None, piper, seed)
