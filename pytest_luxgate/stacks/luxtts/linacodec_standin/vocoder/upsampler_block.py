"""Stand-in for ``linacodec.vocoder.upsampler_block``: transposed convs + snake ResNet blocks
that lift the backbone features to the 48 kHz head's frame rate.

Parameter names (``upsample_layers.N``, ``resnet_blocks.N.{norm1,conv1,snake1,...}``,
``out_proj``, ``final_snake.alpha``) are those of the real state dict.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import weight_norm


def snake(x: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    return x + (alpha + 1e-9).reciprocal() * torch.sin(alpha * x).pow(2)


class Snake1d(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.alpha = nn.Parameter(torch.ones(1, channels, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return snake(x, self.alpha)


def _norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(num_groups=32, num_channels=channels, eps=1e-6, affine=True)


class ResnetBlock(nn.Module):
    def __init__(self, *, in_channels: int, out_channels: int | None = None,
                 conv_shortcut: bool = False, dropout: float = 0.0, temb_channels: int = 512) -> None:
        super().__init__()
        out_channels = out_channels or in_channels
        self.in_channels, self.out_channels = in_channels, out_channels
        self.use_conv_shortcut = conv_shortcut
        self.snake1 = Snake1d(in_channels)
        self.norm1 = _norm(in_channels)
        self.conv1 = nn.Conv1d(in_channels, out_channels, kernel_size=3, stride=1, padding=1)
        if temb_channels > 0:
            self.temb_proj = nn.Linear(temb_channels, out_channels)
        self.norm2 = _norm(out_channels)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv1d(out_channels, out_channels, kernel_size=3, stride=1, padding=1)
        self.snake2 = Snake1d(out_channels)
        if in_channels != out_channels:
            if conv_shortcut:
                self.conv_shortcut = nn.Conv1d(in_channels, out_channels, kernel_size=3, padding=1)
            else:
                self.nin_shortcut = nn.Conv1d(in_channels, out_channels, kernel_size=1)

    def forward(self, x: torch.Tensor, temb: torch.Tensor | None = None) -> torch.Tensor:
        h = self.conv1(self.snake1(self.norm1(x)))
        if temb is not None:
            h = h + self.temb_proj(temb * torch.sigmoid(temb))[:, :, None]
        h = self.conv2(self.dropout(self.snake2(self.norm2(h))))
        if self.in_channels != self.out_channels:
            x = self.conv_shortcut(x) if self.use_conv_shortcut else self.nin_shortcut(x)
        return x + h


class UpSamplerBlock(nn.Module):
    """[B, C, L] -> [B, C, L * prod(upsample_factors)]."""

    def __init__(self, in_channels: int, upsample_factors: list[int],
                 kernel_sizes: list[int] | None = None) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.upsample_factors = list(upsample_factors or [])
        self.kernel_sizes = list(kernel_sizes or [8] * len(self.upsample_factors))
        if len(self.kernel_sizes) != len(self.upsample_factors):
            raise ValueError("kernel_sizes and upsample_factors must have the same length")
        self.upsample_layers = nn.ModuleList()
        self.resnet_blocks = nn.ModuleList()
        self.out_proj = nn.Linear(in_channels // (2 ** len(self.upsample_factors)), in_channels, bias=True)
        for i, (k, u) in enumerate(zip(self.kernel_sizes, self.upsample_factors)):
            c_in, c_out = in_channels // (2 ** i), in_channels // (2 ** (i + 1))
            self.upsample_layers.append(
                weight_norm(nn.ConvTranspose1d(c_in, c_out, kernel_size=k, stride=u, padding=(k - u) // 2)))
            self.resnet_blocks.append(ResnetBlock(in_channels=c_out, out_channels=c_out, dropout=0.0,
                                                  temb_channels=0))
        self.final_snake = Snake1d(in_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for up, block in zip(self.upsample_layers, self.resnet_blocks):
            x = block(up(x))
        x = self.out_proj(x.transpose(1, 2)).transpose(1, 2)
        return self.final_snake(x)
