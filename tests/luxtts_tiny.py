"""Shared by the LuxTTS tests: the tiny random checkpoint, built once per session.

The checkpoint has the real on-disk layout (pytest_luxgate/stacks/luxtts/tiny.py)
and random weights, so the real loading and inference code of both stacks runs
on it; it speaks noise, never words. Where ``linacodec`` (not on any registry)
is missing, the Torch vocoder is the STAND-IN in
pytest_luxgate/stacks/luxtts/linacodec_standin/ -- the tests say which ran.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

NEEDED = ("zipvoice", "torch", "torchaudio", "vocos", "mlx", "vocos_mlx", "piper_phonemize")
MISSING = [m for m in NEEDED if importlib.util.find_spec(m) is None]
requires_luxtts = pytest.mark.skipif(
    bool(MISSING), reason=f"LuxTTS stacks not installed ({', '.join(MISSING)} missing): `scripts/dev setup` "
                          "installs them (LUXGATE_LUXTTS=0 opts out)")


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from pytest_luxgate.stacks.luxtts.tiny import build_tiny_checkpoint

    return build_tiny_checkpoint(tmp_path_factory.mktemp("luxtts-tiny"))


class SpeaksPromptText:
    """A cloning stack (real Piper speech) that speaks the prompt TRANSCRIPT it was given
    instead of the cell's text, so the ASR transcript in the report shows which transcript
    the prompt-text policy handed to the stack."""

    name = "speaks_prompt_text"
    markers = ()
    clones_voice = True

    def __init__(self) -> None:
        from pytest_luxgate.stacks.piper import PiperStack

        self._piper = PiperStack()

    def load(self) -> None:
        self._piper.load()

    def describe(self) -> dict:
        return self._piper.describe()

    def default_params(self) -> dict:
        return self._piper.default_params()

    def encode_prompt(self, wav, sample_rate, text, params):
        return text

    def synthesize(self, text, prompt, params, seed):
        return self._piper.synthesize(prompt, None, params, seed)
