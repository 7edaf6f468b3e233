"""core/threads.py: numpy's BLAS on one thread in every luxgate process (and in its other threads)."""
from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest
from threadpoolctl import threadpool_info

from pytest_luxgate.core.threads import BLAS_THREADS

PROBE = """
import threading, json
import numpy as np
from threadpoolctl import threadpool_info

def blas():
    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]

before = blas()
from pytest_luxgate.core.threads import pin_blas_threads
pin_blas_threads()
seen = {}
t = threading.Thread(target=lambda: seen.setdefault("thread", blas()))
t.start(); t.join()
import scipy.linalg  # its own OpenBLAS, loaded after the pin (under librosa/DNSMOS in a run)
print(json.dumps({"before": before, "after": blas(), "thread": seen["thread"]}))
"""


def _blas_threads() -> list[int]:
    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: BLAS has one thread anyway")
def test_pin_limits_blas_for_the_process_and_its_other_threads() -> None:
    import json

    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, check=True)
    got = json.loads(out.stdout)
    assert got["before"] and max(got["before"]) > BLAS_THREADS  # the default: more threads
    assert len(got["after"]) >= len(got["before"]) and got["after"] == [BLAS_THREADS] * len(got["after"])
    assert got["thread"] == [BLAS_THREADS] * len(got["thread"])


def test_the_plugin_pinned_this_pytest_process() -> None:
    # this suite runs with the plugin active: pytest_configure pinned it before any test
    seen: dict[str, list[int]] = {}
    t = threading.Thread(target=lambda: seen.setdefault("t", _blas_threads()))
    t.start()
    t.join()
    assert _blas_threads() and set(_blas_threads()) == {BLAS_THREADS}
    assert set(seen["t"]) == {BLAS_THREADS}
