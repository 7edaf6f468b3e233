"""Checks, and the one registry of them: a metric against its threshold, as a verdict with a
message to act on.

Every check reads the same Evidence; messages carry the number, the limit,
and where in the audio or which words. `judge(name, evidence, thresholds)`
is the single entry point used by the pytest plugin and by `luxgate check`.

Each judge function carries its registry row (`@check(...)`, judging/spec.py):
its thresholds, the numbers it reports and how a baseline compares them, and
for a listener check the model it loads. The gate suite, `luxgate check`, the
report, the HTML and the baselines all read CHECKS; docs/ARCHITECTURE.md has
the recipe for adding one.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from ..core.types import CheckResult
from ..metrics import content_words as _cw
from ..metrics import edges as _edges
from ..metrics import level as _level
from ..metrics import loops as _loops
from ..metrics import pauses as _pauses
from ..metrics import seams as _seams
from ..metrics import text as _text
from ..metrics.edges import sonorant
from ..metrics.text import normalize_words
from .spec import Check, Listener, Reported, Threshold, Tolerance

if TYPE_CHECKING:
    from ..metrics.edges import StartMetrics, TailMetrics
    from .analysis import Evidence

#: the registry: check name -> its row, in the order the checks run and report
CHECKS: dict[str, Check] = {}


def check(name: str, summary: str, **row: Any) -> Callable[[Callable[..., CheckResult]], Callable[..., CheckResult]]:
    """Register the decorated judge function as check `name` (see judging/spec.py Check)."""
    def register(fn: Callable[..., CheckResult]) -> Callable[..., CheckResult]:
        if name in CHECKS:
            raise ValueError(f"check {name!r} is registered twice")
        CHECKS[name] = Check(name, fn, summary, **row)
        return fn
    return register


def _d(module_defaults: dict[str, float], key: str) -> float:
    return float(module_defaults[key])


def _r(path: str, nd: int | None = None) -> Callable[[Evidence], Any]:
    """A report getter: the attribute at `path`, rounded to `nd` places (None when absent)."""
    get = attrgetter(path)

    def value(ev: Evidence) -> Any:
        try:
            v = get(ev)
        except AttributeError:  # an optional part (seams, pauses, a listener) was not measured
            return None
        return v if nd is None or v is None else round(v, nd)
    return value


_EDGE = "word timestamps and 32 ms VAD frames move an edge by tens of ms between machines"
_ALIGNED = ("the aligner's 10 ms frames and the level gate's 20 ms frames: a take that moves an edge "
            "by a phone moves this by tens of ms")
_DB_FLOOR = ("below -60 dB re speech is inaudible under the speech and swings with float noise; "
             "6 dB is a doubling of amplitude")


@dataclass(frozen=True)
class _Criterion:
    key: str              # threshold key
    value: float | None   # None: not measurable here, so not failing
    where: str = ""       # e.g. "at 0.00-0.42 s"
    #: a higher "max" limit this take has earned (the voice prompt's own background), and why
    allowance: tuple[float, str] | None = None
    #: where in the audio it points, (start s, end s or None), for the HTML's marks
    at: tuple[tuple[float, float | None], ...] = ()

    def limit(self, th: dict[str, float]) -> float:
        if self.allowance is not None and THRESHOLDS[self.key].limit == "max":
            return max(th[self.key], self.allowance[0])
        return th[self.key]

    def ok(self, th: dict[str, float]) -> bool:
        if self.value is None:
            return True
        if THRESHOLDS[self.key].limit == "min":
            return self.value >= self.limit(th)
        return self.value <= self.limit(th)

    def text(self, th: dict[str, float]) -> str:
        spec = THRESHOLDS[self.key]
        op = ">=" if spec.limit == "min" else "<="
        unit = "" if spec.unit in ("ratio", "score") else f" {spec.unit}"
        value = "n/a" if self.value is None else f"{self.value:.4g}{unit}"
        where = f" {self.where}" if self.where else ""
        limit = f"{self.limit(th):.4g}{unit}"
        if self.allowance is not None and self.limit(th) != th[self.key]:
            limit += f", raised from {th[self.key]:.4g}{unit} {self.allowance[1]}"
        return f"{self.key} {value} (limit {op} {limit}){where}: {spec.help}"


def _verdict(name: str, criteria: list[_Criterion], th: dict[str, float],
             ok_text: str, extra: str = "", details: dict | None = None) -> CheckResult:
    failing = [c for c in criteria if not c.ok(th)]
    shown = failing[0] if failing else criteria[0]
    if failing:
        message = "; ".join(c.text(th) for c in failing) + (f"\n{extra}" if extra else "")
    else:
        message = ok_text
    marks = [list(m) for c in failing for m in c.at]
    return CheckResult(name, not failing, shown.value, shown.limit(th), message, details or {}, marks)


def _between(a: float | None, b: float | None) -> tuple[tuple[float, float | None], ...]:
    return () if a is None or b is None else ((a, b),)


def _aligned(where: str, at: float | None, key: str) -> str:
    """A passing edge's note on the text's forced alignment: where it put the text, or that it
    found none (then `key` was not measured)."""
    if at is None:
        return f" (the text found no alignment: {key} not measured)"
    return f" (the text aligned {where} {at} s)"


def _span(a: float | None, b: float | None) -> str:
    if a is None or b is None:
        return ""
    return f"at {a:.2f}-{b:.2f} s"


_CONTENT_HELP = ("content words (nouns, verbs, adjectives, numbers, names) said as another word, not at "
                 "all, or added where the text has none, heard with confidence; homophones, other endings "
                 "and the ASR's unsure guesses excused")


_WER_HELP = ("word error rate after Whisper English normalisation, not counting error regions whose heard "
             "words sound like the text (espeak-ng phoneme distance <= "
             f"{_cw.DEFAULT_MAX_WER_PHONEME_DISTANCE}: the recogniser cutting the same sounds into other "
             "words); dropped and added words always count")


def _wer_counted(ev: Evidence) -> tuple[int, float]:
    """The errors and WER the limit counts (the raw ones for Evidence built by hand)."""
    c = getattr(ev, "wer_counted", None)
    return (ev.wer.errors, ev.wer.wer) if c is None else (c.errors, c.wer)


@check("wer", "The words heard match the text (Whisper-normalised word error rate, sounds-alike "
              "segmentations left out, and no content word said wrong).",
       thresholds={"wer": Threshold(0.20, "ratio", "max", _WER_HELP),
                   # one wrong content word changes what the sentence says, whatever its length: WER
                   # weighs it 0.08 in 13 words (docs/CALIBRATION.md, "Content words")
                   "content_word_errors": Threshold(0.0, "count", "max", _CONTENT_HELP)},
       metrics={"wer_errors": Reported(lambda ev: _wer_counted(ev)[0], baseline=Tolerance(
                    "higher", 1.0, 0.1, "words", decimals=0,
                    why="the errors the WER limit counts (sounds-alike regions left out); Whisper's beam "
                        "search under another library build can flip one word; a real regression costs several "
                        "(10 % of the errors on long texts)")),
                "wer": Reported(_r("wer.wer", 4), baseline=Tolerance(
                    "info", 0.0, 0.0, "", why="judged through wer_errors: one word is 0.17 of a short "
                                                "text and 0.03 of a long one, so a WER tolerance fits neither")),
                "wer_counted": Reported(lambda ev: round(_wer_counted(ev)[1], 4), limits=("wer",)),
                "wer_raw_errors": Reported(_r("wer.errors")),
                "ref_words": Reported(lambda ev: len(ev.wer.ref_words)),
                "content_word_errors": Reported(
                    _r("content_words.count"), limits=("content_word_errors",), baseline=Tolerance(
                        "higher", 0.0, 0.0, "words", decimals=0,
                        why="the recogniser's slips are excused before counting (homophones, endings, "
                            "unsure words, rare words heard close), so a content word gained is a word "
                            "the take says wrong"))})
def check_wer(ev: Evidence, th: dict[str, float]) -> CheckResult:
    w = ev.wer
    cw = ev.content_words
    errors, counted = _wer_counted(ev)
    excused = () if getattr(ev, "wer_counted", None) is None else ev.wer_counted.excused
    detail = (f"{w.errors} error(s) in {len(w.ref_words)} words "
              f"({w.substitutions} substituted, {w.deletions} missing, {w.insertions} extra)"
              + (f", {w.errors - errors} of them in regions that sound like the text ("
                 + ", ".join(f"“{' '.join(e['ref'])}” heard as “{' '.join(e['hyp'])}”" for e in excused)
                 + ")" if excused else "")
              + f"\n  diff : {w.diff()}\n  heard: {ev.transcript.text!r}")
    criteria = [_Criterion("wer", round(counted, 4))]
    if cw is not None:
        criteria.append(_Criterion("content_word_errors", float(cw.count), f"({cw.describe()})" if cw.count else ""))
    details: dict[str, Any] = {"pairs": list(w.pairs)}
    if cw is not None:
        details["content_words"] = cw.to_dict()
    if getattr(ev, "wer_counted", None) is not None:
        details["wer_counted"] = ev.wer_counted.to_dict()
    return _verdict("wer", criteria, th,
                    f"WER {counted:.3f} <= {th['wer']:.3g} ({len(w.ref_words)} words"
                    + (f"; raw WER {w.wer:.3f}, {len(excused)} sounds-alike region(s) not counted)"
                       if excused else ")")
                    + ("" if cw is None else f", no content word wrong ({len(cw.excused)} slip(s) excused)"),
                    extra=detail, details=details)


def unexplained_loops(ev: Evidence) -> list[tuple[float, float, float, float]]:
    """Audio repeats that the text does not call for.

    A candidate repeat is excused when the words heard in its second copy are
    ones the text itself repeats ("no, no, no", "very, very"), and the
    transcript does not say any of them more often than the text does. A loop
    the ASR wrote down fails the second condition; one it glossed over leaves
    words in that stretch that the text does not repeat.
    """
    ref = Counter(normalize_words(ev.text))
    hyp = Counter(normalize_words(ev.transcript.text))
    out = []
    for start, end, lag, sim in ev.loops.candidates:
        heard = _words_in(ev, start, end)
        if (heard and all(hyp[w] <= ref[w] for w in heard)
                and any(ref[w] >= 2 for w in heard)):
            continue
        out.append((start, end, lag, sim))
    return out


def _words_in(ev: Evidence, a: float, b: float) -> list[str]:
    inside = [w.text for w in ev.transcript.words if w.start < b and w.end > a]
    return normalize_words(" ".join(inside)) if inside else []


@check("repeat", "Nothing is said twice that the text says once (transcript and audio loops).",
       thresholds={
           "repeat_span_words": Threshold(float(_text.DEFAULT_MAX_REPEAT_SPAN_WORDS - 1), "count", "max",
                                          "extra words in one repeated span the text does not have"),
           "repeat_ratio": Threshold(_text.DEFAULT_MAX_REPEAT_RATIO, "ratio", "max",
                                     "share of reference words said again though the text says them once"),
           "loop_s": Threshold(_d(_loops.DEFAULTS, "longest_repeat_s"), "s", "max",
                               "longest stretch of audio that repeats itself and the text does not explain")},
       metrics={"repeat_ratio": Reported(_r("repeats.repeat_ratio", 4)),
                "repeated_words": Reported(_r("repeats.repeated_words"), baseline=Tolerance(
                    "higher", 1.0, 0.0, "words", decimals=0,
                    why="the ASR occasionally doubles one word; test_repeat judges the span")),
                # the check counts only the loops the text does not explain: shown for reference
                "longest_loop_s": Reported(_r("loops.longest_repeat_s"), limits=("loop_s",), reference=True,
                                           baseline=Tolerance("higher", 0.15, 0.0, "s", decimals=3,
                                                              why="the loop detector's frames and lag search "
                                                                  "resolve ~0.1 s"))})
def check_repeat(ev: Evidence, th: dict[str, float]) -> CheckResult:
    r = ev.repeats
    longest_span = max((s["inserted"] for s in r.spans), default=0)
    loops = unexplained_loops(ev)
    loop_s = max((e - s for s, e, _, _ in loops), default=0.0)
    loop_where = ""
    if loops:
        s, e, lag, sim = max(loops, key=lambda c: c[1] - c[0])
        loop_where = f"at {s:.2f}-{e:.2f} s repeats {s - lag:.2f}-{e - lag:.2f} s (similarity {sim:.2f})"
    spans = "; ".join(f"“{s['words']}” x{s['count']}" for s in r.spans)
    criteria = [
        _Criterion("repeat_span_words", float(longest_span), f"({spans})" if spans else ""),
        _Criterion("repeat_ratio", round(r.repeat_ratio, 4)),
        _Criterion("loop_s", round(loop_s, 3), loop_where,
                   at=tuple((a, b) for a, b, _, _ in sorted(loops, key=lambda c: c[0] - c[1]))),
    ]
    return _verdict("repeat", criteria, th,
                    f"no repeats beyond the text (longest loop {loop_s:.2f} s, "
                    f"{r.repeated_words} repeated word(s))",
                    extra=f"  heard: {ev.transcript.text!r}",
                    details={"spans": list(r.spans), "loops": loops})


def _prompt_room(ev: Evidence, th: Mapping[str, float]) -> tuple[float, str] | None:
    return _room(ev.prompt_background_db, th)


def _room(bg: float | None, th: Mapping[str, float]) -> tuple[float, str] | None:
    """The noise limit a cloned take earns from its prompt's own background `bg` (dB re speech)."""
    if bg is None:
        return None
    margin = th["prompt_noise_margin_db"]
    return bg + margin, f"by the voice prompt's own background ({bg:.1f} dB re its speech, + {margin:.3g} dB)"


