"""How `luxgate tune` refuses bad input."""
from __future__ import annotations


class TuneError(Exception):
    """Bad input: the message names the option and what to do (exit 2)."""
