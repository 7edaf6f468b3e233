"""Per-prompt generation parameters in a TOML file: written by `luxgate tune`, read by the gate.

    [tune]                        # what produced the file (informational; the gate ignores it)
    stack = "piper"

    [params.piper.own_voice]      # [params.STACK.PROMPT]
    length_scale = 1.05
    noise_scale = 0.52

The gate (``--luxgate-params-file FILE``, ini ``luxgate_params_file``) lays a
cell's section over the stack's defaults; ``--luxgate-params`` and a
scenario's ``[params]`` still win over it. A team commits the file and gates
on the parameters it was tuned to.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from ..core.tomlfile import read_toml

#: stack -> prompt id -> parameter -> value
PromptParams = dict[str, dict[str, dict[str, Any]]]


class ParamsFileError(ValueError):
    """The parameters file is unusable; the message names the file and the fix."""


def read_params_file(path: Path) -> PromptParams:
    data = read_toml(path, "params file", ParamsFileError,
                     hint="; check --luxgate-params-file / ini luxgate_params_file")
    unknown = set(data) - {"tune", "params"}
    if unknown:
        raise ParamsFileError(f"params file {path}: unknown top-level key(s) {sorted(unknown)}; "
                              "expected [params.STACK.PROMPT] tables (and an optional [tune])")
    out: PromptParams = {}
    for stack, prompts in data.get("params", {}).items():
        if not isinstance(prompts, dict):
            raise ParamsFileError(f"params file {path}: params.{stack} must be a table of "
                                  "[params.STACK.PROMPT] tables")
        for prompt, params in prompts.items():
            if not isinstance(params, dict):
                raise ParamsFileError(f"params file {path}: params.{stack}.{prompt} = {params!r}; "
                                      f"expected a table [params.{stack}.PROMPT] holding KEY = VALUE")
            for key, value in params.items():
                if isinstance(value, (dict, list)):
                    raise ParamsFileError(f"params file {path}: params.{stack}.{prompt}.{key} must be "
                                          f"a number, boolean or string, got {value!r}")
            out.setdefault(stack, {})[prompt] = dict(params)
    return out


def render_params_file(params: PromptParams, tune: Mapping[str, Any], header: str = "") -> str:
    import tomli_w

    body = tomli_w.dumps({"tune": dict(tune), "params": params})
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    return ("\n".join(lines) + "\n\n" if lines else "") + body
