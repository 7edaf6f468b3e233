"""report.html: the matrix report as one page you can listen to and look at.

Rendered from the same report dict that report.json holds (plus the kept
WAVs under the output directory), by the controller at the end of the run.
One self-contained file: CSS and JS inline, plots as data URIs, audio
embedded as base64 up to a size cap (or linked relative to the page).
Detail views are CSS `:target` overlays, so the page works without JS; the
small script only pauses audio on close and fills the stack-comparison views
from the detail views (each take is embedded once).

Every string that comes from the run (ids, texts, transcripts, messages,
versions) goes through `html.escape`.
"""
from __future__ import annotations

import base64
import dataclasses
import hashlib
import html
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol
from urllib.parse import quote

from ..judging.checks import REPORTED, THRESHOLDS
from ..metrics.text import word_error
from . import plots
from .matrix import write_atomic
from .summary import VERDICT_LEAD, run_headline

AUDIO_MODES = ("embed", "link")
DEFAULT_EMBED_MB = 50.0
HTML_OFF = ("none", "off", "false", "0", "no")
#: plain symbols rather than report.py's emoji: many Linux browsers have no colour-emoji font
STATUS_ICON = {"passed": "✓", "failed": "✗", "error": "!", "skipped": "–", "lost": "?"}

# where in the audio a failing check's message points: "at 0.12-0.40 s",
# "at 2.838 s", "at seam 1 (7.58 s)". The messages are the checks' own account
# of where the problem is, so the picture marks exactly what the text says.
_SPAN = re.compile(r"\bat (\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))? s\b")
_SEAM = re.compile(r"\bat seam \d+ \((\d+(?:\.\d+)?) s\)")
_MAX_MARKS_PER_CHECK = 8


@dataclass(frozen=True)
class HtmlOptions:
    """Where report.html goes (None: not written) and how audio gets into it."""

    path: Path | None
    audio: str = "embed"
    embed_mb: float = DEFAULT_EMBED_MB


def parse_options(path_text: str, audio: str, embed_mb: str, *, output: Path,
                  resolve: Callable[[str], Path]) -> HtmlOptions:
    """The three HTML options as given on the command line/ini; ValueError names the bad one."""
    path_text = path_text.strip()
    if path_text.lower() in HTML_OFF:
        path = None
    elif path_text:
        path = resolve(path_text)
        if path.is_dir():
            raise ValueError(f"--luxgate-html: {path} is a directory; give a file path such as "
                             f"{path / 'report.html'}")
    else:
        path = output / "report.html"
    audio = (audio or "embed").strip().lower()
    if audio not in AUDIO_MODES:
        raise ValueError(f"--luxgate-html-audio must be one of {'|'.join(AUDIO_MODES)}, got {audio!r}")
    try:
        cap = float(embed_mb) if str(embed_mb).strip() else DEFAULT_EMBED_MB
    except ValueError:
        raise ValueError(f"--luxgate-html-embed-mb must be a number of megabytes, got {embed_mb!r}") from None
    if not cap >= 0:
        raise ValueError(f"--luxgate-html-embed-mb must be >= 0, got {embed_mb!r}")
    return HtmlOptions(path, audio, cap)


@dataclass
class HtmlResult:
    path: Path
    seconds: float = 0.0
    plots: int = 0
    #: of `plots`, how many came from the cache instead of being drawn
    plots_cached: int = 0
    plot_seconds: float = 0.0
    embedded_bytes: int = 0
    linked: int = 0
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------
# pieces computed from one cell record
# --------------------------------------------------------------------------

def failure_marks(cell: dict[str, Any]) -> list[tuple[str, float, float | None]]:
    """(check, start, end or None) for every place a failing check points at (its `marks`)."""
    duration = float(cell.get("audio_s") or 0.0)
    marks: list[tuple[str, float, float | None]] = []
    for name, chk in cell.get("checks", {}).items():
        if chk.get("passed"):
            continue
        found: list[tuple[str, float, float | None]] = [
            (name, float(a), None if b is None else float(b)) for a, b in chk.get("marks") or ()]
        # a report from before the checks sent their marks: read the times from the message
        first_line = "" if "marks" in chk else str(chk.get("message", "")).split("\n", 1)[0]
        for m in _SEAM.finditer(first_line):
            found.append((name, float(m.group(1)), None))
        for m in _SPAN.finditer(first_line):
            start = float(m.group(1))
            end = float(m.group(2)) if m.group(2) else None
            found.append((name, start, end))
        for mark in found[:_MAX_MARKS_PER_CHECK]:
            if duration <= 0 or 0.0 <= mark[1] <= duration + 1e-3:
                marks.append(mark)
    return marks


