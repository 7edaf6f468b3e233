"""The first stage of upcoming cells on a second thread, so it overlaps the stage after it.

A cell runs in two stages: its takes are made (synthesis, and the listener models
that only need the audio), then heard (ASR and the detectors). Both stages are
single-threaded by design (ASR and synthesis threads are pinned to 1 so results
do not depend on the machine), so a single-process run on two cores left one
core idle. `Ahead` runs stage one of the cells a run will ask for, in the order
it will ask for them, up to `lookahead` cells ahead of the thread that hears them.

Every stage-one call of a runner goes through the one worker thread, so a stack
is never called from two threads at once; what it computes does not depend on
which thread runs it (each take is seeded on its own, see stacks/piper.py).
Items travel as a stream per cell (`stream`): whatever the producer raises is
raised again, in order, where the cell is consumed.
"""
from __future__ import annotations

import queue
import threading
from collections import deque
from typing import Any, Callable, Hashable, Iterator

#: queue item tags: a produced value, the stream's end, a raised exception
_ITEM, _END, _RAISED = "item", "end", "raised"


class Ahead:
    """Runs `produce(job)` for each job of `plan` on one daemon thread, `lookahead` jobs ahead
    of the consumer; `stream(job)` yields what it produced as it comes."""

    def __init__(self, produce: Callable[[Any], Iterator[Any]], plan: list[Any],
                 key: Callable[[Any], Hashable], lookahead: int = 1) -> None:
        self._produce, self._key, self._lookahead = produce, key, lookahead
        self._plan = list(plan)
        self._index = {key(job): i for i, job in enumerate(self._plan)}
        self._cond = threading.Condition()
        self._queues: dict[Hashable, queue.Queue[tuple[str, Any]]] = {}
        self._started: set[Hashable] = set()  # jobs produced or under way: none runs twice
        self._asked: deque[Any] = deque()  # jobs the consumer wants that the plan did not bring yet
        self._consumed = -1  # plan index of the last job the consumer asked for
        self._next = 0  # next plan index the worker may take
        self._closed = False
        self._later: queue.Queue[Callable[[], Any] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._work, name="luxgate-ahead", daemon=True)
        self._thread.start()
        self._side = threading.Thread(target=self._work_later, name="luxgate-ahead-side", daemon=True)
        self._side.start()

    def later(self, fn: Callable[[], Any]) -> None:
        """Run `fn()` on a third thread, in the order given: work a job hands off so that the
        next job can start (its result must be fetched by a call that is safe to make twice)."""
        self._later.put(fn)

    def stream(self, job: Any) -> Iterator[Any]:
        """What `produce(job)` yields, in order; its exception is raised here."""
        k = self._key(job)
        with self._cond:
            if self._closed:
                raise RuntimeError("luxgate: the run is closing; no new cell starts")
            if k in self._index:
                self._consumed = max(self._consumed, self._index[k])
            if k in self._started and k not in self._queues:
                raise RuntimeError(f"luxgate: {job!r} was already consumed")
            if k not in self._started and all(self._key(j) != k for j in self._asked):
                self._asked.append(job)
            self._cond.notify_all()
            while k not in self._queues:
                self._cond.wait()
            q = self._queues[k]
        try:
            while True:
                tag, value = q.get()
                if tag == _END:
                    return
                if tag == _RAISED:
                    raise value
                yield value
        finally:  # consumed, failed or abandoned: the queue (and the audio in it) goes
            with self._cond:
                self._queues.pop(k, None)

    def close(self, wait: float = 0.0) -> None:
        """No new job starts. A job under way finishes on its daemon thread; with `wait`, up to
        that many seconds are given to it here, so a run that stopped early (``-x``) does not
        leave native code running while the interpreter shuts down."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._later.put(None)
        if wait > 0:
            self._thread.join(wait)
            self._side.join(wait)

    def _take_job(self) -> Any | None:
        with self._cond:
            while True:
                if self._closed:
                    return None
                if self._asked:
                    job = self._asked.popleft()
                    if self._key(job) not in self._started:
                        return self._start(job)
                    continue
                while self._next < len(self._plan) and self._key(self._plan[self._next]) in self._started:
                    self._next += 1
                if self._next < len(self._plan) and self._next <= self._consumed + self._lookahead:
                    self._next += 1
                    return self._start(self._plan[self._next - 1])
                self._cond.wait()

    def _start(self, job: Any) -> Any:
        """(Under the condition) give `job` its queue; the consumer waiting for it wakes."""
        k = self._key(job)
        self._started.add(k)
        self._queues[k] = queue.Queue()
        self._cond.notify_all()
        return job

    def _work(self) -> None:
        while (job := self._take_job()) is not None:
            with self._cond:
                q = self._queues[self._key(job)]
            try:
                for value in self._produce(job):
                    q.put((_ITEM, value))
            except BaseException as exc:  # noqa: BLE001  carried to the consumer, raised there
                q.put((_RAISED, exc))
            else:
                q.put((_END, None))

    def _work_later(self) -> None:
        while (fn := self._later.get()) is not None:
            try:
                fn()
            except BaseException:  # noqa: BLE001  its caller runs it again and sees the error there
                pass
