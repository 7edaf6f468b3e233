"""Checks: a metric against its threshold, as a verdict with a message to act on.

Every check reads the same Evidence; messages carry the number, the limit,
and where in the audio or which words. `judge(name, evidence, thresholds)`
is the single entry point used by the pytest plugin and by `luxgate check`.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Callable, Iterable

from ..core.types import CheckResult
from ..metrics.text import normalize_words
from .analysis import Evidence
from .thresholds import THRESHOLDS


@dataclass(frozen=True)
class _Criterion:
    key: str              # threshold key
    value: float | None   # None: not measurable here, so not failing
    where: str = ""       # e.g. "at 0.00-0.42 s"
    #: a higher "max" limit this take has earned (the voice prompt's own background), and why
    allowance: tuple[float, str] | None = None

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
    return CheckResult(name, not failing, shown.value, shown.limit(th), message, details or {})


def _span(a: float | None, b: float | None) -> str:
    if a is None or b is None:
        return ""
    return f"at {a:.2f}-{b:.2f} s"


def check_wer(ev: Evidence, th: dict[str, float]) -> CheckResult:
    w = ev.wer
    detail = (f"{w.errors} error(s) in {len(w.ref_words)} words "
              f"({w.substitutions} substituted, {w.deletions} missing, {w.insertions} extra)\n"
              f"  diff : {w.diff()}\n  heard: {ev.transcript.text!r}")
    return _verdict("wer", [_Criterion("wer", round(w.wer, 4))], th,
                    f"WER {w.wer:.3f} <= {th['wer']:.3g} ({len(w.ref_words)} words)",
                    extra=detail, details={"pairs": list(w.pairs)})


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
        _Criterion("loop_s", round(loop_s, 3), loop_where),
    ]
    return _verdict("repeat", criteria, th,
                    f"no repeats beyond the text (longest loop {loop_s:.2f} s, "
                    f"{r.repeated_words} repeated word(s))",
                    extra=f"  heard: {ev.transcript.text!r}",
                    details={"spans": list(r.spans), "loops": loops})


def _prompt_room(ev: Evidence, th: dict[str, float]) -> tuple[float, str] | None:
    """The noise limit a cloned take earns from its prompt's own background."""
    bg = ev.prompt_background_db
    if bg is None:
        return None
    margin = th["prompt_noise_margin_db"]
    return bg + margin, f"by the voice prompt's own background ({bg:.1f} dB re its speech, + {margin:.3g} dB)"


def check_start(ev: Evidence, th: dict[str, float]) -> CheckResult:
    s = ev.start
    lead_where = _span(s.vad_onset_s, s.first_word_start_s)
    pre = _span(0.0, s.onset_s)
    click_at = f"at {s.pre_onset_click_at_s:.3f} s" if s.pre_onset_click_at_s is not None else ""
    criteria = [
        _Criterion("lead_garbage_s", s.lead_garbage_s, f"{lead_where} before “{s.first_word}”"),
        _Criterion("pre_onset_noise_db", s.pre_onset_noise_db if s.pre_onset_s >= 0.05 else None, pre,
                   _prompt_room(ev, th)),
        _Criterion("pre_onset_click_db", s.pre_onset_click_db if s.pre_onset_s > 0 else None, click_at),
    ]
    return _verdict("start", criteria, th,
                    f"clean start: speech from {s.onset_s} s, first word “{s.first_word}” "
                    f"at {s.first_word_start_s} s")


def check_tail(ev: Evidence, th: dict[str, float]) -> CheckResult:
    t = ev.tail
    criteria = [
        _Criterion("trail_garbage_s", t.trail_garbage_s,
                   f"{_span(t.last_word_end_s, t.vad_offset_s)} after “{t.last_word}”"),
        _Criterion("post_offset_noise_db", t.post_offset_noise_db if t.post_offset_s >= 0.05 else None,
                   _span(t.offset_s, ev.duration_s), _prompt_room(ev, th)),
        _Criterion("tail_buzz_s", t.tail_buzz_s, f"(periodicity {t.tail_buzz_periodicity:.2f})"),
        _Criterion("truncation_db", t.truncation_db,
                   f"in the last 30 ms (end decay {t.end_decay_db:+.1f} dB): the audio stops mid-sound",
                   _prompt_room(ev, th)),  # a take that ends in its prompt's room has not stopped mid-sound
    ]
    return _verdict("tail", criteria, th,
                    f"clean end: last word “{t.last_word}” ends {t.last_word_end_s} s, "
                    f"speech until {t.offset_s} s of {ev.duration_s:.2f} s")