def word_diff_html(reference: str, heard: str) -> str:
    """The reference with what was not heard struck out and what was heard instead inserted.

    The alignment is the WER metric's own (jiwer on normalised words), so the
    highlighted words are exactly the errors the wer check counted.
    """
    try:
        we = word_error(reference, heard)
    except ValueError as exc:
        return f'<span class="muted">{_e(exc)}</span>'
    by_ref = {p["ref_index"]: p for p in we.pairs if p["op"] != "insert"}
    inserts: dict[int, list[str]] = {}
    for p in we.pairs:
        if p["op"] == "insert":
            inserts.setdefault(p["ref_index"], []).append(p["hyp"])
    out: list[str] = []
    for i in range(len(we.ref_words) + 1):
        if inserts.get(i):
            out.append(f'<ins title="heard, not in the text">{_e(" ".join(inserts[i]))}</ins>')
        if i == len(we.ref_words):
            break
        pair = by_ref.get(i)
        if pair is None:
            out.append(_e(we.ref_words[i]))
        elif pair["op"] == "substitute":
            out.append(f'<del title="in the text, not heard">{_e(pair["ref"])}</del>'
                       f'<ins title="heard instead">{_e(pair["hyp"])}</ins>')
        else:
            out.append(f'<del title="in the text, not heard">{_e(pair["ref"])}</del>')
    summary = (f'{we.errors} error(s) in {len(we.ref_words)} words: {we.substitutions} substituted, '
               f'{we.deletions} missing, {we.insertions} extra')
    return f'<p class="diff">{" ".join(out)}</p><p class="muted">{_e(summary)}</p>'


