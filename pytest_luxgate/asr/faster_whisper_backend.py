"""faster-whisper (CTranslate2) backend: the default, offline, on bundled weights."""
from __future__ import annotations

import os
import platform
import sys
import warnings
from collections.abc import MutableMapping
from pathlib import Path

import numpy as np

from ..core.types import Transcript, Word
from .base import (
    CPU_THREADS,
    WHISPER_RATE,
    WHISPER_WINDOW_S,
    ASRError,
    Forced,
    forceable,
    lowest_per_word,
    resample,
)
from .bundled import BUNDLED, whisper_model_dir
from .features import stable_feature_extractor

#: LUXGATE_ASR_ISA: "native" (the default: the CPU's fastest code, which may hear a word
#: differently from another machine's) or "avx2" (the same kernels on every x86 CPU with AVX2)
ISA_VAR = "LUXGATE_ASR_ISA"
#: what "avx2" sets, unless already set: CTranslate2's own kernels, MKL (conditional
#: numerical reproducibility: the same results on every AVX2 CPU) and oneDNN
_AVX2_PIN = {"CT2_FORCE_CPU_ISA": "AVX2", "MKL_CBWR": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2",
             "DNNL_MAX_CPU_ISA": "AVX2"}


def pin_cpu_isa(environ: MutableMapping[str, str] = os.environ) -> str:
    """Make CTranslate2 compute with AVX2 code on every x86 CPU that has it; returns
    the ISA in force ("AVX2", "native", or why it is not pinned).

    Measured (issue 15, bench/asr_perturbation.py): the same take, with the same
    features, came out of Whisper base as "makes its pauses, commas and emphasis"
    with AVX-512 kernels and "makes us pause as calm as an emphasis" with AVX2
    ones (2 vs 7 word errors: a WER verdict flip), and no second opinion on one
    machine (another decode, the other model, a dithered copy) removed it (that was
    with int8 weights; the float32 default, COMPUTE_TYPE, heard 33 calibration takes
    alike under every ISA, so the pin now matters little). A
    machine that runs the AVX2 code hears what every AVX2 machine hears. The
    variables are read when ctranslate2 loads, so this must run before the
    first import of faster_whisper/ctranslate2 in the process.

    Opt-in (LUXGATE_ASR_ISA=avx2) for now: the pin works only where it runs before
    ctranslate2 is first imported and it travels to child processes through the
    environment, so a process that imported faster-whisper first (a test session,
    a user's own code) decodes natively while its children are pinned. With the pin
    as the default, a full test run saw the default cells' transcripts differ between
    -n 0 and -n 2 runs ("5.30pm" / "5.30 pm"), most likely so. Default it once the
    pin holds whatever the import order.
    """
    choice = environ.get(ISA_VAR, "native").strip().lower()
    if choice == "native":
        return "native"
    if choice != "avx2":
        raise ASRError(f"{ISA_VAR}={environ[ISA_VAR]!r}: use 'native' (the default) or 'avx2' (the same "
                       "kernels on every AVX2 machine)")
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return f"native (no AVX2 on {platform.machine()})"
    if not _cpu_has_avx2():
        return "native (this CPU has no AVX2)"
    if "ctranslate2" in sys.modules and any(environ.get(k) != v for k, v in _AVX2_PIN.items()):
        warnings.warn("ctranslate2 was imported before the luxgate ASR backend could pin its ISA to AVX2: "
                      "transcripts may differ from other machines' (import pytest_luxgate first, or set "
                      + ", ".join(f"{k}={v}" for k, v in _AVX2_PIN.items()) + ")", stacklevel=3)
        return "native (ctranslate2 loaded first)"
    for key, value in _AVX2_PIN.items():
        environ.setdefault(key, value)
    return "AVX2"


def _cpu_has_avx2() -> bool:
    try:
        from numpy._core._multiarray_umath import __cpu_features__  # numpy 2
    except ImportError:  # pragma: no cover - numpy 1.26
        from numpy.core._multiarray_umath import __cpu_features__
    return bool(__cpu_features__.get("AVX2"))


