"""The gate's checks as tests: import these into a test module to run the matrix.

    # tests/gate/test_gate.py
    from pytest_luxgate.gate_suite import *  # noqa: F401,F403

Each test runs once per matrix cell (stack x prompt x scenario); all tests of
a cell share one synthesis and one transcription. There is one `test_<check>`
per registered check (judging/checks.py CHECKS), so a new check is gated
without touching this file, plus `test_baseline`.
"""
from __future__ import annotations

from typing import Any, Callable

from .judging.checks import CHECKS


def _gate_test(name: str) -> Callable[[Any], None]:
    def test(luxgate: Any) -> None:
        luxgate.check(name)

    test.__name__ = test.__qualname__ = f"test_{name}"
    test.__doc__ = CHECKS[name].summary
    return test


for _name in CHECKS:
    globals()[f"test_{_name}"] = _gate_test(_name)


def test_baseline(luxgate, luxgate_snapshot) -> None:
    """No metric worse than the committed baseline beyond its tolerance (syrupy; --snapshot-update
    records). Skipped, with the reason, while a cell has no baseline."""
    luxgate.baseline(luxgate_snapshot)


__all__ = [f"test_{name}" for name in CHECKS] + ["test_baseline"]
