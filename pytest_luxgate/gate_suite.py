"""The gate's checks as tests: import these into a test module to run the matrix.

    # tests/gate/test_gate.py
    from pytest_luxgate.gate_suite import *  # noqa: F401,F403

Each test runs once per matrix cell (stack x prompt x scenario); all tests of
a cell share one synthesis and one transcription.
"""
from __future__ import annotations

__all__ = ["test_wer", "test_repeat", "test_start", "test_tail", "test_clipping", "test_rate", "test_seams",
           "test_pauses", "test_quality", "test_voice", "test_baseline"]


def test_wer(luxgate) -> None:
    """The words heard match the text (Whisper-normalised word error rate)."""
    luxgate.check("wer")


def test_repeat(luxgate) -> None:
    """Nothing is said twice that the text says once (transcript and audio loops)."""
    luxgate.check("repeat")


def test_start(luxgate) -> None:
    """Speech starts clean: no garbage, noise or click before the first word."""
    luxgate.check("start")


def test_tail(luxgate) -> None:
    """Speech ends clean: no buzzy tail or garbage after the last word, not cut off."""
    luxgate.check("tail")


def test_clipping(luxgate) -> None:
    """Almost no samples at full scale."""
    luxgate.check("clipping")


def test_rate(luxgate) -> None:
    """Speaking rate is within human range (duration prediction sanity)."""
    luxgate.check("rate")


def test_seams(luxgate) -> None:
    """Chunk joins are inaudible: no click, loudness or timbre jump (skipped for one-pass takes)."""
    luxgate.skip_without_seams()
    luxgate.check("seams")


def test_pauses(luxgate) -> None:
    """No audible pause inside a phrase: every silent gap sits where the text has punctuation."""
    luxgate.check("pauses")


def test_quality(luxgate) -> None:
    """Predicted listening quality (DNSMOS OVRL) above the floor (skipped without the `listen` extra)."""
    luxgate.check("quality")


def test_voice(luxgate) -> None:
    """The take sounds like its voice prompt (speaker similarity; skipped for stacks that do not clone)."""
    luxgate.check("voice")


def test_baseline(luxgate, luxgate_snapshot) -> None:
    """No metric worse than the committed baseline beyond its tolerance (syrupy; --snapshot-update
    records). Skipped, with the reason, while a cell has no baseline."""
    luxgate.baseline(luxgate_snapshot)
