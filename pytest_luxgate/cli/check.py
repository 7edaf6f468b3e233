"""`luxgate check`: the gate's checks on files outside pytest, many takes in one process.

    luxgate check take.wav --text "Quick quality check for LuxTTS." [--json]
    luxgate check a.wav b.wav c.wav                 # each with its text beside it: a.txt, b.txt, c.txt
    luxgate check --manifest takes.jsonl            # {"wav": .., "text": .., "seams": [..], "prompt": ..}

Every model (Whisper, the VAD, the listeners) loads once per process, on the
first file that needs it, so a folder of takes costs one load. One file keeps
the one-object JSON of old; several print one JSON object per line, each with
its "wav". A file that cannot be judged (missing, corrupt, no text) is said for
that file and the others are still judged. Exit: 0 all passed, 1 a check
failed, 2 bad input (an option, or any file that could not be judged).
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EXIT_PASS, EXIT_FAIL, EXIT_BAD_INPUT = 0, 1, 2


class InputError(ValueError):
    """One input cannot be judged; the message names the option or file and the value."""


@dataclass(frozen=True)
class Item:
    """One take to judge: its file, its text and what it is judged against."""

    wav: Path
    text: str | None
    seams: list[float] | None = None
    prompt: Path | None = None
    error: str | None = None  # why it cannot be judged (said for this file; others go on)


def add_parser(sub: Any) -> None:
    c = sub.add_parser("check", help="run the gate's checks on WAV files (models load once for all)")
    c.add_argument("wav", type=Path, nargs="*",
                   help="takes to judge (any libsndfile format); without --text each needs its text in a "
                   ".txt file of the same name beside it")
    text = c.add_mutually_exclusive_group()
    text.add_argument("--text", help="the text every take should say")
    text.add_argument("--text-file", type=Path, help="file holding that text")
    c.add_argument("--manifest", type=Path, default=None, metavar="FILE",
                   help="takes to judge, one per line: JSON objects {\"wav\", \"text\" or \"text_file\", "
                   "optional \"seams\" [s, ...] and \"prompt\"} (.jsonl), or WAV<TAB>TEXT; paths relative "
                   "to the manifest")
    c.add_argument("--json", action="store_true",
                   help="print one JSON object (one per line for several takes)")
    c.add_argument("--asr", default=None, help="ASR model spec (default: as the plugin)")
    c.add_argument("--threshold", action="append", default=[], metavar="KEY=VALUE",
                   help="override a threshold (repeatable)")
    c.add_argument("--checks", default="", help="comma-separated subset of checks (default: all; "
                   "'seams' only with --seams or when named here)")
    c.add_argument("--prompt", type=Path, default=None, metavar="PROMPT.wav",
                   help="the voice prompt the takes should sound like: adds the voice check (speaker "
                   "similarity; needs the 'listen' extra)")
    c.add_argument("--seams", default=None, metavar="T1,T2,...",
                   help="chunk join times in seconds (one take): the seams check measures a click, loudness "
                   "and timbre jump at each; without it, --checks seams scans the whole file for clicks")


def run(args: argparse.Namespace) -> int:
    from ..judging.thresholds import parse_overrides

    try:
        overrides = parse_overrides(args.threshold, "--threshold")
        seams = _seam_times(args.seams)
        items = _items(args, seams)
        judge = _Judge(args, overrides)
    except (InputError, ValueError) as exc:
        return _fail_input(str(exc), args.json)
    single = len(items) == 1 and args.manifest is None
    codes = []
    for item in items:
        try:
            out = judge(item)
        except (InputError, ValueError) as exc:
            codes.append(_fail_input(str(exc) if single else f"{item.wav}: {exc}", args.json,
                                     None if single else item.wav))
            continue
        _print(out, item.wav, args.json, single)
        codes.append(EXIT_PASS if out["passed"] else EXIT_FAIL)
    if not single and not args.json:
        bad = codes.count(EXIT_BAD_INPUT)
        print(f"luxgate check: {codes.count(EXIT_PASS)} passed, {codes.count(EXIT_FAIL)} failed"
              + (f", {bad} not judged (bad input)" if bad else "") + f" of {len(items)} takes")
    return max(codes)


class _Judge:
    """Judges one item at a time with the options of the run; models stay loaded between items."""

    def __init__(self, args: argparse.Namespace, overrides: dict[str, float]) -> None:
        from ..core.defaults import DEFAULT_ASR
        from ..judging.checks import CHECK_NAMES
        from ..judging.thresholds import resolve

        self.asr = args.asr or DEFAULT_ASR
        self.thresholds = resolve(overrides)
        self.asked = [n.strip() for n in args.checks.split(",") if n.strip()]
        unknown = [n for n in self.asked if n not in CHECK_NAMES]
        if unknown:
            raise InputError(f"--checks: unknown check(s) {unknown}; known: {', '.join(CHECK_NAMES)}")
        self._prompts: dict[Path, tuple[Any, float | None]] = {}

    def names(self, item: Item) -> list[str]:
        from ..judging.checks import CHECKS

        # a check whose row needs seams or a voice prompt joins the default set when they are given
        # (--seams, --prompt); one that is not `by_default` only when named in --checks
        given = {"seams": item.seams is not None, "prompt": item.prompt is not None}
        return self.asked or [n for n, row in CHECKS.items()
                              if row.by_default and (row.needs is None or given[row.needs])]

    def prompt(self, path: Path) -> tuple[Any, float | None]:
        """The prompt's audio and its room (a cloned take may keep it), read once per prompt file."""
        from ..core.audio import AudioError, read_wav
        from ..judging.analysis import prompt_background

        if path not in self._prompts:
            try:
                audio = read_wav(path)
                self._prompts[path] = (audio, prompt_background(*audio))
            except (AudioError, ValueError) as exc:
                raise InputError(f"--prompt: {exc}") from None
        return self._prompts[path]

    def __call__(self, item: Item) -> dict[str, Any]:
        from ..core.audio import AudioError, read_wav
        from ..judging.analysis import analyze, listen
        from ..judging.checks import CheckNotApplicable, judge

        if item.error:
            raise InputError(item.error)
        names = self.names(item)
        if "voice" in names and item.prompt is None:
            raise InputError("the voice check compares the take with its voice prompt: give --prompt PROMPT.wav")
        prompt, prompt_bg = self.prompt(item.prompt) if item.prompt is not None else (None, None)
        try:
            audio, rate = read_wav(item.wav)
            evidence = analyze(audio, rate, item.text or "", self.asr, seams=item.seams)
        except AudioError as exc:
            raise InputError(str(exc)) from None
        evidence.prompt_background_db = prompt_bg
        listen(evidence, audio, rate, names, prompt=prompt)
        checks, skipped = {}, {}
        for n in names:
            try:
                checks[n] = judge(n, evidence, self.thresholds)
            except CheckNotApplicable as exc:  # a listener that is not installed: said, not failed
                skipped[n] = str(exc)
        out: dict[str, Any] = {
            "passed": all(c.passed for c in checks.values()),
            "checks": {n: {"passed": c.passed, "value": c.value, "threshold": c.threshold,
                           "message": c.message} for n, c in checks.items()},
            "metrics": evidence.metrics(),
            "transcript": evidence.transcript.text,
        }
        if skipped:
            out["skipped"] = skipped
        return out


