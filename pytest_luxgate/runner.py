"""Runs cells in this process: stack -> take -> evidence, each computed once.

Lives in every process that executes tests (the controller without xdist,
each worker with it). Results and failures are cached per cell so every
check of a cell shares one synthesis and one transcription, and a cell whose
stack raised is reported once per check without being re-run.
"""
from __future__ import annotations

import functools
import hashlib
import json
import platform
import time
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from .analysis import Evidence, analyze
from .audio import write_wav_atomic
from .cells import OWN_VOICE, Cell, safe_name
from .checks import judge
from .chunking import ChunkingOptions
from .prompts import Prompt, PromptError, read_prompt_audio
from .scenarios import Scenario
from .stacks.base import StackError, StackUnavailable, get_stack
from .synthesis import Take, coerce_params, synthesize_chunked
from .thresholds import resolve


def luxgate_version() -> str:
    try:
        return version("pytest-luxgate")
    except PackageNotFoundError:
        return "0+unknown"


class CellFailed(Exception):
    """The cell could not produce a take or evidence; message says why."""


class CellSkipped(Exception):
    """The cell's stack cannot run here; message says why."""


@dataclass
class CellOutcome:
    cell: Cell
    take: Take
    evidence: Evidence
    thresholds: dict[str, float]
    record: dict[str, Any] = field(default_factory=dict)
    chunking: ChunkingOptions = field(default_factory=ChunkingOptions)


class CellRunner:
    def __init__(self, *, scenarios: dict[str, Scenario], prompts: dict[str, Prompt],
                 asr_spec: str, seed: int, params: dict[str, str], thresholds: dict[str, float],
                 work_dir: Path | None, chunking: ChunkingOptions | None = None) -> None:
        self.scenarios = scenarios
        self.prompts = prompts
        self.asr_spec = asr_spec
        self.seed = seed
        self.params = params
        self.thresholds = thresholds
        self.work_dir = work_dir
        self.chunking = chunking or ChunkingOptions()
        self._outcomes: dict[str, CellOutcome | Exception] = {}
        self._encoded: dict[tuple[str, str, str], Any] = {}

    def outcome(self, cell: Cell) -> CellOutcome:
        if cell.key not in self._outcomes:
            try:
                self._outcomes[cell.key] = self._run(cell)
            except (CellFailed, CellSkipped) as exc:
                self._outcomes[cell.key] = exc
        got = self._outcomes[cell.key]
        if isinstance(got, Exception):
            raise got
        return got

    def _run(self, cell: Cell) -> CellOutcome:
        try:
            stack = get_stack(cell.stack)
        except StackUnavailable as exc:
            raise CellSkipped(str(exc)) from None
        scenario = self.scenarios[cell.scenario]
        try:
            params = coerce_params(stack.default_params(), self.params, scenario.params, stack=cell.stack)
        except ValueError as exc:
            raise CellFailed(str(exc)) from None
        prompt = self._encoded_prompt(stack, cell, params)
        seed = _cell_seed(self.seed, cell)
        chunking = self.chunking.overridden(scenario.chunking)
        try:
            take = synthesize_chunked(stack, scenario.text, prompt, params, seed, chunking)
        except StackError as exc:
            raise CellFailed(str(exc)) from None
        try:
            evidence = analyze(take.audio, take.sample_rate, scenario.text, self.asr_spec, seams=take.seams)
        except Exception as exc:
            raise CellFailed(f"analysis failed: {type(exc).__name__}: {exc}") from exc
        thresholds = resolve(self.thresholds, scenario.thresholds)
        outcome = CellOutcome(cell, take, evidence, thresholds, chunking=chunking)
        outcome.record = self._record(outcome, stack.describe())
        return outcome

    def _encoded_prompt(self, stack: Any, cell: Cell, params: dict[str, Any]) -> Any:
        if cell.prompt == OWN_VOICE:
            return None
        prompt = self.prompts[cell.prompt]
        key = (cell.stack, _safe_hash(prompt), json.dumps(params, sort_keys=True, default=str))
        if key not in self._encoded:
            try:
                wav, rate = read_prompt_audio(prompt)
                self._encoded[key] = stack.encode_prompt(wav, rate, prompt.text, params)
            except PromptError as exc:
                raise CellFailed(str(exc)) from None
            except Exception as exc:
                raise CellFailed(f"stack {cell.stack!r} could not encode prompt {prompt.id!r}: "
                                 f"{type(exc).__name__}: {exc}") from None
        return self._encoded[key]

    def _record(self, o: CellOutcome, stack_info: dict[str, Any]) -> dict[str, Any]:
        ev = o.evidence
        take_path = None
        if self.work_dir is not None:
            take_path = str(write_wav_atomic(self.work_dir / f"{safe_name(o.cell.id)}.wav",
                                             o.take.audio, o.take.sample_rate))
        return {
            "stack": o.cell.stack, "prompt": o.cell.prompt, "scenario": o.cell.scenario,
            "cell": o.cell.id, "text": o.take.text, "transcript": ev.transcript.text,
            "audio_s": round(o.take.seconds, 3), "sample_rate": o.take.sample_rate,
            "metrics": ev.metrics(), "legacy": ev.legacy(),
            "chunks": list(o.take.chunks), "seams": [round(t, 3) for t in o.take.seams],
            "timings": {"synthesis_s": round(o.take.synthesis_s, 3), "join_s": round(o.take.join_s, 4),
                        **ev.timings},
            "thresholds": o.thresholds,
            "versions": {"stack": stack_info, "asr": ev.transcript.model, "params": o.take.params,
                         "seed": o.take.seed, "chunking": o.chunking.to_dict(),
                         "luxgate": luxgate_version(), "python": platform.python_version()},
            "take_path": take_path,
        }

    def check(self, cell: Cell, name: str) -> dict[str, Any]:
        o = self.outcome(cell)
        return judge(name, o.evidence, o.thresholds).to_dict()


def _cell_seed(base: int, cell: Cell) -> int:
    """Per-cell seed derived from the run seed, so a cell's take never depends on run order."""
    # the stack is left out so every stack speaks a cell with the same seed
    digest = hashlib.sha256(f"{base}|{cell.prompt}|{cell.scenario}".encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


@functools.lru_cache(maxsize=None)
def _safe_hash(prompt: Prompt) -> str:
    # prompts are fixed for a run: hash each wav once, not once per cell
    try:
        return prompt.content_hash()
    except PromptError:
        return f"unreadable:{prompt.wav}"


def run_info(asr: str, seed: int) -> dict[str, Any]:
    return {"version": luxgate_version(), "python": platform.python_version(),
            "platform": platform.platform(), "asr": asr, "seed": seed,
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
