"""The worker: runs queued jobs, retries failures, gives up, resumes after a stop."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from occur.services import jobs
from occur.services.clock import now_ms
from occur.services.jobs import Interrupted, RunningJob, Worker
from occur.store import jobs as store
from occur.store.db import Database
from occur.store.jobs import Job
from occur.store.schema import jobs as jobs_table


class Recorder:
    """A handler whose behaviour each test chooses."""

    def __init__(self, body: Callable[[RunningJob], None] | None = None) -> None:
        self.body = body
        self.ran: list[tuple[int, int]] = []  # (job id, attempt)
        self.given_up: list[tuple[int, str]] = []

    def run(self, running: RunningJob) -> None:
        self.ran.append((running.job.id, running.job.attempts))
        if self.body is not None:
            self.body(running)

    def give_up(self, job: Job, reason: str) -> None:
        self.given_up.append((job.id, reason))


def _enqueue(db: Database, payload: dict[str, int], **kwargs: int) -> int:
    with db.write() as conn:
        return jobs.enqueue(conn, "test", payload, **kwargs)  # type: ignore[arg-type]


def _job(db: Database, job_id: int) -> Job:
    with db.read() as conn:
        found = store.get(conn, job_id)
    assert found is not None
    return found


def _until(check: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_run_once_runs_a_due_job_and_marks_it_done(db: Database) -> None:
    handler = Recorder()
    worker = Worker(db, {"test": handler})
    assert not worker.run_once()
    job_id = _enqueue(db, {"n": 1})
    assert worker.run_once()
    assert handler.ran == [(job_id, 1)]
    assert _job(db, job_id).state == "done"
    assert not worker.run_once()


def test_a_failure_is_retried_later_then_given_up(db: Database) -> None:
    def boom(_running: RunningJob) -> None:
        raise RuntimeError("no luck")

    handler = Recorder(boom)
    worker = Worker(db, {"test": handler})
    job_id = _enqueue(db, {}, max_attempts=2)
    assert worker.run_once()
    first = _job(db, job_id)
    assert (first.state, first.last_error) == ("queued", "RuntimeError: no luck")
    assert first.run_at > first.created_at  # backed off
    assert not worker.run_once()
    with db.write() as conn:
        conn.execute(jobs_table.update().values(run_at=0))
    assert worker.run_once()
    assert _job(db, job_id).state == "failed"
    assert handler.given_up == [(job_id, "RuntimeError: no luck")]


def test_a_started_worker_runs_what_is_queued_at_once_when_woken(db: Database) -> None:
    done = threading.Event()
    handler = Recorder(lambda _r: done.set())
    worker = Worker(db, {"test": handler}, poll_seconds=30)
    worker.start()
    try:
        time.sleep(0.1)  # the worker is asleep for its 30 s poll
        _enqueue(db, {})
        worker.wake()
        assert done.wait(5)
    finally:
        worker.stop()
    assert not worker.running


def test_stop_interrupts_a_job_between_steps_and_it_resumes(db: Database) -> None:
    steps: list[int] = []
    started = threading.Event()

    def stepwise(running: RunningJob) -> None:
        for step in range(len(steps), 50):
            running.check()
            steps.append(step)
            started.set()
            time.sleep(0.01)

    handler = Recorder(stepwise)
    worker = Worker(db, {"test": handler})
    job_id = _enqueue(db, {})
    worker.start()
    assert started.wait(5)
    worker.stop()
    assert 0 < len(steps) < 50
    interrupted = _job(db, job_id)
    assert (interrupted.state, interrupted.attempts) == ("queued", 0)
    Worker(db, {"test": handler}).run_once()
    assert steps == list(range(50))
    assert _job(db, job_id).state == "done"


def test_a_crashed_workers_job_is_resumed_after_the_lease(db: Database) -> None:
    handler = Recorder()
    job_id = _enqueue(db, {})
    with db.write() as conn:  # a worker claims it, then dies without a word
        assert store.claim(conn, "dead", ["test"], now_ms(), 60_000)
    # A lease long enough that the first look surely falls inside it on a busy machine
    # (0.2 s did not, under the whole suite on two cores), short enough to wait out.
    lively = Worker(db, {"test": handler}, lease_seconds=3.0)
    assert not lively.run_once()  # the lease still holds
    _until(lively.run_once)
    assert handler.ran == [(job_id, 2)]
    assert _job(db, job_id).state == "done"


def test_heartbeats_keep_a_long_job_and_a_lost_lease_stops_it(db: Database) -> None:
    seen_stop = threading.Event()

    def long(running: RunningJob) -> None:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if running.should_stop():
                seen_stop.set()
                raise Interrupted()
            time.sleep(0.02)

    worker = Worker(db, {"test": Recorder(long)}, lease_seconds=0.4)
    job_id = _enqueue(db, {})
    runner = threading.Thread(target=worker.run_once)
    runner.start()
    _until(lambda: _job(db, job_id).state == "running")
    first_beat = _job(db, job_id).heartbeat_at
    _until(lambda: (_job(db, job_id).heartbeat_at or 0) > (first_beat or 0))
    with db.write() as conn:  # another worker takes it over
        conn.execute(jobs_table.update().values(locked_by="thief"))
    assert seen_stop.wait(5)
    runner.join()
    assert _job(db, job_id).locked_by == "thief"


def test_workers_running_side_by_side_run_each_job_once(db: Database) -> None:
    """Three workers (on PostgreSQL they claim with SKIP LOCKED, on SQLite under its
    write lock) share twelve jobs: each runs exactly once."""
    ran: list[int] = []
    lock = threading.Lock()

    def record(running: RunningJob) -> None:
        time.sleep(0.02)
        with lock:
            ran.append(running.job.id)

    ids = [_enqueue(db, {"n": i}) for i in range(12)]
    workers = [Worker(db, {"test": Recorder(record)}, poll_seconds=0.05) for _ in range(3)]
    for worker in workers:
        worker.start()
    try:
        _until(lambda: len(ran) >= 12)
    finally:
        for worker in workers:
            worker.stop()
    assert sorted(ran) == sorted(ids)
    assert all(_job(db, i).state == "done" for i in ids)
    assert sum(w.jobs_run for w in workers) == 12


def test_an_idle_worker_does_its_chores_at_most_once_per_interval(db: Database) -> None:
    done: list[float] = []
    failing = jobs.Chore("broken", every_seconds=0, run=lambda: 1 / 0)
    chore = jobs.Chore("count", every_seconds=3600, run=lambda: done.append(time.monotonic()))
    worker = Worker(db, {"test": Recorder()}, poll_seconds=0.01, chores=[failing, chore])
    worker.start()
    try:
        _until(lambda: len(done) == 1)
        time.sleep(0.1)  # ten idle polls later
    finally:
        worker.stop()
    assert len(done) == 1