def _items(args: argparse.Namespace, seams: list[float] | None) -> list[Item]:
    """What to judge, from the positional WAVs and/or --manifest; option errors raise."""
    if not args.wav and args.manifest is None:
        raise InputError("give the takes to judge: WAV files, or --manifest FILE")
    if seams is not None and len(args.wav) + (args.manifest is not None) != 1:
        raise InputError("--seams gives the joins of one take; for several, put \"seams\" in a --manifest")
    shared: str | None = None
    if args.text is not None or args.text_file is not None:
        shared = _read_text(args.text_file, "--text-file") if args.text is None else args.text
        if not shared.strip():
            raise InputError("--text is empty: give the words the take should say")
    items = [_item(Path(w), shared, seams, args.prompt) for w in args.wav]
    if args.manifest is not None:
        items += _manifest(args.manifest, args.prompt)
    if not items:
        raise InputError(f"--manifest {args.manifest}: no takes in it")
    return items


def _item(wav: Path, text: str | None, seams: list[float] | None, prompt: Path | None) -> Item:
    if text is None:  # the take's text beside it
        side = wav.with_suffix(".txt")
        try:
            text = _read_text(side, "text")
        except InputError:
            return Item(wav, None, seams, prompt, error=f"no text for {wav}: give --text, or put it in {side}")
    if not text.strip():
        return Item(wav, text, seams, prompt, error=f"the text for {wav} is empty: give the words it should say")
    return Item(wav, text, seams, prompt)


