"""Runs cells in this process: stack -> take -> evidence, each computed once.

Lives in every process that executes tests (the controller without xdist,
each worker with it). Results and failures are cached per cell so every
check of a cell shares one synthesis and one transcription, and a cell whose
stack raised is reported once per check without being re-run.
"""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import platform
import threading
import time
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Callable, Generic, Iterator, TypeVar

import numpy as np

from ..asr import get_asr
from ..asr.base import Forced, Forcer, force_text
from ..core.audio import as_saved, write_wav_atomic
from ..core.types import TextSpan, Transcript
from ..judging.analysis import (
    Evidence,
    Heard,
    analyze,
    listen,
    prompt_background,
)
from ..judging.checks import (
    CHECK_NAMES,
    CHECKS,
    LISTENER_CHECKS,
    CheckNotApplicable,
    judge,
)
from ..judging.takes import median_metrics, over_takes, take_score, take_seed
from ..judging.thresholds import resolve
from ..listeners.aligner import text_span
from ..matrix.cells import OWN_VOICE, Cell, safe_name
from ..matrix.prompt_text import (
    DEFAULT_POLICY,
    Mismatch,
    PromptTextError,
    resolve_prompt_text,
    transcript_mismatch,
)
from ..matrix.prompts import (
    Prompt,
    PromptError,
    prompt_notes,
    read_prompt_audio,
    stack_prompt_rate,
)
from ..matrix.scenarios import Scenario
from ..metrics.level import validate_audio
from ..speech.chunking import ChunkingOptions
from ..speech.synthesis import NOTES_KEY, Take, coerce_params, synthesize_chunked
from ..stacks.base import (
    StackError,
    StackLoadError,
    StackUnavailable,
    call_stack,
    get_stack,
    may_overlap,
)
from .ahead import Ahead
from .cache import (
    CachingTranscriber,
    ContentCache,
    cache_get_take,
    cache_put_take,
    keep_listeners,
    reuse_listeners,
    take_key,
)


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
    #: every take of a cell judged on several (--luxgate-takes N > 1), this one (the best) among
    #: them; empty for one take
    takes: list["CellOutcome"] = field(default_factory=list)
    seed: int = 0


