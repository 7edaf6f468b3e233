"""Shared real-speech fixtures for the plugin's own tests."""
from __future__ import annotations

import fnmatch
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from reliability_ledger import MODULE_GLOBS

from pytest_luxgate.core.audio import write_wav_atomic
from pytest_luxgate.plugin.xdist import PINNED_VAR
from pytest_luxgate.stacks.piper import PiperStack


@pytest.fixture(scope="session")
def piper_stack() -> PiperStack:
    stack = PiperStack()
    stack.load()
    return stack


@pytest.fixture(scope="session")
def piper_take(piper_stack: PiperStack) -> tuple[np.ndarray, int, str]:
    """Real Piper speech of a plain sentence: (audio, sample_rate, text)."""
    text = "The quick brown fox jumps over the lazy dog."
    out = piper_stack.synthesize(text, None, piper_stack.default_params(), seed=7)
    return out.audio, out.sample_rate, text


@pytest.fixture
def piper_wav(tmp_path: Path, piper_take: tuple[np.ndarray, int, str]) -> tuple[Path, str]:
    audio, rate, text = piper_take
    return write_wav_atomic(tmp_path / "take.wav", audio, rate), text


#: tests under these folders load model weights or run the gate end to end: marked slow, so
#: `pytest tests/unit` (or `-m "not slow"`) is the fast loop while `pytest` still runs them all
SLOW_DIRS = tuple(Path(__file__).resolve().parent / d for d in ("models", "integration"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if any(d in Path(str(item.path)).resolve().parents for d in SLOW_DIRS):
            item.add_marker(pytest.mark.slow)


# -- the suite under pytest-xdist (scripts/dev test runs it with -n 2 --dist loadscope) -----------
@pytest.fixture(autouse=True)
def _not_an_xdist_worker_inside(monkeypatch: pytest.MonkeyPatch) -> None:
    """A pytest session a test starts (pytester) is not an xdist worker, even when the suite
    runs under xdist: syrupy reads PYTEST_XDIST_WORKER and, in a worker, keeps its snapshot
    summary for a controller that the inner session does not have. Nor does it inherit the
    thread counts the suite's workers were pinned to: the verdict-stability tests compare
    gate runs whose own -n must set them (a user's settings stay)."""
    for var in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID",
                *filter(None, os.environ.get(PINNED_VAR, "").split(",")), PINNED_VAR):
        monkeypatch.delenv(var, raising=False)


def _reliability_module(nodeid: str) -> bool:
    return any(fnmatch.fnmatch(nodeid.split("::")[0].rsplit("/", 1)[-1], g) for g in MODULE_GLOBS)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """--dist loadscope, with the reliability modules as one scope: their ledger
    (reliability_ledger.LEDGER) lives in one process, and test_reliability's figures test,
    which runs after the others in collection order, must see every module's records."""
    if config.getoption("dist", "no") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SuiteScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "reliability ledger" if _reliability_module(nodeid) else super()._split_scope(nodeid)

    return SuiteScheduling(config, log)
