"""Event occurrences. All access to the events and event_values tables goes through here."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import msgspec
from sqlalchemy import Connection, delete, insert, select, update

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


def value_key(value: str) -> str:
    """What the indexed column holds for a value (and what a filter compares first)."""
    return value[:VALUE_KEY_CHARS]


def encode_properties(values: Mapping[str, str]) -> str:
    return _encode(values).decode()


def decode_properties(text: str) -> dict[str, str]:
    return _decode_values(text)


def insert_events(
    conn: Connection, portal_id: int, rows: Sequence[NewEvent], received_at: int
) -> list[int]:
    """Store occurrences and their indexed values; returns the new ids in `rows` order."""
    if not rows:
        return []
    params = [
        {
            "portal_id": portal_id,
            "definition_id": row.definition_id,
            "uuid": row.uuid,
            "object_type_id": row.object_type_id,
            "object_id": row.object_id,
            "visitor_id": row.visitor_id,
            "occurred_at": row.occurred_at,
            "received_at": received_at,
            "properties": encode_properties(row.properties),
        }
        for row in rows
    ]
    result = conn.execute(
        insert(events).returning(events.c.id, sort_by_parameter_order=True), params
    )
    ids = [found_id for (found_id,) in result]
    values = [
        {
            "event_id": event_id,
            "name": name,
            "definition_id": row.definition_id,
            "occurred_at": row.occurred_at,
            "value_key": value_key(value),
            "value": value,
        }
        for event_id, row in zip(ids, rows, strict=True)
        for name, value in row.properties.items()
    ]
    if values:
        conn.execute(insert(event_values), values)
    return ids


def existing_uuids(conn: Connection, pairs: Collection[tuple[int, str]]) -> set[tuple[int, str]]:
    """Which (definition id, uuid) pairs are stored already: the dedup check."""
    if not pairs:
        return set()
    definition_ids = sorted({definition_id for definition_id, _ in pairs})
    uuids = sorted({uuid for _, uuid in pairs})
    query = select(events.c.definition_id, events.c.uuid).where(
        events.c.definition_id.in_(definition_ids), events.c.uuid.in_(uuids)
    )
    wanted = set(pairs)
    return {(row.definition_id, row.uuid) for row in conn.execute(query)} & wanted


def attach_visitor_events(conn: Connection, visitor_id: int, contact_id: int) -> int:
    """Move a visitor's anonymous occurrences to the contact it turned out to be."""
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
