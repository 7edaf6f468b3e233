"""Reproducible transcripts (issue 15, item 1): what the ASR hears must not depend
on the xdist worker count, the thread environment or the import order."""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import pytest_luxgate.asr as asr_pkg
from pytest_luxgate.asr import base as asr_base
from pytest_luxgate.asr.base import CPU_THREADS

ROOT = Path(__file__).resolve().parents[2]
CLIP = ROOT / "tests" / "data" / "human" / "arctic_a0007.wav"
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "LUXGATE_THREADS")


class _RecordingModel:
    """Stands in for faster_whisper.WhisperModel: records how it was built."""

    built: list[dict] = []
    feat_kwargs = {"feature_size": 80}

    def __init__(self, path: str, **kwargs) -> None:
        type(self).built.append(kwargs)


@pytest.fixture
def recording(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    import faster_whisper

    _RecordingModel.built = []
    monkeypatch.setattr(faster_whisper, "WhisperModel", _RecordingModel)
    monkeypatch.setenv("LUXGATE_ASR_ISA", "native")  # the ISA pin has its own tests
    return _RecordingModel.built


@pytest.mark.parametrize("env", [{}, {"LUXGATE_THREADS": "7", "OMP_NUM_THREADS": "5"},
                                 {"LUXGATE_THREADS": "1", "OMP_NUM_THREADS": "1"}])
def test_cpu_threads_are_fixed_whatever_the_environment(recording, monkeypatch, env) -> None:
    from pytest_luxgate.asr.faster_whisper_backend import FasterWhisperASR

    for var in THREAD_VARS:
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    asr = FasterWhisperASR("tiny.en")
    assert recording[-1]["cpu_threads"] == CPU_THREADS == asr.cpu_threads == 1


def test_an_explicit_thread_count_still_reaches_ctranslate2(recording, monkeypatch) -> None:
    """The other way: the recorder does see the count, so the test above would catch an env read."""
    from pytest_luxgate.asr.faster_whisper_backend import FasterWhisperASR

    monkeypatch.setenv("LUXGATE_THREADS", "7")
    FasterWhisperASR("tiny.en", cpu_threads=3)
    assert recording[-1]["cpu_threads"] == 3


def test_transformers_backend_threads_ignore_the_environment(monkeypatch) -> None:
    """The transformers backend reads its thread count the same way (no model loaded here)."""
    source = (ROOT / "pytest_luxgate" / "asr" / "transformers_backend.py").read_text()
    assert "LUXGATE_THREADS\", " not in source and "os.environ" not in source
    assert "int(threads or CPU_THREADS)" in source


_CHILD = """
import json, sys
import soundfile as sf
from pytest_luxgate.asr import get_asr
audio, rate = sf.read(sys.argv[1], dtype="float32")
asr = get_asr("faster-whisper:base")
t = asr.transcribe(audio, rate)
print(json.dumps({"threads": asr.cpu_threads, "text": t.text,
                  "words": [[w.text, w.start, w.end, w.probability] for w in t.words]}))
"""


def _transcribe_in_child(env_update: dict[str, str]) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARS}
    env.update(env_update, PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-c", _CHILD, str(CLIP)], env=env, capture_output=True,
                         text=True, timeout=300, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_same_transcript_under_n0_and_n2_thread_settings() -> None:
    """``-n 0`` leaves the thread variables unset (the old code then used every core);
    each of ``-n 2``'s workers gets cores // 2 (xdist_support.worker_env); a 4-core
    machine's ``-n 0`` run with LUXGATE_THREADS=4 is the third setting. Same bits."""
    n0 = _transcribe_in_child({})
    n2 = _transcribe_in_child({var: "1" for var in THREAD_VARS})
    wide = _transcribe_in_child({var: "4" for var in THREAD_VARS})
    assert n0["threads"] == n2["threads"] == wide["threads"] == CPU_THREADS
    assert n0 == n2 == wide
    assert n0["text"], "the clip is speech: an empty transcript would make this test vacuous"


def test_word_probabilities_are_filled() -> None:
    import soundfile as sf

    audio, rate = sf.read(CLIP, dtype="float32")
    t = asr_pkg.get_asr("faster-whisper:tiny.en").transcribe(audio, rate)
    assert t.words
    assert all(w.probability is not None and 0.0 < w.probability <= 1.0 for w in t.words), t.words


def test_asr_base_imports_no_backend_so_there_is_no_import_cycle() -> None:
    """asr.base is imported by every backend; the factory that imports the backends
    lives in asr.registry. Lazy imports inside functions count too."""
    tree = ast.parse(Path(asr_base.__file__).read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert not imported & {"faster_whisper_backend", "transformers_backend", "registry", "bundled",
                           "ct2_convert"}, imported
    from pytest_luxgate.asr import ASRBackend, ASRError, get_asr, resample  # the public names stay

    assert get_asr.__module__ == "pytest_luxgate.asr.registry"
    assert ASRBackend is asr_base.ASRBackend and ASRError is asr_base.ASRError and resample is asr_base.resample


_FEATURES_CHILD = """
import hashlib, sys
import soundfile as sf
from pytest_luxgate.asr import resample
from pytest_luxgate.asr.features import stable_feature_extractor
audio, rate = sf.read(sys.argv[1], dtype="float32")
print(hashlib.sha256(stable_feature_extractor(feature_size=80)(resample(audio, rate)).tobytes()).hexdigest())
"""

#: what changed faster-whisper's own features on the development machine (AVX-512):
#: OpenBLAS's thread count (its SGEMM) and numpy's AVX-512 loops (abs, log10)
_FEATURE_ENVS = [{}, {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}, {"OPENBLAS_NUM_THREADS": "3"},
                 {"NPY_DISABLE_CPU_FEATURES": "X86_V4,AVX512_ICL,AVX512_SPR", "OPENBLAS_CORETYPE": "Haswell"}]


def test_stable_features_are_bit_identical_across_blas_threads_and_numpy_isa() -> None:
    hashes = set()
    for update in _FEATURE_ENVS:
        env = {k: v for k, v in os.environ.items()
               if k not in (*THREAD_VARS, "NPY_DISABLE_CPU_FEATURES", "OPENBLAS_CORETYPE")}
        env.update(update, PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""))
        out = subprocess.run([sys.executable, "-c", _FEATURES_CHILD, str(CLIP)], env=env, capture_output=True,
                             text=True, timeout=120, check=True)
        hashes.add(out.stdout.strip().splitlines()[-1])
    assert len(hashes) == 1, hashes


def test_stable_features_are_whispers_features() -> None:
    """The same log-Mel spectrogram as faster-whisper's (to float32 rounding), and it
    still hears the audio: one LSB more in one sample changes it."""
    import numpy as np
    import soundfile as sf
    from faster_whisper.feature_extractor import FeatureExtractor

    from pytest_luxgate.asr import resample
    from pytest_luxgate.asr.features import stable_feature_extractor

    audio, rate = sf.read(CLIP, dtype="float32")
    x = resample(audio, rate)
    stable, stock = stable_feature_extractor(feature_size=80)(x), FeatureExtractor(feature_size=80)(x)
    assert stable.shape == stock.shape and stable.dtype == np.float32
    assert np.max(np.abs(stable - stock)) < 1e-5
    y = x.copy()
    y[len(y) // 2] += 1 / 32768
    assert not np.array_equal(stable_feature_extractor(feature_size=80)(y), stable)


def test_the_backend_uses_the_stable_features(recording) -> None:
    from pytest_luxgate.asr.faster_whisper_backend import FasterWhisperASR

    asr = FasterWhisperASR("tiny.en")
    assert type(asr._model.feature_extractor).__name__ == "StableFeatureExtractor"


# ---------------------------------------------------------------- the CPU ISA pin

PIN = {"CT2_FORCE_CPU_ISA": "AVX2", "MKL_CBWR": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2", "DNNL_MAX_CPU_ISA": "AVX2"}


@pytest.fixture
def x86_avx2(monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_luxgate.asr import faster_whisper_backend as fw

    monkeypatch.setattr(fw.platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(fw, "_cpu_has_avx2", lambda: True)
    monkeypatch.delitem(sys.modules, "ctranslate2", raising=False)


def test_isa_pin_sets_avx2_for_ctranslate2_mkl_and_onednn(x86_avx2) -> None:
    from pytest_luxgate.asr.faster_whisper_backend import pin_cpu_isa

    env: dict[str, str] = {"LUXGATE_ASR_ISA": "avx2"}
    assert pin_cpu_isa(env) == "AVX2" and env.items() >= PIN.items()
    assert pin_cpu_isa(env := {"LUXGATE_ASR_ISA": "AVX2"}) == "AVX2" and env.items() >= PIN.items()
    assert pin_cpu_isa(env := {}) == "native" and env == {}  # opt-in: the default leaves the CPU its code


def test_isa_pin_can_be_declined_and_leaves_a_users_choice(x86_avx2) -> None:
    from pytest_luxgate.asr import ASRError
    from pytest_luxgate.asr.faster_whisper_backend import pin_cpu_isa

    env = {"LUXGATE_ASR_ISA": "native"}
    assert pin_cpu_isa(env) == "native" and env == {"LUXGATE_ASR_ISA": "native"}
    env = {"CT2_FORCE_CPU_ISA": "AVX", "LUXGATE_ASR_ISA": "avx2"}
    pin_cpu_isa(env)
    assert env["CT2_FORCE_CPU_ISA"] == "AVX" and env["MKL_CBWR"] == "AVX2"
    with pytest.raises(ASRError, match="LUXGATE_ASR_ISA='avx512'"):
        pin_cpu_isa({"LUXGATE_ASR_ISA": "avx512"})


def test_isa_pin_only_where_avx2_exists(monkeypatch) -> None:
    from pytest_luxgate.asr import faster_whisper_backend as fw

    monkeypatch.setattr(fw.platform, "machine", lambda: "aarch64")
    env: dict[str, str] = {"LUXGATE_ASR_ISA": "avx2"}
    assert fw.pin_cpu_isa(env).startswith("native") and env == {"LUXGATE_ASR_ISA": "avx2"}
    monkeypatch.setattr(fw.platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(fw, "_cpu_has_avx2", lambda: False)
    assert fw.pin_cpu_isa(env).startswith("native") and env == {"LUXGATE_ASR_ISA": "avx2"}


def test_isa_pin_warns_when_ctranslate2_was_loaded_first(x86_avx2, monkeypatch) -> None:
    from pytest_luxgate.asr.faster_whisper_backend import pin_cpu_isa

    monkeypatch.setitem(sys.modules, "ctranslate2", object())
    with pytest.warns(UserWarning, match="imported before"):
        assert pin_cpu_isa({"LUXGATE_ASR_ISA": "avx2"}) == "native (ctranslate2 loaded first)"
    assert pin_cpu_isa({**PIN, "LUXGATE_ASR_ISA": "avx2"}) == "AVX2"  # pinned by the environment: nothing lost


_ISA_CHILD = """
import json, sys
import soundfile as sf
from pytest_luxgate.asr import get_asr
audio, rate = sf.read(sys.argv[1], dtype="float32")
asr = get_asr("faster-whisper:base")
t = asr.transcribe(audio, rate)
print(json.dumps({"isa": asr.isa, "words": [[w.text, w.probability] for w in t.words]}))
"""


def test_the_avx2_pin_computes_what_an_explicit_avx2_environment_computes() -> None:
    """The pin reaches CTranslate2: a pinned run equals a run with the AVX2 variables
    set by hand, and (the other way) differs from the CPU's own code where that is not AVX2."""
    import numpy as np

    def run(update: dict[str, str]) -> dict:
        env = {k: v for k, v in os.environ.items() if k not in (*PIN, "LUXGATE_ASR_ISA")}
        env.update(update, PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""))
        out = subprocess.run([sys.executable, "-c", _ISA_CHILD, str(CLIP)], env=env, capture_output=True,
                             text=True, timeout=300, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])

    pinned = run({"LUXGATE_ASR_ISA": "avx2"})
    by_hand = run({**PIN, "LUXGATE_ASR_ISA": "native"})
    assert pinned["isa"] == "AVX2" and by_hand["isa"] == "native"
    assert pinned["words"] == by_hand["words"]
    from numpy._core._multiarray_umath import __cpu_features__

    if __cpu_features__.get("AVX512F"):
        native = run({"LUXGATE_ASR_ISA": "native"})
        probs = np.array([p for _, p in pinned["words"]])
        assert len(native["words"]) != len(pinned["words"]) or \
            not np.array_equal(probs, [p for _, p in native["words"]]), "AVX-512 code computed the same bits"
