"""Spreadsheet imports: the use cases the HTTP API, the web app and the CLI share.

`start` checks everything it can before anything exists (the file reads, the mapping
fits the file and the event, every row can be counted): a refused import leaves no
import row and no job. The rows themselves are stored later by the worker
(services/import_runner.py), a chunk at a time through the ingest writer.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from itertools import groupby
from typing import IO, Any

from sqlalchemy import Connection

from occur.config import Settings
from occur.domain.definitions import EventDefinition, object_type_id
from occur.errors import Conflict, FieldError, NotFound, OccurError, ValidationError
from occur.services import definitions, spreadsheets, uploads
from occur.services.clock import now_ms
from occur.services.import_requests import (
    ImportRequest,
    check,
    event_types,
    read_import_request,
    request_json,
    sheet_name,
)
from occur.services.jobs import Worker, enqueue
from occur.services.uploads import StagedFile
from occur.store import access as access_store
from occur.store import imports as store
from occur.store.db import Database
from occur.store.imports import ImportRecord, StoredImportError

log = logging.getLogger("occur.imports")

KIND = "import"  # the job kind services/import_runner.py runs
REVERT_KIND = "import-revert"  # and services/import_revert.py
SOURCES = ("API", "CRM_UI", "CLI")
MAX_PAGE = 1_000
# An import's job is tried again after a crash or an unexpected error this often.
MAX_ATTEMPTS = 5
ABANDONED_UPLOAD_SECONDS = 24 * 3600
REVERTIBLE = store.REVERTIBLE
REVERTING = store.REVERTING
REVERTED = store.REVERTED

ImportErrorView = StoredImportError
__all__ = ["ImportErrorView", "ImportRequest", "ImportView", "read_import_request"]


@dataclass(frozen=True)
class ImportView:
    """An import as its readers show it."""

    id: int
    portal_id: int
    name: str
    state: str
    source: str
    definition_id: int
    definition_name: str
    object_type_id: str  # the event's, 6-{id}
    request: dict[str, Any]
    filename: str
    total_rows: int
    rows_read: int
    contacts_created: int
    contacts_updated: int
    completions_created: int
    duplicates: int
    rows_with_errors: int
    completions_removed: int  # by a revert
    progress: float  # 0..1, of the import or, once reverting, of its revert
    reason: str | None
    created_by_user_id: int | None
    created_at: int
    updated_at: int
    finished_at: int | None


# --- use cases ---------------------------------------------------------------------


def start(
    db: Database,
    settings: Settings,
    worker: Worker | None,
    portal_id: int,
    request: ImportRequest,
    staged: StagedFile,
    source: str,
    user_id: int | None,
) -> ImportView:
    """Check the request against the file and the event, then create the import and its
    job in one transaction; the worker (woken here) stores the rows."""
    definition = _definition(db, portal_id, request.definition_name)
    facts = _read_file(staged, request, definition)
    return _insert(db, worker, portal_id, request, definition, staged, facts, source, user_id)


@dataclass(frozen=True)
class EventChanges:
    """What the wizard's import creates before it starts: a new event (its creation
    body, for services/definitions.create) or new properties of the existing one.
    `draft` is the event as it will be, so that the file is checked against it before
    anything is created."""

    new_event: object | None
    new_properties: Sequence[object]
    draft: EventDefinition


def start_with_event(
    db: Database,
    settings: Settings,
    worker: Worker | None,
    portal_id: int,
    request: ImportRequest,
    staged: StagedFile,
    changes: EventChanges,
    source: str,
    user_id: int | None,
) -> ImportView:
    """The wizard's Finish: create the event or its new properties, then the import.

    A staged file starts one import: Finish sent twice (a double click, a reload of the
    POST) answers with the import the first one started, instead of a second import or
    a "name taken" error for the event the first one created. Everything that can refuse
    the import is checked against the draft event before the event exists; should the
    import still be refused, a new event is deleted again.
    """
    with _starting(staged.id):
        already = started_from(db, portal_id, staged.id)
        if already is not None:
            return already
        draft_request = replace(request, definition_name=changes.draft.name)
        facts = _read_file(staged, draft_request, changes.draft)
        if changes.new_event is not None:
            definition = definitions.create(
                db,
                portal_id,
                changes.new_event,
                max_definitions=settings.max_definitions,
                tracking_type=definitions.IMPORT,
            )
        else:
            for body in changes.new_properties:
                definitions.add_property(db, portal_id, request.definition_name, body)
            definition = _definition(db, portal_id, request.definition_name)
        request = replace(request, definition_name=definition.name)
        try:
            check(request, definition, facts.header)
            return _insert(
                db, worker, portal_id, request, definition, staged, facts, source, user_id
            )
        except OccurError:
            if changes.new_event is not None:
                definitions.delete(db, portal_id, definition.name)
            raise


@dataclass(frozen=True)
class _FileFacts:
    fmt: spreadsheets.SheetFormat
    header: list[str]
    total_rows: int


def _read_file(
    staged: StagedFile, request: ImportRequest, definition: EventDefinition
) -> _FileFacts:
    """The file read as far as starting needs: its format and header checked against
    the request, and its rows counted (a file over the row limit is refused here)."""
    fmt = spreadsheets.detect(staged.path, staged.filename, request.sheet)
    header = spreadsheets.header(staged.path, fmt)
    check(request, definition, header)
    return _FileFacts(fmt, header, spreadsheets.count_rows(staged.path, fmt))


def _insert(
    db: Database,
    worker: Worker | None,
    portal_id: int,
    request: ImportRequest,
    definition: EventDefinition,
    staged: StagedFile,
    facts: _FileFacts,
    source: str,
    user_id: int | None,
) -> ImportView:
    with db.write() as conn:
        import_id = store.insert_import(
            conn,
            portal_id=portal_id,
            definition_id=definition.id,
            name=request.name,
            source=source if source in SOURCES else "API",
            request=request_json(request, definition, facts.header, facts.fmt.sheet),
            header=facts.header,
            staged_id=staged.id,
            filename=staged.filename,
            total_rows=facts.total_rows,
            user_id=user_id,
            now_ms=now_ms(),
        )
        enqueue(
            conn,
            KIND,
            {"importId": import_id},
            dedupe_key=f"{KIND}:{import_id}",
            max_attempts=MAX_ATTEMPTS,
        )
    if worker is not None:
        worker.wake()
    return get(db, portal_id, import_id)


# Staged files whose import is being started in this process, so that a second Finish
# waits for the first and then finds its import.
_STARTING: dict[str, tuple[threading.Lock, int]] = {}  # the lock, and how many use it
_STARTING_GUARD = threading.Lock()


@contextmanager
def _starting(staged_id: str) -> Iterator[None]:
    """One start at a time per staged file in this process; the entry goes with its
    last user, so that a third Finish cannot find a fresh lock while the second waits."""
    with _STARTING_GUARD:
        lock, users = _STARTING.get(staged_id, (threading.Lock(), 0))
        _STARTING[staged_id] = (lock, users + 1)
    try:
        with lock:
            yield
    finally:
        with _STARTING_GUARD:
            lock, users = _STARTING[staged_id]
            if users == 1:
                del _STARTING[staged_id]
            else:
                _STARTING[staged_id] = (lock, users - 1)


def started_from(db: Database, portal_id: int, staged_id: str) -> ImportView | None:
    """The import an uploaded file started, if any (its file is gone once it ends)."""
    with db.read() as conn:
        record = store.by_staged_id(conn, portal_id, staged_id)
    return view(record) if record is not None else None


def start_from_api(
    db: Database,
    settings: Settings,
    worker: Worker | None,
    portal_id: int,
    body: object,
    staged: StagedFile,
    user_id: int | None = None,
    source: str = "API",
) -> ImportView:
    """POST /crm/v3/imports: the importRequest JSON read against the uploaded file. The
    staged file is removed when the import is refused."""
    try:
        definition = _definition_of_body(db, portal_id, body)
        sheet = sheet_name(body)
        fmt = spreadsheets.detect(staged.path, staged.filename, sheet)
        header = spreadsheets.header(staged.path, fmt)
        request = read_import_request(
            body,
            definition,
            header,
            default_name=staged.filename,
            default_time_zone=_portal_time_zone(db, portal_id),
        )
        return start(db, settings, worker, portal_id, request, staged, source, user_id)
    except BaseException:
        uploads.discard(settings.data_dir, staged.id)
        raise


def discard_abandoned_uploads(db: Database, settings: Settings) -> int:
    """Remove staged files older than a day that no unfinished import reads: uploads a
    person left in the wizard. A worker chore; returns how many went."""
    with db.read() as conn:
        keep = store.staged_ids_in_use(conn)
    return uploads.discard_older_than(settings.data_dir, ABANDONED_UPLOAD_SECONDS, keep=keep)


def get(db: Database, portal_id: int, import_id: int | str) -> ImportView:
    with db.read() as conn:
        return view(_record(conn, portal_id, import_id))


def list_page(
    db: Database, portal_id: int, after: int | str | None, limit: int
) -> tuple[list[ImportView], str | None]:
    """Newest first; `after` is the cursor a previous page returned."""
    with db.read() as conn:
        found, next_id = store.list_page(
            conn, portal_id, before_id=_cursor(after), limit=_limit(limit)
        )
    return [view(r) for r in found], (str(next_id) if next_id is not None else None)


def cancel(db: Database, portal_id: int, import_id: int | str) -> ImportView:
    """Stop an import that has not finished: the chunk being written is the last one
    stored (the writer checks the state in the chunk's own transaction)."""
    with db.write() as conn:
        record = _record(conn, portal_id, import_id, for_update=True)
        if record.state == store.REVERTING:
            # Its API state reads PROCESSING, so the internal name would only puzzle.
            raise Conflict(f"Import {record.id} is being reverted; a revert cannot be canceled.")
        if not store.set_state(
            conn, record.id, store.CANCELED, now_ms(), from_states=store.RUNNING_STATES
        ):
            raise Conflict(
                f"Import {record.id} is {record.state}; only a started or processing "
                "import can be canceled."
            )
    return get(db, portal_id, record.id)


def revert(db: Database, worker: Worker | None, portal_id: int, import_id: int | str) -> ImportView:
    """Start removing what a finished import stored. A job (services/import_revert.py)
    removes its completions, then the contacts it created that hold nothing else, through
    the ingest writer in transactions as small as an import's chunks, so sends keep
    flowing and a million-row revert never holds a request open; the import is
    REVERTING until it ends REVERTED. Asking again meanwhile, or afterwards, changes
    nothing."""
    with db.write() as conn:
        record = _record(conn, portal_id, import_id, for_update=True)
        if record.state in (store.REVERTING, store.REVERTED):
            return view(record)
        if record.state not in store.REVERTIBLE:
            raise Conflict(
                f"Import {record.id} is {record.state}; cancel it first, or wait until it is done."
            )
        store.set_state(conn, record.id, store.REVERTING, now_ms(), from_states=store.REVERTIBLE)
        enqueue(conn, REVERT_KIND, {"importId": record.id}, max_attempts=MAX_ATTEMPTS)
    if worker is not None:
        worker.wake()
    return get(db, portal_id, record.id)


def fail(db: Database, import_id: int, reason: str, *, from_states: Sequence[str]) -> None:
    """End an import FAILED, saying why, if it is still in one of `from_states` (its job,
    importing or reverting, cannot go on)."""
    log.warning("import %d failed: %s", import_id, reason)
    with db.write() as conn:
        store.set_state(
            conn, import_id, store.FAILED, now_ms(), from_states=from_states, reason=reason
        )


def errors_page(
    db: Database, portal_id: int, import_id: int | str, after: int | str | None, limit: int
) -> tuple[list[ImportErrorView], str | None]:
    with db.read() as conn:
        record = _record(conn, portal_id, import_id)
        found, next_id = store.errors_page(
            conn, record.id, after_id=_cursor(after), limit=_limit(limit)
        )
    return found, (str(next_id) if next_id is not None else None)


def error_file(
    db: Database, settings: Settings, portal_id: int, import_id: int | str, out: IO[str]
) -> None:
    """The failing rows as the file had them plus a last column saying why (every
    problem of a row, joined): fix it and import it again."""
    with db.read() as conn:
        record = _record(conn, portal_id, import_id)
        spreadsheets.write_error_file(out, record.header, _failed_rows(conn, record.id))


def view(record: ImportRecord) -> ImportView:
    c = record.counters
    request = {k: v for k, v in record.request.items() if k != "occur"}
    return ImportView(
        id=record.id,
        portal_id=record.portal_id,
        name=record.name,
        state=record.state,
        source=record.source,
        definition_id=record.definition_id,
        definition_name=record.definition_name,
        object_type_id=object_type_id(record.definition_id),
        request=request,
        filename=record.filename,
        total_rows=record.total_rows,
        rows_read=c.rows_read,
        contacts_created=c.contacts_created,
        contacts_updated=c.contacts_updated,
        completions_created=c.completions_created,
        duplicates=c.duplicates,
        rows_with_errors=c.rows_with_errors,
        completions_removed=record.completions_removed,
        progress=_progress(record),
        reason=record.reason,
        created_by_user_id=record.created_by_user_id,
        created_at=record.created_at,
        updated_at=record.updated_at,
        finished_at=record.finished_at,
    )


# --- helpers ---------------------------------------------------------------------------


def _progress(record: ImportRecord) -> float:
    """How far the import, or once reverting its revert, has come."""
    c = record.counters
    if record.state in (store.DONE, store.REVERTED):
        return 1.0
    if record.state == store.REVERTING:
        created = c.completions_created
        return min(1.0, record.completions_removed / created) if created else 1.0
    return min(1.0, c.rows_read / record.total_rows) if record.total_rows else 0.0


def _definition_of_body(db: Database, portal_id: int, body: object) -> EventDefinition:
    """The event an importRequest is for: `eventName` (occur's, short or fully qualified)
    or the 6-{id} its column mappings name."""
    if not isinstance(body, dict):
        raise ValidationError(
            "importRequest must be a JSON object.",
            errors=[FieldError("Not an object.", in_="importRequest", code="INVALID_TYPE")],
        )
    name = body.get("eventName")
    if isinstance(name, str) and name:
        return _definition(db, portal_id, name)
    for type_id in event_types(body):
        try:
            definition_id = int(type_id.removeprefix("6-"))
        except ValueError:
            continue
        with db.read() as conn:
            found = store.definition_name(conn, portal_id, definition_id)
        if found is None:
            raise NotFound(f"This portal has no event with objectTypeId {type_id}.")
        return _definition(db, portal_id, found)
    message = (
        "Name the event to import: give eventName, or a column mapping whose "
        "columnObjectTypeId is the event's 6-{id}."
    )
    raise ValidationError(message, errors=[FieldError(message, in_="eventName", code="REQUIRED")])


def _definition(db: Database, portal_id: int, name: str) -> EventDefinition:
    return definitions.get(db, portal_id, name)


def _portal_time_zone(db: Database, portal_id: int) -> str:
    with db.read() as conn:
        portal = access_store.get_portal(conn, portal_id)
    return portal.time_zone if portal is not None else "UTC"


def _record(
    conn: Connection, portal_id: int, import_id: int | str, *, for_update: bool = False
) -> ImportRecord:
    wanted = _import_id(import_id)
    record = (
        store.get(conn, wanted, portal_id=portal_id, for_update=for_update)
        if wanted is not None
        else None
    )
    if record is None:
        raise NotFound(f"There is no import with id {import_id}.")
    return record


def _import_id(raw: int | str) -> int | None:
    if isinstance(raw, int):
        return raw if 0 < raw < 2**63 else None
    if raw.isascii() and raw.isdigit() and len(raw) <= 18:
        return int(raw)
    return None


def _cursor(raw: int | str | None) -> int | None:
    if raw is None or raw == "":
        return None
    found = _import_id(raw)
    if found is None:
        message = f"after is not a paging cursor this server issued: {raw!r}."
        raise ValidationError(message, errors=[FieldError(message, in_="after", code="INVALID")])
    return found


def _limit(limit: int) -> int:
    return max(1, min(MAX_PAGE, limit))


def _failed_rows(conn: Connection, import_id: int) -> Iterator[tuple[list[str], str]]:
    """(cells, every reason) per failing row, from errors kept in line order."""
    for _line, errors in groupby(store.iter_errors(conn, import_id), key=lambda e: e.line):
        found = list(errors)
        reasons = "; ".join(
            f"{e.column_name}: {e.message}" if e.column_name else e.message for e in found
        )
        yield found[0].cells, reasons
