"""The per-process model registry: `get_asr(spec)` loads each backend once.

Kept out of `base` on purpose: the backends import `base`, and the factory
imports the backends, so the two in one module form an import cycle.
"""
from __future__ import annotations

import threading

from .base import ASRBackend, ASRError

_LOCK = threading.Lock()
_CACHE: dict[str, ASRBackend] = {}


def get_asr(spec: str) -> ASRBackend:
    """Load (once per process) the backend named by `spec`.

    Specs: ``faster-whisper:tiny.en`` / ``faster-whisper:base`` (weights shipped
    in packages), ``faster-whisper:/path/to/ct2-dir``,
    ``transformers:openai/whisper-small`` or ``transformers:/path/to/hf-dir``.
    A bare ``tiny.en``/``base`` means faster-whisper.
    """
    backend, _, model = spec.partition(":")
    if not model:
        backend, model = "faster-whisper", backend
    key = f"{backend}:{model}"
    with _LOCK:
        if key not in _CACHE:
            _CACHE[key] = _load(backend, model)
        return _CACHE[key]


def _load(backend: str, model: str) -> ASRBackend:
    if backend == "faster-whisper":
        from .faster_whisper_backend import FasterWhisperASR

        return FasterWhisperASR(model)
    if backend == "transformers":
        from .transformers_backend import TransformersWhisperASR

        return TransformersWhisperASR(model)
    raise ASRError(
        f"unknown ASR backend {backend!r} in --luxgate-asr; use 'faster-whisper:<model>' "
        "or 'transformers:<hub id or local dir>'"
    )
