"""The per-process model registry: `get_asr(spec)` loads each backend once.

Kept out of `base` on purpose: the backends import `base`, and the factory
imports the backends, so the two in one module form an import cycle.
"""
from __future__ import annotations

import importlib.util
import threading
from pathlib import Path

from .base import ASRBackend, ASRError
from .bundled import BUNDLED, bundled_missing

_LOCK = threading.Lock()
_CACHE: dict[str, ASRBackend] = {}


def get_asr(spec: str) -> ASRBackend:
    """Load (once per process) the backend named by `spec`.

    Specs: ``faster-whisper:tiny.en`` / ``faster-whisper:base`` (weights shipped
    in packages), ``faster-whisper:/path/to/ct2-dir``,
    ``transformers:openai/whisper-small`` or ``transformers:/path/to/hf-dir``.
    A bare ``tiny.en``/``base`` means faster-whisper.
    """
    backend, model = split_spec(spec)
    key = f"{backend}:{model}"
    with _LOCK:
        if key not in _CACHE:
            _CACHE[key] = _load(backend, model)
        return _CACHE[key]


BACKENDS = ("faster-whisper", "transformers")
#: what a spec may name, for the messages that refuse one
KNOWN_SPECS = ("faster-whisper:tiny.en, faster-whisper:base (bundled; bare 'tiny.en' and 'base' mean these), "
               "faster-whisper:DIR (a CTranslate2 Whisper directory holding model.bin), "
               "transformers:OWNER/NAME (a Hugging Face hub id) or transformers:DIR")


def split_spec(spec: str) -> tuple[str, str]:
    """(backend, model) of a spec; a bare model name means faster-whisper."""
    backend, _, model = spec.strip().partition(":")
    if not model:
        backend, model = "faster-whisper", backend
    return backend, model


def check_spec(spec: str) -> None:
    """Refuse a spec that cannot load, without loading it (start-up stays fast): the backend
    is known and its package installed, a bundled name's weights are there, a directory
    exists. Only a hub id's existence is left to the load (no network here).
    Raises ASRError naming the value and what is known."""
    backend, model = split_spec(spec)
    if backend not in BACKENDS:
        raise ASRError(f"unknown ASR backend {backend!r} in {spec!r}; known: {KNOWN_SPECS}")
    if not model or spec.strip().endswith(":"):
        raise ASRError(f"no model in {spec!r}; known: {KNOWN_SPECS}")
    packages = ("faster_whisper",) if backend == "faster-whisper" else ("torch", "transformers")
    absent = [p for p in packages if importlib.util.find_spec(p) is None]
    if absent:
        raise ASRError(f"ASR {spec!r} needs {', '.join(absent)}, which is not installed")
    if model in BUNDLED:
        missing = bundled_missing(model)
        if missing:
            raise ASRError(f"ASR {spec!r}: the bundled Whisper {model} is incomplete ({missing}); reinstall "
                           "pytest-luxgate's dependencies")
        return
    path = Path(model).expanduser()
    hub_id = backend == "transformers" and model.count("/") == 1 and not model.startswith((".", "/", "~"))
    if path.is_dir():
        if backend == "faster-whisper" and not (path / "model.bin").is_file():
            raise ASRError(f"ASR {spec!r}: no model.bin in {path} (a CTranslate2 Whisper directory needs one)")
        return
    if hub_id and not path.exists():
        return  # checked by from_pretrained at load
    raise ASRError(f"unknown ASR model {spec!r}: not a bundled model and no such directory; "
                   f"known: {KNOWN_SPECS}")


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