def _manifest(path: Path, prompt: Path | None) -> list[Item]:
    try:
        lines = path.read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"--manifest {path}: {getattr(exc, 'strerror', None) or exc}") from None
    base, items = path.parent, []
    for n, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        where = f"--manifest {path}:{n}"
        if line.lstrip().startswith("{"):
            try:
                entry = json.loads(line)
            except ValueError as exc:
                raise InputError(f"{where}: not a JSON object ({exc})") from None
            unknown = set(entry) - {"wav", "text", "text_file", "seams", "prompt"}
            if unknown or "wav" not in entry:
                raise InputError(f"{where}: needs \"wav\" and \"text\" or \"text_file\" (optional \"seams\", "
                                 f"\"prompt\"), got keys {sorted(entry)}")
            text = entry.get("text")
            if text is None and "text_file" in entry:
                text = _read_text(base / str(entry["text_file"]), f"{where} text_file")
            try:
                seams = _seam_times(",".join(map(str, entry["seams"]))) if entry.get("seams") is not None else None
            except (TypeError, ValueError) as exc:
                raise InputError(f"{where}: {exc}") from None
            own = base / str(entry["prompt"]) if entry.get("prompt") else prompt
            items.append(_item(base / str(entry["wav"]), None if text is None else str(text), seams, own))
        else:
            wav, sep, text = line.partition("\t")
            if not sep:
                raise InputError(f"{where}: expected WAV<TAB>TEXT or a JSON object, got {line[:60]!r}")
            items.append(_item(base / wav.strip(), text.strip(), None, prompt))
    return items


def _read_text(path: Path, what: str) -> str:
    try:
        return path.read_text("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{what} {path}: not UTF-8 text") from None
    except OSError as exc:
        raise InputError(f"{what} {path}: {exc.strerror or exc}") from None


def _print(out: dict[str, Any], wav: Path, as_json: bool, single: bool) -> None:
    if as_json:
        print(json.dumps(out if single else {"wav": str(wav), **out}, default=float))
        return
    print(f"{wav}: {'PASS' if out['passed'] else 'FAIL'}")
    print(f"  heard: {out['transcript']}")
    for n, c in out["checks"].items():
        print(f"  {'ok  ' if c['passed'] else 'FAIL'} {n}: {c['message']}")
    for n, why in out.get("skipped", {}).items():
        print(f"  skip {n}: {why}")


def _fail_input(message: str, as_json: bool, wav: Path | None = None) -> int:
    if as_json:
        print(json.dumps({"passed": False, "error": message} if wav is None
                         else {"wav": str(wav), "passed": False, "error": message}))
    print(f"luxgate: error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _seam_times(value: str | None) -> list[float] | None:
    if value is None:
        return None
    try:
        times = [float(v) for v in value.replace(" ", "").split(",") if v]
    except ValueError:
        raise ValueError(f"--seams: expected seconds like 1.92,4.40, got {value!r}") from None
    if not times or any(t < 0 or t != t for t in times):
        raise ValueError(f"--seams: expected seconds >= 0 like 1.92,4.40, got {value!r}")
    return times
