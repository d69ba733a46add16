"""The worker's import job: read the file from where it stopped, convert each row, and
store the rows a chunk at a time through the ingest writer.

Each chunk (at most CHUNK_ROWS rows) is one SendJob: the writer stores its completions,
upserts its contacts, records its row errors and moves the import's counters and
`next_line` in one transaction, grouped with whatever HTTP requests are queued, so sends
keep flowing during an import. A crash loses at most the chunk in flight, which is read
again from `next_line` when the job resumes (and its rows' uuids dedupe anyway). Memory
holds one chunk: the file is streamed, never loaded. Rows are converted by
services/import_conversion.py, in a child process for a big file.
"""

from __future__ import annotations

import concurrent.futures
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from occur.domain.completions import Completion
from occur.domain.definitions import EventDefinition
from occur.domain.identity import Identity, IdentityKind
from occur.domain.import_columns import Target
from occur.domain.import_rows import ImportPlan
from occur.errors import NotFound, OccurError
from occur.services import imports, spreadsheets, uploads
from occur.services.clock import now_ms
from occur.services.group_commit import Overloaded
from occur.services.import_conversion import (
    CHILD_FROM_ROWS,
    ChildConverter,
    InlineConverter,
    Piece,
)
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
# A chunk the writer could not take as it was is read again at most this often in a row.
_MAX_TRIES = 5


def rows_now(ingest: Ingest, idle_rows: int, busy_rows: int) -> int:
    """How many rows a background transaction may touch now: few while HTTP requests
    are flowing through the writer (one arrived within BUSY_SECONDS), else many."""
    idle = time.monotonic() - ingest.writer.last_request_at
    return idle_rows if idle > BUSY_SECONDS else busy_rows


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
        child_from_rows: int = CHILD_FROM_ROWS,
    ) -> None:
        self._db = db
        self._ingest = ingest
        self._data_dir = data_dir
        self.chunk_rows = chunk_rows
        self.busy_chunk_rows = min(busy_chunk_rows, chunk_rows)
        # Files with at least this many rows left are converted in a child process.
        self.child_from_rows = child_from_rows

    def _chunk_size(self) -> int:
        return rows_now(self._ingest, self.chunk_rows, self.busy_chunk_rows)

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

        A big file's rows are converted in a child process while the writer commits;
        the next chunk is taken, and sized, once the commit before it is known, so
        chunks commit in file order and a send arriving meanwhile finds the next one
        small. A chunk the writer could not take as it was (its event changed, or it
        lost a race for a new contact's email to another process) is read and converted
        again from its first line, with the event as it is now.
        """
        staged = uploads.find(self._data_dir, record.staged_id)
        request = stored_request(record)
        fmt = spreadsheets.detect(staged.path, staged.filename, request.sheet)
        state = _Chunking(record, request, fmt, self._definition(record, request))
        source = _Source(staged.path, state, self._in_child(record), self.busy_chunk_rows)
        source.restart(record.next_line)
        pending: _Pending | None = None
        redone = 0
        try:
            while True:
                if pending is not None:
                    result = pending.future.result()
                    if result.stale or result.conflicted:
                        redone += 1
                        if redone > _MAX_TRIES:
                            raise RuntimeError("an import chunk could not be stored after "
                                               "several tries")  # fmt: skip
                        if result.stale:
                            state.definition = self._definition(record, request)
                        source.restart(pending.chunk[0].first_line)
                    elif result.canceled:
                        return self._canceled(record, pending)
                    elif result.problems:
                        raise RuntimeError(f"the writer refused an import chunk: {result.problems}")
                    else:
                        redone = 0
                    pending = None
                chunk = source.take(self._chunk_size())  # sized now that the writer is free
                if not chunk:
                    break
                running.check()
                pending = _Pending(chunk, self._submit(_job(state, chunk)))
        finally:
            source.close()
        with self._db.write() as conn:
            store.set_state(conn, record.id, store.DONE, now_ms(), from_states=(store.PROCESSING,))
        return True

    def _in_child(self, record: ImportRecord) -> bool:
        return record.total_rows - record.counters.rows_read >= self.child_from_rows

    def _submit(self, job: SendJob) -> concurrent.futures.Future[SendResult]:
        try:
            return self._ingest.writer.submit_background(job, max(1, len(job.completions)))
        except Overloaded:
            raise Interrupted() from None  # the writer is shutting down

    def _canceled(self, record: ImportRecord, pending: _Pending) -> bool:
        log.info("import %d canceled; stopped at line %d", record.id, pending.chunk[0].first_line)
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
        imports.fail(self._db, import_id, reason, from_states=store.RUNNING_STATES)


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

    chunk: Sequence[Piece]
    future: concurrent.futures.Future[SendResult]


class _Source:
    """The file's rows converted with the import's current plan, a chunk at a time,
    restartable at any line (after the event changed, or to read a chunk again)."""

    def __init__(self, path: Path, state: _Chunking, in_child: bool, piece_rows: int) -> None:
        self._path = path
        self._piece_rows = piece_rows
        self._state = state
        self._in_child = in_child
        self._converter: ChildConverter | InlineConverter | None = None
        self._pieces: Iterator[Piece] = iter(())

    def restart(self, line: int) -> None:
        self.close()
        kind = ChildConverter if self._in_child else InlineConverter
        plan = self._state.plan()
        self._converter = kind(self._path, self._state.fmt, plan, line, self._piece_rows)
        self._pieces = self._converter.pieces()

    def take(self, rows: int) -> list[Piece]:
        """Whole pieces holding at least `rows` rows read, fewer at the file's end."""
        taken: list[Piece] = []
        read = 0
        while read < rows:
            piece = next(self._pieces, None)
            if piece is None:
                break
            taken.append(piece)
            read += piece.rows_read
        return taken

    def close(self) -> None:
        if self._converter is not None:
            self._converter.close()
            self._converter = None


def _job(state: _Chunking, chunk: Sequence[Piece]) -> SendJob:
    """The chunk's converted rows as completions for the writer, the rest as errors."""
    record, definition = state.record, state.definition
    rows = [row for piece in chunk for row in piece.rows]
    object_type_id = definition.object_type.type_id
    completions = tuple(
        Completion(
            definition_id=definition.id,
            definition_version=definition.version,
            object_type_id=object_type_id,
            identity=Identity(IdentityKind(kind), value, path, may_create),
            uuid=uuid,
            occurred_at=occurred_at,
            values=values,
        )
        for _, _, _, kind, value, path, may_create, uuid, occurred_at, values in rows
    )
    return SendJob(
        portal_id=record.portal_id,
        completions=completions,
        received_at=now_ms(),
        chunk=ImportChunk(
            import_id=record.id,
            lines=tuple(row[0] for row in rows),
            cells=tuple(row[1] for row in rows),
            contact_values=tuple(row[2] for row in rows),
            errors=tuple(NewImportError(*error) for piece in chunk for error in piece.errors),
            rows_read=sum(piece.rows_read for piece in chunk),
            rows_with_errors=sum(piece.failed_rows for piece in chunk),
            next_line=chunk[-1].next_line,
            record_id_column=next(
                (m.index for m in state.request.mappings if m.target is Target.RECORD_ID), None
            ),
        ),
    )
