"""Audio file I/O with errors a person can act on (soundfile/libsndfile)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .atomic import write_file_atomic

RATE_16K = 16_000  # the rate every listener model and the loop search's features take


def to_16k(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mono float32 audio at 16 kHz (soxr). One function for every caller, so a take
    resampled once (judging/analysis.py) gives the VAD and the loop search the same bits
    each would have made itself."""
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    if sample_rate != RATE_16K:
        import soxr

        audio = soxr.resample(audio, sample_rate, RATE_16K).astype(np.float32)
    return audio


class AudioError(ValueError):
    """An audio file or buffer is unusable."""


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """Read any libsndfile format as float32 mono (multi-channel is averaged)."""
    got = load_audio(path)
    return got.audio, got.rate


#: sample rates a voice prompt may have; outside this nothing is speech-grade
MIN_RATE, MAX_RATE = 8000, 192000
#: a prompt whose loudest sample is below this (dBFS) holds no speech at all
SILENT_PEAK_DBFS = -60.0


@dataclass(frozen=True)
class LoadedAudio:
    """Mono float32 audio plus what was done to it on the way in (said in the report)."""

    audio: np.ndarray
    rate: int
    notes: tuple[str, ...] = ()


def load_audio(path: Path, target_rate: int | None = None, *, prompt: bool = False) -> LoadedAudio:
    """Read, validate and normalise an audio file; every refusal names the file and the fix.

    Always refused: missing, unreadable, corrupt or empty files and NaN/Inf
    samples. Several channels are averaged to mono (noted). With `prompt` (a
    voice prompt, not a take under test) also: rates outside 8-192 kHz and
    silent files are refused, and float files whose peak exceeds full scale are
    scaled to 0.99 (noted; a take under test keeps its peak so clipping shows).
    `target_rate` resamples with soxr, the maintained resampler the ASR uses.
    """
    import soundfile as sf

    path = Path(path)
    if not path.exists():
        raise AudioError(f"{path}: file not found; check the path (relative paths are relative to "
                         "the file that names it)")
    if path.is_dir():
        raise AudioError(f"{path}: is a directory, not an audio file")
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:  # permission and I/O errors, before libsndfile hides them
            fh.read(1)
    except OSError as exc:
        raise AudioError(f"{path}: cannot read it ({exc.strerror}); check its permissions") from exc
    if size == 0:
        raise AudioError(f"{path}: file is empty (0 bytes); record or export the audio again")
    try:
        info = sf.info(str(path))
        audio, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as exc:  # libsndfile raises its own error type for every corrupt header
        raise AudioError(f"{path}: not a readable audio file ({exc}); export it again as WAV "
                         "(16/24-bit PCM or float)") from exc
    if audio.shape[0] == 0:
        raise AudioError(f"{path}: holds no samples (a header without audio); record it again")
    notes: list[str] = []
    if not np.all(np.isfinite(audio)):
        bad = int(np.count_nonzero(~np.isfinite(audio)))
        raise AudioError(f"{path}: contains {bad} NaN or Inf samples of {audio.size}; the file is "
                         "corrupt, export it again")
    if prompt and not MIN_RATE <= rate <= MAX_RATE:
        raise AudioError(f"{path}: sample rate {rate} Hz is outside {MIN_RATE}-{MAX_RATE} Hz; "
                         "resample it (e.g. to 24000 Hz)")
    if audio.shape[1] > 1:
        notes.append(f"{audio.shape[1]} channels averaged to mono")
    mono = audio.mean(axis=1) if audio.shape[1] > 1 else audio[:, 0]
    peak = float(np.max(np.abs(mono)))
    if prompt and peak < 10 ** (SILENT_PEAK_DBFS / 20):
        level = "digital silence" if peak == 0 else f"peak {20 * np.log10(peak):.1f} dBFS"
        after = " after averaging its channels (are they in opposite phase?)" if audio.shape[1] > 1 else ""
        raise AudioError(f"{path}: is silent{after} ({level}, below {SILENT_PEAK_DBFS:g} dBFS); "
                         "a voice prompt must hold the speech its transcript says")
    if prompt and peak > 1.0:  # float files may exceed full scale; scaling keeps the waveform, clipping would not
        mono = mono * (0.99 / peak)
        notes.append(f"{info.subtype} peak {peak:.2f} above full scale, scaled to 0.99")
    if target_rate is not None and rate != target_rate:
        import soxr

        mono = soxr.resample(mono, rate, target_rate, quality="HQ")
        if rate < 16000:  # resampling itself is routine and not noted; a narrow band is worth a word
            notes.append(f"{rate} Hz (resampled to {target_rate} Hz) holds nothing above {rate // 2} Hz: "
                         "a clone of it may sound muffled")
        rate = target_rate
    return LoadedAudio(np.ascontiguousarray(mono, dtype=np.float32), int(rate), tuple(notes))


