"""Speech recognition backends behind one protocol.

`get_asr(spec)` returns a process-wide shared backend, so each model is loaded
once per process (per xdist worker) however many cells use it.
"""
from __future__ import annotations

from .base import ASRBackend, ASRError, resample
from .registry import get_asr

__all__ = ["ASRBackend", "ASRError", "get_asr", "resample"]
