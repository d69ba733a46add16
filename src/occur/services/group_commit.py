"""Group commit: one writer thread stores many requests' rows per transaction.

A durable commit costs an fsync (SQLite FULL) or a WAL flush (PostgreSQL) whatever it
holds, so committing each request alone caps throughput at a few thousand rows a second.
Handlers instead hand their validated work to this writer and await its answer. The
writer never waits on purpose: it takes whatever is queued, stores it in one
transaction, answers every request in it, and by then the next group has queued up
behind the commit. Light load means groups of one and no added latency; heavy load
means large groups and few fsyncs.

The queue is bounded by weight (events, not requests), so a flood is answered with
`Overloaded` (a 429 upstream) instead of growing memory without limit.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

log = logging.getLogger("occur.writer")

Job = TypeVar("Job")
Result = TypeVar("Result")


class Overloaded(Exception):
    """The writer's queue holds as much as it may; the caller should retry later."""


@dataclass
class _Pending(Generic[Job, Result]):
    """A queued job and who waits for it: a request on an event loop (`loop`, `future`)
    or a worker thread (`loop` None, `waiter`)."""

    job: Job
    weight: int
    loop: asyncio.AbstractEventLoop | None
    future: asyncio.Future[Result] | None
    waiter: concurrent.futures.Future[Result] = field(default_factory=concurrent.futures.Future)


class GroupCommitWriter(Generic[Job, Result]):
    """Runs `store_group(jobs) -> results` (one result per job, same order) on one thread.

    `store_group` commits before it returns; an exception it raises fails every job of
    that group (none of them was acknowledged, so none is lost).
    """

    def __init__(
        self,
        store_group: Callable[[Sequence[Job]], Sequence[Result]],
        *,
        max_queued_weight: int,
        name: str = "occur-writer",
    ) -> None:
        self._store_group = store_group
        self._max_queued_weight = max_queued_weight
        self._name = name
        self._queue: deque[_Pending[Job, Result]] = deque()
        self._queued_weight = 0
        lock = threading.Lock()
        self._wake = threading.Condition(lock)  # the writer waits for work on it
        self._room = threading.Condition(lock)  # blocking submitters wait for room on it
        self._thread: threading.Thread | None = None
        self._closing = False
        self.groups_committed = 0
        self.largest_group = 0
        self.committing = 0  # requests in the commit under way
        # time.monotonic() of the last request submitted (not background jobs): a worker
        # keeps its chunks small while requests are flowing.
        self.last_request_at = float("-inf")

    @property
    def queued_weight(self) -> int:
        return self._queued_weight

    async def submit(self, job: Job, weight: int = 1) -> Result:
        """Queue `job` and wait until its group is committed; returns its result."""
        loop = asyncio.get_running_loop()
        pending: _Pending[Job, Result] = _Pending(job, weight, loop, loop.create_future())
        self.last_request_at = time.monotonic()
        with self._wake:
            if self._closing:
                raise Overloaded("the writer is shutting down")
            # An empty queue takes any job, so one oversized job can never wait forever.
            if self._queue and self._queued_weight + weight > self._max_queued_weight:
                raise Overloaded(f"{self._queued_weight} events are waiting to be stored")
            self._ensure_started()
            self._queue.append(pending)
            self._queued_weight += weight
            self._wake.notify()
        assert pending.future is not None
        return await pending.future

    def submit_blocking(self, job: Job, weight: int = 1) -> Result:
        """For worker threads (imports): queue `job` once the queue has room for it, then
        wait until its group is committed. Waiting for room instead of failing keeps a
        long import from ever crowding out HTTP requests, which queue ahead of it."""
        return self.submit_background(job, weight).result()

    def submit_background(self, job: Job, weight: int = 1) -> concurrent.futures.Future[Result]:
        """submit_blocking without the wait for the commit: the worker prepares its next
        chunk meanwhile. Background jobs are committed in transactions of their own,
        after the requests queued with them, so a request never waits for more than the
        background commit already under way."""
        pending: _Pending[Job, Result] = _Pending(job, weight, None, None)
        with self._wake:
            while True:
                if self._closing:
                    raise Overloaded("the writer is shutting down")
                if not self._queue or self._queued_weight + weight <= self._max_queued_weight:
                    break
                self._room.wait()
            self._ensure_started()
            self._queue.append(pending)
            self._queued_weight += weight
            self._wake.notify()
        return pending.waiter

    def close(self, timeout_seconds: float = 30.0) -> None:
        """Store what is queued, then stop the thread."""
        with self._wake:
            self._closing = True
            self._wake.notify()
            self._room.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout_seconds)

    def _ensure_started(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._queue and not self._closing:
                    self._wake.wait()
                if not self._queue:
                    return
                group = self._take()
                self._room.notify_all()
            self._commit(group)

    def _take(self) -> list[_Pending[Job, Result]]:
        """The next group: every queued request, or when none is queued the background
        jobs (called with the lock held)."""
        requests = [p for p in self._queue if p.loop is not None]
        group = requests or list(self._queue)
        if requests and len(requests) < len(self._queue):
            kept = [p for p in self._queue if p.loop is None]
            self._queue = deque(kept)
            self._queued_weight = sum(p.weight for p in kept)
        else:
            self._queue.clear()
            self._queued_weight = 0
        return group

    def _commit(self, group: list[_Pending[Job, Result]]) -> None:
        self.committing = len(group)
        try:
            results = self._store_group([p.job for p in group])
        except Exception as exc:
            self.committing = 0
            log.exception("a group of %d requests could not be stored", len(group))
            nothing: list[Result | None] = [None] * len(group)
            _answer(group, nothing, exc)
            return
        self.committing = 0
        self.groups_committed += 1
        self.largest_group = max(self.largest_group, len(group))
        _answer(group, list(results), None)


def _answer(
    group: list[_Pending[Job, Result]], results: list[Result | None], exc: Exception | None
) -> None:
    """Settle every future of the group with one wake-up per event loop.

    `call_soon_threadsafe` writes to the loop's wake-up pipe each time; once per request
    it cost more GIL time than the rest of answering (py-spy on bench/ingest.py).
    """
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[_Pending[Job, Result], Result | None]]]
    by_loop = {}
    for pending, result in zip(group, results, strict=True):
        if pending.loop is None:
            if exc is not None:
                pending.waiter.set_exception(exc)
            else:
                pending.waiter.set_result(result)  # type: ignore[arg-type]
            continue
        by_loop.setdefault(pending.loop, []).append((pending, result))
    for loop, answers in by_loop.items():
        try:
            loop.call_soon_threadsafe(_settle, answers, exc)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            pass


def _settle(
    answers: list[tuple[_Pending[Job, Result], Result | None]], exc: Exception | None
) -> None:
    for pending, result in answers:
        assert pending.future is not None
        if pending.future.done():  # the request was cancelled (client went away)
            continue
        if exc is not None:
            pending.future.set_exception(exc)
        else:
            pending.future.set_result(result)  # type: ignore[arg-type]
