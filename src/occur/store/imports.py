"""Spreadsheet imports, their row errors and the contacts they created.

An import's counters and resume point (`next_line`) move in the same transaction as the
rows they count (services/ingest_store.py calls `advance` inside the writer's
transaction), so after any crash they describe exactly what is stored.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, fields
from typing import Any

import msgspec
from sqlalchemy import Connection, Row, delete, insert, select, update

from occur.domain.objects import CONTACT
from occur.store.schema import (
    crm_objects,
    event_definitions,
    events,
    import_errors,
    import_records,
    imports,
    visitors,
)

STARTED = "STARTED"
PROCESSING = "PROCESSING"
DONE = "DONE"
FAILED = "FAILED"
CANCELED = "CANCELED"
REVERTING = "REVERTING"  # occur's own: a revert job is removing what the import stored
REVERTED = "REVERTED"
STATES = (STARTED, PROCESSING, DONE, FAILED, CANCELED, REVERTING, REVERTED)
RUNNING_STATES = (STARTED, PROCESSING)
REVERTIBLE = (DONE, CANCELED, FAILED)
CONTACT_TYPE_ID = CONTACT.type_id

_encode = msgspec.json.Encoder().encode
_decode_object = msgspec.json.Decoder(dict[str, Any]).decode
_decode_strings = msgspec.json.Decoder(list[str]).decode


@dataclass(frozen=True)
class ImportCounters:
    rows_read: int = 0
    contacts_created: int = 0
    contacts_updated: int = 0
    completions_created: int = 0
    duplicates: int = 0
    rows_with_errors: int = 0

    def __add__(self, other: ImportCounters) -> ImportCounters:
        return ImportCounters(
            *(getattr(self, f.name) + getattr(other, f.name) for f in fields(self))
        )


COUNTER_COLUMNS = tuple(f.name for f in fields(ImportCounters))


@dataclass(frozen=True)
class ImportRecord:
    id: int
    portal_id: int
    definition_id: int
    definition_name: str  # the event's short name
    name: str
    state: str
    source: str
    request: dict[str, Any]
    header: list[str]
    staged_id: str
    filename: str
    total_rows: int
    next_line: int
    counters: ImportCounters
    completions_removed: int  # by a revert, so far
    reason: str | None
    created_by_user_id: int | None
    created_at: int
    updated_at: int
    finished_at: int | None


@dataclass(frozen=True)
class NewImportError:
    line: int
    column_name: str | None
    column_index: int | None
    value: str | None
    error_type: str
    message: str
    cells: Sequence[str]


@dataclass(frozen=True)
class StoredImportError:
    id: int
    import_id: int
    line: int
    column_name: str | None
    column_index: int | None
    value: str | None
    error_type: str
    message: str
    cells: list[str]
    created_at: int


_SELECT = select(imports, event_definitions.c.name.label("definition_name")).join(
    event_definitions, event_definitions.c.id == imports.c.definition_id
)


def insert_import(
    conn: Connection,
    *,
    portal_id: int,
    definition_id: int,
    name: str,
    source: str,
    request: dict[str, Any],
    header: Sequence[str],
    staged_id: str,
    filename: str,
    total_rows: int,
    user_id: int | None,
    now_ms: int,
) -> int:
    new_id = conn.execute(
        insert(imports)
        .values(
            portal_id=portal_id,
            definition_id=definition_id,
            name=name,
            state=STARTED,
            source=source,
            request_json=_encode(request).decode(),
            header_json=_encode(list(header)).decode(),
            staged_id=staged_id,
            filename=filename,
            total_rows=total_rows,
            next_line=2,
            created_by_user_id=user_id,
            created_at=now_ms,
            updated_at=now_ms,
        )
        .returning(imports.c.id)
    ).scalar_one()
    return int(new_id)


def get(
    conn: Connection, import_id: int, *, portal_id: int | None = None, for_update: bool = False
) -> ImportRecord | None:
    """One import; with `portal_id`, only when it is that portal's."""
    query = _SELECT.where(imports.c.id == import_id)
    if portal_id is not None:
        query = query.where(imports.c.portal_id == portal_id)
    if for_update:
        query = query.with_for_update(of=imports)
    row = conn.execute(query).one_or_none()
    return row_import(row) if row is not None else None


