"""STAND-IN for ``linacodec`` (the LuxTTS Torch 48 kHz vocoder), used only when the
real package is not importable.

``linacodec`` is on no package registry (upstream installs it from
git+https://github.com/ysharma3501/LinaCodec), yet LuxTTS imports
``linacodec.vocoder.vocos.Vocos`` at module load on every path, MLX included.
This package re-implements the same architecture -- a Vocos backbone with two
ISTFT heads (24 kHz, and 48 kHz behind a weight-normed transposed-conv
upsampler) merged by an FFT crossover at 4 kHz -- from the ``vocos`` package's
own backbone and heads, with the same module names, so the real
``vocoder/config.yaml`` builds it and the real ``vocoder/vocos.bin`` state dict
loads into it with ``strict=True``.

`pytest_luxgate.stacks.luxtts.runtime.ensure_linacodec` aliases it as
``linacodec`` only after ``importlib.util.find_spec("linacodec")`` found
nothing; every report row records which one ran (``vocoder_impl``).
"""
STANDIN = True