class CellRunner:
    #: a prompt without transcript: strict|asr|target-fallback (prompt_text.py); set by the session
    prompt_text_policy: str = DEFAULT_POLICY

    def __init__(self, *, scenarios: dict[str, Scenario], prompts: dict[str, Prompt],
                 asr_spec: str, seed: int, params: dict[str, str], thresholds: dict[str, float],
                 work_dir: Path | None, chunking: ChunkingOptions | None = None,
                 listen: frozenset[str] = frozenset(), cache: ContentCache | None = None,
                 prompt_params: dict[str, dict[str, dict[str, Any]]] | None = None,
                 encoded: dict[tuple[str, str, str], Any] | None = None,
                 takes: int = 1, max_fail_rate: float = 0.0) -> None:
        self.scenarios = scenarios
        self.prompts = prompts
        self.asr_spec = asr_spec
        self.seed = seed
        self.params = params
        self.thresholds = thresholds
        self.work_dir = work_dir
        self.chunking = chunking or ChunkingOptions()
        #: persistent take/transcript cache (cache.py); None = compute everything
        self.cache = cache
        self._outcomes: dict[str, CellOutcome | Exception] = {}
        #: stack -> prompt -> params (--luxgate-params-file; `luxgate tune`'s candidates),
        #: laid over the stack defaults, under --luxgate-params and a scenario's [params]
        self.prompt_params = prompt_params or {}
        # a caller that runs many parameter sets (the tuner) shares one encoding cache
        self._encoded: dict[tuple[str, str, str], Any] = {} if encoded is None else encoded
        #: prompt id -> what the gate's ASR heard in its wav (the asr policy, the transcript check)
        self._prompt_heard: dict[str, Transcript] = {}
        #: prompt id -> how its given transcript differs from its audio (None: it matches)
        self._prompt_mismatch: dict[str, Mismatch | None] = {}
        self._backgrounds: dict[str, float | None] = {}
        #: (prompt, scenario) -> where the transcript the stack heard came from (report rows)
        self._prompt_source: dict[tuple[str, str], str] = {}
        #: selected checks: listener models (DNSMOS, speaker encoder) run only for these
        self.listen = listen
        #: takes (seeds) per cell, unless its scenario says; the share of them that may fail a check
        self.takes = takes
        self.max_fail_rate = max_fail_rate
        #: stage one of upcoming cells on a second thread (overlap()); None: all on the caller's
        self._ahead: Ahead | None = None
        self._asr_lock = threading.RLock()
        self._asr_warm = False  # the side thread was asked to load the ASR model
        #: first runs (a stack's first synthesis, the first ASR load, listener call and hearing)
        #: hold this one at a time: they import modules, and imports on two threads at once
        #: under pytest's import hook once broke a DNSMOS call ("dictionary changed size
        #: during iteration"); after its first run each part overlaps freely
        self._first_lock = threading.Lock()
        self._ran_once: set[str] = set()
        self._listen_lock = threading.RLock()

    def outcome(self, cell: Cell) -> CellOutcome:
        if cell.key not in self._outcomes:
            try:
                self._outcomes[cell.key] = self._run(cell)
            except (CellFailed, CellSkipped) as exc:
                self._outcomes[cell.key] = exc
            except Exception as exc:  # never a cell that vanishes: whatever broke is its error
                self._outcomes[cell.key] = CellFailed(f"the gate failed on this cell: {_where(exc)}")
        got = self._outcomes[cell.key]
        if isinstance(got, Exception):
            raise got
        return got

    def overlap(self, plan: list[Cell]) -> None:
        """Make the takes of `plan`'s cells (in the order this process will ask for them) on a
        second thread, up to two cells ahead of hearing them (run/ahead.py); only cells of a
        stack that allows it (`overlap = True`, stacks.base.may_overlap), the others on the
        caller's thread as before. Call once, before any cell."""
        ahead = [c for c in plan if may_overlap(c.stack)]
        if ahead:
            self._ahead = Ahead(self._make, ahead, key=lambda cell: cell.key, lookahead=2)

    @property
    def overlapping(self) -> bool:
        return self._ahead is not None

    def close(self, wait: float = 0.0) -> None:
        """No further cell starts on the second thread (the run is over or interrupted); `wait`:
        seconds a cell still being made may take to finish (run/ahead.py)."""
        if self._ahead is not None:
            self._ahead.close(wait)

    def _run(self, cell: Cell) -> CellOutcome:
        made = self._ahead.stream(cell) if self._ahead is not None and may_overlap(cell.stack) else self._make(cell)
        prep = next(made)
        n = len(prep.seeds)
        outs = [self._hear(cell, prep, take, k if n > 1 else None) for k, take in enumerate(made)]
        return outs[0] if n == 1 else self._over_takes(outs)

    def _make(self, cell: Cell) -> Iterator[Any]:
        """Stage one of a cell: what it needs (a _Prepared), then each take as made (_Made)."""
        prep = self._prepare(cell)
        yield prep
        for seed in prep.seeds:
            made = self._make_take(cell, prep, seed)
            yield made  # first: the take's ASR starts while its alignment and listener models run
            if self._ahead is not None and may_overlap(cell.stack):  # made on the second thread:
                if made.aligned is not None:  # the next take is synthesised beside them all
                    self._ahead.later(made.aligned)
                self._ahead.later(made.heard)

    def _prepare(self, cell: Cell) -> "_Prepared":
        try:
            stack = get_stack(cell.stack)
        except StackLoadError as exc:  # named for this run and broken: an error, not a skip
            raise CellFailed(str(exc)) from None
        except StackUnavailable as exc:
            raise CellSkipped(str(exc)) from None
        scenario = self.scenarios[cell.scenario]
        self._check_prompt_text(cell)  # before any synthesis: a wrong transcript costs none
        try:
            tuned = self.prompt_params.get(cell.stack, {}).get(cell.prompt, {})
            defaults = _stack_dict(cell, "default_params", stack.default_params, "parameter name -> default")
            params = coerce_params(defaults, tuned, self.params, scenario.params, stack=cell.stack)
        except ValueError as exc:
            raise CellFailed(str(exc)) from None
        seed = _cell_seed(self.seed, cell)
        n = scenario.takes or self.takes
        return _Prepared(stack, scenario, params, self.chunking.overridden(scenario.chunking),
                         [take_seed(seed, k) for k in range(n)])

    def _make_take(self, cell: Cell, prep: "_Prepared", seed: int) -> "_Made":
        """One take synthesised (or from the cache), as its WAV keeps it; its text's alignment and
        its listener models (they need only its audio and text) run when `_Made.aligned` and
        `_Made.heard` are first asked, on whichever thread asks first."""
        key, take = self._cached_take(prep.stack, cell, prep.scenario.text, prep.params, seed, prep.chunking)
        synth_hit = take is not None
        if take is None:  # a cache hit needs no prompt encoding either
            if self._ahead is not None and not self._asr_warm:  # a take to hear: load the ASR meanwhile
                self._asr_warm = True
                self._ahead.later(self._warm_asr)
            prompt = self._encoded_prompt(prep.stack, cell, prep.params)
            try:
                with self._first(f"synthesis:{cell.stack}"):
                    take = synthesize_chunked(prep.stack, prep.scenario.text, prompt, prep.params, seed,
                                              prep.chunking)
            except StackError as exc:
                raise CellFailed(str(exc)) from None
            if key is not None:
                cache_put_take(self.cache, key, take)
        # judged as kept: the 16-bit samples its WAV holds (luxgate check on that WAV hears the same)
        take = dataclasses.replace(take, audio=as_saved(take.audio, take.sample_rate))
        describe = self._describe(prep.stack, cell)  # after the synthesis: what the stack now says it did
        try:
            validate_audio(take.audio, take.sample_rate)
        except ValueError:  # analyze says what is wrong with it; no model hears audio that is not
            return _Made(take, synth_hit, describe, seed, _Once(Heard), None)
        listen = functools.partial(self._listen_into, cell=cell, take=take, checks=self.listen)
        return _Made(take, synth_hit, describe, seed, _Once(functools.partial(_listened, listen)),
                     _Once(functools.partial(text_span, take.audio, take.sample_rate, prep.scenario.text)))

    def _hear(self, cell: Cell, prep: "_Prepared", made: "_Made", index: int | None) -> CellOutcome:
        """Stage two of one take (`index` None: the cell's only take): ASR, detectors, record."""
        cached = self.cache.transcriber(self.asr_spec, lambda: get_asr(self.asr_spec)) if self.cache else None
        try:
            with self._first("hearing"):
                evidence = analyze(made.take.audio, made.take.sample_rate, prep.scenario.text, self.asr_spec,
                                   seams=made.take.seams, transcriber=self._locked(cached),
                                   forcer=self._locked_force(cached), aligned=made.aligned)
        except Exception as exc:
            raise CellFailed(f"analysis failed: {type(exc).__name__}: {exc}") from exc
        evidence.prompt_background_db = self._prompt_background(cell)
        thresholds = resolve(self.thresholds, prep.scenario.thresholds)
        outcome = CellOutcome(cell, made.take, evidence, thresholds, chunking=prep.chunking, seed=made.seed)
        made.heard().apply(evidence)
        outcome.record = self._record(outcome, made.describe, index)
        outcome.record["cached"] = {"synthesis": made.synth_hit, "asr": bool(cached and cached.hit)}
        return outcome

    def _warm_asr(self) -> None:
        """Load the ASR model (on the side thread, while the first take is synthesised); a model
        that cannot load raises again, with its message, when a take is heard."""
        with self._first("asr"), self._asr_lock:
            try:
                get_asr(self.asr_spec)
            except Exception:  # noqa: BLE001  said where it counts: in the cell's analysis
                pass

    @contextlib.contextmanager
    def _first(self, part: str) -> Iterator[None]:
        """`part`'s first run holds the first-run lock (see __init__); later runs do not wait."""
        if part in self._ran_once or self._ahead is None:
            yield
            return
        with self._first_lock:
            try:
                yield
            finally:
                self._ran_once.add(part)

    def _locked(self, transcribe: Callable[[np.ndarray, int], Transcript] | None
                ) -> Callable[[np.ndarray, int], Transcript]:
        """`transcribe` (default: the ASR model's own) under the runner's ASR lock: a prompt's
        transcript check on the second thread and a take's ASR here share one model."""
        def locked(audio: np.ndarray, rate: int) -> Transcript:
            with self._asr_lock:
                return (transcribe or get_asr(self.asr_spec).transcribe)(audio, rate)
        return locked

    def _locked_force(self, cached: CachingTranscriber | None) -> Forcer:
        """The text forced on a take (the content-word rule's second opinion), through the cache
        when there is one, under the ASR lock like `_locked`."""
        def locked(audio: np.ndarray, rate: int, text: str) -> Forced:
            with self._asr_lock:
                return (cached.force(audio, rate, text) if cached is not None
                        else force_text(get_asr(self.asr_spec), audio, rate, text))
        return locked

    def _over_takes(self, outs: list[CellOutcome]) -> CellOutcome:
        """The cell of several takes: each take judged on every check it can be, the best one
        kept (listen-first), the record's metrics the median over the takes (what baselines see)."""
        rows = []
        for o in outs:
            verdicts = self._verdicts(o)
            o.record["checks"] = {n: r.to_dict() for n, r in verdicts.items()}
            rows.append({"seed": o.seed, "passed": all(r.passed for r in verdicts.values()),
                         "failing": [n for n, r in verdicts.items() if not r.passed],
                         "transcript": o.evidence.transcript.text, "wer": o.record["metrics"].get("wer")})
        order = sorted(range(len(outs)), key=lambda i: take_score(outs[i].record), reverse=True)
        best = outs[order[0]]
        cell = CellOutcome(best.cell, best.take, best.evidence, best.thresholds, dict(best.record),
                           best.chunking, takes=outs, seed=best.seed)
        cell.record.pop("checks", None)
        _aggregate_metrics(cell)
        cell.record["take_paths"] = [o.record.get("take_path") for o in outs]
        # the cell's seed (take 0's) and how many takes: what a baseline must match, whichever take won
        cell.record["versions"] = {**best.record["versions"], "seed": outs[0].seed, "takes": len(outs)}
        passing = sum(r["passed"] for r in rows)
        cell.record["takes"] = {"count": len(outs), "passed": passing, "pass_rate": round(passing / len(outs), 4),
                                "max_fail_rate": self.max_fail_rate, "best": order[0], "worst": order[-1],
                                "per_take": rows}
        return cell

    def _verdicts(self, o: CellOutcome) -> dict[str, Any]:
        """Every check this take can be judged on now (listener checks once their model ran)."""
        out = {}
        for name in CHECK_NAMES:
            if name in LISTENER_CHECKS and name not in self.listen:
                continue
            if CHECKS[name].needs == "seams" and not o.take.seams:
                continue
            try:
                out[name] = judge(name, o.evidence, o.thresholds)
            except CheckNotApplicable:
                continue
        return out

    def _prompt_background(self, cell: Cell) -> float | None:
        """The prompt's room a cloned take may keep (checks._prompt_room); none for an own voice."""
        if cell.prompt == OWN_VOICE:
            return None
        if cell.prompt not in self._backgrounds:
            try:
                self._backgrounds[cell.prompt] = prompt_background(*read_prompt_audio(self.prompts[cell.prompt]))
            except (PromptError, ValueError):  # the synthesis already said what is wrong with this prompt
                self._backgrounds[cell.prompt] = None
        return self._backgrounds[cell.prompt]

    def _cached_take(self, stack: Any, cell: Cell, text: str, params: dict[str, Any], seed: int,
                     chunking: ChunkingOptions) -> tuple[str | None, Take | None]:
        """(cache key, take from the persistent cache or None); (None, None) with the cache off."""
        if self.cache is None:
            return None, None
        prompt_hash = "" if cell.prompt == OWN_VOICE else _safe_hash(self.prompts[cell.prompt])
        if prompt_hash and self.prompts[cell.prompt].text is None:
            # no transcript: the text the stack hears comes from the policy (and, for asr, the ASR model)
            policy = self.prompt_text_policy
            prompt_hash += f"|{policy}|{self.asr_spec if policy == 'asr' else ''}"
        key = take_key(stack=cell.stack, describe=self._describe(stack, cell), prompt_hash=prompt_hash, text=text,
                       params=params, seed=seed, chunking=chunking.to_dict())
        return key, cache_get_take(self.cache, key, text, params, seed)

    @staticmethod
    def _describe(stack: Any, cell: Cell) -> dict[str, Any]:
        """The stack's describe() (recorded with the cell, part of the take's cache key)."""
        return _stack_dict(cell, "describe", stack.describe, "versions and model identity")

    def _encoded_prompt(self, stack: Any, cell: Cell, params: dict[str, Any]) -> Any:
        if cell.prompt == OWN_VOICE:
            return None
        prompt = self.prompts[cell.prompt]
        text = self._prompt_text(prompt, cell)
        key = (cell.stack, _safe_hash(prompt), text, json.dumps(params, sort_keys=True, default=str))
        if key not in self._encoded:
            try:
                wav, rate = read_prompt_audio(prompt, stack_prompt_rate(stack))
                self._encoded[key] = call_stack(cell.stack, "encode_prompt", stack.encode_prompt,
                                                wav, rate, text, params)
            except PromptError as exc:
                raise CellFailed(str(exc)) from None
            except StackError as exc:
                raise CellFailed(f"{exc}, encoding prompt {prompt.id!r}") from None
        return self._encoded[key]

    def _prompt_text(self, prompt: Prompt, cell: Cell) -> str:
        """The prompt's transcript, or one chosen by the prompt-text policy (ASR run once per prompt)."""
        def transcribe() -> str:
            try:
                return self._heard_prompt(prompt).text
            except PromptError as exc:
                raise CellFailed(str(exc)) from None

        try:
            text, source = resolve_prompt_text(prompt.id, prompt.text, self.prompt_text_policy,
                                                target=self.scenarios[cell.scenario].text, transcribe=transcribe)
        except PromptTextError as exc:
            raise CellFailed(str(exc)) from None
        self._prompt_source[(prompt.id, cell.scenario)] = source
        return text

    def _heard_prompt(self, prompt: Prompt) -> Transcript:
        """The gate's own ASR (the model that judges the takes) on the prompt's wav: once per
        prompt in this process, and kept in the persistent cache like a take's transcript.
        Raises PromptError for a wav that cannot be read."""
        if prompt.id not in self._prompt_heard:
            wav, rate = read_prompt_audio(prompt)
            cached = self.cache.transcriber(self.asr_spec, lambda: get_asr(self.asr_spec)) if self.cache else None
            self._prompt_heard[prompt.id] = self._locked(cached)(wav, rate)
        return self._prompt_heard[prompt.id]

    def _check_prompt_text(self, cell: Cell) -> None:
        """A given prompt transcript that is not what its wav says (prompt_text.transcript_mismatch):
        the cell fails under the strict prompt-text policy; under the others `_record` notes it."""
        if cell.prompt == OWN_VOICE or self.prompts[cell.prompt].text is None:
            return
        prompt = self.prompts[cell.prompt]
        if prompt.id not in self._prompt_mismatch:
            try:
                heard = self._heard_prompt(prompt)
            except PromptError:  # the synthesis says what is wrong with the wav, as without this check
                return
            except Exception as exc:
                raise CellFailed(f"prompt {prompt.id!r}: could not check its transcript against its audio "
                                 f"with the ASR {self.asr_spec}: {type(exc).__name__}: {exc}") from None
            self._prompt_mismatch[prompt.id] = transcript_mismatch(prompt.text or "", heard)
        found = self._prompt_mismatch[prompt.id]
        if found is not None and self.prompt_text_policy == "strict":
            raise CellFailed(f"{found.message(prompt.id, self.asr_spec)}; give the exact words spoken as its "
                             "`text` in the prompts file, or, if the transcript is right and the ASR wrong, "
                             "--luxgate-prompt-text asr|target-fallback turns this error into a note")

    def _record(self, o: CellOutcome, stack_info: dict[str, Any], index: int | None = None) -> dict[str, Any]:
        ev = o.evidence
        take_path, notes = None, list(o.take.info.get(NOTES_KEY, []))  # int16 samples scaled, ...
        if o.cell.prompt != OWN_VOICE:  # stereo downmixed, resampled, ... (audio.load_audio)
            notes += prompt_notes(self.prompts[o.cell.prompt], stack_prompt_rate(get_stack(o.cell.stack)))
            found = self._prompt_mismatch.get(o.cell.prompt)
            if found is not None:  # not strict (that failed the cell): the given transcript was used
                notes.append(f"{found.message(o.cell.prompt, self.asr_spec)}; the given transcript was used")
        if self.work_dir is not None:
            try:
                name = safe_name(o.cell.id) + ("" if index is None else f"__take{index}")
                take_path = str(write_wav_atomic(self.work_dir / f"{name}.wav",
                                                 o.take.audio, o.take.sample_rate))
            except OSError as exc:  # disk full, unwritable: the verdicts matter more than the WAV
                notes.append(f"take not kept: could not write it under {self.work_dir} "
                             f"({exc.strerror or exc})")
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
            "notes": notes,
            "prompt_text_source": self._prompt_text_source(o.cell),
        }

    def _prompt_text_source(self, cell: Cell) -> str | None:
        """given | asr | target-fallback; None for a stack's own voice."""
        if cell.prompt == OWN_VOICE:
            return None
        if self.prompts[cell.prompt].text is not None:
            return "given"
        # a take served from the cache never encoded its prompt in this process
        return self._prompt_source.get((cell.prompt, cell.scenario), f"{self.prompt_text_policy} (cached take)")

    def check(self, cell: Cell, name: str) -> dict[str, Any]:
        o = self.outcome(cell)
        takes = o.takes or [o]
        if name in LISTENER_CHECKS and name not in self.listen:  # a check not seen at collection
            for t in takes:
                self._listen(t, {name})
                t.record["metrics"] = t.evidence.metrics()
                t.record.setdefault("timings", {}).update(t.evidence.timings)
            if o.takes:
                _aggregate_metrics(o)
        if not o.takes:
            return judge(name, o.evidence, o.thresholds).to_dict()
        results = [judge(name, t.evidence, t.thresholds) for t in takes]
        return over_takes(name, results, [t.seed for t in takes], self.max_fail_rate).to_dict()

    def _listen(self, o: CellOutcome, checks: frozenset[str] | set[str]) -> None:
        self._listen_into(o.evidence, cell=o.cell, take=o.take, checks=checks)

    def _listen_into(self, target: Evidence | Heard, *, cell: Cell, take: Take,
                     checks: frozenset[str] | set[str]) -> None:
        """Run the listener models `checks` need on a take (voice: against its cell's prompt),
        their results into `target`; one listener call at a time across the runner's threads."""
        prompt, why = None, f"stack {cell.stack!r} does not clone a voice (clones_voice = False): " \
                            "its takes are in its own voice, with no prompt to compare"
        if "voice" in checks and cell.prompt != OWN_VOICE:
            try:
                prompt = read_prompt_audio(self.prompts[cell.prompt])
            except PromptError as exc:
                why = str(exc)
        with self._first(f"listen:{','.join(sorted(checks))}"), self._listen_lock:
            keys = None
            if self.cache is not None:  # DNSMOS/speaker results are cached like transcripts (cache.py)
                phash = "" if cell.prompt == OWN_VOICE else _safe_hash(self.prompts[cell.prompt])
                keys, reused = reuse_listeners(self.cache, target, take.audio, take.sample_rate, checks, phash)
            listen(target, take.audio, take.sample_rate, checks, prompt=prompt, no_prompt=why)
            if keys is not None:
                keep_listeners(self.cache, target, keys, reused)