#: a stretch before the onset or after the offset shorter than this is too short to measure noise in
MEASURED_S = 0.05


def _start_criteria(s: StartMetrics, first_word: str, room: tuple[float, str] | None) -> list[_Criterion]:
    """check_start's rules on the metrics alone; `first_word`: the text's, for the message."""
    click_at = f"at {s.pre_onset_click_at_s:.3f} s" if s.pre_onset_click_at_s is not None else ""
    # one sound before the text, held to a lower limit where the text begins with a vowel or sonorant
    before = (f"{_span(s.before_text_from_s, s.text_start_s)}, before “{first_word}” "
              "where the text aligned to the take begins")
    before_at = _between(s.before_text_from_s, s.text_start_s)
    return [
        _Criterion("lead_garbage_s", s.lead_garbage_s,
                   f"{_span(s.vad_onset_s, s.first_word_start_s)} before “{s.first_word}”",
                   at=_between(s.vad_onset_s, s.first_word_start_s)),
        _Criterion("before_text_s", s.before_text_s, before, at=before_at),
        _Criterion("before_sonorant_text_s", s.before_text_s if sonorant(s.text_first_phone) else None,
                   f"{before}, with /{s.text_first_phone}/", at=before_at),
        _Criterion("pre_onset_noise_db", s.pre_onset_noise_db if s.pre_onset_s >= MEASURED_S else None,
                   _span(0.0, s.onset_s), room, at=_between(0.0, s.onset_s)),
        _Criterion("pre_onset_click_db", s.pre_onset_click_db if s.pre_onset_s > 0 else None, click_at,
                   at=() if s.pre_onset_click_at_s is None else ((s.pre_onset_click_at_s, None),)),
    ]


