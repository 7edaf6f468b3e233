"""Everything the checks need to know about one take, computed once.

`analyze` runs the listeners (ASR, VAD) and the pure metrics; checks then
only compare numbers with thresholds. The plugin and `luxgate check` both
call this, so a take is judged the same way everywhere.
"""
from __future__ import annotations

import functools
import importlib
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Collection, Sequence

import numpy as np

from ..asr import get_asr
from ..asr.base import Forcer, force_text
from ..core.types import Segment, TextSpan, Transcript, Word
from ..listeners.aligner import text_span
from ..listeners.vad import VAD_RATE, speech_segments, to_16k
from ..metrics.content_words import (
    ContentWordErrors,
    SoundsAlikeWER,
    content_word_errors,
    hyp_probabilities,
    rare_words,
    sounds_alike_wer,
)
from ..metrics.edges import StartMetrics, TailMetrics, edge_metrics
from ..metrics.level import (
    LevelMetrics,
    background_db,
    background_dbfs,
    level_metrics,
    validate_audio,
)
from ..metrics.loops import LoopMetrics, audio_loops
from ..metrics.pauses import PauseMetrics, pause_metrics
from ..metrics.rate import Rate, speaking_rate
from ..metrics.seams import SeamMetrics, click_scan, seam_metrics
from ..metrics.text import (
    RepeatMetrics,
    WordError,
    legacy_asr_sim,
    repeat_metrics,
    word_error,
)
from .checks import CHECKS, LISTENERS, REPORTED
from .forcing import forced_reference


@dataclass
class Evidence:
    text: str
    duration_s: float
    transcript: Transcript
    segments: list[Segment]
    wer: WordError
    repeats: RepeatMetrics
    loops: LoopMetrics
    start: StartMetrics
    tail: TailMetrics
    level: LevelMetrics
    rate: Rate
    timings: dict[str, float] = field(default_factory=dict)
    #: the joins of a chunked take, measured; None when the seam times are unknown
    seams: SeamMetrics | None = None
    #: whole-file click scan (time_s, dB above context), run when the seam times are unknown
    clicks: list[tuple[float, float]] | None = None
    #: silent gaps between words and whether the text's punctuation explains them
    pauses: PauseMetrics | None = None
    #: listener models, filled by `listen` only for the checks that run (see LISTENER_CHECKS)
    quality: Any = None          # listeners.dnsmos.MOS
    voice: Any = None            # listeners.speaker.VoiceMatch
    #: listener check -> why it could not listen (extra not installed, no prompt): check skipped
    not_heard: dict[str, str] = field(default_factory=dict)
    #: listener check -> the error its model raised on this take: check failed, other checks unharmed
    listener_errors: dict[str, str] = field(default_factory=dict)
    #: the voice prompt's own steady background, dB re its speech (`prompt_background`); a
    #: cloning engine copies the prompt's room, so the noise checks allow for it. None: no
    #: prompt, a stack that does not clone, or a prompt with too little non-speech to tell
    prompt_background_db: float | None = None
    #: reference content words said wrong or not at all, the recogniser's slips excused
    #: (metrics/content_words.py); None only for Evidence built by hand
    content_words: ContentWordErrors | None = None
    #: the WER the limit counts: error regions that sound like the text (the recogniser
    #: cutting the same sounds into other words) left out; None only for Evidence built by hand
    wer_counted: SoundsAlikeWER | None = None
    #: check name -> what that check's own `measure` found (registry rows with a measure)
    measured: dict[str, Any] = field(default_factory=dict)

    def metrics(self) -> dict[str, Any]:
        """Flat, JSON-ready numbers for reports (the full objects stay here): every registry
        row's report metrics, then the cell's own facts."""
        out = {key: row.get(self) for key, row in REPORTED.items()}
        out["prompt_background_db"] = None if self.prompt_background_db is None \
            else round(self.prompt_background_db, 2)
        return out

    def legacy(self) -> dict[str, Any]:
        """The original scripts' metrics, for comparison with old runs."""
        return {"asr_sim": round(legacy_asr_sim(self.text, self.transcript.text), 4),
                "start_ratio": self.start.start_ratio, "tail_ratio": self.tail.tail_ratio,
                "repeat_ratio": round(self.repeats.legacy_repeat_ratio, 4)}

    def details(self) -> dict[str, Any]:
        return {"wer": self.wer.to_dict(),
                "content_words": None if self.content_words is None else self.content_words.to_dict(),
                "wer_counted": None if self.wer_counted is None else self.wer_counted.to_dict(),
                "repeats": self.repeats.to_dict(),
                "loops": self.loops.to_dict(), "start": self.start.to_dict(),
                "tail": self.tail.to_dict(), "level": self.level.to_dict(),
                "rate": self.rate.to_dict(),
                "seams": None if self.seams is None else self.seams.to_dict(),
                "clicks": None if self.clicks is None else [list(c) for c in self.clicks],
                "pauses": None if self.pauses is None else self.pauses.to_dict(),
                "quality": None if self.quality is None else self.quality.to_dict(),
                "voice": None if self.voice is None else self.voice.to_dict(),
                **{name: m.to_dict() for name, m in self.measured.items()},
                "segments": [[round(s.start, 3), round(s.end, 3)] for s in self.segments],
                "words": [[w.text, round(w.start, 3), round(w.end, 3)] for w in self.transcript.words]}