def as_saved(audio: np.ndarray, rate: int) -> np.ndarray:
    """The samples a kept 16-bit WAV of `audio` holds, read back as `read_wav` reads them.

    The gate judges a take as it keeps it, so `luxgate check` on the kept WAV hears the very
    same samples (Whisper heard one take's float and 16-bit forms as 7 and 2 word errors).
    Idempotent. Audio that is not finite is returned as it is: analysis refuses it, by name.
    """
    import io

    import soundfile as sf

    x = np.asarray(audio)
    if x.ndim != 1 or x.size == 0 or not np.issubdtype(x.dtype, np.floating) or not np.all(np.isfinite(x)):
        return audio
    buf = io.BytesIO()
    sf.write(buf, np.clip(x, -1.0, 1.0), rate, subtype="PCM_16", format="WAV")
    buf.seek(0)
    out, _ = sf.read(buf, dtype="float32")
    return np.ascontiguousarray(out, dtype=np.float32)


def write_wav_atomic(path: Path, audio: np.ndarray, rate: int) -> Path:
    """Write 16-bit PCM through a temp file and rename, so readers never see half a file."""
    import soundfile as sf

    path = Path(path)

    def write(tmp: str) -> None:
        try:
            sf.write(tmp, np.clip(audio, -1.0, 1.0), rate, subtype="PCM_16")
        except sf.SoundFileError as exc:  # libsndfile reports a full disk as its own error type
            raise OSError(f"{path}: {exc}") from exc

    write_file_atomic(path, write, suffix=".wav")
    return path


#: speech rate bounds for `implausible_duration`, in letters and digits per second. Fast
#: read speech runs ~15-20/s and the fastest talkers ~25/s; the slowest stack settings
#: here (Piper length_scale 2) ~5/s. Outside [1, 60] the audio cannot be this text at
#: the rate the stack reported, whatever voice or style it chose.
MAX_CHARS_PER_S = 60.0
MIN_CHARS_PER_S = 1.0
#: slack for pads and leading/trailing silence a stack may add to very short texts
DURATION_SLACK_S = 10.0


def implausible_duration(n_samples: int, rate: int, text: str) -> str | None:
    """Why `n_samples` at `rate` cannot be `text` spoken (or None when it can be).

    The sample rate a stack reports is only checked for type and range; a rate
    that disagrees with the audio shows as a duration no speaker could take to
    say the text. Only gross disagreements are caught here (more than ~3x too
    fast or ~5x too slow); milder ones fail test_rate (syllables per second)
    and test_wer, which hear the sped-up or slowed-down take.
    """
    chars = sum(ch.isalnum() for ch in text)
    seconds = n_samples / float(rate)
    if chars == 0:
        return None
    shortest = chars / MAX_CHARS_PER_S
    longest = DURATION_SLACK_S + chars / MIN_CHARS_PER_S
    if seconds < shortest:
        return (f"{seconds:.3f} s of audio at the reported {rate} Hz for {chars} letters/digits, "
                f"shorter than the {shortest:.2f} s even the fastest speech takes; is the audio "
                f"really at {rate} Hz?")
    if seconds > longest:
        return (f"{seconds:.1f} s of audio at the reported {rate} Hz for {chars} letters/digits, "
                f"longer than the {longest:.0f} s even the slowest speech takes; is the audio "
                f"really at {rate} Hz, or does the stack loop?")
    return None
