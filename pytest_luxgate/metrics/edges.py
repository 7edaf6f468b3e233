"""What happens before the first word and after the last one.

Inputs are the clip, its VAD segments (listeners.vad.speech_segments), the ASR
words and, preferably, the text that was synthesised. Three clocks disagree at
the edges, and each metric says which it trusts:

- the VAD (32 ms frames) hears any speech-like sound, garbage included; it is
  up to 0.2 s late on a soft onset and up to 0.05 s early at the end (but can
  miss a whole first word, or end 0.15-0.45 s inside a slow final vowel);
- Whisper's word times are decent inside an utterance but not at its edges:
  DTW stretches the first word back to 0.0 (or over leading garbage) and ends
  the last word 0.1-0.5 s early, or squeezes it onto the next sound;
- the energy envelope is exact but cannot tell speech from garbage;
- the forced alignment of the text (listeners/aligner.py, `text_span`) says
  where the text's own phones fit; where the VAD and the walks leave sound
  outside the speech, it decides whether that sound is the text's first or
  last word (`missed_first_word`, `aligned_first_consonant`,
  `aligned_last_consonant`), on terms the sound itself must meet.

So the first word's start is *estimated* (`_Context.refine_first_start`):
Whisper's start pushed later by the end of the last word-separating silence
before the word and by a cap on how long a word of that many letters lasts at
this clip's speaking rate. `lead_garbage_s` = VAD speech before that estimate;
the last word's end is mirrored for `trail_garbage_s`, and taken no earlier than
where the forced alignment ends the text when that is where the VAD ends speech too
(Whisper ends slow last words early). With `expected_text` the
first/last *expected* words are the anchors, so words Whisper invented for the
garbage count as garbage; if none of the expected words was heard the garbage
timing is None (unmeasurable), not a pass.

All levels are dB relative to the speech level (`level.speech_level_db`), so
they do not depend on the engine's loudness; times are seconds from the clip
start. Limits and how they were measured: DEFAULTS, docs/CALIBRATION.md.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..core.types import Segment, TextSpan, Word
from .anchors import anchors, norm_token, speaking_rate, spoken_letters
from .buzz import frozen_voice
from .glued import first_voiced, lead_noise, onset_like, sound_after, sound_before, tail_noise, vowel_spans
from .level import (
    BACKGROUND_HOP_S,
    BACKGROUND_WIN_S,
    FLOOR_DB,
    ROOM_MARGIN_DB,
    background_dbfs,
    db,
    speech_level_db,
    true_runs,
    window_rms,
    window_rms_many,
)

DEFAULTS: dict[str, float] = {
    "lead_garbage_s": 0.25,
    "before_text_s": 0.15,
    "before_sonorant_text_s": 0.08,
    "pre_onset_noise_db": -38.0,
    "pre_onset_click_db": -40.0,
    "start_ratio": 0.45,
    "trail_garbage_s": 0.25,
    "after_text_s": 0.15,
    "after_sonorant_text_s": 0.08,
    "loud_after_text_s": 0.02,
    "post_offset_noise_db": -38.0,
    "tail_buzz_s": 0.15,
    "truncation_db": -28.0,
    "tail_ratio": 0.58,
}
"""Recommended limits (a value must be <= its limit to pass).

Measured by bench/calibrate_detectors.py on Piper + espeak-ng speech with
injected faults (docs/CALIBRATION.md; tuning corpus / held-out corpus,
clean max vs share of faults caught):

- lead_garbage_s 0.25: clean max 0.17 / 0.15 s; garbage 0.3-1 s caught
  39/52 and 33/38 where measurable (misses: Whisper folding the garbage into
  the first word, or misplacing that word; see CALIBRATION.md "What is weak").
- before_text_s 0.15: loud, not sibilant sound before the text's first word as a forced
  alignment places it (CMU Sphinx, listeners/aligner.py). Clean max 0.14 s over 161 clean
  takes of six glued-noise draws (0.14 and 0.12 on two Kokoro takes that fail start anyway;
  0.11 on an espeak-ng "Potatoes" whose first syllable the aligner can read as silence);
  speech-like garbage glued before the word caught 58 % with the other start rules (38 %
  without). CALIBRATION.md "Speech-like garbage: where the text begins and ends". Since the
  aligner hears each take alone, at a fixed peak over a fixed noise floor (aligner.to_pcm16),
  the largest clean value over the 293 clean takes of ten draws, under a 16-bit round trip, a
  gain or 1 LSB of dither, is 0.13 s (a slow Kokoro "Check this."; 0.14 and 0.12 s on takes
  failing anyway), and no clean verdict changes under them; after the text 0.10 s ("Each take
  aligned alone, at one level"). Quieter moments of up to 80 ms between two loud frames are
  counted with them (garbage swings as syllables do: glued.SOUND_HOLE); no clean value of
  529 takes moved ("The quiet moments inside speech-like garbage").
- before_sonorant_text_s 0.08: before_text_s where the text begins with a vowel or sonorant
  (`sonorant`: not an obstruent). What lifts clean before_text_s towards 0.15 s is an
  obstruent's edge the aligner leaves outside the word (the /s/ and /t/ of a slow "Stay", the
  /ch/ of "Check"); a vowel's or a sonorant's it does not: the 50 clean takes of eighteen draws
  whose aligned text begins so read 0 s, under a 16-bit round trip, a gain or dither too, but
  for a Kokoro "Yes." that says "Oh, yes" (0.12 s, failing lead_garbage_s anyway).
  CALIBRATION.md "A vowel's edge is not left outside".
- pre_onset_noise_db -38: clean max -41.5 / -40.9 dB (noise floors down to
  -45 dB re speech); noise at -35..-15 dB caught 59/59, 40/40; breaths 100 %. Measured before
  the onset, which the walks and the aligner move back over the first word's sound the VAD
  missed (a first syllable behind a stop closure: `missed_first_syllable`), from 10 ms clear of
  it, or ALIGNED_CLEAR_S (30 ms) clear of an onset the aligner placed: its phone edges move by a
  frame or two under a 1 LSB dither, and one such move left a clean 16 kHz Kokoro "Thanks"'s /θ/
  measured (-34.5 dB; -40.9 on other dither draws). Loudest passing synthetic clean take over
  eighteen draws now -42.5 dB. CALIBRATION.md "... 30 ms clear of an aligned onset".