#: the weights' precision of the free decode. float32, not int8: measured on 33 calibration
#: takes (bench/asr_perturbation.py's question, /docs/CALIBRATION.md "float32, not int8"),
#: int8 kernels changed 2-3 of 33 transcripts between CT2_FORCE_CPU_ISA AVX2, AVX-512, AVX and
#: GENERIC and word probabilities by up to 0.16; float32 changed no transcript and no word
#: probability by more than 0.0004, for 1.33x the decode time (RTF 0.28 vs 0.21, one core).
COMPUTE_TYPE = "float32"
#: the weights' precision when the text is forced on a take (`FasterWhisperASR.force`): the
#: free decode's, so the forced pass shares its model
FORCE_COMPUTE_TYPE = COMPUTE_TYPE


class FasterWhisperASR:
    """Whisper through CTranslate2. `model` is a bundled name or a CT2 directory.

    English is forced (the multilingual base model otherwise guesses per clip),
    previous-text conditioning is off, since it is what lets Whisper copy a
    loop from one window into the next, and decoding is deterministic.
    """

    def __init__(self, model: str = "tiny.en", *, beam_size: int = 5,
                 compute_type: str = COMPUTE_TYPE, cpu_threads: int | None = None) -> None:
        self.isa = pin_cpu_isa()
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
        self.beam_size, self.compute_type = beam_size, compute_type
        self.name = f"faster-whisper:{model} ({compute_type}, beam {beam_size})"
        self._tokenizer = None  # built on the first force: transcribe never needs it
        self._path, self._forcing_model = path, None

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

    def force(self, audio: np.ndarray, sample_rate: int, text: str) -> Forced:
        """The model forced to `text` on this take (teacher forcing on the take's own encoder
        output, CTranslate2's `align`): each word of the text with the lowest probability of
        its tokens. None for a take longer than one 30 s window (the text would have to be
        cut to the windows the free decode chose).

        Computed with the weights in float32 (:data:`FORCE_COMPUTE_TYPE`; the free decode's
        model, or a float32 copy loaded on the first call when it decodes otherwise): measured
        on the 147 calibration regions nearest the limit, int8's kernels move a forced
        probability by up to 1.42x between AVX2 and AVX-512 (and 3.3x under GENERIC), enough
        to flip 3 excuses; float32's by at most 1.0003x (1.0016x GENERIC).
        """
        audio16 = forceable(audio, sample_rate, text)
        if audio16 is None:
            return None
        from faster_whisper.audio import pad_or_trim
        from faster_whisper.tokenizer import Tokenizer

        model = self._forcer()
        if self._tokenizer is None:
            self._tokenizer = Tokenizer(model.hf_tokenizer, model.model.is_multilingual,
                                        task="transcribe", language="en")
        tok = self._tokenizer
        features = self._model.feature_extractor(audio16)
        frames = min(features.shape[-1], WHISPER_WINDOW_S * 100)
        encoded = model.encode(pad_or_trim(features))  # as transcribe encodes a window
        tokens = tok.encode(" " + text.strip())
        result = model.model.align(encoded, tok.sot_sequence, [tokens], frames, median_filter_width=7)[0]
        words, word_tokens = tok.split_to_word_tokens(tokens + [tok.eot])
        return lowest_per_word([(w, len(t)) for w, t in zip(words, word_tokens) if t != [tok.eot]],
                               result.text_token_probs)

    def _forcer(self):
        if self.compute_type == FORCE_COMPUTE_TYPE:
            return self._model
        if self._forcing_model is None:
            from faster_whisper import WhisperModel

            self._forcing_model = WhisperModel(str(self._path), device="cpu", compute_type=FORCE_COMPUTE_TYPE,
                                               cpu_threads=self.cpu_threads)
        return self._forcing_model
