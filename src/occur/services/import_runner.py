"""The worker's import job: read the file from where it stopped, convert each row, and
store the rows a chunk at a time through the ingest writer.

Each chunk (at most CHUNK_ROWS rows) is one SendJob: the writer stores its completions,
upserts its contacts, records its row errors and moves the import's counters and
`next_line` in one transaction, grouped with whatever HTTP requests are queued, so sends
keep flowing during an import. A crash loses at most the chunk in flight, which is read
again from `next_line` when the job resumes (and its rows' uuids dedupe anyway). Memory
holds one chunk: the file is streamed, never loaded.
"""

from __future__ import annotations

import concurrent.futures
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from occur.domain.definitions import EventDefinition
from occur.domain.import_columns import Target
from occur.domain.import_rows import ImportPlan, ImportRow, RowError, convert_row
from occur.errors import NotFound, OccurError
from occur.services import spreadsheets, uploads
from occur.services.clock import now_ms
from occur.services.group_commit import Overloaded
from occur.services.import_requests import ImportRequest, check, plan, stored_request
from occur.services.ingest import Ingest
from occur.services.ingest_store import ImportChunk, SendJob, SendResult
from occur.services.jobs import Interrupted, RunningJob
from occur.store import definitions as definition_store
from occur.store import imports as store
from occur.store.db import Database
from occur.store.imports import ImportRecord, NewImportError
from occur.store.jobs import Job

log = logging.getLogger("occur.imports")

# Rows per chunk (one writer transaction; at most 1,000 by contract). A send queued
# behind an import waits for the chunk being committed, so while sends are flowing
# (one in the last second) chunks are small; alone, an import commits large ones.
# bench/import.py, 50,000 rows on SQLite, the same quiet 2-core machine, one run each:
# busy chunks of 100 rows gave send p99 241 ms during an import (median 48, idle p99
# 16); of 25, 78-93 ms (median 17-18, idle 14-23); of 10, 212 ms (median 14, idle 20).
# The import ran at 1,840-2,080 rows/s during the sends with any of the three: its rows
# cost more than its commits (back-dated rows insert all over every index).
CHUNK_ROWS = 1_000
BUSY_CHUNK_ROWS = 25
BUSY_SECONDS = 1.0
# A chunk whose definition changed under it is converted again at most this often.
_MAX_TRIES = 5
# Converting rows is pure Python: without a pause the HTTP requests' event loop waits up
# to the interpreter's 5 ms switch interval for the GIL each time it needs it.
_YIELD_EVERY_ROWS = 8


class DefinitionGone(OccurError):
    """The event being imported was deleted, or no longer fits the import."""


class ImportRunner:
    """The handler of `import` jobs (services/jobs.py)."""

    def __init__(
        self,
        db: Database,
        ingest: Ingest,
        data_dir: Path,
        *,
        chunk_rows: int = CHUNK_ROWS,
        busy_chunk_rows: int = BUSY_CHUNK_ROWS,
    ) -> None:
        self._db = db
        self._ingest = ingest
        self._data_dir = data_dir
        self.chunk_rows = chunk_rows
        self.busy_chunk_rows = min(busy_chunk_rows, chunk_rows)

    def _chunk_size(self) -> int:
        """Small chunks while HTTP requests are flowing through the writer."""
        idle = time.monotonic() - self._ingest.writer.last_request_at
        return self.chunk_rows if idle > BUSY_SECONDS else self.busy_chunk_rows

    def run(self, running: RunningJob) -> None:
        import_id = int(running.job.payload["importId"])
        with self._db.write() as conn:
            record = store.get(conn, import_id, for_update=True)
            if record is None:
                return
            if record.state in store.RUNNING_STATES:
                store.set_state(
                    conn, import_id, store.PROCESSING, now_ms(), from_states=store.RUNNING_STATES
                )
        if record.state not in store.RUNNING_STATES:
            uploads.discard(self._data_dir, record.staged_id)  # canceled before it began
            return
        try:
            finished = self._import(running, record)
        except (DefinitionGone, spreadsheets.UnreadableFile, NotFound) as exc:
            self._fail(import_id, exc.message)
            finished = True
        if finished:
            uploads.discard(self._data_dir, record.staged_id)

    def give_up(self, job: Job, reason: str) -> None:
        import_id = int(job.payload["importId"])
        self._fail(import_id, f"The import stopped unexpectedly and was given up: {reason}")
        with self._db.read() as conn:
            record = store.get(conn, import_id)
        if record is not None:
            uploads.discard(self._data_dir, record.staged_id)

    def _import(self, running: RunningJob, record: ImportRecord) -> bool:
        """Store the rows from `next_line` on; True when the import ended (done or
        canceled). A stop raises Interrupted, never with a chunk in the writer.

        The next chunk is converted while the writer commits the one before (rows are
        converted on this thread, stored on the writer's); it is handed over only once
        that commit is known, so chunks commit in file order.
        """
        staged = uploads.find(self._data_dir, record.staged_id)
        request = stored_request(record)
        fmt = spreadsheets.detect(staged.path, staged.filename, request.sheet)
        state = _Chunking(record, request, fmt, self._definition(record, request))
        rows = spreadsheets.rows(staged.path, fmt, start_line=record.next_line)
        pending: _Pending | None = None
        for chunk in _chunks(rows, self._chunk_size):
            job = _job(record, state.plan(), chunk)
            if pending is not None and self._settle(state, pending).canceled:
                return self._canceled(record, pending)
            running.check()
            pending = _Pending(chunk, self._submit(job, chunk))
        if pending is not None and self._settle(state, pending).canceled:
            return self._canceled(record, pending)
        with self._db.write() as conn:
            store.set_state(conn, record.id, store.DONE, now_ms(), from_states=(store.PROCESSING,))
        return True

    def _submit(
        self, job: SendJob, chunk: Sequence[tuple[int, list[str]]]
    ) -> concurrent.futures.Future[SendResult]:
        try:
            return self._ingest.writer.submit_background(job, max(1, len(chunk)))
        except Overloaded:
            raise Interrupted() from None  # the writer is shutting down

    def _settle(self, state: _Chunking, pending: _Pending) -> SendResult:
        """The chunk's outcome once committed; converted and stored again from a fresh
        definition while the writer finds the one it was converted with has changed."""
        result = pending.future.result()
        for _ in range(_MAX_TRIES):
            if result.stale:
                state.definition = self._definition(state.record, state.request)
            elif not result.conflicted:  # else it lost a race for a contact's email
                if result.problems:
                    raise RuntimeError(f"the writer refused an import chunk: {result.problems}")
                return result
            job = _job(state.record, state.plan(), pending.chunk)
            result = self._submit(job, pending.chunk).result()
        raise RuntimeError("an import chunk could not be stored after several tries")

    def _canceled(self, record: ImportRecord, pending: _Pending) -> bool:
        log.info("import %d canceled; stopped before line %d", record.id, pending.chunk[0][0])
        return True

    def _definition(self, record: ImportRecord, request: ImportRequest) -> EventDefinition:
        with self._db.read() as conn:
            definition = definition_store.get_definition(
                conn, record.portal_id, record.definition_name
            )
        if definition is None:
            raise DefinitionGone(f"The event {record.definition_name} was deleted.")
        try:
            check(request, definition, record.header)
        except OccurError as exc:
            raise DefinitionGone(f"The event changed and no longer fits: {exc.message}") from None
        return definition

    def _fail(self, import_id: int, reason: str) -> None:
        log.warning("import %d failed: %s", import_id, reason)
        with self._db.write() as conn:
            store.set_state(
                conn,
                import_id,
                store.FAILED,
                now_ms(),
                from_states=store.RUNNING_STATES,
                reason=reason,
            )


