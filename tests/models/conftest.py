"""Every test under tests/models/ is slow: they load model weights (Whisper, Piper, VAD, DNSMOS, resemblyzer, LuxTTS, speech_corpus clips).

`pytest tests/unit` (or `-m "not slow"`) is the fast inner loop; `pytest` still runs all.
"""
from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # a directory's conftest hook sees the whole session's items: mark only this directory's
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.slow)