def _tail_criteria(t: TailMetrics, last_word: str, duration_s: float | None,
                   room: tuple[float, str] | None) -> list[_Criterion]:
    """check_tail's rules on the metrics alone; `last_word`: the text's, `duration_s`: the take's
    (None: not known; only the message and the marks lack it)."""
    end = [] if duration_s is None else [(max(0.0, duration_s - 0.03), duration_s)]
    after = (f"{_span(t.text_end_s, t.after_text_to_s)}, after “{last_word}” "
             "where the text aligned to the take ends")
    after_at = _between(t.text_end_s, t.after_text_to_s)
    return [
        _Criterion("trail_garbage_s", t.trail_garbage_s,
                   f"{_span(t.last_word_end_s, t.vad_offset_s)} after “{t.last_word}”",
                   at=_between(t.last_word_end_s, t.vad_offset_s)),
        _Criterion("after_text_s", t.after_text_s, after, at=after_at),
        _Criterion("after_sonorant_text_s", t.after_text_s if sonorant(t.text_last_phone) else None,
                   f"{after}, with /{t.text_last_phone}/", at=after_at),
        _Criterion("loud_after_text_s", t.loud_after_text_s,
                   f"{after}, of it at or above the speech level", at=after_at),
        _Criterion("post_offset_noise_db", t.post_offset_noise_db if t.post_offset_s >= MEASURED_S else None,
                   _span(t.offset_s, duration_s), room, at=_between(t.offset_s, duration_s)),
        _Criterion("tail_buzz_s", t.tail_buzz_s, f"(periodicity {t.tail_buzz_periodicity:.2f})"),
        # a take that ends in its prompt's room has not stopped mid-sound
        _Criterion("truncation_db", t.truncation_db,
                   f"in the last 30 ms (end decay {t.end_decay_db:+.1f} dB): the audio stops mid-sound",
                   room, at=tuple(end)),
    ]


