"""A CRM record with its activity timeline: the page a person reads to see what one
contact (company, deal, ticket) did.

One read transaction per page: the record, the event types it can hold, how many of each
it holds, one page of its occurrences and the labels to show them with all come from one
snapshot, so the counts and the rows agree. An archived or unknown record is NotFound, as
on the CRM API.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from occur.domain.crm import OBJECT_ID, CrmObject, ObjectRef
from occur.domain.definitions import fully_qualified_name
from occur.domain.event_cursors import Position
from occur.domain.objects import ObjectType
from occur.services import crm
from occur.store import timeline as store
from occur.store.db import Database

PAGE_SIZE = 20


@dataclass(frozen=True)
class EventType:
    """An event type the timeline can be filtered to, and how often this record did it."""

    name: str  # fully qualified, as the event's page and the APIs name it
    label: str
    count: int | None  # None when the page did not ask for counts


@dataclass(frozen=True)
class TimelineItem:
    id: int
    event_name: str  # fully qualified
    label: str
    occurred_at: int
    properties: tuple[tuple[str, str], ...]  # (property label, stored value), defined ones


@dataclass(frozen=True)
class Timeline:
    record: CrmObject
    event_types: tuple[EventType, ...]
    chosen: tuple[str, ...]  # the filter's event names that exist; empty: every type
    items: tuple[TimelineItem, ...]
    total: int | None  # occurrences the filter matches, when counts were asked for
    next_after: Position | None  # cursor of the next (older) page


def record_timeline(
    db: Database,
    portal_id: int,
    object_type: ObjectType,
    raw_id: str,
    *,
    event_names: Sequence[str] = (),
    after: Position | None = None,
    limit: int = PAGE_SIZE,
    with_counts: bool = True,
) -> Timeline:
    """The record and one page of its completed events, newest first.

    `event_names` (fully qualified) narrows the timeline to those types; names that are
    not live event types of this object type are dropped, and a filter left with none
    shows nothing (rather than everything, which is not what was asked). `after` is the
    previous page's `next_after`. `with_counts=False` skips the per-type counts for a
    "load more" fragment, which shows none.
    """
    ref = ObjectRef(OBJECT_ID, raw_id)
    with db.read() as conn:
        record = crm.one(conn, portal_id, object_type, ref)
        types = store.live_event_types(conn, portal_id, object_type.type_id)
        counts = (
            store.counts_by_type(conn, portal_id, object_type.type_id, record.id)
            if with_counts
            else None
        )
        by_name = {fully_qualified_name(portal_id, t.name): t for t in types}
        wanted = set(event_names)
        chosen = [name for name in by_name if name in wanted]
        ids = [by_name[name].id for name in chosen] if wanted else None
        rows: list[store.TimelineEvent] = []
        if ids is None or ids:
            rows = store.record_events(
                conn,
                portal_id,
                object_type.type_id,
                record.id,
                definition_ids=ids,
                older_than=after,
                limit=limit + 1,
            )
        more = len(rows) > limit
        rows = rows[:limit]
        labels = store.property_labels(conn, {r.definition_id for r in rows})
    by_id = {t.id: (name, t) for name, t in by_name.items()}
    items = tuple(
        TimelineItem(
            id=row.id,
            event_name=by_id[row.definition_id][0],
            label=by_id[row.definition_id][1].label,
            occurred_at=row.occurred_at,
            properties=tuple(
                (p.label, row.properties[p.name])
                for p in labels[row.definition_id]
                if p.name in row.properties
            ),
        )
        for row in rows
        if row.definition_id in by_id
    )
    event_types = tuple(
        EventType(name, t.label, None if counts is None else counts.get(t.id, 0))
        for name, t in by_name.items()
    )
    total = None
    if counts is not None:
        counted = ids if ids is not None else [t.id for t in types]
        total = sum(counts.get(i, 0) for i in counted)
    return Timeline(
        record=record,
        event_types=event_types,
        chosen=tuple(chosen),
        items=items,
        total=total,
        next_after=rows[-1].position if more and rows else None,
    )
