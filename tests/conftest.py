"""Shared real-speech fixtures for the plugin's own tests."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pytest_luxgate.core.audio import write_wav_atomic
from pytest_luxgate.stacks.piper import PiperStack


@pytest.fixture(scope="session")
def piper_stack() -> PiperStack:
    stack = PiperStack()
    stack.load()
    return stack


@pytest.fixture(scope="session")
def piper_take(piper_stack: PiperStack) -> tuple[np.ndarray, int, str]:
    """Real Piper speech of a plain sentence: (audio, sample_rate, text)."""
    text = "The quick brown fox jumps over the lazy dog."
    out = piper_stack.synthesize(text, None, piper_stack.default_params(), seed=7)
    return out.audio, out.sample_rate, text


@pytest.fixture
def piper_wav(tmp_path: Path, piper_take: tuple[np.ndarray, int, str]) -> tuple[Path, str]:
    audio, rate, text = piper_take
    return write_wav_atomic(tmp_path / "take.wav", audio, rate), text


#: tests under these folders load model weights or run the gate end to end: marked slow, so
#: `pytest tests/unit` (or `-m "not slow"`) is the fast loop while `pytest` still runs them all
SLOW_DIRS = tuple(Path(__file__).resolve().parent / d for d in ("models", "integration"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if any(d in Path(str(item.path)).resolve().parents for d in SLOW_DIRS):
            item.add_marker(pytest.mark.slow)
