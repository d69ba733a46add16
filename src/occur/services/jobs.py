"""The worker: runs durable jobs (store/jobs.py) on one thread, beating while it does.

`occur serve` runs one Worker beside the HTTP server; `occur worker` runs one as a
process of its own (several may share a PostgreSQL store). A job is queued in the
caller's transaction with `enqueue`, so it exists exactly when what it works on does;
`Worker.wake()` after that commit starts it at once instead of at the next poll.

A handler runs one job to its end, and is written to be run again: the worker may stop
(shutdown, crash) part way, and the job is then claimed again, by this worker at its next
start or by another once the lease has run out. Between steps a handler asks
`should_stop()`; raising `Interrupted` then puts the job back in the queue untouched.
Any other exception is a failure: retried later while attempts remain, else final (the
handler's `give_up` records why wherever its users will look).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection

from occur.services.clock import now_ms
from occur.store import jobs as store
from occur.store.db import Database
from occur.store.jobs import Job

log = logging.getLogger("occur.worker")

DEFAULT_LEASE_SECONDS = 60.0
DEFAULT_POLL_SECONDS = 1.0
DEFAULT_MAX_ATTEMPTS = 5
MAX_BACKOFF_MS = 3_600_000
# Done and failed jobs are deleted this long after they ended (prune_finished).
FINISHED_KEPT_SECONDS = 30 * 86_400


class Interrupted(Exception):
    """The handler stopped between steps because the worker is stopping or lost the
    job's lease; the job goes back to the queue as it is."""


class RunningJob:
    """What a handler gets: the job and whether it should stop at the next safe point."""

    def __init__(self, job: Job, stopping: threading.Event) -> None:
        self.job = job
        self._stopping = stopping
        self.lease_lost = threading.Event()

    def should_stop(self) -> bool:
        return self._stopping.is_set() or self.lease_lost.is_set()

    def check(self) -> None:
        """Raise Interrupted when the handler should stop."""
        if self.should_stop():
            raise Interrupted()


@dataclass(frozen=True)
class Chore:
    """Housekeeping an idle worker does now and then (not a durable job: doing it twice,
    or once less after a crash, does no harm)."""

    name: str
    every_seconds: float
    run: Callable[[], object]


class Handler(Protocol):
    def run(self, running: RunningJob) -> None:
        """Do the job; return when it is done. Safe to run again after a stop."""

    def give_up(self, job: Job, reason: str) -> None:
        """The job failed for good: record why (its own transaction)."""


