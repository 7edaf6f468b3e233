"""What `luxgate check` judges: the takes, their texts, seams and prompts, read and refused here.

Every refusal is an InputError whose one-line message names the option or
file and the value. An option error stops the run before any take; a take
that cannot be judged (its file, its text, its manifest line) becomes an
Item with an `error`, said for that take while the others are still judged.
"""
from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

#: the longest take `luxgate check` reads unless --max-duration says otherwise. Whisper, the
#: VAD and the detectors hold the whole take in memory and their time grows with it (a 3-hour
#: file passed 12 GB within a minute). Measured on a loaded 2-core machine, Whisper base:
#: 179 s of clean Piper speech peaked at 0.85 GB in 164 s, but a take that loops all along
#: (one phrase over and over, the fault the repeat check is for) at 2.7 GB in 365 s for
#: 60 s, and past 10 GB within 3 minutes for 600 s: the loop search grows with length x lag.
#: 120 s is 8x the longest standard scenario and keeps that worst case near 5 GB.
DEFAULT_MAX_SECONDS = 120.0
#: characters that never occur in a text to speak: a file holding them is not text
_CONTROL = {chr(c) for c in range(32)} - {"\t", "\n", "\r", "\f", "\v"} | {"\x7f"}


class InputError(ValueError):
    """One input cannot be judged; the message names the option or file and the value."""


@dataclass(frozen=True)
class Item:
    """One take to judge: its file, its text and what it is judged against."""

    wav: Path
    text: str | None
    seams: list[float] | None = None
    prompt: Path | None = None
    error: str | None = None  # why it cannot be judged (said for this take; others go on)


def items(args: argparse.Namespace, seams: list[float] | None) -> list[Item]:
    """What to judge, from the positional WAVs and/or --manifest; option errors raise."""
    if not args.wav and args.manifest is None:
        raise InputError("give the takes to judge: WAV files, or --manifest FILE")
    if seams is not None and len(args.wav) + (args.manifest is not None) != 1:
        raise InputError("--seams gives the joins of one take; for several, put \"seams\" in a --manifest")
    shared: str | None = None
    if args.text is not None or args.text_file is not None:
        shared = read_text(args.text_file, "--text-file") if args.text is None else args.text
        if not shared.strip():
            raise InputError(f"{'--text' if args.text is not None else f'--text-file {args.text_file}'} is "
                             "empty: give the words the take should say")
        if args.text is not None and (bad := _control(shared)):
            raise InputError(f"--text holds a control character ({bad}): give the words the take should say")
    found = [_item(Path(w), shared, seams, args.prompt) for w in args.wav]
    if args.manifest is not None:
        found += _manifest(args.manifest, args.prompt)
    if not found:
        raise InputError(f"--manifest {args.manifest}: no takes in it")
    return found


def _item(wav: Path, text: str | None, seams: list[float] | None, prompt: Path | None) -> Item:
    if text is None:  # the take's text beside it
        side = wav.with_suffix(".txt")
        if not wav.exists():  # the take itself first: "no text" would send the user the wrong way
            return Item(wav, None, seams, prompt, error=f"{wav}: file not found; check the path")
        if not side.exists():
            return Item(wav, None, seams, prompt, error=f"no text for {wav}: give --text, or put it in {side}")
        try:
            text = read_text(side, "text file")
        except InputError as exc:
            return Item(wav, None, seams, prompt, error=str(exc))
    if not text.strip():
        return Item(wav, text, seams, prompt, error=f"the text for {wav} is empty: give the words it should say")
    return Item(wav, text, seams, prompt)


def _manifest(path: Path, prompt: Path | None) -> list[Item]:
    """One Item per take line; a line that is not a take is an Item with its error (the
    other lines are still judged)."""
    try:
        lines = path.read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"--manifest {path}: {getattr(exc, 'strerror', None) or exc}") from None
    base, found = path.parent, []
    for n, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            found.append(_manifest_line(line, base, prompt))
        except InputError as exc:
            found.append(Item(path, None, error=f"--manifest {path}:{n}: {exc}"))
    return found