def by_staged_id(conn: Connection, portal_id: int, staged_id: str) -> ImportRecord | None:
    """The portal's import of one uploaded file, if it was started (a file starts one)."""
    query = (
        _SELECT.where(imports.c.portal_id == portal_id, imports.c.staged_id == staged_id)
        .order_by(imports.c.id)
        .limit(1)
    )
    row = conn.execute(query).one_or_none()
    return row_import(row) if row is not None else None


def list_page(
    conn: Connection, portal_id: int, *, before_id: int | None, limit: int
) -> tuple[list[ImportRecord], int | None]:
    """Newest first; the cursor is the last id shown."""
    query = _SELECT.where(imports.c.portal_id == portal_id)
    if before_id is not None:
        query = query.where(imports.c.id < before_id)
    rows = conn.execute(query.order_by(imports.c.id.desc()).limit(limit + 1)).all()
    found = [row_import(row) for row in rows[:limit]]
    return found, (found[-1].id if len(rows) > limit and found else None)


def lock_state(conn: Connection, import_id: int) -> str | None:
    """The import's state, its row locked until commit (PostgreSQL) so that a cancel and
    a chunk's write never interleave."""
    query = select(imports.c.state).where(imports.c.id == import_id).with_for_update()
    state: str | None = conn.execute(query).scalar_one_or_none()
    return state


def set_state(
    conn: Connection,
    import_id: int,
    state: str,
    now_ms: int,
    *,
    from_states: Collection[str],
    reason: str | None = None,
) -> bool:
    """Move the import to `state` if it is in one of `from_states`; False otherwise."""
    values: dict[str, Any] = {"state": state, "updated_at": now_ms}
    if state in (DONE, FAILED, CANCELED, REVERTED):
        values["finished_at"] = now_ms
    if reason is not None:
        values["reason"] = reason
    result = conn.execute(
        update(imports)
        .where(imports.c.id == import_id, imports.c.state.in_(list(from_states)))
        .values(**values)
    )
    return result.rowcount == 1


def set_total_rows(conn: Connection, import_id: int, total_rows: int) -> None:
    conn.execute(update(imports).where(imports.c.id == import_id).values(total_rows=total_rows))


def advance(
    conn: Connection, import_id: int, delta: ImportCounters, next_line: int, now_ms: int
) -> None:
    """Count a committed chunk and move the resume point past it."""
    counts = {name: imports.c[name] + getattr(delta, name) for name in COUNTER_COLUMNS}
    conn.execute(
        update(imports)
        .where(imports.c.id == import_id)
        .values(next_line=next_line, updated_at=now_ms, **counts)
    )


def count_removed(conn: Connection, import_id: int, removed: int, now_ms: int) -> None:
    """Count completions a revert removed, in the transaction that removed them."""
    conn.execute(
        update(imports)
        .where(imports.c.id == import_id)
        .values(completions_removed=imports.c.completions_removed + removed, updated_at=now_ms)
    )


def insert_errors(
    conn: Connection, import_id: int, errors: Sequence[NewImportError], now_ms: int
) -> None:
    if not errors:
        return
    conn.execute(
        insert(import_errors),
        [
            {
                "import_id": import_id,
                "line": e.line,
                "column_name": e.column_name,
                "column_index": e.column_index,
                "value": e.value,
                "error_type": e.error_type,
                "message": e.message,
                "cells": _encode(list(e.cells)).decode(),
                "created_at": now_ms,
            }
            for e in errors
        ],
    )


def errors_page(
    conn: Connection, import_id: int, *, after_id: int | None, limit: int
) -> tuple[list[StoredImportError], int | None]:
    query = select(import_errors).where(import_errors.c.import_id == import_id)
    if after_id is not None:
        query = query.where(import_errors.c.id > after_id)
    rows = conn.execute(query.order_by(import_errors.c.id).limit(limit + 1)).all()
    found = [row_error(row) for row in rows[:limit]]
    return found, (found[-1].id if len(rows) > limit and found else None)


def iter_errors(
    conn: Connection, import_id: int, page_rows: int = 1_000
) -> Iterator[StoredImportError]:
    """Every error of an import in id order (which is line order), a page at a time."""
    after: int | None = None
    while True:
        page, after = errors_page(conn, import_id, after_id=after, limit=page_rows)
        yield from page
        if after is None:
            return