@dataclass
class _Prepared:
    """What every take of a cell shares, found before any synthesis."""
    stack: Any
    scenario: Scenario
    params: dict[str, Any]
    chunking: ChunkingOptions
    seeds: list[int]


@dataclass
class _Made:
    """One take as stage one leaves it for stage two."""
    take: Take
    synth_hit: bool
    describe: dict[str, Any]
    seed: int
    #: the listener results (its listener models run into a Heard)
    heard: _Once[Heard]
    #: where its text lies in it (listeners/aligner.text_span); None for audio analyze refuses
    aligned: _Once[TextSpan | None] | None


T = TypeVar("T")


class _Once(Generic[T]):
    """`fn()` run once, on whichever thread asks first (the side thread of run/ahead.py, or the
    one that hears the take); a later call waits for it and gets its result. An exception is not
    kept: the next call runs `fn` again and raises it where the take is heard."""

    def __init__(self, fn: Callable[[], T]) -> None:
        self._fn: Callable[[], T] | None = fn
        self._value: T | None = None
        self._lock = threading.Lock()

    def __call__(self) -> T:
        with self._lock:
            if self._fn is not None:
                self._value = self._fn()
                self._fn = None
            return self._value  # type: ignore[return-value]


def _listened(listen: Callable[[Heard], None]) -> Heard:
    heard = Heard()
    listen(heard)
    return heard


def _aggregate_metrics(cell: CellOutcome) -> None:
    """A cell of several takes reports the median of each metric (what baselines compare) and
    its best take's own (the take it keeps and plays)."""
    cell.record["metrics"] = median_metrics([t.record["metrics"] for t in cell.takes])
    cell.record["best_take_metrics"] = cell.evidence.metrics()


def _stack_dict(cell: Cell, method: str, fn: Any, of_what: str) -> dict[str, Any]:
    """A stack method that must return a dict (describe, default_params): its fault fails the cell."""
    try:
        got = call_stack(cell.stack, method, fn)
    except StackError as exc:
        raise CellFailed(str(exc)) from None
    if not isinstance(got, dict):
        raise CellFailed(f"stack {cell.stack!r} returned {type(got).__name__} from {method}(); expected a dict "
                         f"of {of_what}")
    return got


def _where(exc: BaseException) -> str:
    """`Type: message (at file:line)`, the innermost frame: enough to find a bug from the report."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    at = f" (at {Path(tb.tb_frame.f_code.co_filename).name}:{tb.tb_lineno})" if tb is not None else ""
    return f"{type(exc).__name__}: {exc}{at}"


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