def analyze(audio: np.ndarray, sample_rate: int, text: str, asr: str,
            seams: list[float] | None = None,
            transcriber: Callable[[np.ndarray, int], Transcript] | None = None,
            forcer: Forcer | None = None,
            aligned: Callable[[], TextSpan | None] | None = None) -> Evidence:
    """Transcribe, segment and measure one take (`asr` is a get_asr spec).

    `transcriber` replaces `get_asr(asr).transcribe` (the plugin's persistent
    cache passes one that loads the model only on a miss), and `forcer` the
    backend's `force` (the second opinion on content words; a backend without
    one gives none).

    `aligned` gives `text_span` of this audio and text, worked out elsewhere (the runner aligns
    a take on its side thread while the main one transcribes); None: aligned here.

    `seams`: the take's chunk joins in seconds ([] for a one-pass take); when
    they are unknown (None) the whole file is scanned for clicks instead.
    """
    if not text or not text.strip():
        raise ValueError("the reference text is empty: give the words the take should say")
    audio = validate_audio(audio, sample_rate)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()  # first: a seam outside the audio is an input error, found before the ASR runs
    joins = seam_metrics(audio, sample_rate, seams) if seams is not None else None
    clicks = click_scan(audio, sample_rate) if seams is None else None
    timings["seams_s"] = round(time.perf_counter() - t0, 4)
    t0 = time.perf_counter()
    transcript = (transcriber or get_asr(asr).transcribe)(audio, sample_rate)
    timings["asr_s"] = round(time.perf_counter() - t0, 3)
    t0 = time.perf_counter()
    # one 16 kHz resampling for the VAD and the loop search: both made this same soxr call on
    # the same samples (~0.1 ms per audio second each), so they get the same bits
    audio_16k = to_16k(audio, sample_rate)
    segments = speech_segments(audio_16k, VAD_RATE, duration_s=len(audio) / sample_rate)
    words = transcript.words
    wer = word_error(text, transcript.text)
    span = aligned() if aligned is not None else text_span(audio_16k, VAD_RATE, text)
    start, tail = edge_metrics(audio, sample_rate, segments, words, expected_text=text,
                               text_span=span)
    evidence = Evidence(
        text=text, duration_s=len(audio) / sample_rate, transcript=transcript, segments=segments,
        wer=wer,
        content_words=judge_content_words(wer, words, text, lambda: forced_reference(
            wer, words, text, audio, sample_rate, _forcer(asr, transcriber, forcer))),
        wer_counted=sounds_alike_wer(wer),
        repeats=repeat_metrics(text, transcript.text, wer=wer),
        loops=audio_loops(audio_16k, VAD_RATE),
        start=start,
        tail=tail,
        level=level_metrics(audio, sample_rate),
        rate=speaking_rate(text, segments),
        timings=timings,
        seams=joins,
        clicks=clicks,
        pauses=pause_metrics(audio, sample_rate, words, text,
                             room_dbfs=background_dbfs(audio, sample_rate, segments)),
    )
    for row in CHECKS.values():  # checks that bring a measurement of their own
        if row.measure is not None:
            evidence.measured[row.name] = row.measure(evidence, audio, sample_rate)
    timings["analysis_s"] = round(time.perf_counter() - t0, 3)
    return evidence


