"""Reading occurrences back: one page of a filtered, keyset-ordered read.

Every read is served by an index range in (occurred_at, id) order, never by a scan of the
JSON `properties` column. The query takes one of three shapes, chosen by what is known:

- a record (object_id): `ix_events_portal_id_object_type_id_object_id_occurred_at_id`;
- an event type with `property.{name}` filters: `ix_event_values_lookup`, entered on
  (definition, name, first 200 characters of the value), already in time order;
- an event type alone: `ix_events_definition_id_occurred_at_id`.

Further filters are checked on the rows those ranges yield: other property filters
through event_values' primary key (event_id, name), ids, the object type. A property
filter only matches a name the event's definition defines now, so that values kept for a
name not (or no longer) defined stay hidden (DESIGN §3b). Anonymous occurrences
(object_id NULL) are never returned.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, Select, and_, exists, or_, select

from occur.domain.event_cursors import Position
from occur.store.events import decode_properties, value_key
from occur.store.schema import event_definitions as defs
from occur.store.schema import event_properties as props
from occur.store.schema import event_values, events

_COLUMNS = (
    events.c.id,
    events.c.uuid,
    events.c.definition_id,
    events.c.object_type_id,
    events.c.object_id,
    events.c.occurred_at,
    events.c.properties,
)


@dataclass(frozen=True)
class EventFilter:
    """What rows a read wants, with every name already resolved to stored ids."""

    portal_id: int
    definition_id: int | None = None
    object_type_id: str | None = None
    object_id: int | None = None
    occurred_from: int | None = None  # inclusive
    occurred_until: int | None = None  # exclusive
    values: tuple[tuple[str, str], ...] = ()  # (name, stored text), all must hold
    uuids: tuple[str, ...] = ()


@dataclass(frozen=True)
class StoredEvent:
    id: int
    uuid: str
    definition_id: int
    object_type_id: str
    object_id: int
    occurred_at: int
    properties: dict[str, str]

    @property
    def position(self) -> Position:
        return Position(self.occurred_at, self.id)


@dataclass(frozen=True)
class DefinitionNames:
    """What a read shows of an event's definition: its name and defined property names."""

    name: str
    property_names: frozenset[str]


def select_events(
    f: EventFilter, *, ascending: bool, beyond: Position | None, limit: int
) -> Select[Any]:
    """The rows of `f` in (occurred_at, id) order, strictly past `beyond` in that order."""
    if f.object_id is None and f.definition_id is not None and f.values:
        return _by_value(f, ascending=ascending, beyond=beyond, limit=limit)
    query = select(*_COLUMNS).where(*_event_conditions(f, f.values))
    query = query.where(*_window(events.c.occurred_at, events.c.id, f, ascending, beyond))
    return query.order_by(*_order(events.c.occurred_at, events.c.id, ascending)).limit(limit)


def find_events(
    conn: Connection, f: EventFilter, *, ascending: bool, beyond: Position | None, limit: int
) -> list[StoredEvent]:
    query = select_events(f, ascending=ascending, beyond=beyond, limit=limit)
    return [_stored(row) for row in conn.execute(query)]


def any_event(conn: Connection, f: EventFilter, *, ascending: bool, beyond: Position) -> bool:
    """Whether a row of `f` lies past `beyond`: does a page have a neighbour there."""
    query = select_events(f, ascending=ascending, beyond=beyond, limit=1)
    return conn.execute(query).first() is not None


def definition_names(
    conn: Connection, portal_id: int, definition_ids: Collection[int]
) -> dict[int, DefinitionNames]:
    """The live definitions among these ids, with the names of their properties."""
    if not definition_ids:
        return {}
    query = (
        select(defs.c.id, defs.c.name, props.c.name.label("property_name"))
        .select_from(defs.outerjoin(props, props.c.definition_id == defs.c.id))
        .where(
            defs.c.portal_id == portal_id,
            defs.c.deleted_at.is_(None),
            defs.c.id.in_(sorted(set(definition_ids))),
        )
    )
    names: dict[int, str] = {}
    properties: dict[int, set[str]] = {}
    for row in conn.execute(query):
        names[row.id] = row.name
        found = properties.setdefault(row.id, set())
        if row.property_name is not None:
            found.add(row.property_name)
    return {i: DefinitionNames(names[i], frozenset(properties[i])) for i in names}


