"""A CRM record's activity timeline: its occurrences newest first, optionally only those of
some chosen event types, plus how many it holds of each type.

Every statement on `events` here is an index range of
`ix_events_portal_id_object_type_id_object_id_occurred_at_id`: one record's entries in
(occurred_at, id) order, read backwards from the page's cursor. store/event_reads.py
filters on one event type at most; the timeline filter takes several, checked on the rows
that range yields. It is written `definition_id + 0 IN (…)` so that no planner enters
through `(definition_id, occurred_at, id)` instead: that range spans the type's whole
history across every record (up to hundreds of thousands of rows), while one record's
history stays small. Measured on PostgreSQL: without the `+ 0` it chose that index for a
rare type. With a filter it may read the record's range as a bitmap and sort the rows that
pass, which is bounded by the record too. tests/services/test_timeline.py checks the plans
on both engines.

Anonymous occurrences (object_id NULL) never match a record id, so they never show here.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, Select, and_, func, literal, or_, select

from occur.domain.event_cursors import Position
from occur.store.events import decode_properties
from occur.store.schema import event_definitions as defs
from occur.store.schema import event_properties as props
from occur.store.schema import events


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """One occurrence on a record's timeline, as stored."""

    id: int
    definition_id: int
    occurred_at: int
    properties: dict[str, str]

    @property
    def position(self) -> Position:
        return Position(self.occurred_at, self.id)


@dataclass(frozen=True, slots=True)
class EventTypeRow:
    """A live event type a record of this object type can hold."""

    id: int
    name: str
    label: str


@dataclass(frozen=True, slots=True)
class PropertyLabel:
    name: str
    label: str


def select_record_events(
    portal_id: int,
    object_type_id: str,
    object_id: int,
    *,
    definition_ids: Collection[int] | None,
    older_than: Position | None,
    limit: int,
) -> Select[Any]:
    """The record's occurrences newest first, strictly older than `older_than`; only
    those of `definition_ids` unless that is None."""
    query = select(
        events.c.id, events.c.definition_id, events.c.occurred_at, events.c.properties
    ).where(*_record(portal_id, object_type_id, object_id))
    if definition_ids is not None:
        query = query.where(_of_types(definition_ids))
    if older_than is not None:
        t, i = older_than.occurred_at, older_than.event_id
        # A plain range on occurred_at first, so that both planners bound the index scan
        # with it; the OR alone is not always used as a bound.
        at, row_id = events.c.occurred_at, events.c.id
        query = query.where(and_(at <= t, or_(at < t, row_id < i)))
    order = (events.c.occurred_at.desc(), events.c.id.desc())
    return query.order_by(*order).limit(limit)


def record_events(
    conn: Connection,
    portal_id: int,
    object_type_id: str,
    object_id: int,
    *,
    definition_ids: Collection[int] | None,
    older_than: Position | None,
    limit: int,
) -> list[TimelineEvent]:
    query = select_record_events(
        portal_id,
        object_type_id,
        object_id,
        definition_ids=definition_ids,
        older_than=older_than,
        limit=limit,
    )
    return [_timeline_event(row) for row in conn.execute(query)]


def select_counts(portal_id: int, object_type_id: str, object_id: int) -> Select[Any]:
    return (
        select(events.c.definition_id, func.count().label("n"))
        .where(*_record(portal_id, object_type_id, object_id))
        .group_by(events.c.definition_id)
    )


def counts_by_type(
    conn: Connection, portal_id: int, object_type_id: str, object_id: int
) -> dict[int, int]:
    """How many occurrences the record holds of each event type (by definition id)."""
    rows = conn.execute(select_counts(portal_id, object_type_id, object_id))
    return {row.definition_id: int(row.n) for row in rows}


def live_event_types(conn: Connection, portal_id: int, object_type_id: str) -> list[EventTypeRow]:
    """The portal's live event types whose occurrences attach to this object type,
    by label."""
    query = (
        select(defs.c.id, defs.c.name, defs.c.label)
        .where(
            defs.c.portal_id == portal_id,
            defs.c.deleted_at.is_(None),
            defs.c.object_type_id == object_type_id,
        )
        .order_by(func.lower(defs.c.label), defs.c.id)
    )
    return [EventTypeRow(row.id, row.name, row.label) for row in conn.execute(query)]


def property_labels(
    conn: Connection, definition_ids: Collection[int]
) -> dict[int, list[PropertyLabel]]:
    """The defined properties of these event types, custom ones first (they are what the
    event is about), then HubSpot's defaults, each group in the order it was defined."""
    if not definition_ids:
        return {}
    query = (
        select(props.c.definition_id, props.c.name, props.c.label)
        .where(props.c.definition_id.in_(sorted(set(definition_ids))))
        .order_by(props.c.definition_id, props.c.hubspot_defined, props.c.id)
    )
    found: dict[int, list[PropertyLabel]] = {i: [] for i in definition_ids}
    for row in conn.execute(query):
        found[row.definition_id].append(PropertyLabel(row.name, row.label))
    return found


def _record(portal_id: int, object_type_id: str, object_id: int) -> list[ColumnElement[bool]]:
    return [
        events.c.portal_id == portal_id,
        events.c.object_type_id == object_type_id,
        events.c.object_id == object_id,
    ]


def _of_types(definition_ids: Collection[int]) -> ColumnElement[bool]:
    """Checked per row of the record's range, never an index entry point (module doc)."""
    return (events.c.definition_id + literal(0)).in_(sorted(set(definition_ids)))


def _timeline_event(row: Row[Any]) -> TimelineEvent:
    return TimelineEvent(
        id=row.id,
        definition_id=row.definition_id,
        occurred_at=row.occurred_at,
        properties=decode_properties(row.properties),
    )