def failing_edges(start: StartMetrics | None = None, tail: TailMetrics | None = None, *,
                  thresholds: Mapping[str, float] | None = None,
                  prompt_background_db: float | None = None) -> list[str]:
    """The names of check_start's and check_tail's criteria that these metrics fail, by the
    checks' own rules (limits, a cloned take's room allowance, stretches too short to measure),
    without an Evidence: for calibration scripts and tests that judge a take's edges alone.
    `thresholds` overlay the defaults; `prompt_background_db` is the voice prompt's background
    (dB re its speech) that a cloned take may have."""
    th = {**default_thresholds(), **(thresholds or {})}
    room = _room(prompt_background_db, th)
    criteria = [] if start is None else _start_criteria(start, "", room)
    criteria += [] if tail is None else _tail_criteria(tail, "", None, room)
    return [c.key for c in criteria if not c.ok(th)]


@check("start", "Speech starts clean: no garbage, noise or click before the first word.",
       thresholds={
           "lead_garbage_s": Threshold(_d(_edges.DEFAULTS, "lead_garbage_s"), "s", "max",
                                       "speech-like sound before the first word"),
           "before_text_s": Threshold(_d(_edges.DEFAULTS, "before_text_s"), "s", "max",
                                      "loud sound, not a sibilant, before where a forced alignment of "
                                      "the text puts its first word"),
           "before_sonorant_text_s": Threshold(_d(_edges.DEFAULTS, "before_sonorant_text_s"), "s", "max",
                                               "before_text_s where the text begins with a vowel or "
                                               "sonorant, whose edge the aligner does not leave outside"),
           "pre_onset_noise_db": Threshold(_d(_edges.DEFAULTS, "pre_onset_noise_db"), "dB", "max",
                                           "loudest 50 ms before speech onset, re speech level"),
           "pre_onset_click_db": Threshold(_d(_edges.DEFAULTS, "pre_onset_click_db"), "dB", "max",
                                           "loudest isolated transient before onset, re speech level"),
           # a cloning engine copies its prompt's room: noise no louder than the prompt's own
           # steady background (+ this margin: 4x its power) is the prompt's, not a fault. The
           # loudest 50 ms of a steady background reads 1-3 dB over its median (CMU ARCTIC a0007:
           # -24.4 vs -27.7 dB re speech). Only raises the two noise limits and the truncation
           # limit (a take that ends in that room has not stopped mid-sound), never lowers them.
           "prompt_noise_margin_db": Threshold(
               6.0, "dB", "max", "how far a cloned take's lead/tail noise and end level may rise above "
                                 "its voice prompt's own background (dB re speech) before they count")},
       metrics={"lead_garbage_s": Reported(_r("start.lead_garbage_s"), baseline=Tolerance(
                    "higher", 0.1, 0.0, "s", decimals=3, why=_EDGE)),
                "before_text_s": Reported(_r("start.before_text_s"), baseline=Tolerance(
                    "higher", 0.1, 0.0, "s", decimals=3, why=_ALIGNED)),
                "onset_s": Reported(_r("start.onset_s"), baseline=Tolerance(
                    "both", 0.1, 0.0, "s", decimals=3, why=_EDGE)),
                "pre_onset_noise_db": Reported(_r("start.pre_onset_noise_db"), baseline=Tolerance(
                    "higher", 6.0, 0.0, "dB", floor=-60.0, decimals=2, why=_DB_FLOOR)),
                "pre_onset_click_db": Reported(_r("start.pre_onset_click_db"), baseline=Tolerance(
                    "higher", 6.0, 0.0, "dB", floor=-60.0, decimals=2, why=_DB_FLOOR))})