def baseline_rows(cell: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per-metric baseline info from an optional `baseline` field, whatever its exact shape.

    The baselines module writes {"status", "file", "deltas": {metric: {"baseline", "now",
    "delta", "tolerance", "direction", "verdict"}}}; {metric: number} and a "metrics"
    key are read too. Anything else is shown verbatim by the caller.
    """
    b = cell.get("baseline")
    if not isinstance(b, dict):
        return {}
    src = next((b[k] for k in ("deltas", "metrics") if isinstance(b.get(k), dict)), b)
    rows: dict[str, dict[str, Any]] = {}
    for key, value in src.items():
        if _is_number(value):
            rows[key] = {"baseline": value}
        elif isinstance(value, dict) and any(k in value for k in ("baseline", "value", "was", "delta")):
            rows[key] = dict(value)
    return rows


# --------------------------------------------------------------------------
# the page
# --------------------------------------------------------------------------

class ImageCache(Protocol):
    """Where rendered plots are kept between runs (cache.ContentCache)."""

    def get_blob(self, kind: str, key: str) -> bytes | None: ...
    def put_blob(self, kind: str, key: str, data: bytes) -> None: ...


def write_html(report: dict[str, Any], out_dir: Path, options: HtmlOptions,
               images: ImageCache | None = None) -> HtmlResult | None:
    """Render `report` (whose cells' `wav` are relative to `out_dir`) and write it atomically.

    `images` keeps each take's plot by content, so a rerun of unchanged takes
    draws nothing (and does not even import matplotlib).
    """
    if options.path is None:
        return None
    t0 = time.perf_counter()
    result = HtmlResult(options.path)
    page = _Page(report, out_dir, options, result, images)
    text = page.render()
    write_atomic(options.path, text)
    result.seconds = round(time.perf_counter() - t0, 3)
    return result


def write_html_report(report: dict[str, Any], out_dir: Path, options: HtmlOptions,
                      images: ImageCache | None = None) -> list[str]:
    """write_html for the session: terminal lines saying where it went, or why it did not.

    report.json and SUMMARY.md are already written when this runs, so a
    failure here costs only the page; it is reported, never raised.
    """
    try:
        result = write_html(report, out_dir, options, images)
    except Exception as exc:
        return [f"luxgate: could not write the HTML report to {options.path}: {type(exc).__name__}: {exc}"]
    return [] if result is None else result_lines(result)


def result_lines(result: HtmlResult) -> list[str]:
    """Terminal lines for a written page: where, what its plots cost, and its notes."""
    cached = f", {result.plots_cached} from the cache" if result.plots_cached else ""
    extra = f"{result.plots} plot(s){cached} in {result.plot_seconds:.1f} s, " if result.plots else ""
    lines = [f"luxgate: html {result.path} ({extra}{result.seconds:.1f} s in all)"]
    return lines + [f"luxgate: html: {note}" for note in result.notes]


class _Page:
    def __init__(self, report: dict[str, Any], out_dir: Path, options: HtmlOptions,
                 result: HtmlResult, images: ImageCache | None = None) -> None:
        self.images = images
        self.report = report
        self.out_dir = out_dir
        self.options = options
        self.result = result
        self.cells = list(report.get("cells", []))
        self.ids = {id(c): f"lx-c{i}" for i, c in enumerate(self.cells)}
        self.budget = int(options.embed_mb * 1024 * 1024)
        self.plots_ok = plots.available()
        if not self.plots_ok:
            result.notes.append("waveform/spectrogram plots left out: matplotlib is not installed "
                                "(pip install 'pytest-luxgate[html]')")

    # -- top level ----------------------------------------------------------
    def render(self) -> str:
        run = self.report.get("run", {})
        # the order the user gave the stacks in (--luxgate-stacks), then any others
        stacks = [s for s in dict.fromkeys([*run.get("stacks", []), *(c["stack"] for c in self.cells)])
                  if any(c["stack"] == s for c in self.cells)]
        body = [self._header(run)]
        body += [self._matrix(stack) for stack in stacks]
        if len(stacks) > 1:
            body.append(self._compare(stacks))
        views = [self._detail(c) for c in self.cells]
        if self.result.linked and self.options.audio == "embed":
            self.result.notes.append(
                f"{self.result.linked} take(s) linked rather than embedded: the embedded audio reached "
                f"--luxgate-html-embed-mb={self.options.embed_mb:g}; keep the page beside its wavs/ folder")
        notes = "".join(f'<p class="note">{_e(n)}</p>' for n in self.result.notes)
        verdict = run_headline(run)[1]
        return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
                f'<meta name="viewport" content="width=device-width, initial-scale=1">'
                f'<title>LuxTTS quality gate: {verdict}</title><style>{_CSS}</style></head>'
                f'<body><main id="top">{body[0]}{notes}{"".join(body[1:])}</main>'
                f'{"".join(views)}<script>{_JS}</script></body></html>\n')

    def _header(self, run: dict[str, Any]) -> str:
        summary = self.report.get("summary", {})
        kind, verdict = run_headline(run)
        counts = ", ".join(f"{summary[s]} {s}" for s in STATUS_ICON if summary.get(s))
        parts = [f'<h1>LuxTTS quality gate: <span class="verdict {_e(kind)}">{verdict}</span></h1>']
        if not run.get("complete", True):
            parts.append(f'<p class="note">Incomplete run: {_e(run.get("incomplete_reason", "interrupted"))}. '
                         "The cells below are the ones that finished.</p>")
        parts += [f'<p class="note">{_e(n)}</p>' for n in run.get("output_notes") or ()]
        reasons = run.get("verdict_reasons") or []
        if kind in VERDICT_LEAD and reasons:  # the banner says why this is no pass
            lead = VERDICT_LEAD[kind].replace("**", "")
            parts.append(f'<div class="note verdict-reasons"><p>{_e(lead)}</p><ul>'
                         + "".join(f"<li>{_e(r)}</li>" for r in reasons) + "</ul></div>")
        dur = run.get("duration_s")
        facts = [f"{summary.get('cells', len(self.cells))} cells: {counts}",
                 f"ASR {run.get('asr', '?')}", f"seed {run.get('seed')}",
                 f"{dur:.1f} s" if _is_number(dur) else "", f"started {run.get('started', '?')}",
                 f"pytest-luxgate {run.get('version', '?')}", f"keep-wavs {run.get('keep_wavs', '?')}"]
        parts.append('<p class="facts">' + " · ".join(_e(f) for f in facts if f) + "</p>")
        parts.append('<p class="muted">Click a cell for its audio, waveform and spectrogram, '
                     "word diff, and every metric against its threshold.</p>")
        return "".join(parts)

    # -- matrix -------------------------------------------------------------
    def _matrix(self, stack: str) -> str:
        cells = [c for c in self.cells if c["stack"] == stack]
        prompts = list(dict.fromkeys(c["prompt"] for c in cells))
        scenarios = list(dict.fromkeys(c["scenario"] for c in sorted(cells, key=lambda c: c.get("order", 0))))
        by = {(c["prompt"], c["scenario"]): c for c in cells}
        head = "".join(f"<th>{_e(s)}</th>" for s in scenarios)
        rows = []
        for p in prompts:
            tds = "".join(self._matrix_cell(by.get((p, s))) for s in scenarios)
            rows.append(f'<tr><th class="prompt">{_e(p)}</th>{tds}</tr>')
        return (f'<section class="stack"><h2>Stack <code>{_e(stack)}</code></h2>'
                f'<table class="matrix" data-stack="{_e(stack)}"><thead><tr><th>prompt \\ scenario</th>'
                f'{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></section>')

    def _matrix_cell(self, cell: dict[str, Any] | None) -> str:
        if cell is None:
            return '<td class="cell empty">–</td>'
        status = cell.get("status", "lost")
        return (f'<td class="cell st-{_e(status)}"><a class="open" href="#{self.ids[id(cell)]}">'
                f'{self._status_line(cell)}{self._chips(cell)}</a></td>')

    def _status_line(self, cell: dict[str, Any]) -> str:
        status = cell.get("status", "lost")
        # the metric, not the check's value: a take failed by a content word shows that count there
        wer = cell.get("metrics", {}).get("wer", cell.get("checks", {}).get("wer", {}).get("value"))
        extra = f' <span class="muted">WER {wer:.2f}</span>' if _is_number(wer) else ""
        return f'<span class="status">{STATUS_ICON.get(status, "?")} {_e(status)}{extra}</span>'

    def _chips(self, cell: dict[str, Any]) -> str:
        chips = []
        for name, chk in cell.get("checks", {}).items():
            ok = bool(chk.get("passed"))
            chips.append(f'<span class="chip {"ok" if ok else "bad"}" title="{_e(chk.get("message", ""))}">'
                         f'{"✓" if ok else "✗"} {_e(name)}</span>')
        for name, reason in (cell.get("skipped_checks") or {}).items():
            chips.append(f'<span class="chip skip" title="{_e(reason)}">– {_e(name)}</span>')
        reason = cell.get("error") or (cell.get("skipped") if not cell.get("checks") else None)
        if reason:
            chips.append(f'<span class="reason">{_e(_short(str(reason), 90))}</span>')
        return f'<span class="chips">{"".join(chips)}</span>'

    # -- stacks side by side ------------------------------------------------
    def _compare(self, stacks: list[str]) -> str:
        groups: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
        for c in sorted(self.cells, key=lambda c: c.get("order", 0)):
            groups.setdefault((c["prompt"], c["scenario"]), {})[c["stack"]] = c
        rows, views = [], []
        for j, ((prompt, scenario), by_stack) in enumerate(groups.items()):
            if len(by_stack) < 2:
                continue
            vid = f"lx-x{j}"
            tds = "".join(f'<td class="cell st-{_e(by_stack[s].get("status", "lost"))}">'
                          f'{self._status_line(by_stack[s])}</td>' if s in by_stack else '<td class="cell empty">–</td>'
                          for s in stacks)
            rows.append(f'<tr><th class="prompt">{_e(prompt)}</th><th>{_e(scenario)}</th>{tds}'
                        f'<td><a class="open compare" href="#{vid}">side by side</a></td></tr>')
            views.append(self._compare_view(vid, prompt, scenario, stacks, by_stack))
        if not rows:
            return ('<section class="stack"><h2>Stacks side by side</h2><p class="muted">No prompt × '
                    "scenario cell was run by more than one stack (stacks with their own voice run "
                    "as prompt own_voice; voice-cloning stacks per prompt).</p></section>")
        head = "".join(f"<th><code>{_e(s)}</code></th>" for s in stacks)
        return (f'<section class="stack"><h2>Stacks side by side</h2><table class="matrix compare">'
                f'<thead><tr><th>prompt</th><th>scenario</th>{head}<th></th></tr></thead>'
                f'<tbody>{"".join(rows)}</tbody></table></section>' + "".join(views))

    def _compare_view(self, vid: str, prompt: str, scenario: str, stacks: list[str],
                      by_stack: dict[str, dict[str, Any]]) -> str:
        cols = []
        for s in stacks:
            c = by_stack.get(s)
            if c is None:
                cols.append(f'<div class="col"><h3><code>{_e(s)}</code></h3><p class="muted">not run</p></div>')
                continue
            cid = self.ids[id(c)]
            media = ""
            if c.get("wav"):
                # filled from the detail view by the script: each take is embedded once
                media = (f'<audio controls preload="none" data-src-from="{cid}-audio"></audio>'
                         f'<img class="plot" alt="waveform and spectrogram" data-src-from="{cid}-plot">')
            else:
                media = f'<p class="muted">{_e(self._no_take_reason(c))}</p>'
            text = word_diff_html(c["text"], c["transcript"]) if c.get("transcript") is not None else ""
            cols.append(f'<div class="col"><h3><code>{_e(s)}</code> {self._status_line(c)}</h3>{media}'
                        f'{self._chips(c)}{text}<p><a href="#{cid}">all details</a></p></div>')
        return (f'<section class="view" id="{vid}" aria-label="stacks side by side"><div class="panel">'
                f'<a class="close" href="#top">✕ close</a><h2>{_e(prompt)} / {_e(scenario)}: stacks side by side</h2>'
                f'<div class="cols" style="grid-template-columns:repeat({len(stacks)},minmax(0,1fr))">'
                f'{"".join(cols)}</div></div></section>')

    # -- one cell -----------------------------------------------------------
    def _detail(self, cell: dict[str, Any]) -> str:
        cid = self.ids[id(cell)]
        title = f"{cell['stack']} / {cell['prompt']} / {cell['scenario']}"
        parts = [f'<section class="view" id="{cid}" aria-label="{_e(title)}"><div class="panel">',
                 '<a class="close" href="#top">✕ close</a>',
                 f'<h2>{_e(title)}</h2><p>{self._status_line(cell)} <code>{_e(cell.get("cell", ""))}</code></p>']
        if cell.get("error"):
            parts.append(f'<pre class="error">{_e(cell["error"])}</pre>')
        if cell.get("skipped"):
            parts.append(f'<p class="note">skipped: {_e(cell["skipped"])}</p>')
        parts.append(self._media(cell, cid))
        if cell.get("transcript") is not None:
            parts.append('<h3>Text vs heard</h3>' + word_diff_html(cell["text"], cell["transcript"]))
            parts.append(f'<table class="kv"><tr><th>text</th><td>{_e(cell["text"])}</td></tr>'
                         f'<tr><th>heard</th><td>{_e(cell["transcript"])}</td></tr></table>')
        elif cell.get("text"):
            parts.append(f'<h3>Text</h3><p>{_e(cell["text"])}</p>')
        parts.append(self._checks_table(cell))
        parts.append(self._takes_table(cell))
        parts.append(self._metrics_table(cell))
        parts.append(self._more(cell))
        parts.append("</div></section>")
        return "".join(parts)

    def _no_take_reason(self, cell: dict[str, Any]) -> str:
        keep = self.report.get("run", {}).get("keep_wavs")
        if keep == "none":
            return "no take kept (--luxgate-keep-wavs=none)"
        if keep == "best":
            return ("take not kept: --luxgate-keep-wavs=best keeps the best take per stack and scenario "
                    "(--luxgate-keep-wavs=all keeps every take)")
        return "no take for this cell"

    def _media(self, cell: dict[str, Any], cid: str) -> str:
        wav = cell.get("wav")
        path = self.out_dir / wav if wav else None
        if path is None or not path.is_file():
            return f'<p class="muted">{_e(self._no_take_reason(cell) if not wav else f"kept take missing: {path}")}</p>'
        src = self._audio_src(path)
        out = [f'<audio id="{cid}-audio" controls preload="metadata" src="{_e(src)}"></audio>'
               f' <a class="muted" href="{_e(self._link(path))}" download>{_e(wav)}</a>']
        if self.plots_ok:
            out.append(self._plot(cell, path, cid))
        return "".join(out)

    def _audio_src(self, path: Path) -> str:
        size = path.stat().st_size
        if self.options.audio == "embed" and self.result.embedded_bytes + size <= self.budget:
            self.result.embedded_bytes += size
            return "data:audio/wav;base64," + base64.b64encode(path.read_bytes()).decode("ascii")
        self.result.linked += 1
        return self._link(path)

    def _link(self, path: Path) -> str:
        """URL of `path` relative to the page, so the page and its wavs/ can move together."""
        assert self.options.path is not None
        rel = os.path.relpath(path.resolve(), self.options.path.resolve().parent)
        return quote(Path(rel).as_posix())

    def _plot(self, cell: dict[str, Any], path: Path, cid: str) -> str:
        import soundfile as sf

        t0 = time.perf_counter()
        try:
            m = cell.get("metrics", {})
            marks = plots.Marks(onset_s=_num(m.get("onset_s")), offset_s=_num(m.get("offset_s")),
                                seams=[float(s) for s in cell.get("seams") or []],
                                failures=failure_marks(cell))
            key = _plot_key(path, marks)
            image = self.images.get_blob("plots", key) if self.images is not None else None
            if image is None:
                audio, rate = sf.read(str(path), dtype="float32", always_2d=True)
                image = plots.take_image(audio.mean(axis=1), rate, marks)
                if self.images is not None:
                    self.images.put_blob("plots", key, image)
            else:
                self.result.plots_cached += 1
        except Exception as exc:  # a plot must never cost the page: say why it is missing
            return f'<p class="note">plot failed: {_e(type(exc).__name__)}: {_e(exc)}</p>'
        finally:
            self.result.plot_seconds += time.perf_counter() - t0
        self.result.plots += 1
        legend = ('green dashed: speech onset/offset (VAD) · cyan dotted: chunk seams · '
                  'red: where a failing check points')
        return (f'<figure><img id="{cid}-plot" class="plot" alt="waveform and spectrogram of the take" '
                f'src="data:{plots.IMAGE_MIME};base64,{base64.b64encode(image).decode("ascii")}">'
                f'<figcaption class="muted">{legend}</figcaption></figure>')

    def _checks_table(self, cell: dict[str, Any]) -> str:
        rows = []
        for name, chk in cell.get("checks", {}).items():
            ok = bool(chk.get("passed"))
            rows.append(f'<tr class="{"ok" if ok else "bad"}"><td>{"✓" if ok else "✗"} {_e(name)}</td>'
                        f'<td class="num">{_fmt(chk.get("value"))}</td><td class="num">{_fmt(chk.get("threshold"))}</td>'
                        f'<td><pre>{_e(chk.get("message", ""))}</pre></td></tr>')
        for name, reason in (cell.get("skipped_checks") or {}).items():
            rows.append(f'<tr class="skip"><td>– {_e(name)}</td><td></td><td></td><td>{_e(reason)}</td></tr>')
        if not rows:
            return ""
        return ('<h3>Checks</h3><table class="grid"><thead><tr><th>check</th><th>value</th><th>threshold</th>'
                f'<th>message</th></tr></thead><tbody>{"".join(rows)}</tbody></table>')

    @staticmethod
    def _takes_table(cell: dict[str, Any]) -> str:
        """Several takes per cell: each take's seed, verdict and what it heard; best and worst named."""
        takes = cell.get("takes")
        if not takes:
            return ""
        wavs = cell.get("take_wavs") or []
        rows = []
        for i, row in enumerate(takes.get("per_take", [])):
            role = " (best, played above)" if i == takes.get("best") else \
                " (worst)" if i == takes.get("worst") and not row.get("passed") else ""
            wav = f' <a href="{_e(quote(wavs[i]))}">wav</a>' if i < len(wavs) and wavs[i] else ""
            rows.append(f'<tr class="{"ok" if row.get("passed") else "bad"}"><td>{i}{_e(role)}{wav}</td>'
                        f'<td class="num">{_e(row.get("seed"))}</td>'
                        f'<td>{_e(", ".join(row.get("failing") or []) or "all pass")}</td>'
                        f'<td>{_e(row.get("transcript", ""))}</td></tr>')
        return (f'<h3>Takes: {takes["passed"]}/{takes["count"]} pass every check</h3>'
                '<p class="muted">The metrics below are the medians over the takes; the audio is the best take.</p>'
                '<table class="grid"><thead><tr><th>take</th><th>seed</th><th>failing checks</th><th>heard</th>'
                f'</tr></thead><tbody>{"".join(rows)}</tbody></table>')

    def _metrics_table(self, cell: dict[str, Any]) -> str:
        metrics = cell.get("metrics") or {}
        thresholds = cell.get("thresholds") or {}
        base = baseline_rows(cell)
        has_base = bool(base)
        rows = []
        for key in list(metrics) + [k for k in base if k not in metrics]:
            value = metrics.get(key)
            row = REPORTED.get(key)
            limits = (row.limits if row is not None else ()) or ((key,) if key in thresholds else ())
            limit_txt, over = [], False
            for lk in limits:
                if lk not in thresholds:
                    continue
                spec = THRESHOLDS.get(lk)
                is_min = spec is not None and spec.limit == "min"
                limit_txt.append(f'{"≥" if is_min else "≤"} {_fmt(thresholds[lk])}')
                if _is_number(value) and not (row is not None and row.reference):
                    v = abs(value) if row is not None and row.magnitude else value
                    over |= v < thresholds[lk] if is_min else v > thresholds[lk]
            cls = ' class="bad"' if over else ""
            row = f'<tr{cls}><td>{_e(key)}</td><td class="num">{_fmt(value)}</td><td>{_e(", ".join(limit_txt))}</td>'
            if has_base:
                row += self._baseline_cells(base.get(key), value)
            rows.append(row + "</tr>")
        if not rows:
            return ""
        extra_head = "<th>baseline</th><th>Δ now − baseline</th><th>tolerance</th>" if has_base else ""
        note = ""
        b = cell.get("baseline")
        if isinstance(b, dict) and b.get("status"):
            facts = [f"baseline {b['status']}"] + [str(b[k]) for k in ("file", "platform") if b.get(k)]
            note = f'<p class="muted">{_e(" · ".join(facts))}</p>' + "".join(
                f'<p class="note">{_e(r)}</p>' for r in b.get("reasons") or [])
        elif b is not None and not has_base:
            note = f'<pre class="muted">baseline: {_e(json.dumps(b, indent=1, default=str))}</pre>'
        return ('<h3>Metrics</h3><p class="muted">Red rows are beyond their limit; the checks above are '
                "the verdict (some limits apply only in context, e.g. loops the text does not explain).</p>"
                f'<table class="grid"><thead><tr><th>metric</th><th>value</th><th>limit</th>{extra_head}</tr></thead>'
                f'<tbody>{"".join(rows)}</tbody></table>{note}')

    @staticmethod
    def _baseline_cells(info: dict[str, Any] | None, now: Any) -> str:
        if not info:
            return "<td></td><td></td><td></td>"
        was = info.get("baseline", info.get("was", info.get("value")))
        delta = info.get("delta")
        if delta is None and _is_number(was) and _is_number(now):
            delta = now - was
        tol = info.get("tolerance", info.get("tol", ""))
        if isinstance(tol, dict):
            tol = ", ".join(f"{k} {v}" for k, v in tol.items())
        flag = ""
        verdict = str(info.get("verdict") or info.get("status") or "")
        if verdict and verdict not in ("same", "n/a", "info"):
            bad = any(w in verdict for w in ("worse", "regress"))
            flag = f' <span class="chip {"bad" if bad else "ok"}">{_e(verdict)}</span>'
        sign = "+" if _is_number(delta) and delta > 0 else ""
        return (f'<td class="num">{_fmt(was)}</td><td class="num">{sign}{_fmt(delta)}{flag}</td>'
                f'<td>{_e(tol)}</td>')

    def _more(self, cell: dict[str, Any]) -> str:
        info = {k: cell.get(k) for k in ("chunks", "seams", "timings", "legacy", "versions", "score", "wav")
                if cell.get(k) not in (None, [], {})}
        return (f'<details><summary>Chunks, seams, timings, versions</summary>'
                f'<pre>{_e(json.dumps(info, indent=1, ensure_ascii=False, default=str))}</pre></details>')


# --------------------------------------------------------------------------

def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _num(value: Any) -> float | None:
    return float(value) if _is_number(value) else None


def _fmt(value: Any) -> str:
    if value is None:
        return '<span class="muted">n/a</span>'
    if _is_number(value):
        return _e(f"{value:.4g}")
    return _e(value)


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


_CSS = """
:root{--ok:#1a7f37;--bad:#cf222e;--skip:#8c959f;--bg:#f6f8fa;font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif}
body{margin:0;background:#fff;color:#1f2328}main{max-width:1400px;margin:0 auto;padding:1em 1.5em}
h1{font-size:1.5em}.verdict.pass{color:var(--ok)}.verdict.fail,.verdict.incomplete,.verdict.partial{color:var(--bad)}
.facts{font-size:.95em}.muted{color:#656d76;font-size:.9em}.note{background:#fff8c5;border:1px solid #d4a72c;padding:.4em .7em;border-radius:6px}
table.matrix{border-collapse:collapse;margin:.5em 0 1.5em}table.matrix th,table.matrix td{border:1px solid #d0d7de;padding:.35em .5em;vertical-align:top}
table.matrix thead th{background:var(--bg)}th.prompt{text-align:left;background:var(--bg)}
td.cell{min-width:11em}td.cell a.open{display:block;color:inherit;text-decoration:none}td.cell a.open:hover{outline:2px solid #0969da}
.st-passed{background:#dafbe1}.st-failed{background:#ffebe9}.st-error{background:#ffd8d3}.st-skipped,.st-lost{background:#eaeef2}
.status{font-weight:600;display:block}.chips{display:flex;flex-wrap:wrap;gap:.2em;margin-top:.25em}
.chip{font-size:.78em;border-radius:1em;padding:0 .5em;border:1px solid}.chip.ok{color:var(--ok);border-color:var(--ok)}
.chip.bad{color:#fff;background:var(--bad);border-color:var(--bad)}.chip.skip{color:var(--skip);border-color:var(--skip)}
.reason{font-size:.8em;color:#57606a}
.view{display:none}.view:target{display:block;position:fixed;inset:0;background:rgba(31,35,40,.5);overflow:auto;z-index:10}
.panel{background:#fff;max-width:1200px;margin:2vh auto;padding:1em 1.5em 2em;border-radius:8px;box-shadow:0 8px 24px rgba(0,0,0,.3)}
.close{float:right;text-decoration:none;font-weight:600}audio{width:100%;max-width:640px}img.plot{width:100%;height:auto;display:block}
figure{margin:.5em 0}del{background:#ffcecb;color:#82071e}ins{background:#aceebb;color:#055d20;text-decoration:none}del+ins{margin-left:.2em}
.diff{line-height:1.8}table.kv th{text-align:left;padding-right:1em;vertical-align:top}
table.grid{border-collapse:collapse;width:100%;font-size:.9em}table.grid th,table.grid td{border-bottom:1px solid #d0d7de;padding:.25em .5em;text-align:left;vertical-align:top}
table.grid tr.bad td{background:#ffebe9}table.grid tr.skip td{color:var(--skip)}td.num{font-variant-numeric:tabular-nums;white-space:nowrap}
pre{white-space:pre-wrap;margin:0;font-size:.95em}pre.error{background:#ffebe9;padding:.5em}
.cols{display:grid;gap:1em}.col{min-width:0;border:1px solid #d0d7de;border-radius:6px;padding:.5em}
"""

# pause what plays when a view closes; fill side-by-side media from the detail
# views on first open (the data URIs are in the page once)
_JS = """
(function(){
function sync(){
  var id=location.hash.slice(1), view=id&&document.getElementById(id);
  document.querySelectorAll('audio').forEach(function(a){ if(!view||!view.contains(a)) a.pause(); });
  if(!view) return;
  view.querySelectorAll('[data-src-from]').forEach(function(el){
    if(el.getAttribute('src')) return;
    var from=document.getElementById(el.getAttribute('data-src-from'));
    if(from&&from.getAttribute('src')) el.setAttribute('src', from.getAttribute('src'));
  });
}
window.addEventListener('hashchange', sync);
document.addEventListener('keydown', function(e){ if(e.key==='Escape'&&location.hash) location.hash='top'; });
sync();
})();
"""


def _plot_key(wav: Path, marks: Any) -> str:
    """Content key of one plot: the take's bytes, what is marked on it, and the drawing code."""
    h = hashlib.sha256()
    h.update(wav.read_bytes())
    h.update(json.dumps(dataclasses.asdict(marks), sort_keys=True, default=str).encode())
    h.update(Path(plots.__file__).read_bytes())  # a change to how plots look invalidates them
    return h.hexdigest()
