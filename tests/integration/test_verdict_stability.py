"""Verdicts with margin: the default cells get the same transcripts and verdicts however the run
is split (-n 0, -n 2, -p no:xdist), the same verdicts whichever CTranslate2 kernels decode them
(CT2_FORCE_CPU_ISA) and whichever SIMD loops numpy dispatches to (NPY_DISABLE_CPU_FEATURES: the
detectors and the Silero VAD are numpy), and `luxgate check` on a kept WAV hears what the gate
heard, and judges it alike when it starts 5 or 10 ms later (Whisper frames the audio on a 10 ms
grid: a take that starts a few ms later is heard through other frames; docs/CALIBRATION.md "A few
milliseconds of silence").

The sources of drift fixed at the root, each measured in bench/asr_perturbation.py: the ASR
runs on a fixed thread count whatever the workers, Whisper's features are computed in a fixed
order, and the gate judges each take as it keeps it (its 16-bit samples).
"""
from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
from pytester_gate import read_report, run_gate

from pytest_luxgate.cli import main

BASE = ["--luxgate-asr=faster-whisper:base", "--luxgate-keep-wavs=all", "-k", "not test_baseline"]


def _verdicts(report: dict) -> dict[str, dict]:
    return {c["cell"]: {"transcript": c["transcript"],
                        "checks": {n: k["passed"] for n, k in sorted(c["checks"].items())},
                        "wer_errors": c["metrics"]["wer_errors"],
                        "content_word_errors": c["metrics"].get("content_word_errors")}
            for c in report["cells"]}


def _judged(verdicts: dict[str, dict]) -> dict[str, dict]:
    """What decides the run: every check's verdict and the error counts (not the spelling:
    "5.30pm" and "5.30 pm" are one normalised word pair)."""
    return {cell: {k: v for k, v in got.items() if k != "transcript"} for cell, got in verdicts.items()}


def _cpu_has(flag: str) -> bool:
    try:
        from numpy._core._multiarray_umath import __cpu_features__
    except ImportError:  # numpy 1
        from numpy.core._multiarray_umath import __cpu_features__
    return bool(__cpu_features__.get(flag))


def _numpy_features_above(isa: str) -> str:
    """numpy's dispatched SIMD features this CPU has above `isa` (names as this numpy knows
    them: X86_V4/AVX512_* in numpy 2.4, AVX512F/... before), for NPY_DISABLE_CPU_FEATURES, so
    numpy computes as on a machine without them."""
    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    except ImportError:  # numpy 1
        from numpy.core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    above_avx2 = {n for n in __cpu_dispatch__ if n.startswith("AVX512") or n == "X86_V4"}
    above_avx = above_avx2 | {"X86_V3", "AVX2", "FMA3", "F16C", "AVX_VNNI"}
    drop = {"AVX512": set(), "AVX2": above_avx2}.get(isa, above_avx)
    # only what numpy dispatches to and this CPU has (numpy warns about any other name)
    return " ".join(sorted(n for n in drop if n in __cpu_dispatch__ and __cpu_features__.get(n)))


def test_the_default_cells_judge_alike_whichever_kernels_decode_them(pytester: pytest.Pytester,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    isas = ["GENERIC", "AVX", "AVX2"] + (["AVX512"] if _cpu_has("AVX512F") else [])
    runs = {}
    for isa in isas:
        monkeypatch.setenv("CT2_FORCE_CPU_ISA", isa)
        monkeypatch.setenv("NPY_DISABLE_CPU_FEATURES", _numpy_features_above(isa))
        res = run_gate(pytester, *BASE, subprocess=True)
        assert res.ret == pytest.ExitCode.OK, (isa, res.stdout.str())
        runs[isa] = _judged(_verdicts(read_report(pytester)))
    assert len(runs[isas[0]]) == 5
    for isa in isas[1:]:
        assert runs[isa] == runs[isas[0]], isa


def test_the_default_cells_judge_alike_under_every_split_and_from_their_kept_wavs(
        pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str]) -> None:
    runs = {}
    for name, extra in (("-n 0", ["-n", "0"]), ("-n 2", ["-n", "2"]), ("no xdist", ["-p", "no:xdist"])):
        res = run_gate(pytester, *BASE, *extra, subprocess=True)
        assert res.ret == pytest.ExitCode.OK, res.stdout.str()
        report = read_report(pytester)
        runs[name] = _verdicts(report)
    assert len(runs["-n 0"]) == 5
    assert runs["-n 0"] == runs["-n 2"] == runs["no xdist"]

    # the kept WAVs of the last run, judged by `luxgate check` in one process
    cells = {c["cell"]: c for c in report["cells"]}
    manifest = pytester.path / "out" / "takes.jsonl"
    manifest.write_text("".join(json.dumps({"wav": c["wav"], "text": c["text"],
                                            **({"seams": c["seams"]} if c["seams"] else {})}) + "\n"
                                for c in cells.values()))
    capsys.readouterr()
    main(["check", "--manifest", str(manifest), "--asr", "faster-whisper:base", "--json",
          "--checks", "wer,repeat,start,tail,clipping,rate"])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert len(lines) == 5
    for line in lines:
        cell = next(c for c in cells.values() if line["wav"].endswith(c["wav"]))
        assert line["transcript"] == cell["transcript"], cell["cell"]
        for name, verdict in line["checks"].items():
            assert verdict["passed"] == cell["checks"][name]["passed"], (cell["cell"], name)
        for key in ("wer_errors", "content_word_errors", "onset_s", "offset_s", "pre_onset_noise_db"):
            assert line["metrics"][key] == cell["metrics"][key], (cell["cell"], key)

    # the same takes, 5 and 10 ms later: other frames, the same verdicts and error counts
    later, manifest = {}, pytester.path / "out" / "later.jsonl"
    for k, c in enumerate(cells.values()):
        audio, rate = sf.read(pytester.path / "out" / c["wav"], dtype="int16")  # the kept 16-bit samples
        for ms in (5, 10):
            path = pytester.path / "out" / f"later-{k}-{ms}ms.wav"
            sf.write(path, np.concatenate([np.zeros(rate * ms // 1000, np.int16), audio]), rate, subtype="PCM_16")
            later[path.name] = c
    manifest.write_text("".join(json.dumps({"wav": name, "text": c["text"]}) + "\n" for name, c in later.items()))
    main(["check", "--manifest", str(manifest), "--asr", "faster-whisper:base", "--json",
          "--checks", "wer,repeat,start,tail,clipping,rate"])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert len(lines) == 10
    for line in lines:
        cell = later[line["wav"].rsplit("/", 1)[-1]]
        for name, verdict in line["checks"].items():
            assert verdict["passed"] == cell["checks"][name]["passed"], (line["wav"], name, verdict["message"])
        for key in ("wer_errors", "content_word_errors"):
            assert line["metrics"][key] == cell["metrics"][key], (line["wav"], key)
