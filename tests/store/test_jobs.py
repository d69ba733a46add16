"""The jobs table: claims, leases, SKIP LOCKED and dedupe keys, on both engines."""

from __future__ import annotations

import pytest

from occur.store import jobs
from occur.store.db import Database

LEASE_MS = 60_000
NOW = 1_800_000_000_000


def _queue(db: Database, kind: str = "k", *, run_at: int = NOW, key: str | None = None) -> int:
    with db.write() as conn:
        job_id, _new = jobs.insert(
            conn, kind, {"n": 1}, run_at=run_at, now_ms=NOW, max_attempts=3, dedupe_key=key
        )
    return job_id


def _claim(
    db: Database, worker: str, now: int = NOW, kinds: tuple[str, ...] = ("k",)
) -> jobs.Job | None:
    with db.write() as conn:
        return jobs.claim(conn, worker, kinds, now, LEASE_MS)


def test_a_due_job_is_claimed_once_in_run_at_order(db: Database) -> None:
    later = _queue(db, run_at=NOW - 10)
    first = _queue(db, run_at=NOW - 20)
    _queue(db, run_at=NOW + 1)  # not due yet
    _queue(db, "other")  # a kind this worker does not run
    a = _claim(db, "a")
    b = _claim(db, "b")
    assert a is not None and b is not None
    assert (a.id, b.id) == (first, later)
    assert (a.state, a.locked_by, a.attempts, a.heartbeat_at) == ("running", "a", 1, NOW)
    assert a.payload == {"n": 1}
    assert _claim(db, "c") is None
    with db.read() as conn:
        assert not jobs.has_due(conn, ["k"], NOW, LEASE_MS)
        assert jobs.has_due(conn, ["k"], NOW + 1, LEASE_MS)


def test_an_abandoned_job_is_claimed_again_once_its_lease_runs_out(db: Database) -> None:
    job_id = _queue(db)
    assert _claim(db, "crashed") is not None
    assert _claim(db, "b", NOW + LEASE_MS) is None  # heartbeat exactly a lease old: still held
    with db.write() as conn:
        assert jobs.heartbeat(conn, job_id, "crashed", NOW + 1000)
    assert _claim(db, "b", NOW + LEASE_MS + 1000) is None
    taken = _claim(db, "b", NOW + LEASE_MS + 1001)
    assert taken is not None and (taken.id, taken.locked_by, taken.attempts) == (job_id, "b", 2)
    with db.write() as conn:
        # The first worker, back from its stall, may no longer beat, finish or fail it.
        assert not jobs.heartbeat(conn, job_id, "crashed", NOW + LEASE_MS + 2000)
        assert not jobs.finish(conn, job_id, "crashed", NOW)
        assert jobs.finish(conn, job_id, "b", NOW + LEASE_MS + 3000)
        done = jobs.get(conn, job_id)
    assert done is not None and (done.state, done.locked_by) == ("done", None)
    assert done.finished_at == NOW + LEASE_MS + 3000


def test_retry_release_and_exhausted_jobs(db: Database) -> None:
    job_id = _queue(db)
    _claim(db, "a")
    with db.write() as conn:
        assert jobs.retry(conn, job_id, "a", NOW + 5000, "boom")
    assert _claim(db, "a") is None
    again = _claim(db, "a", NOW + 5000)
    assert again is not None and (again.attempts, again.last_error) == (2, "boom")
    with db.write() as conn:
        assert jobs.release(conn, job_id, "a")  # a stop: this claim does not count
    third = _claim(db, "a", NOW + 5000)
    assert third is not None and third.attempts == 2
    assert _claim(db, "b", NOW + 5000 + LEASE_MS + 1) is not None  # attempt 3 of 3
    late = NOW + 5000 + 2 * LEASE_MS + 2
    assert _claim(db, "c", late) is None  # abandoned with no attempt left
    with db.read() as conn:
        assert jobs.has_exhausted(conn, ["k"], late, LEASE_MS)
    with db.write() as conn:
        [failed] = jobs.fail_exhausted(conn, ["k"], late, LEASE_MS)
        assert jobs.fail_exhausted(conn, ["k"], late, LEASE_MS) == []
    assert (failed.id, failed.state) == (job_id, "failed")
    assert failed.last_error


def test_a_dedupe_key_queues_one_job(db: Database) -> None:
    first = _queue(db, key="import:1")
    with db.write() as conn:
        again, new = jobs.insert(
            conn, "k", {"n": 2}, run_at=NOW, now_ms=NOW, max_attempts=3, dedupe_key="import:1"
        )
        other, other_new = jobs.insert(
            conn, "k", {}, run_at=NOW, now_ms=NOW, max_attempts=3, dedupe_key="import:2"
        )
        found = jobs.find_by_key(conn, "import:1")
    assert (again, new) == (first, False)
    assert other != first and other_new
    assert found is not None and found.payload == {"n": 1}


def test_two_workers_skip_each_others_locked_job(db: Database) -> None:
    """PostgreSQL: while one worker's claim is uncommitted, another takes the next job
    instead of waiting for the lock (FOR UPDATE SKIP LOCKED)."""
    if db.is_sqlite:
        pytest.skip("SQLite has one writer: claims are serialised by its write lock")
    first = _queue(db)
    second = _queue(db, run_at=NOW + 1)
    with db.engine.connect() as a_conn, db.engine.connect() as b_conn:
        for conn in (a_conn, b_conn):  # a wait for a lock would fail, not hang
            conn.exec_driver_sql("SET lock_timeout = '2s'")
            conn.commit()
        with a_conn.begin():
            a = jobs.claim(a_conn, "a", ["k"], NOW + 1, LEASE_MS)
            with b_conn.begin():
                b = jobs.claim(b_conn, "b", ["k"], NOW + 1, LEASE_MS)
                with db.engine.connect() as c_conn, c_conn.begin():
                    c = jobs.claim(c_conn, "c", ["k"], NOW + 1, LEASE_MS)
    assert a is not None and b is not None
    assert (a.id, b.id, c) == (first, second, None)


def test_only_jobs_that_ended_before_the_time_are_deleted(db: Database) -> None:
    done, failed, recent, running, queued = (_queue(db) for _ in range(5))
    for job_id, worker in ((done, "a"), (failed, "b"), (recent, "c"), (running, "d")):
        claimed = _claim(db, worker)
        assert claimed is not None and claimed.id == job_id
    with db.write() as conn:
        assert jobs.finish(conn, done, "a", NOW + 10)
        assert jobs.fail(conn, failed, "b", NOW + 20, "boom")
        assert jobs.finish(conn, recent, "c", NOW + 30)
        assert jobs.delete_finished(conn, NOW + 30) == 2
        assert jobs.delete_finished(conn, NOW + 30) == 0
        left = {job_id for job_id in (done, failed, recent, running, queued)
                if jobs.get(conn, job_id) is not None}  # fmt: skip
    assert left == {recent, running, queued}