- pre_onset_click_db -40: clean max -120 (none found); clicks of amplitude
  0.02-0.5 read -29 dB and up, 100 %.
- trail_garbage_s 0.25: clean max 0.11 / 0.23 s; caught 43/56, 29/40. Measured from no earlier
  than the aligned text's end where the VAD ends speech within END_AGREES_S of it: with Whisper
  base's words (the gate's) 8 of 647 clean takes of twenty-two glued-noise draws failed, 7 of them
  a slow last word base ended 0.25-0.39 s early; now 1 (a take with an extra word), at the cost
  of 7 of 3,882 bursts glued after the word (ones the aligner folds whole into it). CALIBRATION.md "The last word
  ends where the aligner and the VAD both end it".
- after_text_s 0.15: before_text_s mirrored after the text's last word. Clean max 0.12 s
  (espeak-ng at 190 wpm, and slow Kokoro takes whose final vowel the aligner ends early); speech-like garbage
  glued after the word caught 58 % with the other tail rules (11 % without).
- after_sonorant_text_s 0.08: after_text_s where the text ends with a vowel or sonorant. Clean
  max 0.05 s over 157 such takes of eighteen draws, under every perturbation (a human
  "...sense" recording's final nasal); speech-like garbage glued after the word caught
  61.5 -> 70.5 % over eighteen draws.
- loud_after_text_s 0.02: the part of after_text_s's sound at or above the speech level
  (glued.AT_SPEECH_LEVEL_DB: as loud as the speech's own RMS level), no gap counted. After the
  aligned end a word leaves its decay, a release or an accent's reduced vowel: over 588 clean
  takes of twenty draws no such frame (loudest -3.1 dB; third loudest -5.3 dB, a Kokoro "Check
  this." said "Check thisu"; Piper, espeak-ng and human takes -9.1 dB), so three frames at the
  speech level are a syllable more. Before the text the same does not hold (the aligner can put
  a first syllable in silence). Speech-like garbage glued after the word 72.7 -> 76.3 % over
  eighteen draws, no clean verdict changed. CALIBRATION.md "As loud as the speech, after the text".
- post_offset_noise_db -38: clean max -42.2 / -42.6 dB; noise tails 58/58, 39/39
  where measurable.
- tail_buzz_s 0.15: clean max 0.06 / 0.07 s; buzz 0.25-1 s reads >= 0.23 s, 100 %.
- truncation_db -28: clean max -37.5 / -39.5 dB (incl. speech ending 20-50 ms
  before the file end); cuts inside the last word read >= -23.6 dB, 100 %.
- start_ratio 0.45 / tail_ratio 0.58: the legacy limits, for comparison only
  (start_ratio fails 34/56 clean clips: any speech in the first 120 ms).
"""

# --- tuning constants (why each value: see the comment beside it)
ENV_WIN_S = 0.010      # envelope window: shorter than any inter-word gap
ENV_HOP_S = 0.005
GAP_DB = -35.0         # a frame this far below the speech level is "silence" for gap finding
                       # (GAP_DB and EDGE_DB stay level.ROOM_MARGIN_DB above the take's own room)
LEAD_GAP_S = 0.07      # a silence this long before the first word ends whatever came before it
TAIL_GAP_S = 0.15      # ...after the last word: slow final words hold closures of 0.1 s and more
MIN_WORD_X = 0.3       # shortest first word, as a share of letters x rate (plus 30 ms)
BURST_S = 0.2          # a sound this short next to a silence is a consonant of the word, not garbage
ALIGNED_CLEAR_S = 0.03  # pre-onset sound is measured this clear of an onset the forced alignment placed
WORD_CAP_S = 0.2       # word duration cap = WORD_CAP_S + WORD_CAP_X * letters * seconds-per-letter
WORD_CAP_X = 1.25
EDGE_DB = -25.0        # consonant energy around a VAD edge that still belongs to the word
EDGE_MAX_S = 0.3       # the VAD is up to ~0.2 s late on a soft onset (measured: 0.20)
MISSED_VOICING_WALKS = 2  # ...and up to twice that again over voicing it missed (walk_missed_voicing)
WEAK_ONSET_MAX_S = 0.15  # a word-initial /f/ /h/ /th/ under EDGE_DB, left out by the VAD and the walk
                         # (Kokoro: 60-120 ms at -36..-28 dB re speech); noise leads last 0.3 s and more
TAIL_EDGE_MAX_S = 0.1  # ...but its hangover keeps it at most ~0.05 s early at the end (measured: 0.05)
END_AGREES_S = 0.1     # a VAD offset this close after the aligned text's end ends speech where the text ends
                       # (clean takes: median 0.02 s; 5 % run past 0.16 s over a final sibilant, and
                       # there Whisper's end stands, as it does where garbage the aligner partly
                       # folds into the word runs 0.15-0.24 s past it)
OBSTRUENTS = frozenset("P B T D K G F V TH DH S Z SH ZH CH JH HH".split())  # ARPAbet: may begin weak
DECAY_DB = -40.0       # after the offset, a natural decay falls below this within DECAY_MAX_S
DECAY_MAX_S = 0.1
RELEASE_MAX_S = 0.1    # a final stop's release after its closure: aspirated /p t k/ last 60-100 ms
RELEASE_QUIET_S = 0.02  # ...and is over once the sound stays below DECAY_DB this long
BURST_GAP_S = 0.03     # ...but a 5-15 ms burst must sit within 30 ms of it (a release, not a click)
EDGE_MAX_GAP_S = 0.08  # a stop closure ('st' in "Stop": 40-60 ms in TTS) may split that consonant
CLOSURE_MAX_S = 0.12   # ...and inside a slow word ("Po|tatoes" at 0.77x: 0.1 s) one parts a syllable
SYLLABLE_MAX_S = 0.3   # a first syllable the VAD missed is no longer than this
NOISE_WIN_S = 0.05     # noise/breath: loudest 50 ms, so a short breath in a long lead is not diluted
CLICK_WIN_S = 0.002    # a click is 0.1-4 ms; its energy in 2 ms is what the ear integrates
CLICK_CTX_S = 0.025    # context either side for "stands out from its neighbourhood"
CLICK_CONTRAST_DB = 12.0
END_WIN_S = 0.02       # truncation: the last 20 ms (30 ms still holds the end of a fast natural decay)


@dataclass(frozen=True)
class StartMetrics:
    """Everything measured before speech begins. None = could not be measured."""

    vad_onset_s: float | None          # first VAD speech frame
    onset_s: float | None              # VAD onset moved back over the word's first consonant
    first_word: str | None             # ASR word used as the first word (anchor)
    asr_first_word_start_s: float | None   # what Whisper said
    first_word_start_s: float | None   # refined estimate (see module doc)
    first_word_probability: float | None
    lead_words: int                    # ASR words before the anchor (invented for garbage?)
    lead_garbage_s: float | None       # VAD speech before the first word
    pre_onset_s: float                 # length of the stretch measured for noise/clicks
    pre_onset_noise_db: float | None   # loudest 50 ms before onset, dB re speech
    pre_onset_click_db: float          # loudest isolated transient before onset, dB re speech
    pre_onset_click_at_s: float | None
    speech_level_dbfs: float
    start_ratio: float | None          # legacy: RMS(0-120 ms) / RMS(120-520 ms)
    text_start_s: float | None = None  # the text's first word by forced alignment (None: not aligned)
    before_text_s: float | None = None  # loud, not sibilant sound before it (glued.sound_before)
    before_text_from_s: float | None = None  # where that sound starts
    text_first_phone: str | None = None  # the aligned text's first phone (ARPAbet; None: not aligned)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TailMetrics:
    """Everything measured after speech ends. None = could not be measured."""

    vad_offset_s: float | None
    offset_s: float | None             # VAD offset moved forward over the last consonant/decay
    last_word: str | None
    asr_last_word_end_s: float | None
    last_word_end_s: float | None      # refined estimate (not before an aligned end the VAD agrees with)
    last_word_probability: float | None
    trail_words: int                   # ASR words after the anchor
    trail_garbage_s: float | None      # VAD speech after the last word
    post_offset_s: float
    post_offset_noise_db: float | None  # loudest 50 ms after offset, dB re speech
    tail_buzz_s: float                 # longest frozen, periodic, loud stretch at the end
    tail_buzz_periodicity: float       # mean periodicity over that stretch (0-1)
    truncation_db: float               # level of the last 20 ms, dB re speech
    end_decay_db: float                # last 20 ms vs loudest 20 ms in the 150 ms before (< 0: decaying)
    speech_level_dbfs: float
    tail_ratio: float | None           # legacy: RMS(last 120 ms) / RMS(400 ms before it)
    text_end_s: float | None = None    # the text's last word's end by forced alignment (None: not aligned)
    after_text_s: float | None = None  # loud, not sibilant sound after it (glued.sound_after)
    after_text_to_s: float | None = None  # where that sound ends
    loud_after_text_s: float | None = None  # ...of it, at or above the speech level (glued.sound_after)
    text_last_phone: str | None = None  # the aligned text's last phone (ARPAbet; None: not aligned)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def sonorant(phone: str | None) -> bool:
    """Whether an aligned edge phone (ARPAbet) is a vowel or sonorant: not an obstruent, and known."""
    return bool(phone) and phone not in OBSTRUENTS


# ------------------------------------------------------------------ public

def edge_metrics(audio: np.ndarray, sample_rate: int, segments: Sequence[Segment],
                 words: Sequence[Word], *, expected_text: str | None = None,
                 text_span: TextSpan | None = None) -> tuple[StartMetrics, TailMetrics]:
    """`start_metrics` and `tail_metrics` of one clip, sharing its envelope, speech level and
    background (computed once instead of twice: they were a third of the pure detectors' time).
    `text_span`: where a forced alignment of the text put it (listeners/aligner.py)."""
    ctx = _Context(audio, sample_rate, segments, words, expected_text, text_span)
    return _start(ctx), _tail(ctx)


def start_metrics(audio: np.ndarray, sample_rate: int, segments: Sequence[Segment],
                  words: Sequence[Word], *, expected_text: str | None = None,
                  text_span: TextSpan | None = None) -> StartMetrics:
    """Measure the start of a clip (see StartMetrics; DEFAULTS for limits). `text_span`:
    where a forced alignment of the text put it (listeners/aligner.py)."""
    return _start(_Context(audio, sample_rate, segments, words, expected_text, text_span))


def _start(ctx: _Context) -> StartMetrics:
    text_start_s = ctx.span.start_s if ctx.span is not None else None
    sample_rate, segments = ctx.sr, ctx.segments
    vad_on = segments[0].start if segments else None
    onset = ctx.walk_edge(ctx.missed_first_word(vad_on), -1, EDGE_MAX_S) if vad_on is not None else None
    if onset is not None:
        onset = ctx.walk_missed_voicing(onset)
        onset = ctx.missed_first_syllable(onset)
    glued = lead_noise(ctx.x, sample_rate, ctx.level_db, onset, text_start_s) if onset is not None else None
    aligned = False  # the onset is where the forced alignment starts the text (ALIGNED_CLEAR_S)
    if glued is not None:  # noise glued to the first word is not its consonant: speech starts after it
        onset = max(onset, glued[1])
    elif onset is not None:
        walked = ctx.walk_weak_onset(onset)
        onset = ctx.aligned_first_consonant(walked)
        aligned = onset != walked

    first_est = first = prob = asr_start = None
    if ctx.words and ctx.anchored:
        w = ctx.words[ctx.first]
        first, prob, asr_start = w.text, w.probability, w.start
        first_est = ctx.refine_first_start()
        if onset is not None:  # no word starts before the sound does (Whisper's DTW can put it in a noisy lead)
            first_est = max(first_est, onset)
    lead = max(0.0, first_est - vad_on) if (first_est is not None and vad_on is not None) else None

    # nothing before speech is measured when there is no speech to be before
    # 10 ms clear of the onset; ALIGNED_CLEAR_S of one the aligner placed (its phone edges move by
    # a frame or two under a 1 LSB perturbation, and the consonant's first sound with them)
    pre_end = max(0.0, onset - (ALIGNED_CLEAR_S if aligned else 0.01)) if onset is not None else 0.0
    noise = ctx.loudest(0.0, pre_end)
    click_db, click_at = ctx.click(0.0, pre_end)
    before = sound_before(ctx.x, sample_rate, ctx.level_db, text_start_s) if text_start_s is not None else None
    return StartMetrics(
        vad_onset_s=_r(vad_on), onset_s=_r(onset), first_word=first,
        asr_first_word_start_s=_r(asr_start), first_word_start_s=_r(first_est),
        first_word_probability=prob, lead_words=ctx.first if ctx.words else 0,
        lead_garbage_s=_r(lead), pre_onset_s=_r(pre_end) or 0.0, pre_onset_noise_db=_r(noise),
        pre_onset_click_db=_r(click_db), pre_onset_click_at_s=_r(click_at),
        speech_level_dbfs=_r(ctx.level_db), start_ratio=_legacy_start_ratio(ctx.x, sample_rate),
        text_start_s=_r(text_start_s),
        before_text_s=None if text_start_s is None else (before.seconds if before else 0.0),
        before_text_from_s=_r(before.start) if before else None,
        text_first_phone=(ctx.span.first_phone or None) if ctx.span is not None else None,
    )


def tail_metrics(audio: np.ndarray, sample_rate: int, segments: Sequence[Segment],
                 words: Sequence[Word], *, expected_text: str | None = None,
                 text_span: TextSpan | None = None) -> TailMetrics:
    """Measure the end of a clip (see TailMetrics; DEFAULTS for limits). `text_span`: where a
    forced alignment of the text put it (listeners/aligner.py)."""
    return _tail(_Context(audio, sample_rate, segments, words, expected_text, text_span))


def _tail(ctx: _Context) -> TailMetrics:
    text_end_s = ctx.span.end_s if ctx.span is not None else None
    sample_rate, segments = ctx.sr, ctx.segments
    dur = len(ctx.x) / sample_rate
    vad_off = segments[-1].end if segments else None
    offset = ctx.walk_edge(vad_off, +1, TAIL_EDGE_MAX_S) if vad_off is not None else None
    if offset is not None and ctx.span is not None:  # only where the aligner says the text goes on
        offset = ctx.walk_missed_voicing(offset, +1, until=ctx.span.end_s)
    glued = tail_noise(ctx.x, sample_rate, ctx.level_db, offset, text_end_s) if offset is not None else None
    if glued is None and offset is not None and (decayed := ctx.decay_end(offset)) != offset:
        # ...or back from where the sound has decayed: a short burst after a gap, which the VAD
        # and the walk end inside of, lies mostly past the walked offset
        glued = tail_noise(ctx.x, sample_rate, ctx.level_db, decayed, text_end_s)
    if glued is not None:  # ...nor the last word's: speech ended where it began
        offset = min(offset, glued[0])

    last_est = last = prob = asr_end = None
    if ctx.words and ctx.anchored:
        w = ctx.words[ctx.last]
        last, prob, asr_end = w.text, w.probability, w.end
        last_est = ctx.refine_last_end()
        if text_end_s is not None and vad_off is not None and text_end_s >= vad_off - END_AGREES_S:
            # Whisper can end a slow last word 0.25-0.4 s early (base on Piper at length_scale 1.5)
            # where the forced alignment ends the text with the sound: where the aligner and the
            # VAD agree that speech ends there, it has. Where the VAD hears speech on past the
            # aligned end, that may be garbage the aligner partly folded into the word: Whisper's
            # end stands. At the start no such bound: there Whisper errs the other way.
            last_est = max(last_est, text_end_s)
    trail = max(0.0, vad_off - last_est) if (last_est is not None and vad_off is not None) else None

    if glued is not None:  # no natural decay to wait for: the noise starts right at the word
        post_start = offset
    elif offset is not None:
        offset = ctx.aligned_last_consonant(offset)
        post_start = ctx.after_release(offset, ctx.decay_end(offset))
    else:
        post_start = dur
    noise = ctx.loudest(post_start, dur)
    buzz_from = max(0.0, (vad_off or dur) - 1.5)
    if last_est is not None:
        buzz_from = max(buzz_from, min(last_est, ctx.word_start(ctx.last)))
    buzz_s, buzz_p = frozen_voice(ctx.x, ctx.sr, ctx.level_db, buzz_from)
    trunc, decay = ctx.end_level()
    n_words = len(ctx.words)
    after = sound_after(ctx.x, sample_rate, ctx.level_db, text_end_s) if text_end_s is not None else None
    return TailMetrics(
        vad_offset_s=_r(vad_off), offset_s=_r(offset), last_word=last,
        asr_last_word_end_s=_r(asr_end), last_word_end_s=_r(last_est),
        last_word_probability=prob, trail_words=(n_words - 1 - ctx.last) if n_words else 0,
        trail_garbage_s=_r(trail), post_offset_s=_r(dur - post_start) or 0.0,
        post_offset_noise_db=_r(noise), tail_buzz_s=_r(buzz_s) or 0.0,
        tail_buzz_periodicity=_r(buzz_p) or 0.0, truncation_db=float(_r(trunc)),
        end_decay_db=_r(decay) or 0.0, speech_level_dbfs=_r(ctx.level_db),
        tail_ratio=_legacy_tail_ratio(ctx.x, sample_rate),
        text_end_s=_r(text_end_s),
        after_text_s=None if text_end_s is None else (after.seconds if after else 0.0),
        after_text_to_s=_r(after.end) if after else None,
        loud_after_text_s=None if text_end_s is None else (after.at_level_s if after else 0.0),
        text_last_phone=(ctx.span.last_phone or None) if ctx.span is not None else None,
    )


# ------------------------------------------------------------------ context

class _Context:
    """The clip with its envelope, speech level and anchor words, computed once."""

    def __init__(self, audio: np.ndarray, sr: int, segments: Sequence[Segment],
                 words: Sequence[Word], expected_text: str | None, span: TextSpan | None = None) -> None:
        self.x = np.asarray(audio, dtype=np.float64).reshape(-1)
        self.span = span
        if self.x.size == 0:
            raise ValueError("audio is empty (0 samples)")
        self.sr = sr
        self.segments = list(segments)
        self.words = [w for w in words if w.end >= w.start]
        self.level_db = speech_level_db(self.x, sr, self.segments)
        self.level = 10 ** (self.level_db / 20)
        # the envelope and the background's windows in one pass over the clip
        (t, rms), room_windows = window_rms_many(
            self.x, sr, [(ENV_WIN_S, ENV_HOP_S), (BACKGROUND_WIN_S, BACKGROUND_HOP_S)])
        self.env_t = t
        self.env_db = db(rms) - self.level_db  # dB re speech level
        # level.background_db, with the speech level just measured instead of measuring it again,
        # and away from voicing the VAD missed as well as from its segments
        bg = background_dbfs(self.x, sr, self.segments + self._missed_voicing(), room_windows)
        room = None if bg is None else bg - self.level_db
        floor = -np.inf if room is None else room + ROOM_MARGIN_DB
        self.gap_db, self.edge_db = max(GAP_DB, floor), max(EDGE_DB, floor)
        self.letters = [spoken_letters(w.text) for w in self.words]  # each word's, once, for anchors and rate
        self.first, self.last, self.anchored, self.edge_letters = anchors(self.words, expected_text, self.letters)
        self.first_text_word = next((norm_token(x) for x in (expected_text or "").split() if norm_token(x)), None)
        self.s_per_char = speaking_rate(self.words, self.first, self.last, self.letters)

    def _missed_voicing(self) -> list[Segment]:
        """Voiced stretches before the first VAD segment and after the last.

        Silero can miss a clear syllable at either end (a Kokoro "Potatoes" heard 0.45 s late).
        Taken for the room, such speech raised the room estimate to -9 dB re speech and with it
        the gap and edge levels (max(level, room + margin)) over the word itself, so the walk
        stopped inside the word and its first syllable was measured as pre-onset noise
        (-8.5 dB). Voicing is periodic and the room is not (a hum under VOICED_LEVEL_DB, -25 dB
        re speech, stays the room's)."""
        if not self.segments:
            return []
        dur = len(self.x) / self.sr
        spans = vowel_spans(self.x, self.sr, self.level_db, 0.0, self.segments[0].start)
        spans += vowel_spans(self.x, self.sr, self.level_db, self.segments[-1].end, dur)
        return [Segment(a, b) for a, b in spans]

    # --- envelope helpers
    def _frame(self, t: float) -> int:
        return int(np.clip(round(t / ENV_HOP_S), 0, max(0, len(self.env_db) - 1)))

    def walk_edge(self, t: float, direction: int, max_s: float = 0.3) -> float:
        """Move a VAD edge outward over adjoining consonant energy (> self.edge_db).

        The VAD reacts to voicing and misses the 's' of "Stop" or the
        aspiration of "Pat". Stretches of >= 20 ms may be separated by up to
        EDGE_MAX_GAP_S (a stop closure); a shorter burst (a plosive release)
        only counts within BURST_GAP_S of the speech, so a click 50 ms or more
        ahead of the speech is not taken for a consonant. At most `max_s`.
        """
        if len(self.env_db) == 0:
            return t
        i0 = self._frame(t)
        idx = i0 + direction * np.arange(1, int(max_s / ENV_HOP_S) + 1)
        idx = idx[(idx >= 0) & (idx < len(self.env_db))]
        loud = self.env_db[idx] > self.edge_db
        max_gap = int(EDGE_MAX_GAP_S / ENV_HOP_S)
        burst_gap = int(BURST_GAP_S / ENV_HOP_S)
        min_run = 3  # 10 ms windows, 5 ms hop: 3 frames = 20 ms of signal
        best, prev_end = None, 0
        for s, e in true_runs(loud):
            at_boundary = idx[e - 1] in (0, len(self.env_db) - 1)
            long_enough = e - s >= min_run or at_boundary
            if s - prev_end > (max_gap if long_enough else burst_gap):
                break
            best, prev_end = idx[e - 1], e
        if best is None:
            return t
        if direction < 0:
            return float(min(t, self.env_t[best]))
        return float(max(t, self.env_t[best] + ENV_WIN_S))

    def missed_first_word(self, vad_on: float) -> float:
        """The VAD onset, or earlier where it missed the text's whole first word.

        Silero can give a voice's first word p < 0.35 throughout (a Kokoro
        "Hello," read 0.8 s late: the word then measured as pre-onset noise at
        +5 dB). A word of the text that Whisper heard and placed wholly before
        the VAD onset, and that holds voicing, is speech the VAD missed: the
        onset moves to its first voiced frame and back over an unbroken
        consonant before it (at most WEAK_ONSET_MAX_S). Noise that Whisper
        folded into the word is longer than a consonant and stays before the
        onset, measured. Levels are re speech with the fixed GAP_DB, not the
        room estimate, which took the missed word for the room.

        Whisper's word ends are loose (its timing is a cross-attention path): a
        Kokoro "Hot" that Silero missed whole, a loud vowel, ended 0.1 s past the
        VAD onset in Whisper's timing and 0.07 s before it in the forced
        alignment's, and read as pre-onset noise at +3.5 dB. So the word Whisper
        heard first may also be placed by the alignment, when the alignment's
        first word is that word (its text starts with it)."""
        if not (self.words and self.anchored):
            return vad_on
        w = self.words[self.first]
        a, b = w.start, w.end
        if b > vad_on - 0.05 and self.span is not None and norm_token(w.text) == self.first_text_word:
            a, b = self.span.start_s, self.span.first_word_end_s
        if b > vad_on - 0.05:
            return vad_on
        tv = first_voiced(self.x, self.sr, self.level_db, a, b)
        if tv is None:
            return vad_on
        start = float(self.env_t[self._weak_start(self._frame(tv), GAP_DB)])
        return start if tv - start <= WEAK_ONSET_MAX_S else tv

    def walk_missed_voicing(self, t: float, direction: int = -1, until: float | None = None) -> float:
        """Further out (back at the start, on at the end) while the walk stopped at its bound
        inside sound that holds voicing.

        Silero can be later than EDGE_MAX_S on a clear onset (a Kokoro "Potatoes" read 0.45 s
        late: the walk stopped at the /t/ of its second syllable, and the first, /p@/, was
        measured as pre-onset noise at -8.5 dB), and end 0.15 s early inside a slow final vowel
        (a Kokoro "test." whose /e/ and /s/ were then measured as post-offset noise at -18.6 dB;
        there only while the aligned text goes on).
        When the walk ends at its bound with sound still above the edge level beyond it, the
        stretch a further walk covers is speech the VAD missed if it holds a voiced run
        (periodic, as noise never is); noise glued there holds none and stays outside the
        speech, for glued.lead_noise / tail_noise and the noise limits. `until`: walk on only
        from before it (at the end, where the aligner ends the text: voiced garbage after the
        text is not the text's)."""
        max_s = EDGE_MAX_S if direction < 0 else TAIL_EDGE_MAX_S
        for _ in range(MISSED_VOICING_WALKS):
            if until is not None and t >= until:
                return t
            if not self._loud_beside(t, direction):
                return t  # the walk ended in silence or at the file's edge, not at its bound
            further = self.walk_edge(t, direction, max_s)
            a, b = sorted((t, further))
            if further == t or not vowel_spans(self.x, self.sr, self.level_db, a, b):
                return t
            t = further
        return t

    def _inside_aligned_first_word(self, t: float) -> bool:
        """Whether onset `t` lies inside the aligned text's first word, past its start (False
        without an alignment)."""
        span = self.span
        return span is not None and span.start_s < t - ENV_HOP_S and t <= span.first_word_end_s

    def missed_first_syllable(self, t: float) -> float:
        """The onset moved back over a first syllable of the first word that the VAD missed and a
        stop closure parts from the rest.

        Silero heard a slow Kokoro "Potatoes" 0.45 s late: its first syllable /p@/ (+7 dB re
        speech, periodic) is parted from "-tatoes" by the 0.1 s /t/ closure, longer than a walk
        crosses (EDGE_MAX_GAP_S), and was measured as pre-onset noise at +5.6 dB. Where the
        forced alignment starts the text at that sound and the onset lies inside its first word,
        a sound before a silence of at most CLOSURE_MAX_S that is short (SYLLABLE_MAX_S), holds a
        vowel (periodic, as noise never is) and follows a silence or the file's start is that
        syllable. Noise holds no vowel and stays measured; a voiced burst that the aligner does
        not take into the text stays before it."""
        span = self.span
        if span is None or not self._inside_aligned_first_word(t):
            return t
        j = self._frame(t) - 1  # back over the closure's silence to the sound before it
        while j >= 0 and self.env_db[j] <= self.edge_db:
            j -= 1
        if j < 0 or t - (self.env_t[j] + ENV_WIN_S) > CLOSURE_MAX_S:
            return t
        k = self._weak_start(j, self.edge_db)
        a, b = float(self.env_t[k]), float(self.env_t[j] + ENV_WIN_S)
        if (b - a > SYLLABLE_MAX_S or span.start_s > a + LEAD_GAP_S
                or np.any(self.env_db[self._frame(max(0.0, a - LEAD_GAP_S)):k] > self.edge_db)
                or not vowel_spans(self.x, self.sr, self.level_db, a, b)):
            return t
        return a

    def walk_weak_onset(self, t: float) -> float:
        """Move an onset back over a weak first consonant directly before it.

        A word-initial /f/, /h/ or /th/ can sit under EDGE_DB for 60-120 ms
        (Kokoro), which the walk does not take, and was then measured as
        pre-onset noise at -36..-28 dB (limit -38). Sound above the gap level
        that runs without a break into the onset, for at most WEAK_ONSET_MAX_S,
        after a silence or from the file start, is taken as that consonant. A
        noise lead (0.3-1 s) is longer, a breath is followed by a pause, and
        both are still measured; noise as loud as speech is glued.lead_noise's.
        An /s/ before a stop closure ("Stay"), which a pause separates from the onset as it
        does a breath, needs the text's alignment (`aligned_first_consonant`). Only where the walk
        ended at weaker sound: sound above the edge level before the onset is a walk that hit
        its bound in a loud lead, not a weak consonant."""
        if self._loud_beside(t, -1):
            return t
        start = float(self.env_t[self._weak_start(self._frame(t))])
        return start if t - start <= WEAK_ONSET_MAX_S else t

    def aligned_first_consonant(self, t: float) -> float:
        """Move an onset back to where the forced alignment starts the text, over a first
        consonant that the walks left out.

        Clean Kokoro takes failed on pre-onset noise (limit -38 dB) that was the first word's:
        an /s/ at -36..-24 dB re speech that the /t/ closure separates from the vowel ("Stay"),
        or an /h/ and the breathy vowel after it that Silero heard 0.3 s late ("Hot": YIN
        0.3-0.36, -35..-10 dB), where the walk stopped at its bound. The aligner scores the
        text's own phones against that sound. Where it starts the first word there, that word
        begins with an obstruent or /h/, and the onset lies inside the word, the sound between
        is the word's if it is short (a consonant and a closure: WEAK_ONSET_MAX_S +
        EDGE_MAX_GAP_S), holds no silence longer than a closure (a breath is followed by a
        pause), and its frames above EDGE_DB are sibilant or voiced but for a plosive's release
        (`glued.onset_like`): broadband noise, a noise lead and a breath stay measured."""
        span = self.span
        if span is None or span.first_phone not in OBSTRUENTS or not self._inside_aligned_first_word(t):
            return t
        a = span.start_s
        return float(a) if self._edge_consonant(a, t) else t

    def _edge_consonant(self, a: float, b: float) -> bool:
        """Whether [a, b] can be a word's edge consonant and its closure: short (WEAK_ONSET_MAX_S
        + EDGE_MAX_GAP_S), no silence longer than a closure, and its frames above EDGE_DB
        sibilant or voiced but for a plosive's release (`glued.onset_like`). EDGE_DB re speech,
        not the room-relative edge: noise beside the speech raises the room estimate (to -5 dB
        re speech under a pink burst) and would go unasked."""
        return (b - a <= WEAK_ONSET_MAX_S + EDGE_MAX_GAP_S and not self._silences(a, b, DECAY_DB, EDGE_MAX_GAP_S)
                and onset_like(self.x, self.sr, self.level_db, a, b, EDGE_DB))

    def aligned_last_consonant(self, t: float) -> float:
        """`aligned_first_consonant` mirrored: move an offset on to where the forced alignment
        ends the text, over a final consonant that the walks left out.

        A slow Kokoro "test." ends its /s/ 0.1 s after the vowel, then holds the /t/ closure
        50 ms and releases it at -24 dB re speech, louder than `after_release` takes a release
        to be; Silero ended the take inside the vowel, and the /s/ and the release read as
        post-offset noise at -18.6 dB. Where the aligner ends the text after the offset, the
        text ends with an obstruent, and the offset lies inside the aligned last word, the sound
        between is the word's on the same terms as at the start: short, no silence longer than
        a closure, and its frames above EDGE_DB sibilant or voiced but for a plosive's release
        (`glued.onset_like`); and the sound must end there (under DECAY_DB within BURST_GAP_S):
        noise that runs on past the aligned end is not a release, and the natural decay allowed
        after an offset would hide a short burst of it."""
        span = self.span
        if (span is None or span.last_phone not in OBSTRUENTS or span.end_s <= t + ENV_HOP_S
                or span.last_word_start_s is None or t < span.last_word_start_s):
            return t
        b = span.end_s
        ends_there = np.any(self.env_db[self._frame(b):self._frame(b + BURST_GAP_S) + 1] < DECAY_DB)
        return float(b) if ends_there and self._edge_consonant(t, b) else t

    def _loud_beside(self, t: float, direction: int) -> bool:
        """Whether the envelope just before `t` (direction -1) or just after it (+1) is above the
        edge level (a walk from t stopped at its bound, not at a silence or weak sound)."""
        i = self._frame(t) - (direction < 0)
        return 0 <= i < len(self.env_db) and bool(self.env_db[i] > self.edge_db)

    def _weak_start(self, i: int, level_db: float | None = None) -> int:
        """The first frame of the unbroken stretch above `level_db` (default: the gap level) that
        ends at frame i."""
        floor = self.gap_db if level_db is None else level_db
        j = i
        while j > 0 and self.env_db[j - 1] >= floor:
            j -= 1
        return j

    def decay_end(self, t: float) -> float:
        """Where the sound after `t` has decayed below DECAY_DB, at most DECAY_MAX_S
        later: the post-offset noise is measured from there, so the natural
        decay of the last sound is not taken for a noisy tail (a steady noise
        never decays, and is measured from t + DECAY_MAX_S)."""
        i, j = self._frame(t), self._frame(t + DECAY_MAX_S)
        quiet = np.nonzero(self.env_db[i:j + 1] < DECAY_DB)[0]
        end = self.env_t[i + quiet[0]] if quiet.size else t + DECAY_MAX_S
        return float(min(max(t, end), len(self.x) / self.sr))

    def after_release(self, offset: float, t: float) -> float:
        """Past the release of a final stop, if one follows the decay at `t`.

        A slow final /p/ or /t/ holds its closure longer than the edge walk
        bridges, and its release, weak (under EDGE_DB) and short
        (<= RELEASE_MAX_S), then sat in the post-offset stretch and read as
        noise there (a Kokoro "shop." at -37 dB, a clean take). A burst that
        starts within TAIL_GAP_S of the offset and falls back below DECAY_DB
        (or reaches the file end) that quickly is the word's; a noise tail
        lasts longer or is louder, and is measured as before.

        The burst ends where the sound stays below DECAY_DB for RELEASE_QUIET_S (or to the file
        end): an aspirated release decays raggedly and can touch DECAY_DB again for a frame
        (a slow Piper "help." at -39.4 dB 10 ms after dipping under it), while a dip inside a
        noise tail is followed by more noise, so the burst runs on past RELEASE_MAX_S."""
        dur = len(self.x) / self.sr
        i, j = self._frame(t), self._frame(offset + TAIL_GAP_S)
        if self.env_db[i] >= DECAY_DB:  # the sound never decayed: no closure, so no release after one
            return t
        loud = np.nonzero(self.env_db[i:j + 1] >= DECAY_DB)[0]
        if not loud.size:
            return t
        b0 = i + loud[0]
        b1 = b0 + _quiet_from(self.env_db[b0:] < DECAY_DB, round(RELEASE_QUIET_S / ENV_HOP_S))
        end = min(dur, self.env_t[b1 - 1] + ENV_WIN_S)
        # EDGE_DB re speech, not the room-relative edge: a noise tail raises the room estimate
        if end - self.env_t[b0] > RELEASE_MAX_S or self.env_db[b0:b1].max() > EDGE_DB:
            return t
        return float(end)

    def gaps(self, a: float, b: float, min_s: float) -> list[tuple[float, float]]:
        """Silences (>= min_s below self.gap_db) between a and b, as (start, end) times."""
        return self._silences(a, b, self.gap_db, min_s)

    def _silences(self, a: float, b: float, level_db: float, min_s: float) -> list[tuple[float, float]]:
        """Stretches of at least min_s below level_db (re speech) between a and b."""
        i, j = self._frame(a), self._frame(b)
        quiet = self.env_db[i:j + 1] < level_db
        out = []
        for s, e in true_runs(quiet):
            t0, t1 = self.env_t[i + s], self.env_t[i + e - 1] + ENV_WIN_S
            if t1 - t0 >= min_s + ENV_WIN_S - ENV_HOP_S:
                out.append((t0, t1))
        return out

    def loudest(self, a: float, b: float) -> float | None:
        """Loudest NOISE_WIN_S between a and b in dB re speech; None when the
        stretch is shorter than one window (speech starts/ends at the file edge:
        nothing there to measure, and a consonant would be all there is)."""
        if b - a < NOISE_WIN_S:
            return None
        _, rms = window_rms(self.x, self.sr, NOISE_WIN_S, 0.01, int(a * self.sr), int(b * self.sr))
        return float(db(rms.max())) - self.level_db if rms.size else None

    def click(self, a: float, b: float) -> tuple[float, float | None]:
        """Loudest 2 ms window between a and b that stands CLICK_CONTRAST_DB above
        the median of its +-25 ms neighbourhood, in dB re speech. Energy in 2 ms
        (not a sample peak) so a 1-sample tick reads the same at 16 and 48 kHz
        for the same energy, which is what is heard."""
        if b - a < CLICK_WIN_S:
            return FLOOR_DB, None
        t, rms = window_rms(self.x, self.sr, CLICK_WIN_S, 0.001, int(a * self.sr), int(b * self.sr))
        if rms.size < 3:
            return FLOOR_DB, None
        lv = db(np.maximum(rms, self.level * 1e-5))  # floor at -100 dB re speech: digital silence is not -inf
        k = int(CLICK_CTX_S / 0.001)
        pad = np.pad(lv, k, mode="edge")
        from numpy.lib.stride_tricks import sliding_window_view

        ctx = sliding_window_view(pad, 2 * k + 1)
        # the neighbourhood on *each* side (leaving out +-3 ms) must be quieter: a
        # click is isolated, whereas the first 2 ms of a fricative or of a noise
        # burst have loud sound right after them
        before = np.median(ctx[:, : k - 3], axis=1)
        after = np.median(ctx[:, k + 4:], axis=1)
        contrast = lv - np.maximum(before, after)
        cand = np.nonzero(contrast >= CLICK_CONTRAST_DB)[0]
        if cand.size == 0:
            return FLOOR_DB, None
        i = cand[np.argmax(lv[cand])]
        return float(lv[i] - self.level_db), float(t[i])

    def end_level(self) -> tuple[float, float]:
        """(level of the last 20 ms, that minus the loudest 20 ms in the 150 ms before), dB."""
        n = int(END_WIN_S * self.sr)
        tail = self.x[-n:] if len(self.x) >= n else self.x
        end_db = float(db(np.sqrt(np.mean(tail ** 2)))) - self.level_db
        a = max(0, len(self.x) - n - int(0.15 * self.sr))
        _, rms = window_rms(self.x, self.sr, END_WIN_S, 0.005, a, len(self.x) - n)
        before = float(db(rms.max())) - self.level_db if rms.size else end_db
        return end_db, end_db - before

    # --- word timing
    def _max_word_s(self, w: Word) -> float:
        """Longest a word of this many letters plausibly lasts at this clip's rate
        (sentence-final lengthening and slow TTS included; calibrated).

        An edge word that stands for several expected words ("$129.95" heard
        for "one hundred ... ninety five cents") gets the letters of those."""
        letters = max(spoken_letters(w.text), self.edge_letters.get(id(w), 0))
        return WORD_CAP_S + WORD_CAP_X * letters * self.s_per_char

    def _typical_word_s(self, w: Word) -> float:
        return spoken_letters(w.text) * self.s_per_char

    def _min_word_s(self, w: Word) -> float:
        return 0.03 + MIN_WORD_X * spoken_letters(w.text) * self.s_per_char

    def word_start(self, i: int) -> float:
        return self.refine_first_start() if i == self.first else self.words[i].start

    def refine_first_start(self) -> float:
        """Whisper's start, pushed later by what it cannot be: longer than the
        duration cap, or earlier than a word-separating silence before it.

        A silence that runs past where the forced alignment ends the text's first word is not
        before that word: Whisper stretched its first word over the next (a slow Piper "Hot
        coffee," whose "Hot" Whisper ends 0.17 s after the aligner, past the /t k/ closure)."""
        w = self.words[self.first]
        end = max(w.end, w.start)
        start = w.start
        if self.first > 0:
            # a word Whisper put before the anchor may have taken the anchor's
            # start ("The potatoes" for "Potatoes"): believe at most a typical length
            start = min(start, end - self._typical_word_s(w))
        cands = [start, end - self._max_word_s(w)]
        gaps = self.gaps(0.0, end - self._min_word_s(w), LEAD_GAP_S)
        if self.span is not None:
            gaps = [g for g in gaps if g[1] <= self.span.first_word_end_s]
        if gaps:
            cands.append(gaps[-1][1])
        return float(min(max(cands), max(w.start, end - 0.03)))

    def refine_last_end(self) -> float:
        """Whisper's end (often early by 0.1-0.5 s), moved on while the sound
        goes on without a word-separating silence, and over short final bursts
        after a silence (the 'ts' of a slow "artifacts" comes 0.2 s after the
        closure), but never past the cap."""
        w = self.words[self.last]
        if w.end - w.start < self._min_word_s(w):
            # squeezed to almost nothing right after a pause: Whisper's DTW pushed
            # it onto whatever sound came next; the pause is where speech ended
            before = self.gaps(max(0.0, w.start - 1.0), w.start + 0.02, TAIL_GAP_S)
            if before and before[-1][1] >= w.start - 0.02 and before[-1][0] > self.words[0].start:
                return float(before[-1][0])
        start = max(self.word_start(self.last), w.end - self._max_word_s(w))
        cap = start + self._max_word_s(w)
        dur = len(self.x) / self.sr
        est = min(w.end, cap)
        gaps = self.gaps(est, dur, TAIL_GAP_S)
        cont_end = gaps[0][0] if gaps else dur
        est = max(est, min(cont_end, cap))
        for k, (g0, g1) in enumerate(gaps):
            if g0 > est + 1e-9:
                break
            nxt = gaps[k + 1][0] if k + 1 < len(gaps) else dur
            if nxt - g1 >= BURST_S or nxt > cap:
                break
            est = nxt
        return float(max(est, start + 0.03))


# ------------------------------------------------------------------ helpers

def _quiet_from(quiet: np.ndarray, n: int) -> int:
    """Index of the first run of `n` True frames in `quiet`, or of a shorter run that reaches its
    end; len(quiet) when there is none."""
    for s, e in true_runs(quiet):
        if e - s >= n or e == len(quiet):
            return int(s)
    return len(quiet)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x ** 2))) if x.size else 0.0


def _legacy_start_ratio(x: np.ndarray, sr: int) -> float | None:
    a, b = int(0.12 * sr), int(0.52 * sr)
    if len(x) < b:
        return None
    return _r(_rms(x[:a]) / max(_rms(x[a:b]), 1e-12))


def _legacy_tail_ratio(x: np.ndarray, sr: int) -> float | None:
    a, b = int(0.12 * sr), int(0.40 * sr)
    if len(x) < a + b:
        return None
    return _r(_rms(x[-a:]) / max(_rms(x[-a - b:-a]), 1e-12))


def _r(v: float | None, nd: int = 4) -> float | None:
    return None if v is None else round(float(v), nd)
