"""Durable jobs: the rows the worker claims, beats on and finishes (DESIGN §2).

A job is `queued` until a worker claims it (`running`, `locked_by` that worker), then
`done` or `failed`; a failure with attempts left goes back to `queued` at a later
`run_at`. A `running` job whose heartbeat is older than the lease counts as abandoned (its
worker crashed or hung) and may be claimed again: handlers make that safe by resuming
from what they committed. PostgreSQL picks the candidate with FOR UPDATE SKIP LOCKED, so
workers in several processes never wait on, nor take, each other's row; on SQLite the
one write lock (BEGIN IMMEDIATE) serialises claims and the UPDATE re-checks the row.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import ColumnElement, Connection, Row, and_, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from occur.store.schema import jobs as t

QUEUED = "queued"
RUNNING = "running"
DONE = "done"
FAILED = "failed"
MAX_ERROR_CHARS = 4_000

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(dict[str, Any]).decode


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    payload: dict[str, Any]
    run_at: int
    attempts: int  # claims so far, this one included while running
    max_attempts: int
    locked_by: str | None
    heartbeat_at: int | None
    dedupe_key: str | None
    state: str
    last_error: str | None
    created_at: int
    finished_at: int | None


def insert(
    conn: Connection,
    kind: str,
    payload: Mapping[str, Any],
    *,
    run_at: int,
    now_ms: int,
    max_attempts: int,
    dedupe_key: str | None = None,
) -> tuple[int, bool]:
    """Queue a job; returns (its id, whether it is new). A `dedupe_key` already held by a
    job returns that job's id and queues nothing."""
    values = {
        "kind": kind,
        "payload": _encode(dict(payload)).decode(),
        "run_at": run_at,
        "attempts": 0,
        "max_attempts": max_attempts,
        "state": QUEUED,
        "dedupe_key": dedupe_key,
        "created_at": now_ms,
    }
    if dedupe_key is None:
        new_id = conn.execute(t.insert().values(values).returning(t.c.id)).scalar_one()
        return int(new_id), True
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(t)
        .values(values)
        .on_conflict_do_nothing(index_elements=[t.c.dedupe_key])
        .returning(t.c.id)
    )
    inserted = conn.execute(statement).scalar_one_or_none()
    if inserted is not None:
        return int(inserted), True
    found = conn.execute(select(t.c.id).where(t.c.dedupe_key == dedupe_key)).scalar_one()
    return int(found), False


def _claimable(kinds: Collection[str], now_ms: int, lease_ms: int) -> ColumnElement[bool]:
    return and_(
        t.c.kind.in_(sorted(kinds)),
        or_(
            and_(t.c.state == QUEUED, t.c.run_at <= now_ms),
            and_(
                t.c.state == RUNNING,
                t.c.heartbeat_at < now_ms - lease_ms,
                t.c.attempts < t.c.max_attempts,
            ),
        ),
    )


def has_due(conn: Connection, kinds: Collection[str], now_ms: int, lease_ms: int) -> bool:
    """Whether `claim` would find a job: a read, so an idle worker's polling takes no
    write lock (on SQLite a write lock would queue the ingest writer behind it)."""
    if not kinds:
        return False
    found = conn.execute(select(t.c.id).where(_claimable(kinds, now_ms, lease_ms)).limit(1))
    return found.first() is not None


def claim(
    conn: Connection, worker_id: str, kinds: Collection[str], now_ms: int, lease_ms: int
) -> Job | None:
    """Take the next due job (or an abandoned one) for `worker_id`; None when there is
    none. Commit soon after: the claim holds the row until then on PostgreSQL."""
    if not kinds:
        return None
    due = _claimable(kinds, now_ms, lease_ms)
    candidate = (select(t.c.id).where(due).order_by(t.c.run_at, t.c.id).limit(1)).with_for_update(
        skip_locked=True
    )
    job_id = conn.execute(candidate).scalar_one_or_none()
    if job_id is None:
        return None
    row = conn.execute(
        update(t)
        .where(t.c.id == job_id, due)
        .values(
            state=RUNNING,
            locked_by=worker_id,
            heartbeat_at=now_ms,
            attempts=t.c.attempts + 1,
        )
        .returning(*t.c)
    ).one_or_none()
    return row_job(row) if row is not None else None


def heartbeat(conn: Connection, job_id: int, worker_id: str, now_ms: int) -> bool:
    """Extend the lease; False when the job is no longer this worker's (it was claimed
    again after the lease ran out, or finished): the handler should stop."""
    return _mine(conn, job_id, worker_id, heartbeat_at=now_ms)