@dataclass
class _Chunking:
    """What converting an import's chunks needs; the definition is re-read when it
    changes mid-import."""

    record: ImportRecord
    request: ImportRequest
    fmt: spreadsheets.SheetFormat
    definition: EventDefinition

    def plan(self) -> ImportPlan:
        return plan(self.request, self.definition, self.record.header, self.fmt)


@dataclass(frozen=True)
class _Pending:
    """A chunk handed to the writer, and its outcome to come."""

    chunk: Sequence[tuple[int, list[str]]]
    future: concurrent.futures.Future[SendResult]


def _chunks(
    rows: Iterable[tuple[int, list[str]]], size: Callable[[], int]
) -> Iterator[list[tuple[int, list[str]]]]:
    """The rows a chunk at a time, each chunk as large as `size()` says when it starts."""
    chunk: list[tuple[int, list[str]]] = []
    wanted = size()
    for row in rows:
        chunk.append(row)
        if len(chunk) >= wanted:
            yield chunk
            chunk = []
            wanted = size()
    if chunk:
        yield chunk


def _job(
    record: ImportRecord, import_plan: ImportPlan, chunk: Sequence[tuple[int, list[str]]]
) -> SendJob:
    """The chunk's rows converted: completions for the writer, the rest as errors."""
    converted: list[tuple[ImportRow, list[str]]] = []
    errors: list[NewImportError] = []
    failed_rows = 0
    columns = _column_indexes(import_plan)
    for count, (line, cells) in enumerate(chunk):
        if count % _YIELD_EVERY_ROWS == 0:
            time.sleep(0)  # let the event loop and the writer have the GIL now and then
        outcome = convert_row(import_plan, line, cells)
        if isinstance(outcome, ImportRow):
            converted.append((outcome, cells))
            continue
        failed_rows += 1
        errors.extend(_error(e, cells, columns) for e in outcome)
    record_column = next(
        (m.index for m in import_plan.mappings if m.target is Target.RECORD_ID), None
    )
    return SendJob(
        portal_id=record.portal_id,
        completions=tuple(row.completion for row, _ in converted),
        received_at=now_ms(),
        chunk=ImportChunk(
            import_id=record.id,
            lines=tuple(row.line for row, _ in converted),
            cells=tuple(tuple(cells) for _, cells in converted),
            contact_values=tuple(row.contact_values for row, _ in converted),
            errors=tuple(errors),
            rows_read=len(chunk),
            rows_with_errors=failed_rows,
            next_line=chunk[-1][0] + 1,
            record_id_column=record_column,
        ),
    )


def _column_indexes(import_plan: ImportPlan) -> dict[str, int]:
    found: dict[str, int] = {}
    for m in import_plan.mappings:
        if m.target is not Target.SKIP:
            found.setdefault(m.header, m.index)
    return found


def _error(e: RowError, cells: Sequence[str], columns: dict[str, int]) -> NewImportError:
    return NewImportError(
        line=e.line,
        column_name=e.column,
        column_index=columns.get(e.column) if e.column is not None else None,
        value=e.value,
        error_type=e.error_type,
        message=e.message,
        cells=cells,
    )