def enqueue(
    conn: Connection,
    kind: str,
    payload: Mapping[str, Any],
    run_at: int | None = None,
    dedupe_key: str | None = None,
    *,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> int:
    """Queue a job inside the caller's transaction; returns its id (the existing job's
    when `dedupe_key` is taken). Call the worker's wake() once that commits."""
    now = now_ms()
    job_id, _new = store.insert(
        conn,
        kind,
        payload,
        run_at=now if run_at is None else run_at,
        now_ms=now,
        max_attempts=max_attempts,
        dedupe_key=dedupe_key,
    )
    return job_id


def prune_finished(db: Database, keep_seconds: float = FINISHED_KEPT_SECONDS) -> int:
    """A worker chore: forget jobs that ended long ago. What they did is recorded by their
    own tables (an import's row keeps its state and counters); the job row only served to
    run it, so keeping it would grow the table by one row per job forever. Its dedupe
    key is free again afterwards, which no kind relies on: keys name rows that are never
    enqueued twice (`import:42`)."""
    with db.write() as conn:
        return store.delete_finished(conn, now_ms() - int(keep_seconds * 1000))


def backoff_ms(attempts: int) -> int:
    """How long a failed job waits before its next try: 2 s, 4 s, 8 s … up to an hour."""
    return int(min(MAX_BACKOFF_MS, 1000 * 2 ** max(1, min(attempts, 22))))


class Worker:
    """One thread that claims and runs jobs of the kinds it has handlers for."""

    def __init__(
        self,
        db: Database,
        handlers: Mapping[str, Handler],
        *,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
        name: str = "occur-worker",
        chores: Sequence[Chore] = (),
    ) -> None:
        self._db = db
        self._handlers = dict(handlers)
        self.lease_ms = int(lease_seconds * 1000)
        self._poll_seconds = poll_seconds
        self._name = name
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._stopping = threading.Event()
        self._woken = threading.Event()
        self._thread: threading.Thread | None = None
        self.jobs_run = 0
        self._chores = list(chores)
        self._chores_due = [0.0] * len(self._chores)

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
        self._thread.start()

    def stop(self, timeout_seconds: float = 30.0) -> None:
        """Ask the running handler to stop at its next step, then wait for the thread."""
        self._stopping.set()
        self._woken.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout_seconds)

    def wake(self) -> None:
        """Look for work now (a job was just queued in this process)."""
        self._woken.set()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def run_once(self) -> bool:
        """Claim and run one due job; False when there was none."""
        self._give_up_exhausted()
        now = now_ms()
        kinds = self._handlers.keys()
        with self._db.read() as conn:
            if not store.has_due(conn, kinds, now, self.lease_ms):
                return False
        with self._db.write() as conn:
            job = store.claim(conn, self.worker_id, kinds, now, self.lease_ms)
        if job is None:
            return False
        self._run(job)
        return True

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                worked = self.run_once()
            except Exception:
                log.exception("the worker could not claim a job; trying again shortly")
                worked = False
            if not worked:
                self._do_chores()
                self._woken.wait(self._poll_seconds)
                self._woken.clear()

    def _do_chores(self) -> None:
        """Housekeeping while idle, each chore at most once per its interval."""
        now = time.monotonic()
        for index, chore in enumerate(self._chores):
            if now < self._chores_due[index]:
                continue
            self._chores_due[index] = now + chore.every_seconds
            try:
                chore.run()
            except Exception:
                log.exception("chore %s failed", chore.name)

    def _run(self, job: Job) -> None:
        running = RunningJob(job, self._stopping)
        beat_done = threading.Event()
        beat = threading.Thread(
            target=self._beat, args=(running, beat_done), name=f"{self._name}-beat", daemon=True
        )
        beat.start()
        try:
            self._handlers[job.kind].run(running)
        except Interrupted:
            log.info("job %d (%s) interrupted; back in the queue", job.id, job.kind)
            self._settle(job, lambda conn: store.release(conn, job.id, self.worker_id))
            return
        except Exception as exc:
            self._failed(job, exc)
            return
        finally:
            beat_done.set()
            beat.join()
        self.jobs_run += 1
        self._settle(job, lambda conn: store.finish(conn, job.id, self.worker_id, now_ms()))

    def _failed(self, job: Job, exc: Exception) -> None:
        error = f"{type(exc).__name__}: {exc}"
        if job.attempts < job.max_attempts:
            log.exception("job %d (%s) failed; will retry", job.id, job.kind)
            run_at = now_ms() + backoff_ms(job.attempts)
            self._settle(job, lambda conn: store.retry(conn, job.id, self.worker_id, run_at, error))
            return
        log.exception("job %d (%s) failed for good", job.id, job.kind)
        if self._settle(
            job, lambda conn: store.fail(conn, job.id, self.worker_id, now_ms(), error)
        ):
            self._give_up(job, error)

    def _settle(self, job: Job, change: Any) -> bool:
        with self._db.write() as conn:
            mine: bool = change(conn)
        if not mine:
            log.warning("job %d was claimed by another worker before this one settled it", job.id)
        return mine

    def _beat(self, running: RunningJob, done: threading.Event) -> None:
        interval = self.lease_ms / 1000 / 4
        while not done.wait(interval):
            try:
                with self._db.write() as conn:
                    mine = store.heartbeat(conn, running.job.id, self.worker_id, now_ms())
            except Exception:
                log.exception("heartbeat of job %d failed", running.job.id)
                continue
            if not mine:
                log.warning("job %d: lease lost; stopping it", running.job.id)
                running.lease_lost.set()
                return

    def _give_up_exhausted(self) -> None:
        kinds = self._handlers.keys()
        with self._db.read() as conn:
            if not store.has_exhausted(conn, kinds, now_ms(), self.lease_ms):
                return
        with self._db.write() as conn:
            failed = store.fail_exhausted(conn, kinds, now_ms(), self.lease_ms)
        for job in failed:
            self._give_up(job, job.last_error or "")

    def _give_up(self, job: Job, reason: str) -> None:
        try:
            self._handlers[job.kind].give_up(job, reason)
        except Exception:
            log.exception("job %d: recording its failure failed", job.id)
