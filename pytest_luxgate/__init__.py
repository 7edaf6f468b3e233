"""pytest-luxgate: a pytest quality gate for LuxTTS speech synthesis."""
from __future__ import annotations

__all__ = ["__version__"]
__version__ = "0.1.0"
