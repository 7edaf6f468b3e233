"""Stand-in for ``linacodec.vocoder.vocos``: the two-head 48 kHz Vocos.

Built from the ``vocos`` package's MelSpectrogramFeatures, VocosBackbone and
ISTFTHead (named by class_path in the real config.yaml) plus the upsampler of
this stand-in. ``decode`` follows LinaCodec: the 48 kHz head on upsampled
features, the 24 kHz head resampled to 48 kHz, merged at ``freq_range`` Hz.
"""
from __future__ import annotations

from typing import Any

import torch
import torchaudio.functional as AF
import yaml
from torch import nn

from .linkwitz import crossover_merge_linkwitz_riley


def instantiate_class(args: Any, init: dict[str, Any]) -> Any:
    """``{"class_path": "pkg.mod.Class", "init_args": {...}}`` -> instance."""
    kwargs = init.get("init_args", {})
    if not isinstance(args, tuple):
        args = (args,)
    module_name, class_name = init["class_path"].rsplit(".", 1)
    module = __import__(module_name, fromlist=[class_name])
    return getattr(module, class_name)(*args, **kwargs)


class Vocos(nn.Module):
    def __init__(self, feature_extractor: nn.Module, backbone: nn.Module, head: nn.Module,
                 upsampler: nn.Module, head_48k: nn.Module) -> None:
        super().__init__()
        self.feature_extractor = feature_extractor
        self.backbone = backbone
        self.head = head
        self.upsampler = upsampler
        self.head_48k = head_48k
        self.freq_range = 4000

    @classmethod
    def from_hparams(cls, config_path: str) -> "Vocos":
        with open(config_path, "r") as f:
            config = yaml.safe_load(f)
        parts = {key: instantiate_class((), config[key])
                 for key in ("feature_extractor", "backbone", "head", "upsampler", "head_48k")}
        return cls(**parts)

    @torch.inference_mode()
    def forward(self, audio_input: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        return self.decode(self.feature_extractor(audio_input, **kwargs), **kwargs)

    @torch.inference_mode()
    def decode(self, features_input: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        features = self.backbone(features_input, **kwargs).transpose(1, 2)
        upsampled = self.upsampler(features).transpose(1, 2)
        audio_48k = self.head_48k(upsampled)
        audio_24k = AF.resample(self.head(features.transpose(1, 2)), 24000, 48000)
        audio_48k = audio_48k[:, :audio_24k.shape[1]]
        # looked up as a module global at call time, so LuxTTS's
        # apply_linacodec_linkwitz_patch() replaces it here as in the real package
        with torch.autocast(device_type=audio_48k.device.type, enabled=False):
            return crossover_merge_linkwitz_riley(audio_48k.float(), audio_24k.float(), cutoff=self.freq_range)