def finish(conn: Connection, job_id: int, worker_id: str, now_ms: int) -> bool:
    return _mine(conn, job_id, worker_id, state=DONE, finished_at=now_ms, locked_by=None)


def fail(conn: Connection, job_id: int, worker_id: str, now_ms: int, error: str) -> bool:
    return _mine(
        conn,
        job_id,
        worker_id,
        state=FAILED,
        finished_at=now_ms,
        locked_by=None,
        last_error=error[:MAX_ERROR_CHARS],
    )


def delete_finished(conn: Connection, finished_before_ms: int) -> int:
    """Remove done and failed jobs that finished before the time; returns how many."""
    result = conn.execute(
        delete(t).where(t.c.state.in_((DONE, FAILED)), t.c.finished_at < finished_before_ms)
    )
    return result.rowcount


def retry(conn: Connection, job_id: int, worker_id: str, run_at: int, error: str | None) -> bool:
    """Back to the queue at `run_at` (after a failure with attempts left)."""
    return _mine(
        conn,
        job_id,
        worker_id,
        state=QUEUED,
        run_at=run_at,
        locked_by=None,
        heartbeat_at=None,
        last_error=error[:MAX_ERROR_CHARS] if error is not None else None,
    )


def release(conn: Connection, job_id: int, worker_id: str) -> bool:
    """Back to the queue at once, the claim not counted (the worker is stopping)."""
    return _mine(
        conn,
        job_id,
        worker_id,
        state=QUEUED,
        locked_by=None,
        heartbeat_at=None,
        attempts=t.c.attempts - 1,
    )


def _exhausted(kinds: Collection[str], now_ms: int, lease_ms: int) -> ColumnElement[bool]:
    return and_(
        t.c.kind.in_(sorted(kinds)),
        t.c.state == RUNNING,
        t.c.heartbeat_at < now_ms - lease_ms,
        t.c.attempts >= t.c.max_attempts,
    )


def has_exhausted(conn: Connection, kinds: Collection[str], now_ms: int, lease_ms: int) -> bool:
    if not kinds:
        return False
    found = conn.execute(select(t.c.id).where(_exhausted(kinds, now_ms, lease_ms)).limit(1))
    return found.first() is not None


def fail_exhausted(
    conn: Connection, kinds: Collection[str], now_ms: int, lease_ms: int
) -> list[Job]:
    """Abandoned jobs that have used every attempt are failed for good; returns them, so
    their handlers can record why (a job that crashes its worker every time ends here)."""
    if not kinds:
        return []
    stale = _exhausted(kinds, now_ms, lease_ms)
    ids = list(
        conn.execute(select(t.c.id).where(stale).with_for_update(skip_locked=True)).scalars()
    )
    if not ids:
        return []
    reason = "its worker stopped before finishing it, every time it was tried"
    rows = conn.execute(
        update(t)
        .where(t.c.id.in_(ids), stale)
        .values(state=FAILED, finished_at=now_ms, locked_by=None, last_error=reason)
        .returning(*t.c)
    ).all()
    return [row_job(row) for row in rows]


def get(conn: Connection, job_id: int) -> Job | None:
    row = conn.execute(select(t).where(t.c.id == job_id)).one_or_none()
    return row_job(row) if row is not None else None


def find_by_key(conn: Connection, dedupe_key: str) -> Job | None:
    row = conn.execute(select(t).where(t.c.dedupe_key == dedupe_key)).one_or_none()
    return row_job(row) if row is not None else None


def _mine(conn: Connection, job_id: int, worker_id: str, **values: Any) -> bool:
    result = conn.execute(
        update(t)
        .where(t.c.id == job_id, t.c.state == RUNNING, t.c.locked_by == worker_id)
        .values(**values)
    )
    return result.rowcount == 1


def row_job(row: Row[Any]) -> Job:
    """The one row → Job mapper."""
    return Job(
        id=row.id,
        kind=row.kind,
        payload=_decode(row.payload),
        run_at=row.run_at,
        attempts=row.attempts,
        max_attempts=row.max_attempts,
        locked_by=row.locked_by,
        heartbeat_at=row.heartbeat_at,
        dedupe_key=row.dedupe_key,
        state=row.state,
        last_error=row.last_error,
        created_at=row.created_at,
        finished_at=row.finished_at,
    )
