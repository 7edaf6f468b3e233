"""Hugging Face transformers backend: any Whisper checkpoint, hub or local.

torch and transformers are optional extras, so they are imported only when a
backend is built; importing this module costs nothing.
"""
from __future__ import annotations

import contextlib
import hashlib
import threading
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from ..core.types import Transcript, Word
from .base import (
    CPU_THREADS,
    WHISPER_RATE,
    ASRError,
    Forced,
    forceable,
    lowest_per_word,
    resample,
)
from .bundled import BUNDLED, cache_root, whisper_model_dir

_HF_WEIGHTS = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
               "pytorch_model.bin.index.json")


def _resolve(model: str) -> str:
    """Hub id or HF dir as is; bundled names and CT2 dirs are converted once into the cache.

    The conversion makes ``transformers:tiny.en`` work offline with the same
    weights the default backend uses.
    """
    if model in BUNDLED:
        ct2 = whisper_model_dir(model)
    else:
        path = Path(model).expanduser()
        if not path.exists():
            # hub ids are "owner/name"; anything path-shaped is a missing directory
            if model.startswith((".", "/", "~")) or model.count("/") > 1 or "\\" in model:
                raise ASRError(f"transformers Whisper model directory {path} does not exist")
            return model  # a hub id (or a typo, which from_pretrained reports)
        if any((path / name).exists() for name in _HF_WEIGHTS) or not (path / "model.bin").exists():
            return str(path)
        ct2 = path
    from .ct2_convert import convert_ct2_whisper_to_hf

    stat = (ct2 / "model.bin").stat()
    # keyed by the model file's location, size and mtime: the same weights reached as
    # 'tiny.en' or by path share one copy, and a replaced model gets a fresh one
    tag = hashlib.sha1(f"{ct2.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:12]
    return str(convert_ct2_whisper_to_hf(ct2, cache_root() / f"hf-whisper-{tag}"))


class TransformersWhisperASR:
    """Whisper through transformers' ASR pipeline with word timestamps.

    `model` is a hub id (``openai/whisper-small``), a local Hugging Face
    directory, a CTranslate2 directory, or a bundled name (``tiny.en``).
    Clips over 30 s go through Whisper's sequential long-form decoding (the
    openai algorithm: windows advance by the last predicted timestamp), not
    the pipeline's overlapping chunks, whose merge can drop or repeat words.
    """

    def __init__(self, model: str, *, device: str = "cpu", num_beams: int = 1,
                 dtype: Any = None, threads: int | None = None) -> None:
        try:
            import torch
            import transformers
        except ImportError as exc:
            raise ASRError("the transformers ASR backend needs 'torch' and 'transformers' "
                           "(pip install 'torch' 'transformers')") from exc
        if dtype is None:
            # fp16 matmuls on CPU are slow or unsupported; fp32 is exact for fp16 weights
            dtype = torch.float32 if str(device).startswith("cpu") else torch.float16
        elif isinstance(dtype, str):
            dtype = getattr(torch, dtype)
        source = _resolve(model)
        try:
            self._model = transformers.WhisperForConditionalGeneration.from_pretrained(source, dtype=dtype)
            processor = transformers.WhisperProcessor.from_pretrained(source)
            self._model.to(device).eval()
            self._processor = processor
            self._pipe = transformers.pipeline(
                "automatic-speech-recognition", model=self._model, tokenizer=processor.tokenizer,
                feature_extractor=processor.feature_extractor, device=device,
            )
        except Exception as exc:  # noqa: BLE001 - hub, IO and format errors all mean "cannot load"
            raise ASRError(f"transformers could not load Whisper model {model!r} "
                           f"(from {source}): {type(exc).__name__}: {exc}") from exc
        gen = self._model.generation_config
        multilingual = getattr(gen, "is_multilingual", self._model.config.vocab_size >= 51865)
        # the pipeline's own default is 5 beams; always say how many we mean
        self._generate: dict[str, Any] = {"num_beams": int(num_beams)}
        if multilingual:  # English-only checkpoints reject a language argument
            self._generate.update(language="en", task="transcribe")
        self.num_beams = int(num_beams)
        # One intra-op thread, whatever the environment: with torch's default (one
        # per core) a busy machine (xdist workers, a TTS model next door) leaves
        # OpenMP threads spinning at barriers (measured on 2 cores under load, 2
        # threads ran 6-13x slower than 1); and not LUXGATE_THREADS, which xdist
        # sets to cores // workers, so a transcript would depend on ``-n`` and the
        # machine (issue 15; see base.CPU_THREADS).
        self.threads = int(threads or CPU_THREADS)
        self._torch = torch
        self._lock = threading.Lock()  # the pipeline and the thread setting are not re-entrant
        self.name = f"transformers:{model} (beams {self.num_beams})"

    @contextlib.contextmanager
    def _running(self) -> Iterator[None]:
        """The model's turn: one caller at a time, at `self.threads`, no autograd. The thread
        count is scoped because torch's is process-wide and the code under test (a torch TTS
        model, say) may want all the cores."""
        with self._lock:
            previous = self._torch.get_num_threads()
            self._torch.set_num_threads(self.threads)
            try:
                with self._torch.inference_mode():
                    yield
            finally:
                self._torch.set_num_threads(previous)

    def transcribe(self, audio: np.ndarray, sample_rate: int) -> Transcript:
        audio16 = resample(audio, sample_rate, WHISPER_RATE)
        duration = len(audio16) / WHISPER_RATE
        if len(audio16) == 0:
            return Transcript("", (), self.name, "en")
        with self._running():
            out = self._pipe({"raw": audio16, "sampling_rate": WHISPER_RATE},
                             return_timestamps="word", generate_kwargs=dict(self._generate))
        words: list[Word] = []
        for chunk in out.get("chunks") or ():
            text = chunk["text"].strip()
            start, end = chunk.get("timestamp") or (None, None)
            if not text or start is None:
                continue
            # the last word may come back open-ended; it cannot outlast the clip
            end = duration if end is None else end
            start, end = min(float(start), duration), min(float(end), duration)
            words.append(Word(text, start, max(start, end)))
        return Transcript(out["text"].strip(), tuple(words), self.name, "en")

    def force(self, audio: np.ndarray, sample_rate: int, text: str) -> Forced:
        """The model forced to `text` (teacher forcing: one decoder pass over the text's tokens
        after the start-of-transcript prompt): each word of the text with the lowest
        probability of its tokens, as faster-whisper's `force`. None over one 30 s window."""
        audio16 = forceable(audio, sample_rate, text)
        if audio16 is None:
            return None
        torch, tok = self._torch, self._processor.tokenizer
        prompt = [tok.convert_tokens_to_ids("<|startoftranscript|>")]
        if "language" in self._generate:
            prompt += [tok.convert_tokens_to_ids("<|en|>"), tok.convert_tokens_to_ids("<|transcribe|>")]
        prompt.append(tok.convert_tokens_to_ids("<|notimestamps|>"))
        tokens = tok.encode(" " + text.strip(), add_special_tokens=False)
        features = self._processor.feature_extractor(audio16, sampling_rate=WHISPER_RATE,
                                                     return_tensors="pt").input_features
        with self._running():
            logits = self._model(input_features=features.to(self._model.device, self._model.dtype),
                                 decoder_input_ids=torch.tensor([prompt + tokens], device=self._model.device)).logits
        # the logits at position i predict token i + 1: the text's tokens follow the prompt
        probs = torch.softmax(logits[0, len(prompt) - 1:-1].float(), dim=-1)
        token_probs = probs[torch.arange(len(tokens)), torch.tensor(tokens)].tolist()
        return lowest_per_word(_word_pieces(tok.convert_ids_to_tokens(tokens)), token_probs)


def _word_pieces(pieces: list[str]) -> list[tuple[str, int]]:
    """Byte-level BPE pieces grouped into words, as faster-whisper's tokenizer splits them: a
    new word at a piece that starts with a space ("Ġ") or is punctuation."""
    words: list[tuple[str, int]] = []
    for piece in pieces:
        text = piece.replace("Ġ", " ")
        if not words or text.startswith(" ") or text.strip() in _PUNCTUATION:
            words.append((text, 1))
        else:
            words[-1] = (words[-1][0] + text, words[-1][1] + 1)
    return words


_PUNCTUATION = set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~')