def check_start(ev: Evidence, th: dict[str, float]) -> CheckResult:
    s = ev.start
    return _verdict("start", _start_criteria(s, ev.text.split()[0], _prompt_room(ev, th)), th,
                    f"clean start: speech from {s.onset_s} s, first word “{s.first_word}” "
                    f"at {s.first_word_start_s} s" + _aligned("from", s.text_start_s, "before_text_s"))


@check("tail", "Speech ends clean: no buzzy tail or garbage after the last word, not cut off.",
       thresholds={
           "trail_garbage_s": Threshold(_d(_edges.DEFAULTS, "trail_garbage_s"), "s", "max",
                                        "speech-like sound after the last word"),
           "after_text_s": Threshold(_d(_edges.DEFAULTS, "after_text_s"), "s", "max",
                                     "loud sound, not a sibilant, after where a forced alignment of "
                                     "the text ends its last word"),
           "after_sonorant_text_s": Threshold(_d(_edges.DEFAULTS, "after_sonorant_text_s"), "s", "max",
                                              "after_text_s where the text ends with a vowel or sonorant, "
                                              "whose edge the aligner does not leave outside"),
           "loud_after_text_s": Threshold(_d(_edges.DEFAULTS, "loud_after_text_s"), "s", "max",
                                          "after_text_s at or above the speech level: a syllable more, "
                                          "not the last word's decay"),
           "post_offset_noise_db": Threshold(_d(_edges.DEFAULTS, "post_offset_noise_db"), "dB", "max",
                                             "loudest 50 ms after speech offset, re speech level"),
           "tail_buzz_s": Threshold(_d(_edges.DEFAULTS, "tail_buzz_s"), "s", "max",
                                    "frozen, periodic (buzzy/robotic) sound at the end"),
           "truncation_db": Threshold(_d(_edges.DEFAULTS, "truncation_db"), "dB", "max",
                                      "level of the last 30 ms re speech (high = cut off mid-sound)")},
       metrics={"trail_garbage_s": Reported(_r("tail.trail_garbage_s"), baseline=Tolerance(
                    "higher", 0.1, 0.0, "s", decimals=3, why=_EDGE)),
                "after_text_s": Reported(_r("tail.after_text_s"), baseline=Tolerance(
                    "higher", 0.1, 0.0, "s", decimals=3, why=_ALIGNED)),
                "loud_after_text_s": Reported(_r("tail.loud_after_text_s"), baseline=Tolerance(
                    "higher", 0.1, 0.0, "s", decimals=3, why=_ALIGNED)),
                "post_offset_noise_db": Reported(_r("tail.post_offset_noise_db"), baseline=Tolerance(
                    "higher", 6.0, 0.0, "dB", floor=-60.0, decimals=2, why=_DB_FLOOR)),
                "tail_buzz_s": Reported(_r("tail.tail_buzz_s"), baseline=Tolerance(
                    "higher", 0.1, 0.0, "s", decimals=3, why=_EDGE)),
                "truncation_db": Reported(_r("tail.truncation_db"), baseline=Tolerance(
                    "higher", 6.0, 0.0, "dB", floor=-60.0, decimals=2, why=_DB_FLOOR)),
                "offset_s": Reported(_r("tail.offset_s"))})
def check_tail(ev: Evidence, th: dict[str, float]) -> CheckResult:
    t = ev.tail
    criteria = _tail_criteria(t, ev.text.split()[-1], ev.duration_s, _prompt_room(ev, th))
    return _verdict("tail", criteria, th,
                    f"clean end: last word “{t.last_word}” ends {t.last_word_end_s} s, "
                    f"speech until {t.offset_s} s of {ev.duration_s:.2f} s" + _aligned("until", t.text_end_s,
                                                                                        "after_text_s"))


@check("clipping", "Almost no samples at full scale.",
       thresholds={
           "clip_frac": Threshold(_d(_level.DEFAULTS, "clip_frac"), "ratio", "max",
                                  "share of samples in runs at full scale"),
           "longest_clip_run_s": Threshold(_d(_level.DEFAULTS, "longest_clip_run_s"), "s", "max",
                                           "longest run of samples held at full scale")},
       metrics={"clip_frac": Reported(_r("level.clip_frac"), baseline=Tolerance(
                    "higher", 1e-4, 0.0, "", decimals=6,
                    why="a fifth of test_clipping's limit: a few samples reaching full scale")),
                "longest_clip_run_s": Reported(_r("level.longest_clip_run_s"), baseline=Tolerance(
                    "higher", 0.001, 0.0, "s", decimals=4, why="one millisecond at full scale")),
                "peak": Reported(_r("level.peak", 5)), "rms": Reported(_r("level.rms", 5)),
                "peak_dbfs": Reported(_r("level.peak_dbfs", 2)), "rms_dbfs": Reported(_r("level.rms_dbfs", 2))})
