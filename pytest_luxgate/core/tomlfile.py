"""Read a TOML data file with one error a person can act on (scenarios, prompts, params, spaces)."""
from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any


def read_toml(path: Path, label: str, error: type[Exception], *, hint: str = "",
              invalid: str = "not valid TOML") -> dict[str, Any]:
    """The file's table; an unreadable or malformed file raises `error("{label} {path}: ...")`."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise error(f"{label} {path}: cannot read it ({exc.strerror}){hint}") from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise error(f"{label} {path}: {invalid} ({exc})") from None