def live_event_names(conn: Connection, portal_id: int) -> list[str]:
    """The short names of the portal's live definitions, sorted."""
    query = (
        select(defs.c.name)
        .where(defs.c.portal_id == portal_id, defs.c.deleted_at.is_(None))
        .order_by(defs.c.name)
    )
    return list(conn.execute(query).scalars())


def _by_value(
    f: EventFilter, *, ascending: bool, beyond: Position | None, limit: int
) -> Select[Any]:
    """Enter through the first property filter's index range, in time order already."""
    (name, value), *others = f.values
    v = event_values.alias("v")
    query = (
        select(*_COLUMNS)
        .select_from(v.join(events, events.c.id == v.c.event_id))
        .where(
            v.c.definition_id == f.definition_id,
            v.c.name == name,
            v.c.value_key == value_key(value),
            v.c.value == value,
            _defined(name, f.definition_id),
            *_event_conditions(f, others),
            *_window(v.c.occurred_at, v.c.event_id, f, ascending, beyond),
        )
    )
    return query.order_by(*_order(v.c.occurred_at, v.c.event_id, ascending)).limit(limit)


def _event_conditions(
    f: EventFilter, values: Sequence[tuple[str, str]]
) -> list[ColumnElement[bool]]:
    where = [events.c.portal_id == f.portal_id]
    if f.object_id is not None:
        where.append(events.c.object_id == f.object_id)
    else:
        where.append(events.c.object_id.is_not(None))
    if f.object_type_id is not None:
        where.append(events.c.object_type_id == f.object_type_id)
    if f.definition_id is not None:
        where.append(events.c.definition_id == f.definition_id)
    if f.uuids:
        where.append(events.c.uuid.in_(f.uuids))
    for name, value in values:
        where.append(_has_value(name, value, f.definition_id))
    return where


def _has_value(name: str, value: str, definition_id: int | None) -> ColumnElement[bool]:
    """The occurrence holds `value` for `name`: one probe of event_values' primary key."""
    v = event_values.alias()
    return and_(
        exists().where(
            v.c.event_id == events.c.id,
            v.c.name == name,
            v.c.value_key == value_key(value),
            v.c.value == value,
        ),
        _defined(name, definition_id),
    )


def _defined(name: str, definition_id: int | None) -> ColumnElement[bool]:
    """The occurrence's event type defines `name` now (its unique index answers); with the
    type known that is one check for the whole read, else one per row."""
    owner = events.c.definition_id if definition_id is None else definition_id
    return exists().where(props.c.definition_id == owner, props.c.name == name)


def _window(
    at: Any, row_id: Any, f: EventFilter, ascending: bool, beyond: Position | None
) -> list[ColumnElement[bool]]:
    """The time range and the keyset bound, written as plain ranges on `at` so that both
    planners use them as index bounds (a row-value or OR alone is not always one)."""
    where: list[ColumnElement[bool]] = []
    if f.occurred_from is not None:
        where.append(at >= f.occurred_from)
    if f.occurred_until is not None:
        where.append(at < f.occurred_until)
    if beyond is not None:
        t, i = beyond.occurred_at, beyond.event_id
        if ascending:
            where.append(and_(at >= t, or_(at > t, row_id > i)))
        else:
            where.append(and_(at <= t, or_(at < t, row_id < i)))
    return where


def _order(at: Any, row_id: Any, ascending: bool) -> tuple[Any, Any]:
    return (at, row_id) if ascending else (at.desc(), row_id.desc())


def _stored(row: Row[Any]) -> StoredEvent:
    return StoredEvent(
        id=row.id,
        uuid=row.uuid,
        definition_id=row.definition_id,
        object_type_id=row.object_type_id,
        object_id=row.object_id,
        occurred_at=row.occurred_at,
        properties=decode_properties(row.properties),
    )