def check_clipping(ev: Evidence, th: dict[str, float]) -> CheckResult:
    lv = ev.level
    criteria = [_Criterion("clip_frac", lv.clip_frac, f"({lv.clip_runs} clipped run(s))"),
                _Criterion("longest_clip_run_s", lv.longest_clip_run_s)]
    return _verdict("clipping", criteria, th,
                    f"no clipping (peak {lv.peak_dbfs:.1f} dBFS, RMS {lv.rms_dbfs:.1f} dBFS)")


@check("rate", "Speaking rate is within human range (duration prediction sanity).",
       # conversational English runs at 3-6 syllables/s including pauses; espeak-ng
       # at its slowest setting (80 wpm) measures 2.9 and at 260 wpm 8.0. Outside
       # 2.5-8 a duration predictor has failed rather than chosen a style.
       thresholds={"rate_min_sps": Threshold(2.5, "syl/s", "min", "slowest acceptable speaking rate"),
                   "rate_max_sps": Threshold(8.0, "syl/s", "max", "fastest acceptable speaking rate")},
       metrics={"duration_s": Reported(_r("duration_s", 3), baseline=Tolerance(
                    "both", 0.05, 0.05, "s", decimals=3,
                    why="a duration predictor off by a frame per word on other numerics; "
                        "5 % faster or slower speech is at the edge of what listeners notice")),
                "syllables_per_s": Reported(_r("rate.syllables_per_s"), limits=("rate_min_sps", "rate_max_sps"),
                                            baseline=Tolerance("both", 0.0, 0.08, "syl/s", decimals=3,
                                                               why="speech time comes from VAD frames; 8 % is "
                                                                   "under a noticeable tempo change")),
                "speech_s": Reported(_r("rate.speech_s"))})
def check_rate(ev: Evidence, th: dict[str, float]) -> CheckResult:
    r = ev.rate
    value = r.syllables_per_s if r.speech_s > 0 else None
    where = f"({r.syllables} syllables in {r.speech_s:.2f} s of speech, {r.method})"
    criteria = [_Criterion("rate_min_sps", value, where), _Criterion("rate_max_sps", value, where)]
    if value is None:
        return CheckResult("rate", False, None, th["rate_min_sps"],
                           "no speech detected, so no speaking rate", {})
    return _verdict("rate", criteria, th, f"{value:.2f} syllables/s {where}")


@check("seams", "Chunk joins are inaudible: no click, loudness or timbre jump (skipped for one-pass takes).",
       needs="seams",
       thresholds={
           "seam_click_db": Threshold(_d(_seams.DEFAULTS, "seam_click_db"), "dB", "max",
                                      "click or discontinuity at a chunk join: loudest 0.5 ms above 6 kHz "
                                      "re the 10 ms either side"),
           "seam_level_jump_db": Threshold(_d(_seams.DEFAULTS, "seam_level_jump_db"), "dB", "max",
                                           "speech level change across a chunk join (either direction)"),
           "seam_spectral_jump_db": Threshold(_d(_seams.DEFAULTS, "seam_spectral_jump_db"), "dB", "max",
                                              "change of the voiced spectral envelope across a chunk join "
                                              "(RMS over mel bands)"),
           "click_scan_db": Threshold(_d(_seams.DEFAULTS, "click_scan_db"), "dB", "max",
                                      "loudest transient anywhere in the file re the 10 ms either side "
                                      "(when the seam times are unknown)")},
       metrics={"seam_count": Reported(_r("seams.count")),
                "worst_seam_click_db": Reported(lambda ev: _worst_seam(ev, "click_db"), limits=("seam_click_db",),
                                                baseline=Tolerance("higher", 3.0, 0.0, "dB", decimals=2,
                                                                   why="a 0.5 ms window at a join; 3 dB is "
                                                                       "under a third of the limit")),
                "worst_seam_level_jump_db": Reported(
                    lambda ev: _worst_seam(ev, "level_jump_db"), limits=("seam_level_jump_db",), magnitude=True,
                    baseline=Tolerance("higher", 1.5, 0.0, "dB", magnitude=True, decimals=2,
                                       why="signed level change, compared as its size; 1.5 dB is "
                                           "about the just-noticeable loudness difference")),
                "worst_seam_spectral_jump_db": Reported(
                    lambda ev: _worst_seam(ev, "spectral_jump_db"), limits=("seam_spectral_jump_db",),
                    baseline=Tolerance("higher", 2.0, 0.0, "dB", decimals=2,
                                       why="RMS over mel bands of voiced frames either side")),
                "click_scan_db": Reported(lambda ev: None if ev.clicks is None
                                          else max((db for _, db in ev.clicks), default=None))})
