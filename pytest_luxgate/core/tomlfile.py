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


#: what TOML calls each value type, for "must be a string, got integer 5"
_TOML_TYPES = ((bool, "boolean"), (int, "integer"), (float, "float"), (str, "string"), (list, "array"),
               (dict, "table"))


def toml_type(value: Any) -> str:
    """The TOML name of a parsed value's type ("integer", "array", "datetime", ...)."""
    for py, name in _TOML_TYPES:  # bool first: it is an int to Python
        if isinstance(value, py):
            return name
    return type(value).__name__  # datetime, date, time


def describe_value(value: Any) -> str:
    """'integer 5', 'array [1, 2]': a wrong-typed value as the user wrote it."""
    shown = str(value).lower() if isinstance(value, bool) else repr(value)  # TOML writes `true`
    return f"{toml_type(value)} {shown if len(shown) <= 60 else shown[:57] + '...'}"