def _manifest_line(line: str, base: Path, prompt: Path | None) -> Item:
    if not line.lstrip().startswith("{"):
        wav, sep, text = line.partition("\t")
        if not sep:
            raise InputError(f"expected WAV<TAB>TEXT or a JSON object, got {line[:60]!r}")
        return _item(base / wav.strip(), text.strip(), None, prompt)
    try:
        entry = json.loads(line)
    except ValueError as exc:
        raise InputError(f"not a JSON object ({exc})") from None
    if not isinstance(entry, dict) or set(entry) - {"wav", "text", "text_file", "seams", "prompt"} \
            or not isinstance(entry.get("wav"), str):
        keys = sorted(entry) if isinstance(entry, dict) else type(entry).__name__
        raise InputError(f"needs \"wav\" and \"text\" or \"text_file\" (optional \"seams\", \"prompt\"), "
                         f"got {keys}")
    text = entry.get("text")
    if text is not None and not isinstance(text, str):
        raise InputError(f"\"text\" must be a string, got {text!r}")
    if text is None and "text_file" in entry:
        text = read_text(base / str(entry["text_file"]), "text_file")
    try:
        seams = seam_times(",".join(map(str, entry["seams"]))) if entry.get("seams") is not None else None
    except (TypeError, ValueError) as exc:
        raise InputError(str(exc)) from None
    own = base / str(entry["prompt"]) if entry.get("prompt") else prompt
    return _item(base / entry["wav"], text, seams, own)


def read_text(path: Path, what: str) -> str:
    """A text file's words; a file that is not text (not UTF-8, or control bytes such as NUL:
    a binary file) is refused with its name."""
    try:
        text = path.read_text("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{what} {path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset "
                         f"{exc.start}); give a text file") from None
    except OSError as exc:
        raise InputError(f"{what} {path}: {exc.strerror or exc}") from None
    if bad := _control(text):
        raise InputError(f"{what} {path}: not text ({bad}); give a text file")
    return text


def _control(text: str) -> str | None:
    at = next((i for i, ch in enumerate(text) if ch in _CONTROL), None)
    return None if at is None else f"control character {text[at]!r} at offset {at}"


def seam_times(value: str | None) -> list[float] | None:
    if value is None:
        return None
    try:
        times = [float(v) for v in value.replace(" ", "").split(",") if v]
    except ValueError:
        raise ValueError(f"--seams: expected seconds like 1.92,4.40, got {value!r}") from None
    if not times or any(t < 0 or t != t or t == float("inf") for t in times):
        raise ValueError(f"--seams: expected seconds >= 0 like 1.92,4.40, got {value!r}")
    return times


def max_seconds(value: str) -> float:
    """--max-duration: seconds, a positive finite number."""
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < float("inf"):
        raise InputError(f"--max-duration: expected seconds > 0 like {DEFAULT_MAX_SECONDS:g}, got {value!r}")
    return seconds


def check_duration(path: Path, limit: float, what: str = "") -> None:
    """Refuse a file longer than `limit` seconds from its header, before any sample is read
    (memory and time stay bounded whatever the file). A file whose header cannot be read
    is left to the reader, which says what is wrong with it."""
    import soundfile as sf

    try:
        info = sf.info(str(path))
    except Exception:  # noqa: BLE001 - missing, corrupt: read_wav names the file and the fault
        return
    if info.samplerate > 0 and info.frames / info.samplerate > limit:
        seconds = info.frames / info.samplerate
        raise InputError(f"{what}{path}: {seconds:.0f} s long ({seconds / 60:.1f} min), over --max-duration "
                         f"{limit:g} s; split it into takes, or raise --max-duration (memory and time grow "
                         "with the length)")