def check_seams(ev: Evidence, th: dict[str, float]) -> CheckResult:
    """Every chunk join: no click, loudness or timbre jump. Without seam times
    (a file from elsewhere) the whole file is scanned for clicks instead."""
    if ev.seams is None:
        return _click_scan_verdict(ev.clicks or [], th)
    if not ev.seams.count:
        return CheckResult("seams", True, None, None, "no seams: the take was spoken in one pass", {})
    criteria: list[_Criterion] = []
    for field, key in (("click_db", "seam_click_db"), ("level_jump_db", "seam_level_jump_db"),
                       ("spectral_jump_db", "seam_spectral_jump_db")):
        # worst seam first, so a passing verdict reports the closest call
        for seam in sorted(ev.seams.seams, key=lambda s: -abs(getattr(s, field) or 0.0)):
            value = getattr(seam, field)
            where = f"at seam {seam.index} ({seam.time_s:.2f} s)"
            if field == "click_db" and seam.click_at_s is not None:
                where += f", transient at {seam.click_at_s:.3f} s"
            if field == "level_jump_db" and value is not None:
                where += f", {'louder' if value > 0 else 'quieter'} after the join " \
                         f"({seam.level_before_db:.1f} -> {seam.level_after_db:.1f} dBFS)"
            at = ((seam.time_s, None),) + (((seam.click_at_s, None),)
                                           if field == "click_db" and seam.click_at_s is not None else ())
            criteria.append(_Criterion(key, None if value is None else abs(value), where, at=at))
    worst = ev.seams.worst("click_db")
    return _verdict("seams", criteria, th,
                    f"{ev.seams.count} seam(s) clean: worst click {worst.click_db:.1f} dB at seam "
                    f"{worst.index} ({worst.time_s:.2f} s)" if worst else f"{ev.seams.count} seam(s) clean",
                    details=ev.seams.to_dict())


def _click_scan_verdict(clicks: list[tuple[float, float]], th: dict[str, float]) -> CheckResult:
    loudest = max(clicks, key=lambda c: c[1], default=None)
    over = [c for c in clicks if c[1] > th["click_scan_db"]]
    where = f"at {loudest[0]:.3f} s" if loudest else ""
    if over:
        where += f" ({len(over)} transient(s) over the limit: " + \
                 ", ".join(f"{t:.3f} s" for t, _ in over[:5]) + (" ..." if len(over) > 5 else "") + ")"
    criterion = _Criterion("click_scan_db", loudest[1] if loudest else 0.0, where,
                           at=tuple((t, None) for t, _ in over))
    return _verdict("seams", [criterion], th,
                    "no seam times given; whole-file click scan clean"
                    + (f" (loudest transient {loudest[1]:.1f} dB at {loudest[0]:.3f} s)" if loudest else ""),
                    details={"clicks": [list(c) for c in clicks]})


class CheckNotApplicable(Exception):
    """The check cannot judge this take (listener not installed, no voice prompt); the message says why."""


def _heard(ev: Evidence, name: str, value: object) -> CheckResult | None:
    """None when the listener's result is there; else a failure (it crashed) or CheckNotApplicable."""
    if value is not None:
        return None
    if name in ev.listener_errors:
        return CheckResult(name, False, None, None, f"the {name} listener failed on this take: "
                           f"{ev.listener_errors[name]}", {})
    raise CheckNotApplicable(ev.not_heard.get(name, f"{name}: the listener did not run on this take"))


@check("pauses", "No audible pause inside a phrase: every silent gap sits where the text has punctuation.",
       thresholds={"pause_gap_s": Threshold(_d(_pauses.DEFAULTS, "pause_gap_s"), "s", "max",
                                            "longest silent gap (-45 dB re peak, or down to the recording's own "
                                            "room) between two words where the text has no punctuation")},
       metrics={"longest_unexplained_pause_s": Reported(_r("pauses.longest_unexplained_s"), baseline=Tolerance(
                    "higher", 0.1, 0.0, "s", decimals=3, why=_EDGE)),
                "pause_count": Reported(lambda ev: None if ev.pauses is None else len(ev.pauses.inner))})
def check_pauses(ev: Evidence, th: dict[str, float]) -> CheckResult:
    """No silent gap inside a phrase: every pause longer than the limit sits
    where the text has punctuation."""
    p = ev.pauses
    if p is None:
        raise CheckNotApplicable("pauses were not measured")
    over = sorted((g for g in p.unexplained if g.duration > th["pause_gap_s"]), key=lambda g: g.start)
    inner = p.inner
    if over:
        worst = max(over, key=lambda g: g.duration)
        lines = [f"{len(over)} pause(s) where the text has no punctuation:"]
        lines += [f"  {g.duration:.2f} s at {g.start:.2f}-{g.end:.2f} s {g.words()}" for g in over]
        message = (f"pause_gap_s {worst.duration:.3g} s (limit <= {th['pause_gap_s']:.3g} s) at "
                   f"{worst.start:.2f}-{worst.end:.2f} s {worst.words()}: "
                   f"{THRESHOLDS['pause_gap_s'].help}\n" + "\n".join(lines))
        return CheckResult("pauses", False, worst.duration, th["pause_gap_s"], message, p.to_dict(),
                           [[g.start, g.end] for g in over])
    at_marks = [g for g in inner if g.explained]
    return CheckResult("pauses", True, p.longest_unexplained_s, th["pause_gap_s"],
                       f"{len(inner)} pause(s) inside the take, {len(at_marks)} at punctuation; longest "
                       f"without punctuation {p.longest_unexplained_s:.2f} s", p.to_dict())


