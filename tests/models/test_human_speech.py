"""Held-out real human speech: the checks pass it, and still catch faults put into it.

Every detector was calibrated on Piper and espeak-ng speech (docs/CALIBRATION.md).
These clips were not: people recorded in rooms (tests/data/human/README.md: a
CMU ARCTIC studio sentence, four LibriVox audiobook utterances from a 64 kbit/s
MP3), with what such recordings have and synthetic speech lacks, a steady
background 20-28 dB below the speech. A voice-cloning engine copies its prompt's room
into every take, so a cloned take is allowed its prompt's background
(`prompt_noise_margin_db`); noise beyond that, and every other fault, still fails.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import speech_corpus as C
from pytester_gate import run_gate

from pytest_luxgate.judging.analysis import Evidence, analyze, listen, prompt_background
from pytest_luxgate.judging.checks import judge
from pytest_luxgate.listeners.vad import speech_segments
from pytest_luxgate.metrics.level import background_db
from pytest_luxgate.judging.thresholds import resolve

HUMAN = C.HUMAN_DIR
ARCTIC_TEXT = C.HUMAN_TEXTS["arctic_a0007"]
HUMAN_CLIPS = C.HUMAN_TEXTS
ASR = "faster-whisper:base"  # the gate's default model
CHECKS = ("wer", "repeat", "start", "tail", "clipping", "rate", "pauses")


@pytest.fixture(scope="module")
def arctic() -> C.Clip:
    return C.human_clip("arctic_a0007")


@pytest.fixture(scope="module")
def room(arctic: C.Clip) -> float:
    bg = prompt_background(arctic.audio, arctic.sr)
    assert bg is not None
    return bg


def _judged(clip: C.Clip, prompt_bg: float | None, checks: tuple[str, ...] = CHECKS) -> dict:
    ev: Evidence = analyze(clip.audio, clip.sr, clip.text, ASR)
    ev.prompt_background_db = prompt_bg
    th = resolve()
    return {name: judge(name, ev, th) for name in checks}


def test_the_room_is_measured_as_the_recording_has_it(arctic: C.Clip, room: float) -> None:
    # independent reading: the lead before the first word, median 50 ms window,
    # against the loudest 20 ms windows of the speech
    lead = arctic.audio[: int((arctic.speech_start - 0.2) * arctic.sr)]
    w = int(0.05 * arctic.sr)
    lead_db = np.median([20 * np.log10(np.sqrt(np.mean(lead[i:i + w] ** 2)))
                         for i in range(0, len(lead) - w, w // 5)])
    speech = arctic.audio[int(arctic.speech_start * arctic.sr): int(arctic.speech_end * arctic.sr)]
    frames = speech[: len(speech) // 320 * 320].reshape(-1, 320)
    rms = np.sqrt(np.mean(frames ** 2, axis=1))
    speech_db = 20 * np.log10(np.sqrt(np.mean(rms[rms >= rms.max() / 100] ** 2)))
    assert abs(room - (lead_db - speech_db)) < 2.0
    assert -32.0 < room < -23.0, "CMU ARCTIC a0007's background sits about 28 dB under its speech"


def test_background_of_synthetic_rooms(tmp_path: Path) -> None:
    spec = C.ClipSpec("potato", "piper", seed=7, lead_s=0.6, trail_s=0.6, rate=24_000)
    clean = C.make_clip(spec, tmp_path)
    seg = speech_segments(clean.audio, clean.sr)
    assert background_db(clean.audio, clean.sr, seg) < -60.0, "Piper's silence is no room"
    for rel in (-40.0, -30.0, -20.0):
        noisy = C.add_noise_floor(clean.audio, clean.sr, rel, np.random.default_rng(1))
        got = background_db(noisy, clean.sr, speech_segments(noisy, clean.sr))
        assert got is not None and abs(got - rel) < 2.5, (rel, got)
    # one breath in the lead does not make the room louder (median, not loudest)
    noisy = C.add_noise_floor(clean.audio, clean.sr, -35.0, np.random.default_rng(2))
    breathy = noisy.copy()
    b = int(0.1 * clean.sr)
    breathy[b: 3 * b] += 0.3 * np.random.default_rng(3).standard_normal(2 * b).astype(np.float32) \
        * np.hanning(2 * b).astype(np.float32) * float(np.sqrt(np.mean(noisy ** 2)))
    seg = speech_segments(noisy, clean.sr)
    assert abs(background_db(breathy, clean.sr, seg) - background_db(noisy, clean.sr, seg)) < 1.0
    # a prompt cut tight to its words says nothing about its room
    tight = C.make_clip(C.ClipSpec("potato", "piper", seed=7, lead_s=0.02, trail_s=0.02), tmp_path)
    assert background_db(tight.audio, tight.sr, speech_segments(tight.audio, tight.sr)) is None


@pytest.mark.parametrize("name", list(HUMAN_CLIPS))
def test_clean_human_speech_passes_every_check_as_a_cloned_take(name: str) -> None:
    clip = C.human_clip(name)
    room = prompt_background(clip.audio, clip.sr)
    assert room is not None and -30.0 < room < -15.0, "each of these recordings has a room to measure"
    ev = analyze(clip.audio, clip.sr, clip.text, ASR)
    ev.prompt_background_db = room
    listen(ev, clip.audio, clip.sr, ("quality",))
    th = resolve()
    names = CHECKS + (("quality",) if ev.quality is not None else ())
    failed = {n: r.message for n in names if not (r := judge(n, ev, th)).passed}
    assert not failed, failed


def test_without_its_prompt_the_room_counts_as_noise(arctic: C.Clip) -> None:
    """A take that is not a clone (no prompt) is held to the absolute limit: 28 dB
    of room under the speech is noise a clean engine does not make."""
    got = _judged(arctic, None, ("start", "tail"))
    assert not got["start"].passed and "pre_onset_noise_db" in got["start"].message
    assert "raised from" not in got["start"].message
    assert not got["tail"].passed and "post_offset_noise_db" in got["tail"].message


@pytest.mark.parametrize("take, prompt, same", [
    ("librivox_sense_0870", "librivox_sense_0920", True),   # one reader, other words
    ("librivox_sense_0880", "librivox_sense_0930", True),
    ("librivox_sense_0870", "arctic_a0007", False),         # another speaker
    ("librivox_sense_0880", "arctic_a0007", False),
])
def test_voice_check_tells_human_speakers_apart(take: str, prompt: str, same: bool) -> None:
    """The voice limit was set on synthetic voices; two people put it to the test."""
    t, p = C.human_clip(take), C.human_clip(prompt)
    ev = analyze(t.audio, t.sr, t.text, ASR)
    listen(ev, t.audio, t.sr, ("voice",), prompt=(p.audio, p.sr))
    if ev.voice is None:
        pytest.skip(ev.not_heard.get("voice", "voice listener not installed"))
    got = judge("voice", ev, resolve())
    assert got.passed is same, got.message


def test_a_quiet_take_has_the_same_edges(arctic: C.Clip, room: float) -> None:
    """Levels are judged re the speech, so volume must not matter: the same recording
    40 dB quieter (speech at -61 dBFS) keeps its onset, offset and verdicts. (Silero
    alone heard its first words 0.4 s late, and they then read as noise before them.)"""
    quiet = C.Clip("quiet", arctic.audio * np.float32(0.01), arctic.sr, arctic.text,
                   arctic.speech_start, arctic.speech_end)
    loud, soft = (analyze(c.audio, c.sr, c.text, ASR) for c in (arctic, quiet))
    assert abs(soft.start.vad_onset_s - loud.start.vad_onset_s) < 0.04
    assert abs(soft.tail.vad_offset_s - loud.tail.vad_offset_s) < 0.04
    got = _judged(quiet, room, ("start", "tail"))
    assert all(r.passed for r in got.values()), {n: r.message for n, r in got.items()}
    # ...and a fault in the quiet take is still one: a click before its first word
    clicked = _judged(C.click(quiet, np.random.default_rng(11), amp=0.002), room, ("start",))["start"]
    assert not clicked.passed and "pre_onset_click_db" in clicked.message, clicked.message


@pytest.mark.parametrize("offset_db, passes", [(0.0, True), (12.0, False)])
def test_noise_is_judged_against_the_prompts_room(arctic: C.Clip, room: float, offset_db: float,
                                                  passes: bool) -> None:
    """Lead noise at the room's own level is the prompt's; 12 dB above it is the engine's."""
    clip = C.noise_lead(arctic, np.random.default_rng(5), rel_db=room + offset_db)
    got = _judged(clip, room, ("start",))["start"]
    assert got.passed is passes, got.message
    if not passes:
        assert "raised from -38 dB by the voice prompt's own background" in got.message


