"""Report files and kept WAVs are readable by others (mkstemp alone makes them 0600)."""
from __future__ import annotations

import os
import stat

import numpy as np

from pytest_luxgate.core.audio import write_wav_atomic
from pytest_luxgate.report.matrix import write_atomic


def test_atomic_writes_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        write_atomic(tmp_path / "report.json", "{}")
        write_wav_atomic(tmp_path / "take.wav", np.zeros(160, np.float32), 16000)
    finally:
        os.umask(old)
    for name in ("report.json", "take.wav"):
        mode = stat.S_IMODE(os.stat(tmp_path / name).st_mode)
        assert mode == 0o644, f"{name}: {oct(mode)}"
