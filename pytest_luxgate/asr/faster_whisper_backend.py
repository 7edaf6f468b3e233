"""faster-whisper (CTranslate2) backend: the default, offline, on bundled weights."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..types import Transcript, Word
from .base import CPU_THREADS, WHISPER_RATE, ASRError, resample
from .bundled import BUNDLED, whisper_model_dir
from .features import stable_feature_extractor


class FasterWhisperASR:
    """Whisper through CTranslate2. `model` is a bundled name or a CT2 directory.

    English is forced (the multilingual base model otherwise guesses per clip),
    previous-text conditioning is off, since it is what lets Whisper copy a
    loop from one window into the next, and decoding is deterministic.
    """

    def __init__(self, model: str = "tiny.en", *, beam_size: int = 5,
                 compute_type: str = "int8", cpu_threads: int | None = None) -> None:
        try:
            from faster_whisper import WhisperModel
        except ImportError as exc:  # pragma: no cover
            raise ASRError("the faster-whisper backend needs the 'faster-whisper' package") from exc
        path = whisper_model_dir(model) if model in BUNDLED else Path(model)
        if not (path / "model.bin").exists():
            raise ASRError(f"faster-whisper model {model!r}: no model.bin in {path}")
        # fixed, never read from the environment (see CPU_THREADS); an explicit count
        # is for benches that measure what the thread count changes
        self.cpu_threads = int(cpu_threads or CPU_THREADS)
        self._model = WhisperModel(str(path), device="cpu", compute_type=compute_type,
                                   cpu_threads=self.cpu_threads)
        # features that do not move with the BLAS thread count or the CPU (features.py)
        kwargs = getattr(self._model, "feat_kwargs", None) or {
            "feature_size": len(self._model.feature_extractor.mel_filters)}
        self._model.feature_extractor = stable_feature_extractor(**kwargs)
        self.beam_size = beam_size
        self.name = f"faster-whisper:{model} ({compute_type}, beam {beam_size})"

    def transcribe(self, audio: np.ndarray, sample_rate: int) -> Transcript:
        audio16 = resample(audio, sample_rate, WHISPER_RATE)
        segments, info = self._model.transcribe(
            audio16, language="en", beam_size=self.beam_size, word_timestamps=True,
            condition_on_previous_text=False, vad_filter=False,
            # no sampling fallback: the same take must give the same transcript,
            # or reruns and xdist workers would disagree about one cell
            temperature=0.0,
        )
        words: list[Word] = []
        texts: list[str] = []
        for seg in segments:  # lazy generator: long clips are decoded window by window
            texts.append(seg.text)
            for w in seg.words or ():
                words.append(Word(w.word.strip(), float(w.start), float(w.end), float(w.probability)))
        return Transcript(" ".join(t.strip() for t in texts).strip(), tuple(words), self.name, info.language)
