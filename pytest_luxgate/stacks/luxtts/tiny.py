"""A tiny, randomly initialised LuxTTS checkpoint in the exact on-disk layout.

    DIR/tokens.txt          token<TAB>id, '_' = pad
    DIR/config.json         {"model": ZipVoice-distill kwargs, "feature": {...}}
    DIR/model.pt            {"model": state_dict} of zipvoice.models.ZipVoiceDistill
    DIR/vocoder/config.yaml class_path/init_args for the two-head 48 kHz Vocos
    DIR/vocoder/vocos.bin   its state_dict (weight norm removed, as the loaders expect)

The weights are random, so it speaks noise, not words: it exists so the real
loading and inference code of both stacks can run (and be tested) on a
machine without the real weights. Dimensions are small and the layers few;
``time_embed_dim`` stays 192 because the Torch guidance-scale embedding is
hard-coded to that size, and ``feat_dim`` stays 100 (the vocoder's mel bins).

    python -m pytest_luxgate.stacks.luxtts.tiny DIR    # build one by hand
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

#: ZipVoice-distill kwargs (the real model: fm_decoder_dim 512, 5 stacks of 2-4 layers, ...)
TINY_MODEL = {
    "fm_decoder_downsampling_factor": [1, 2, 1],
    "fm_decoder_num_layers": [1, 1, 1],
    "fm_decoder_cnn_module_kernel": [7, 7, 7],
    "fm_decoder_feedforward_dim": 64,
    "fm_decoder_num_heads": 2,
    "fm_decoder_dim": 32,
    "text_encoder_num_layers": 1,
    "text_encoder_feedforward_dim": 64,
    "text_encoder_cnn_module_kernel": 3,
    "text_encoder_num_heads": 2,
    "text_encoder_dim": 32,
    "time_embed_dim": 192,
    "text_embed_dim": 32,
    "query_head_dim": 8,
    "value_head_dim": 4,
    "pos_head_dim": 2,
    "pos_dim": 16,
    "feat_dim": 100,
}
FEATURE = {"type": "vocos", "sampling_rate": 24000, "hop_length": 256, "n_fft": 1024, "n_mels": 100}

#: the vocoder: same class paths as the real config, small widths; the
#: upsampler doubles the frame rate twice so head_48k (hop 128) gives 48 kHz
TINY_VOCODER = {
    "feature_extractor": {"class_path": "vocos.feature_extractors.MelSpectrogramFeatures",
                          "init_args": {"sample_rate": 24000, "n_fft": 1024, "hop_length": 256,
                                        "n_mels": 100, "padding": "center"}},
    "backbone": {"class_path": "vocos.models.VocosBackbone",
                 "init_args": {"input_channels": 100, "dim": 128, "intermediate_dim": 256, "num_layers": 2}},
    "head": {"class_path": "vocos.heads.ISTFTHead",
             "init_args": {"dim": 128, "n_fft": 1024, "hop_length": 256, "padding": "center"}},
    "upsampler": {"class_path": "linacodec.vocoder.upsampler_block.UpSamplerBlock",
                  "init_args": {"in_channels": 128, "upsample_factors": [2, 2], "kernel_sizes": [8, 8]}},
    "head_48k": {"class_path": "vocos.heads.ISTFTHead",
                 "init_args": {"dim": 128, "n_fft": 512, "hop_length": 128, "padding": "center"}},
}

def token_inventory() -> list[str]:
    """'_' (pad) first, then the phonemes espeak produces for English, punctuation, letters."""
    from piper_phonemize import phonemize_espeak

    from ...matrix.scenarios import load_dirs, standard_dir

    texts = [s.text for s in load_dirs([standard_dir()])]
    texts.append("The quick brown fox jumps over the lazy dog; she sells sea shells, yes?")
    phones: set[str] = set()
    for text in texts:
        for sentence in phonemize_espeak(text, "en-us"):
            phones.update(sentence)
    extra = set(" !'(),-.:;?\"") | set("abcdefghijklmnopqrstuvwxyz")
    return ["_", *sorted((phones | extra) - {"_"})]


def build_tiny_checkpoint(out: Path, seed: int = 0) -> Path:
    """Write a tiny random checkpoint to `out` (created); returns `out`."""
    import torch
    import yaml

    from .runtime import contained, import_luxtts

    mods = import_luxtts("zipvoice.models.zipvoice_distill", "linacodec.vocoder.vocos")
    out = Path(out)
    (out / "vocoder").mkdir(parents=True, exist_ok=True)
    tokens = token_inventory()
    (out / "tokens.txt").write_text("".join(f"{t}\t{i}\n" for i, t in enumerate(tokens)), "utf-8")
    (out / "config.json").write_text(json.dumps({"model": TINY_MODEL, "feature": FEATURE}, indent=2))
    with contained():
        torch.manual_seed(seed)
        model = mods["zipvoice.models.zipvoice_distill"].ZipVoiceDistill(
            **TINY_MODEL, vocab_size=len(tokens), pad_id=0)
        _randomize(model, seed)
        torch.save({"model": model.state_dict()}, out / "model.pt")
        (out / "vocoder" / "config.yaml").write_text(yaml.safe_dump(TINY_VOCODER, sort_keys=False))
        vocos = mods["linacodec.vocoder.vocos"].Vocos.from_hparams(str(out / "vocoder" / "config.yaml"))
        _randomize(vocos, seed + 1)
        from torch.nn.utils import parametrize

        for layer in vocos.upsampler.upsample_layers:
            parametrize.remove_parametrizations(layer, "weight")
        torch.save(vocos.state_dict(), out / "vocoder" / "vocos.bin")
    return out


def _randomize(module, seed: int) -> None:
    """Perturb every parameter: default inits leave biases, norms and snake alphas
    at constants, under which bugs in weight copying (a skipped key, a wrong
    transpose) would go unseen by a parity check."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in module.named_parameters():
            noise = torch.randn(p.shape, generator=gen, dtype=torch.float32)
            if name.endswith("alpha"):  # snake alpha > 0
                p.copy_(1.0 + 0.2 * noise.abs())
            else:
                p.add_(0.05 * noise * (p.detach().abs().mean() + 0.02))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m pytest_luxgate.stacks.luxtts.tiny OUT_DIR", file=sys.stderr)
        return 2
    path = build_tiny_checkpoint(Path(args[0]))
    print(f"tiny LuxTTS checkpoint (random weights) written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
