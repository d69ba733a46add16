"""Event occurrences. All access to the events and event_values tables goes through here."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import Connection, bindparam, delete, func, select, text, update

from occur.store.schema import event_values, events

# event_values.value_key holds this many leading characters of the value (see schema).
VALUE_KEY_CHARS = 200

_encode = msgspec.json.Encoder().encode
_decode_values = msgspec.json.Decoder(dict[str, str]).decode


@dataclass(frozen=True, slots=True)
class NewEvent:
    """One occurrence as the writer stores it: its record is resolved, its uuid chosen."""

    definition_id: int
    uuid: str
    object_type_id: str
    object_id: int | None
    visitor_id: int | None
    occurred_at: int
    properties: Mapping[str, str]
    # The spreadsheet import that stores it (None: a send or the tracking script).
    import_id: int | None = None


# The writer's per-group statements, built once: building a statement costs more than
# running it (cProfile of services.ingest_store.store_group).
_TOP_EVENT_ID = select(func.coalesce(func.max(events.c.id), 0))
_STORED_UUIDS = select(events.c.definition_id, events.c.uuid).where(
    events.c.definition_id.in_(bindparam("definition_ids", expanding=True)),
    events.c.uuid.in_(bindparam("uuids", expanding=True)),
)


def value_key(value: str) -> str:
    """What the indexed column holds for a value (and what a filter compares first)."""
    return value[:VALUE_KEY_CHARS]


def record_key(object_id: int | None, visitor_id: int | None) -> int | None:
    """One number per record for distinct counts: the object id, or minus the visitor id
    while the occurrence is anonymous (both ids are positive, so they never meet)."""
    if object_id is not None:
        return object_id
    return -visitor_id if visitor_id is not None else None


def encode_properties(values: Mapping[str, str]) -> str:
    return _encode(values).decode()


def decode_properties(text: str) -> dict[str, str]:
    return _decode_values(text)


def insert_events(
    conn: Connection, portal_id: int, rows: Sequence[NewEvent], received_at: int
) -> list[int]:
    """Store occurrences and their indexed values; returns the new ids in `rows` order.

    Ids are taken up front so that both tables go in as plain executemany: an INSERT …
    RETURNING per row costs several times the insert itself on SQLite (measured with
    bench/ingest.py), and the value rows need their event's id.
    """
    if not rows:
        return []
    ids = _allocate_ids(conn, len(rows))
    _bulk_insert(
        conn,
        "events",
        _EVENT_COLUMNS,
        [
            (
                event_id,
                portal_id,
                row.definition_id,
                row.uuid,
                row.object_type_id,
                row.object_id,
                row.visitor_id,
                row.occurred_at,
                received_at,
                encode_properties(row.properties),
                row.import_id,
            )
            for event_id, row in zip(ids, rows, strict=True)
        ],
    )
    values = [
        (event_id, name, row.definition_id, row.occurred_at, value_key(value), value, record)
        for event_id, row in zip(ids, rows, strict=True)
        for record in (record_key(row.object_id, row.visitor_id),)
        for name, value in row.properties.items()
    ]
    if values:
        _bulk_insert(conn, "event_values", _VALUE_COLUMNS, values)
    return ids


_EVENT_COLUMNS = (
    "id",
    "portal_id",
    "definition_id",
    "uuid",
    "object_type_id",
    "object_id",
    "visitor_id",
    "occurred_at",
    "received_at",
    "properties",
    "import_id",
)
_VALUE_COLUMNS = (
    "event_id",
    "name",
    "definition_id",
    "occurred_at",
    "value_key",
    "value",
    "record_key",
)


def _bulk_insert(
    conn: Connection, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    """The hot path's inserts, at the driver's own speed (measured with bench/ingest.py):
    COPY on PostgreSQL (an executemany there is a statement per row), and on SQLite a
    plain positional executemany, skipping SQLAlchemy's per-row parameter processing,
    which cost a third of the insert time."""
    names = ", ".join(columns)
    if conn.dialect.name == "postgresql":
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" * len(columns))
    conn.exec_driver_sql(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)


def _allocate_ids(conn: Connection, count: int) -> list[int]:
    """`count` new event ids. SQLite: past the largest id, which is safe because the
    caller holds SQLite's one write lock (BEGIN IMMEDIATE) until commit. PostgreSQL: from
    the id sequence, so concurrent writers never collide."""
    if conn.dialect.name == "sqlite":
        top = conn.execute(_TOP_EVENT_ID).scalar_one()
        return list(range(top + 1, top + 1 + count))
    query = text(
        "SELECT nextval(pg_get_serial_sequence('events', 'id')) FROM generate_series(1, :n)"
    )
    return list(conn.execute(query, {"n": count}).scalars())


def existing_uuids(conn: Connection, pairs: Collection[tuple[int, str]]) -> set[tuple[int, str]]:
    """Which (definition id, uuid) pairs are stored already: the dedup check.

    One probe of the unique (definition_id, uuid) index per pair. On PostgreSQL the pairs
    go in as two arrays joined through unnest: with an IN list of bound parameters the
    planner may scan the definition's every row instead (measured: 280 ms for 500 uuids
    in a 10,000-row table without statistics).
    """
    if not pairs:
        return set()
    wanted = sorted(set(pairs))
    if conn.dialect.name == "postgresql":
        query = text(
            "SELECT e.definition_id, e.uuid"
            " FROM unnest(CAST(:definition_ids AS integer[]), CAST(:uuids AS text[]))"
            " AS wanted(definition_id, uuid)"
            " JOIN events e ON e.definition_id = wanted.definition_id AND e.uuid = wanted.uuid"
        )
        params = {"definition_ids": [d for d, _ in wanted], "uuids": [u for _, u in wanted]}
        return {(row.definition_id, row.uuid) for row in conn.execute(query, params)}
    params = {
        "definition_ids": sorted({definition_id for definition_id, _ in wanted}),
        "uuids": sorted({uuid for _, uuid in wanted}),
    }
    return {(row.definition_id, row.uuid) for row in conn.execute(_STORED_UUIDS, params)} & set(
        wanted
    )


def attach_visitor_events(conn: Connection, visitor_id: int, contact_id: int) -> int:
    """Move a visitor's anonymous occurrences to the contact it turned out to be, their
    value rows' record copy first (it is found through the events rows still anonymous)."""
    moving = select(events.c.id).where(
        events.c.visitor_id == visitor_id, events.c.object_id.is_(None)
    )
    conn.execute(
        update(event_values)
        .where(event_values.c.event_id.in_(moving))
        .values(record_key=contact_id)
    )
    result = conn.execute(
        update(events)
        .where(events.c.visitor_id == visitor_id, events.c.object_id.is_(None))
        .values(object_id=contact_id)
    )
    return result.rowcount


