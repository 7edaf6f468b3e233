"""Audio file I/O with errors a person can act on (soundfile/libsndfile)."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np


class AudioError(ValueError):
    """An audio file or buffer is unusable."""


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """Read any libsndfile format as float32 mono (multi-channel is averaged)."""
    import soundfile as sf

    path = Path(path)
    if not path.exists():
        raise AudioError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: file is empty (0 bytes)")
    try:
        audio, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as exc:  # libsndfile raises its own error type for every corrupt header
        raise AudioError(f"{path}: not a readable audio file ({exc})") from exc
    if audio.shape[0] == 0:
        raise AudioError(f"{path}: holds no samples")
    mono = audio.mean(axis=1) if audio.shape[1] > 1 else audio[:, 0]
    if not np.all(np.isfinite(mono)):
        raise AudioError(f"{path}: contains NaN or Inf samples")
    return np.ascontiguousarray(mono, dtype=np.float32), int(rate)


def write_wav_atomic(path: Path, audio: np.ndarray, rate: int) -> Path:
    """Write 16-bit PCM through a temp file and rename, so readers never see half a file."""
    import soundfile as sf

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".wav", dir=path.parent)
    os.close(fd)
    try:
        sf.write(tmp, np.clip(audio, -1.0, 1.0), rate, subtype="PCM_16")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