def check_clipping(ev: Evidence, th: dict[str, float]) -> CheckResult:
    lv = ev.level
    criteria = [_Criterion("clip_frac", lv.clip_frac, f"({lv.clip_runs} clipped run(s))"),
                _Criterion("longest_clip_run_s", lv.longest_clip_run_s)]
    return _verdict("clipping", criteria, th,
                    f"no clipping (peak {lv.peak_dbfs:.1f} dBFS, RMS {lv.rms_dbfs:.1f} dBFS)")


def check_rate(ev: Evidence, th: dict[str, float]) -> CheckResult:
    r = ev.rate
    value = r.syllables_per_s if r.speech_s > 0 else None
    where = f"({r.syllables} syllables in {r.speech_s:.2f} s of speech, {r.method})"
    criteria = [_Criterion("rate_min_sps", value, where), _Criterion("rate_max_sps", value, where)]
    if value is None:
        return CheckResult("rate", False, None, th["rate_min_sps"],
                           "no speech detected, so no speaking rate", {})
    return _verdict("rate", criteria, th, f"{value:.2f} syllables/s {where}")


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
            criteria.append(_Criterion(key, None if value is None else abs(value), where))
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
    criterion = _Criterion("click_scan_db", loudest[1] if loudest else 0.0, where)
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
        return CheckResult("pauses", False, worst.duration, th["pause_gap_s"], message, p.to_dict())
    at_marks = [g for g in inner if g.explained]
    return CheckResult("pauses", True, p.longest_unexplained_s, th["pause_gap_s"],
                       f"{len(inner)} pause(s) inside the take, {len(at_marks)} at punctuation; longest "
                       f"without punctuation {p.longest_unexplained_s:.2f} s", p.to_dict())


def check_quality(ev: Evidence, th: dict[str, float]) -> CheckResult:
    q = ev.quality
    if (broken := _heard(ev, "quality", q)) is not None:
        return broken
    where = f"(DNSMOS SIG {q.sig:.2f} speech, BAK {q.bak:.2f} background, P.808 {q.p808:.2f})"
    return _verdict("quality", [_Criterion("quality_ovrl", q.ovrl, where)], th,
                    f"DNSMOS OVRL {q.ovrl:.2f} >= {th['quality_ovrl']:.3g} {where}", details=q.to_dict())


def check_voice(ev: Evidence, th: dict[str, float]) -> CheckResult:
    v = ev.voice
    if (broken := _heard(ev, "voice", v)) is not None:
        return broken
    where = f"({v.take_speech_s:.1f} s of take speech vs {v.prompt_speech_s:.1f} s of prompt)"
    return _verdict("voice", [_Criterion("voice_similarity", v.similarity, where)], th,
                    f"sounds like the prompt: speaker similarity {v.similarity:.3f} >= "
                    f"{th['voice_similarity']:.3g} {where}", details=v.to_dict())


CHECKS: dict[str, Callable[[Evidence, dict[str, float]], CheckResult]] = {
    "wer": check_wer, "repeat": check_repeat, "start": check_start,
    "tail": check_tail, "clipping": check_clipping, "rate": check_rate,
    "seams": check_seams, "pauses": check_pauses, "quality": check_quality, "voice": check_voice,
}
CHECK_NAMES = tuple(CHECKS)


def checks_of(test_names: Iterable[str]) -> frozenset[str]:
    """The checks that gate tests named ``test_<check>`` (gate_suite) will run."""
    return frozenset(n[5:] for n in test_names if n.startswith("test_") and n[5:] in CHECKS)


def judge(name: str, evidence: Evidence, thresholds: dict[str, float]) -> CheckResult:
    try:
        fn = CHECKS[name]
    except KeyError:
        raise ValueError(f"unknown check {name!r}; known: {', '.join(CHECK_NAMES)}") from None
    return fn(evidence, thresholds)