def delete_for_definition(conn: Connection, portal_id: int, definition_id: int) -> int:
    """Remove every occurrence of one event type; returns how many went."""
    conn.execute(delete(event_values).where(event_values.c.definition_id == definition_id))
    result = conn.execute(
        delete(events).where(
            events.c.portal_id == portal_id, events.c.definition_id == definition_id
        )
    )
    return result.rowcount


def delete_for_object(conn: Connection, portal_id: int, object_type_id: str, object_id: int) -> int:
    """Remove every occurrence attached to one CRM record (GDPR delete)."""
    result = conn.execute(
        delete(events).where(
            events.c.portal_id == portal_id,
            events.c.object_type_id == object_type_id,
            events.c.object_id == object_id,
        )
    )
    return result.rowcount


def delete_for_import(conn: Connection, portal_id: int, import_id: int, limit: int) -> int:
    """Remove up to `limit` occurrences an import stored (revert works in batches, so
    no one transaction holds the write lock for long); returns how many went."""
    ids = list(
        conn.execute(
            select(events.c.id)
            .where(events.c.import_id == import_id, events.c.portal_id == portal_id)
            .limit(limit)
        ).scalars()
    )
    if not ids:
        return 0
    conn.execute(delete(event_values).where(event_values.c.event_id.in_(ids)))
    conn.execute(delete(events).where(events.c.id.in_(ids)))
    return len(ids)


def objects_with_events(
    conn: Connection, portal_id: int, object_type_id: str, object_ids: Collection[int]
) -> set[int]:
    """Which of these records have at least one occurrence."""
    if not object_ids:
        return set()
    query = (
        select(events.c.object_id)
        .distinct()
        .where(
            events.c.portal_id == portal_id,
            events.c.object_type_id == object_type_id,
            events.c.object_id.in_(sorted(object_ids)),
        )
    )
    return {int(object_id) for object_id in conn.execute(query).scalars()}