@pytest.mark.parametrize("at_s", [1.40, 2.35])
def test_a_pause_in_a_room_sounds_like_the_room(arctic: C.Clip, at_s: float) -> None:
    """A pause in a recording with a room is not digital silence but the room: 0.5 s of
    the recording's own lead put between two words fails the pause check, and the clip
    as recorded passes it (its word gaps stay under the limit)."""
    room = arctic.audio[: int(0.2 * arctic.sr)]
    gap = np.concatenate([room, room, room[: int(0.1 * arctic.sr)]])
    cut = int(at_s * arctic.sr)
    spoiled = C.Clip("paused", np.concatenate([arctic.audio[:cut], gap, arctic.audio[cut:]]), arctic.sr,
                     arctic.text, arctic.speech_start, arctic.speech_end + 0.5)
    got = _judged(spoiled, None, ("pauses",))["pauses"]
    assert not got.passed, got.message
    assert 0.45 <= got.value <= 0.6 and f"at {at_s:.2f}-" in got.message
    assert _judged(arctic, None, ("pauses",))["pauses"].passed


# each fault drawn beyond the room's allowance where it is a noise, from the
# injectors the calibration used (tests/speech_corpus.py), at fixed seeds
FAULTS = {
    "noise_tail": ("tail", lambda c, rng, room: C.noise_tail(c, rng, rel_db=room + 12.0)),
    "breath": ("start", lambda c, rng, room: C.breath(c, rng, rel_db=room + 12.0)),
    "click": ("start", lambda c, rng, room: C.click(c, rng, amp=0.2)),
    "buzz_tail": ("tail", lambda c, rng, room: C.buzz_tail(c, rng, seconds=0.5)),
    "truncation": ("tail", lambda c, rng, room: C.truncate(c, rng)),
    "clipping": ("clipping", lambda c, rng, room: C.hard_clip(c, rng, gain=4.0)),
    "loop_copy": ("repeat", lambda c, rng, room: C.loop_copy(c, rng)),
    "trail_garbage": ("tail", lambda c, rng, room: C.trail_garbage(c, _DONOR[0], rng, gap_s=0.1)),
    "lead_garbage": ("start", lambda c, rng, room: C.lead_garbage(c, _DONOR[0], rng, seconds=(0.6, 0.8),
                                                                 gap_s=0.1)),
}
_DONOR: list[np.ndarray] = []


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("name", ["arctic_a0007", "librivox_sense_0870"])  # the quietest and the loudest room
def test_faults_in_human_speech_are_caught(name: str, fault: str,
                                           tmp_path_factory: pytest.TempPathFactory) -> None:
    clean = C.human_clip(name)
    room = prompt_background(clean.audio, clean.sr)
    if not _DONOR:  # garbage is another voice's speech, shuffled (espeak-ng: a different speaker)
        donor = C.make_clip(C.ClipSpec("pauses", "espeak", voice="en-us+m7", speed=170, rate=clean.sr),
                            tmp_path_factory.mktemp("donor"))
        _DONOR.append(donor.audio)
    check, inject = FAULTS[fault]
    clip = inject(clean, np.random.default_rng(11), room)
    got = _judged(clip, room, (check,))[check]
    assert not got.passed, f"{fault} in {name} passed {check}: {got.message}"


def test_a_cloned_cell_reports_its_prompts_room(pytester: pytest.Pytester) -> None:
    """End to end: the gate measures each prompt's room once and a cloning stack's
    cells carry it; an own-voice stack's cells do not."""
    prompts = pytester.path / "prompts.toml"
    prompts.write_text(f'[[prompt]]\nid = "arctic"\nwav = "{HUMAN / "arctic_a0007.wav"}"\n'
                       f'text = "{ARCTIC_TEXT}"\n')
    run_gate(pytester, f"--luxgate-prompts={prompts}", "--luxgate-scenario=short_plain", "-k", "test_start",
             stacks="piper,cloning_piper=fault_stacks:CloningPiper")
    cells = {c["stack"]: c for c in json.loads((pytester.path / "out" / "report.json").read_text())["cells"]}
    assert cells["cloning_piper"]["prompt"] == "arctic"
    audio, sr = sf.read(HUMAN / "arctic_a0007.wav", dtype="float32")
    assert abs(cells["cloning_piper"]["metrics"]["prompt_background_db"] - prompt_background(audio, sr)) < 0.01
    assert cells["piper"]["metrics"]["prompt_background_db"] is None
