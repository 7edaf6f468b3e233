"""The LuxTTS stacks: ``mlx`` (MLX flow matching + MLX vocoder) and ``torch``
(eager Torch ZipVoice-distill + Torch 48 kHz vocoder on cpu/cuda/mps).

Nothing heavy is imported here: torch, mlx and the ``luxtts-mlx`` package load
in `Stack.load()`, i.e. only when a LuxTTS stack is selected.
"""