@check("quality", "Predicted listening quality (DNSMOS OVRL) above the floor (skipped without the `listen` extra).",
       listener=Listener("dnsmos", "score", "MOS", packages=("speechmos",)),
       # DNSMOS OVRL: clean Piper 2.71-3.47, clean espeak-ng 2.07-3.17 (its breathy
       # variants read as background noise), white noise at 10 dB SNR <= 2.16,
       # 4-bit audio median 2.10. 2.5 is "poor" (2) to "fair" (3) on the ACR scale.
       thresholds={"quality_ovrl": Threshold(2.5, "MOS", "min", "DNSMOS overall quality, predicted mean "
                                                                "opinion score (1 bad .. 5 excellent)")},
       metrics={"mos_ovrl": Reported(_r("quality.ovrl"), limits=("quality_ovrl",), baseline=Tolerance(
                    "lower", 0.2, 0.0, "MOS", decimals=3,
                    why="DNSMOS moves by a few hundredths between takes of one model; 0.2 is "
                        "about its per-clip error against listeners")),
                "mos_sig": Reported(_r("quality.sig"), baseline=Tolerance("lower", 0.2, 0.0, "MOS", decimals=3,
                                                                          why="as mos_ovrl")),
                "mos_bak": Reported(_r("quality.bak"), baseline=Tolerance("lower", 0.2, 0.0, "MOS", decimals=3,
                                                                          why="as mos_ovrl")),
                "mos_p808": Reported(_r("quality.p808"))})
def check_quality(ev: Evidence, th: dict[str, float]) -> CheckResult:
    q = ev.quality
    if (broken := _heard(ev, "quality", q)) is not None:
        return broken
    where = f"(DNSMOS SIG {q.sig:.2f} speech, BAK {q.bak:.2f} background, P.808 {q.p808:.2f})"
    return _verdict("quality", [_Criterion("quality_ovrl", q.ovrl, where)], th,
                    f"DNSMOS OVRL {q.ovrl:.2f} >= {th['quality_ovrl']:.3g} {where}", details=q.to_dict())


@check("voice", "The take sounds like its voice prompt (speaker similarity; skipped for stacks that do not clone).",
       needs="prompt",
       listener=Listener("speaker", "voice_match", "VoiceMatch", packages=("resemblyzer",), uses_prompt=True),
       # take vs its 5 s prompt, >= 1 s of speech: same voice 0.71-0.96, another
       # engine or sex <= 0.66; two variants of one espeak-ng sex reach 0.92 (the
       # encoder cannot tell them apart): docs/CALIBRATION.md
       thresholds={"voice_similarity": Threshold(0.70, "ratio", "min",
                                                 "cosine similarity of the take's and the prompt's speaker "
                                                 "embeddings (resemblyzer GE2E)")},
       metrics={"voice_similarity": Reported(_r("voice.similarity"), baseline=Tolerance(
           "lower", 0.03, 0.0, "cos", decimals=4,
           why="GE2E cosine: takes of one voice spread by about 0.02; another voice scores 0.4 lower"))})
def check_voice(ev: Evidence, th: dict[str, float]) -> CheckResult:
    v = ev.voice
    if (broken := _heard(ev, "voice", v)) is not None:
        return broken
    where = f"({v.take_speech_s:.1f} s of take speech vs {v.prompt_speech_s:.1f} s of prompt)"
    return _verdict("voice", [_Criterion("voice_similarity", v.similarity, where)], th,
                    f"sounds like the prompt: speaker similarity {v.similarity:.3f} >= "
                    f"{th['voice_similarity']:.3g} {where}", details=v.to_dict())


def _worst_seam(ev: Evidence, name: str) -> float | None:
    worst = ev.seams.worst(name) if ev.seams is not None else None
    return None if worst is None else getattr(worst, name)


CHECK_NAMES = tuple(CHECKS)
#: every threshold, from the rows that define them
THRESHOLDS: dict[str, Threshold] = {k: t for c in CHECKS.values() for k, t in c.thresholds.items()}


def default_thresholds() -> dict[str, float]:
    """Every threshold at its default (thresholds.resolve overlays the layers a run gives)."""
    return {k: t.default for k, t in THRESHOLDS.items()}


#: every report metric, in report order
REPORTED: dict[str, Reported] = {k: r for c in CHECKS.values() for k, r in c.metrics.items()}
#: checks that need a listener model beyond ASR and VAD; each loads only when its check is selected
LISTENERS: dict[str, Listener] = {n: c.listener for n, c in CHECKS.items() if c.listener is not None}
LISTENER_CHECKS = tuple(LISTENERS)


def checks_of(test_names: Iterable[str]) -> frozenset[str]:
    """The checks that gate tests named ``test_<check>`` (gate_suite) will run."""
    return frozenset(n[5:] for n in test_names if n.startswith("test_") and n[5:] in CHECKS)


def judge(name: str, evidence: Evidence, thresholds: dict[str, float]) -> CheckResult:
    try:
        row = CHECKS[name]
    except KeyError:
        raise ValueError(f"unknown check {name!r}; known: {', '.join(CHECK_NAMES)}") from None
    return row.judge(evidence, thresholds)
