"""Event occurrences. All access to the events table goes through this module."""

from __future__ import annotations

from sqlalchemy import Connection, delete

from occur.store.schema import events


def delete_for_definition(conn: Connection, portal_id: int, definition_id: int) -> int:
    """Remove every occurrence of one event type; returns how many went."""
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
