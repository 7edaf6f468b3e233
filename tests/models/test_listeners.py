"""Listener models on real speech: DNSMOS quality and resemblyzer speaker similarity, both ways.

Needs the `listen` extra (installed by scripts/dev); without it the module is
skipped with the install hint, as the checks themselves are.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from pytest_luxgate.judging.analysis import Evidence, analyze, listen
from pytest_luxgate.judging.checks import CheckNotApplicable, judge
from pytest_luxgate.listeners import dnsmos, speaker
from pytest_luxgate.matrix.prompts import DEFAULT_FILE, load_prompts, read_prompt_audio
from pytest_luxgate.judging.thresholds import THRESHOLDS, resolve

for _why in (dnsmos.unavailable(), speaker.unavailable()):
    if _why:
        pytest.skip(_why, allow_module_level=True)

import speech_corpus as C

ASR = "faster-whisper:tiny.en"
TEXT_A = "The quick brown fox jumps over the lazy dog near the river bank."
TEXT_B = "Please take the pot off the stove before it boils over."


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("speech")


@pytest.fixture(scope="module")
def piper_a(piper_stack) -> tuple[np.ndarray, int]:
    out = piper_stack.synthesize(TEXT_A, None, piper_stack.default_params(), seed=7)
    return out.audio, out.sample_rate


@pytest.fixture(scope="module")
def piper_b(piper_stack) -> tuple[np.ndarray, int]:
    out = piper_stack.synthesize(TEXT_B, None, {**piper_stack.default_params(), "length_scale": 1.2}, seed=3)
    return out.audio, out.sample_rate


@pytest.fixture(scope="module")
def evidence_a(piper_a) -> Evidence:
    return analyze(*piper_a, TEXT_A, ASR)


# ------------------------------------------------------------------ quality

def test_clean_speech_passes_the_quality_floor(piper_a, cache: Path) -> None:
    floor = THRESHOLDS["quality_ovrl"].default
    for audio, rate in (piper_a, C.espeak(TEXT_B, cache, voice="en-us+f3", speed=160)):
        mos = dnsmos.score(audio, rate)
        assert mos.ovrl >= floor, mos
        assert all(1.0 <= v <= 5.0 for v in mos.to_dict().values()), mos


@pytest.mark.parametrize("spoil", ["white noise at 0 dB SNR", "hard clipping x6 + 4-bit"])
def test_heavy_noise_or_distortion_fails_the_quality_check(evidence_a: Evidence, piper_a, spoil: str) -> None:
    audio, rate = piper_a
    rng = np.random.default_rng(5)
    if spoil.startswith("white"):
        level = 10 ** (C.speech_level_db(audio, rate) / 20)
        bad = np.clip(audio + level * C.colored_noise(len(audio), rng, "white"), -1, 1)
    else:
        bad = np.round(np.clip(audio / np.max(np.abs(audio)) * 4.8, -1, 1) * 8) / 8
    ev = listen(analyze(bad.astype(np.float32), rate, TEXT_A, ASR), bad, rate, ["quality"])
    result = judge("quality", ev, resolve())
    assert not result.passed, result.message
    assert result.message.startswith("quality_ovrl ") and "limit >= " in result.message
    assert "SIG" in result.message and "BAK" in result.message
    clean = listen(evidence_a, *piper_a, ["quality"])
    assert judge("quality", clean, resolve()).passed
    assert clean.quality.ovrl - ev.quality.ovrl > 0.5


def test_dnsmos_takes_any_rate_and_a_full_scale_peak(piper_a) -> None:
    audio, rate = piper_a
    loud = (audio / np.max(np.abs(audio))).astype(np.float32)  # exactly full scale at 22.05 kHz
    for target in (48_000, 16_000):
        x = C.resample(loud, rate, target)
        assert dnsmos.score(x, target).ovrl > 1.0  # resampling overshoot is clipped, not an error


# ------------------------------------------------------------------ voice

def test_same_voice_passes_and_another_voice_fails(piper_a, piper_b, cache: Path) -> None:
    limit = THRESHOLDS["voice_similarity"].default
    same = speaker.voice_match(*piper_a, *piper_b)
    assert same.similarity >= limit, same
    esp_a = C.espeak(TEXT_A, cache, voice="en-us+m3", speed=160)
    esp_b = C.espeak(TEXT_B, cache, voice="en-us+m3", speed=120)
    assert speaker.voice_match(*esp_a, *esp_b).similarity >= limit  # espeak-ng voice, two texts and rates
    other = speaker.voice_match(*piper_a, *esp_b)
    assert other.similarity < limit, other
    assert same.take_speech_s > 1.0 and same.prompt_speech_s > 1.0


def test_voice_check_against_the_shipped_prompts(evidence_a: Evidence, piper_a) -> None:
    prompts = {p.id: read_prompt_audio(p) for p in load_prompts(DEFAULT_FILE)}
    # prompt_a is the Piper voice itself; prompt_b is espeak-ng en-us+f3
    ok = listen(analyze(*piper_a, TEXT_A, ASR), *piper_a, ["voice"], prompt=prompts["prompt_a"])
    result = judge("voice", ok, resolve())
    assert result.passed, result.message
    bad = listen(analyze(*piper_a, TEXT_A, ASR), *piper_a, ["voice"], prompt=prompts["prompt_b"])
    result = judge("voice", bad, resolve())
    assert not result.passed
    assert result.message.startswith("voice_similarity ") and "limit >= " in result.message
    assert result.value == bad.voice.similarity < result.threshold


def test_voice_without_a_prompt_is_not_applicable(evidence_a: Evidence, piper_a) -> None:
    ev = analyze(*piper_a, TEXT_A, ASR)
    listen(ev, *piper_a, ["voice"], no_prompt="stack 'piper' does not clone a voice")
    with pytest.raises(CheckNotApplicable, match="does not clone a voice"):
        judge("voice", ev, resolve())
    assert ev.voice is None and ev.metrics()["voice_similarity"] is None


# ------------------------------------------------------------------ lazy, optional

def _python(code: str) -> subprocess.CompletedProcess[str]:
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{root / 'tests'}"}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          cwd=root, timeout=300, env=env, check=False)


def test_models_load_only_for_the_checks_that_need_them() -> None:
    proc = _python("""
        import sys
        import numpy as np
        from pytest_luxgate import gate_suite, plugin  # noqa: F401
        from pytest_luxgate.judging import analysis, checks  # noqa: F401
        assert "resemblyzer" not in sys.modules and "speechmos" not in sys.modules, "imported eagerly"
        from pytest_luxgate.stacks.piper import PiperStack
        s = PiperStack(); s.load()
        out = s.synthesize("Stop the car.", None, s.default_params(), 1)
        ev = analysis.analyze(out.audio, out.sample_rate, "Stop the car.", "tiny.en")
        analysis.listen(ev, out.audio, out.sample_rate, ["wer", "pauses", "quality"])
        assert ev.quality is not None and "speechmos" in sys.modules
        assert "resemblyzer" not in sys.modules, "speaker encoder loaded for the quality check"
        print("ok")
    """)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]


def test_a_missing_extra_skips_with_the_install_hint() -> None:
    proc = _python("""
        import sys
        sys.modules["resemblyzer"] = None   # as if the package were not installed
        sys.modules["speechmos"] = None
        import numpy as np
        from pytest_luxgate.judging import analysis
        from pytest_luxgate.judging.checks import CheckNotApplicable, judge
        from pytest_luxgate.stacks.piper import PiperStack
        from pytest_luxgate.judging.thresholds import resolve
        s = PiperStack(); s.load()
        out = s.synthesize("Stop the car.", None, s.default_params(), 1)
        ev = analysis.analyze(out.audio, out.sample_rate, "Stop the car.", "tiny.en")
        analysis.listen(ev, out.audio, out.sample_rate, ["quality", "voice"], prompt=(out.audio, out.sample_rate))
        for name in ("quality", "voice"):
            try:
                judge(name, ev, resolve())
            except CheckNotApplicable as exc:
                print(name, "|", exc)
        assert judge("pauses", ev, resolve()).passed  # pure: needs no extra
    """)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = dict(line.split(" | ", 1) for line in proc.stdout.strip().splitlines())
    assert set(lines) == {"quality", "voice"}
    for why in lines.values():
        assert "not installed" in why and "pip install 'pytest-luxgate[listen]'" in why