def add_records(conn: Connection, import_id: int, object_ids: Collection[int]) -> None:
    """Remember the contacts an import created (revert may remove them)."""
    if object_ids:
        conn.execute(
            insert(import_records),
            [{"import_id": import_id, "object_id": i} for i in sorted(object_ids)],
        )


def created_records(
    conn: Connection, import_id: int, *, after_id: int | None, limit: int
) -> list[int]:
    query = select(import_records.c.object_id).where(import_records.c.import_id == import_id)
    if after_id is not None:
        query = query.where(import_records.c.object_id > after_id)
    return list(conn.execute(query.order_by(import_records.c.object_id).limit(limit)).scalars())


def created_by(conn: Connection, import_id: int, object_ids: Collection[int]) -> set[int]:
    """Which of these records this import created."""
    if not object_ids:
        return set()
    query = select(import_records.c.object_id).where(
        import_records.c.import_id == import_id,
        import_records.c.object_id.in_(sorted(object_ids)),
    )
    return set(conn.execute(query).scalars())


def forget_records(conn: Connection, import_id: int, object_ids: Collection[int]) -> None:
    if object_ids:
        conn.execute(
            delete(import_records).where(
                import_records.c.import_id == import_id,
                import_records.c.object_id.in_(sorted(object_ids)),
            )
        )


def row_import(row: Row[Any]) -> ImportRecord:
    """The one row → ImportRecord mapper."""
    return ImportRecord(
        id=row.id,
        portal_id=row.portal_id,
        definition_id=row.definition_id,
        definition_name=row.definition_name,
        name=row.name,
        state=row.state,
        source=row.source,
        request=_decode_object(row.request_json),
        header=_decode_strings(row.header_json),
        staged_id=row.staged_id,
        filename=row.filename,
        total_rows=row.total_rows,
        next_line=row.next_line,
        counters=ImportCounters(*(getattr(row, name) for name in COUNTER_COLUMNS)),
        completions_removed=row.completions_removed,
        reason=row.reason,
        created_by_user_id=row.created_by_user_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        finished_at=row.finished_at,
    )


def row_error(row: Row[Any]) -> StoredImportError:
    """The one row → StoredImportError mapper."""
    return StoredImportError(
        id=row.id,
        import_id=row.import_id,
        line=row.line,
        column_name=row.column_name,
        column_index=row.column_index,
        value=row.value,
        error_type=row.error_type,
        message=row.message,
        cells=_decode_strings(row.cells),
        created_at=row.created_at,
    )


def contacts_holding_nothing(conn: Connection, portal_id: int, ids: Collection[int]) -> list[int]:
    """Which of these contacts have no occurrence and no identified visitor: what a
    revert may delete without taking anything else with them."""
    if not ids:
        return []
    has_event = (
        select(events.c.id)
        .where(
            events.c.portal_id == portal_id,
            events.c.object_type_id == CONTACT_TYPE_ID,
            events.c.object_id == crm_objects.c.id,
        )
        .exists()
    )
    has_visitor = select(visitors.c.id).where(visitors.c.contact_id == crm_objects.c.id).exists()
    query = select(crm_objects.c.id).where(
        crm_objects.c.portal_id == portal_id,
        crm_objects.c.object_type_id == CONTACT_TYPE_ID,
        crm_objects.c.id.in_(sorted(ids)),
        ~has_event,
        ~has_visitor,
    )
    return sorted(conn.execute(query).scalars())


def definition_name(conn: Connection, portal_id: int, definition_id: int) -> str | None:
    """The short name of a live definition of this portal, by id (6-{id})."""
    query = select(event_definitions.c.name).where(
        event_definitions.c.id == definition_id,
        event_definitions.c.portal_id == portal_id,
        event_definitions.c.deleted_at.is_(None),
    )
    name: str | None = conn.execute(query).scalar_one_or_none()
    return name


def staged_ids_in_use(conn: Connection) -> set[str]:
    """The staged files that imports not yet finished still read."""
    query = select(imports.c.staged_id).where(imports.c.state.in_(RUNNING_STATES))
    return set(conn.execute(query).scalars())