def judge_content_words(wer: WordError, words: Sequence[Word], text: str,
                        force: Callable[[], Sequence[float | None] | None]) -> ContentWordErrors:
    """The content-word errors of a take. `force` gives each reference word's probability with
    the recogniser forced to the text (forcing.forced_reference: one more encoder pass per
    30 s), asked only when a region with reference words would count without it."""
    heard = hyp_probabilities(wer.hyp_words, [(w.text, w.probability) for w in words])
    rare = rare_words(text)
    found = content_word_errors(wer, heard, rare=rare)
    if not any(e["ref"] for e in found.errors):
        return found
    forced = force()
    if forced is None:  # the backend cannot say: the regions count as heard
        return found
    return content_word_errors(wer, heard, rare=rare, forced=forced)


def _forcer(asr: str, transcriber: Callable[..., Transcript] | None, forcer: Forcer | None) -> Forcer:
    """Who forces the text: `forcer`; else the backend of `asr`, unless another `transcriber`
    heard the take (a second opinion must come from the model that gave the first)."""
    if forcer is not None:
        return forcer
    if transcriber is not None:
        return lambda *_: None
    return functools.partial(force_text, get_asr(asr))


def prompt_background(audio: np.ndarray, sample_rate: int) -> float | None:
    """The voice prompt's steady background in dB re its speech (metrics.level.background_db)."""
    audio = validate_audio(audio, sample_rate)
    return background_db(audio, sample_rate, speech_segments(audio, sample_rate))


class Heard:
    """Listener results of a take heard before its Evidence exists (run/ahead.py runs the
    listener models beside the previous take's ASR); `apply` hands them to the Evidence."""

    def __init__(self) -> None:
        for name in LISTENERS:
            setattr(self, name, None)
        self.not_heard: dict[str, str] = {}
        self.listener_errors: dict[str, str] = {}
        self.timings: dict[str, float] = {}

    def apply(self, evidence: Evidence) -> None:
        for name in LISTENERS:
            if (got := getattr(self, name)) is not None:
                setattr(evidence, name, got)
        evidence.not_heard.update(self.not_heard)
        evidence.listener_errors.update(self.listener_errors)
        evidence.timings.update(self.timings)


def listen(evidence: Evidence | Heard, audio: np.ndarray, sample_rate: int, checks: Collection[str], *,
           prompt: tuple[np.ndarray, int] | None = None, no_prompt: str = "no voice prompt given"
           ) -> Evidence | Heard:
    """Add the listener results that `checks` need and `evidence` lacks (idempotent).

    The listener of each check is in its registry row (LISTENERS); its result
    goes to the Evidence field of the check's name. `prompt` is the voice
    prompt's (audio, rate) for a listener that judges against it; without one,
    `no_prompt` is the reason recorded. A listener that is not installed or
    cannot judge this audio leaves its reason in `evidence.not_heard`, and its
    check is then skipped with that reason rather than failed; a model that
    crashes leaves its error in `evidence.listener_errors` (that check fails,
    the cell's other results stand).
    """
    for name in checks:
        spec = LISTENERS.get(name)
        if spec is None or name in evidence.not_heard or name in evidence.listener_errors:
            continue
        if getattr(evidence, name) is not None:
            continue
        # lazy: the listener models pull in torch / onnxruntime, loaded only for a selected check
        module = importlib.import_module(f"{__package__.rpartition('.')[0]}.listeners.{spec.module}")
        reason = no_prompt if spec.uses_prompt and prompt is None else module.unavailable()
        if reason is not None:
            evidence.not_heard[name] = reason
            continue
        t0 = time.perf_counter()
        try:
            args = (audio, sample_rate, *prompt) if spec.uses_prompt else (audio, sample_rate)
            setattr(evidence, name, getattr(module, spec.run)(*args))
        except ValueError as exc:  # too little speech to tell a voice
            evidence.not_heard[name] = str(exc)
        except Exception as exc:
            evidence.listener_errors[name] = f"{type(exc).__name__}: {exc}"
        evidence.timings[f"{name}_s"] = round(time.perf_counter() - t0, 3)
    return evidence
