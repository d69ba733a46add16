"""Reading occurrences: one page of `GET /events/v3/events`, and the portal's event types.

The query names things as a client knows them (a fully qualified event name, an email);
this resolves them to stored ids inside one read transaction, so the page, its paging
links and the names shown all come from one snapshot. A name that resolves to nothing
(another portal's event, an unknown email) is an empty page, not an error: the client
asked a valid question whose answer is "none".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection

from occur.domain.definitions import EventDefinition, fully_qualified_name
from occur.domain.event_cursors import Position
from occur.domain.event_queries import EventQuery, event_name_in_portal, filter_value
from occur.domain.objects import CONTACT, OBJECT_TYPES, find_object_type
from occur.store import crm as crm_store
from occur.store import definitions as definition_store
from occur.store import event_reads as store
from occur.store.db import Database
from occur.store.event_reads import DefinitionNames, EventFilter, StoredEvent


@dataclass(frozen=True)
class EventView:
    """One occurrence as the read API shows it."""

    object_type: str  # upper-case, e.g. CONTACT
    object_id: int
    event_type: str  # fully qualified name
    occurred_at: int
    id: str  # the occurrence's uuid
    properties: dict[str, str]


@dataclass(frozen=True)
class EventPage:
    events: list[EventView] = field(default_factory=list)
    next_after: Position | None = None
    prev_before: Position | None = None


def read_page(db: Database, portal_id: int, query: EventQuery) -> EventPage:
    with db.read() as conn:
        found = _resolve(conn, portal_id, query)
        if found is None:
            return EventPage()
        return _page(conn, portal_id, query, found)


def event_types(db: Database, portal_id: int) -> list[str]:
    """The fully qualified names of the portal's live event definitions, sorted."""
    with db.read() as conn:
        names = store.live_event_names(conn, portal_id)
    return sorted(fully_qualified_name(portal_id, name) for name in names)


def _resolve(conn: Connection, portal_id: int, query: EventQuery) -> EventFilter | None:
    """The stored ids the query's names stand for; None when a name matches nothing."""
    definition: EventDefinition | None = None
    if query.event_type is not None:
        short = event_name_in_portal(portal_id, query.event_type)
        if short is None:
            return None
        definition = definition_store.get_definition(conn, portal_id, short)
        if definition is None:
            return None
        if query.object_type not in (None, definition.object_type):
            return None
    object_id = query.object_id
    if query.email is not None:
        contacts = crm_store.find_by_emails(conn, portal_id, CONTACT, [query.email])
        contact = contacts.get(query.email)
        if contact is None or object_id not in (None, contact.id):
            return None
        object_id = contact.id
    return EventFilter(
        portal_id=portal_id,
        definition_id=definition.id if definition is not None else None,
        object_type_id=query.object_type.type_id if query.object_type is not None else None,
        object_id=object_id,
        occurred_from=query.occurred_after,
        occurred_until=query.occurred_before,
        values=tuple(
            (name, filter_value(definition, name, raw)) for name, raw in query.property_values
        ),
        uuids=query.ids,
    )


def _page(conn: Connection, portal_id: int, query: EventQuery, f: EventFilter) -> EventPage:
    """Keyset paging both ways. A `before` page is read backwards from its cursor and
    turned round; whether there is a page on the side the read did not run to is one more
    indexed probe of a single row."""
    forward = not query.newest_first  # the order shown, as ascending (occurredAt, id)
    backwards = query.before is not None
    cursor = query.before or query.after
    rows = store.find_events(
        conn, f, ascending=forward != backwards, beyond=cursor, limit=query.limit + 1
    )
    overflow = len(rows) > query.limit
    rows = rows[: query.limit]
    if backwards:
        rows.reverse()
    step = 1 if forward else -1  # one id later in the order shown
    if backwards:
        prev_before = rows[0].position if overflow else None
        # past the last row shown; on an empty page, from the cursor's own row on
        last = rows[-1].position if rows else _beside(cursor, -step)
        more = last is not None and store.any_event(conn, f, ascending=forward, beyond=last)
        next_after = last if more else None
    else:
        next_after = rows[-1].position if overflow else None
        # a first page (no cursor) has nothing before it
        first = rows[0].position if rows else _beside(cursor, step)
        more = (
            cursor is not None
            and first is not None
            and store.any_event(conn, f, ascending=not forward, beyond=first)
        )
        prev_before = first if more else None
    shown = store.definition_names(conn, portal_id, {r.definition_id for r in rows})
    views = [
        _view(portal_id, r, shown[r.definition_id], query) for r in rows if r.definition_id in shown
    ]
    return EventPage(views, next_after, prev_before)


def _beside(cursor: Position | None, by: int) -> Position | None:
    return cursor.shifted(by) if cursor is not None else None


def _view(portal_id: int, row: StoredEvent, names: DefinitionNames, query: EventQuery) -> EventView:
    visible = names.property_names
    if query.properties is not None:
        visible = visible & query.properties
    object_type = find_object_type(row.object_type_id) or OBJECT_TYPES[0]
    return EventView(
        object_type=object_type.primary_object,
        object_id=row.object_id,
        event_type=fully_qualified_name(portal_id, names.name),
        occurred_at=row.occurred_at,
        id=row.uuid,
        properties={k: v for k, v in sorted(row.properties.items()) if k in visible},
    )
