"""Event definitions and their properties. Every query is scoped to one portal."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, and_, bindparam, delete, func, insert, or_, select, update

from occur.domain.definitions import EventDefinition, MatchingRule
from occur.domain.objects import OBJECT_TYPES, find_object_type
from occur.domain.properties import DEFAULT_PROPERTIES, Option, PropertySpec, PropertyType
from occur.store.schema import event_definitions as defs
from occur.store.schema import event_properties as props
from occur.store.schema import portals

_LIVE = defs.c.deleted_at.is_(None)
# Built once: the writer runs it for every group, and building a statement costs more
# than running it (cProfile of services.ingest_store.store_group).
_LIVE_VERSIONS = select(defs.c.id, defs.c.version).where(
    defs.c.id.in_(bindparam("ids", expanding=True)), _LIVE
)
# Definition ids are 32-bit on PostgreSQL (64-bit on SQLite): a larger cursor would make
# the driver fail, though it compares with every real id as this bound does.
_MAX_ID = 2**31 - 1


@dataclass(frozen=True)
class DefinitionPage:
    total: int
    definitions: list[EventDefinition]
    next_after: int | None


def name_taken(conn: Connection, portal_id: int, name: str) -> bool:
    """True when the portal has, or ever had, a definition of this name."""
    found = conn.execute(
        select(defs.c.id).where(defs.c.portal_id == portal_id, defs.c.name == name)
    ).first()
    return found is not None


def lock_portal(conn: Connection, portal_id: int) -> None:
    """Hold the portal's row until commit, so its creates queue one after another.

    Without it two PostgreSQL transactions could both count below the portal's cap, or
    both derive the same free name, and then both insert. SQLite needs no lock: its
    write transactions (BEGIN IMMEDIATE) already run one at a time.
    """
    conn.execute(select(portals.c.id).where(portals.c.id == portal_id).with_for_update())


def count_live(conn: Connection, portal_id: int) -> int:
    query = select(func.count()).select_from(defs).where(defs.c.portal_id == portal_id, _LIVE)
    return int(conn.execute(query).scalar_one())


def insert_definition(
    conn: Connection,
    *,
    portal_id: int,
    name: str,
    label: str,
    description: str,
    object_type_id: str,
    tracking_type: str,
    matching_rule: MatchingRule | None,
    properties: Sequence[PropertySpec],
    now_ms: int,
    code: str | None = None,
    tracking_rule: str | None = None,
) -> int:
    definition_id: int = conn.execute(
        insert(defs)
        .values(
            portal_id=portal_id,
            name=name,
            label=label,
            description=description,
            object_type_id=object_type_id,
            tracking_type=tracking_type,
            matching_event_property=matching_rule.event_property_name if matching_rule else None,
            matching_target_property=(
                matching_rule.target_object_property_name if matching_rule else None
            ),
            created_at=now_ms,
            updated_at=now_ms,
            custom_code=code,
            tracking_rule=tracking_rule,
        )
        .returning(defs.c.id)
    ).scalar_one()
    if properties:
        conn.execute(
            insert(props), [_property_values(definition_id, p, now_ms) for p in properties]
        )
    return definition_id


def get_definition(
    conn: Connection, portal_id: int, name: str, *, for_update: bool = False
) -> EventDefinition | None:
    """The live definition of this short name in this portal.

    `for_update` holds its row until commit, so that changes to one definition's
    properties queue on PostgreSQL instead of racing past the duplicate and 50-property
    checks; its properties are then read after the lock is granted.
    """
    query = select(defs).where(defs.c.portal_id == portal_id, defs.c.name == name, _LIVE)
    row = conn.execute(query.with_for_update() if for_update else query).first()
    if row is None:
        return None
    return _definition(row, _properties_of(conn, [row.id])[row.id])


def live_versions(conn: Connection, definition_ids: Collection[int]) -> dict[int, int]:
    """The version of each of these definitions that is still live."""
    if not definition_ids:
        return {}
    rows = conn.execute(_LIVE_VERSIONS, {"ids": sorted(set(definition_ids))})
    return {row.id: row.version for row in rows}


def list_definitions(
    conn: Connection,
    portal_id: int,
    *,
    search: str | None,
    limit: int,
    after_id: int | None,
    include_properties: bool,
    descending: bool = False,
) -> DefinitionPage:
    where = [defs.c.portal_id == portal_id, _LIVE]
    if search:
        needle = search.lower()
        where.append(
            or_(
                func.lower(defs.c.name).contains(needle, autoescape=True),
                func.lower(defs.c.label).contains(needle, autoescape=True),
            )
        )
    total = int(conn.execute(select(func.count()).select_from(defs).where(*where)).scalar_one())
    order = defs.c.id.desc() if descending else defs.c.id
    if after_id is not None and not (descending and after_id > _MAX_ID):
        bounded = min(after_id, _MAX_ID)
        where.append(defs.c.id < bounded if descending else defs.c.id > bounded)
    rows = conn.execute(select(defs).where(and_(*where)).order_by(order).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    by_id = _properties_of(conn, [r.id for r in rows]) if include_properties else {}
    definitions = [_definition(r, by_id.get(r.id, ())) for r in rows]
    return DefinitionPage(total, definitions, rows[-1].id if more and rows else None)


def update_definition(
    conn: Connection, definition_id: int, *, label: str | None, description: str | None, now_ms: int
) -> None:
    values: dict[str, Any] = {"updated_at": now_ms, "version": defs.c.version + 1}
    if label is not None:
        values["label"] = label
    if description is not None:
        values["description"] = description
    conn.execute(update(defs).where(defs.c.id == definition_id).values(**values))


def mark_deleted(conn: Connection, definition_id: int, now_ms: int) -> None:
    """Delete a definition's properties and keep its row, so its name is never reused."""
    conn.execute(delete(props).where(props.c.definition_id == definition_id))
    conn.execute(
        update(defs)
        .where(defs.c.id == definition_id)
        .values(deleted_at=now_ms, updated_at=now_ms, version=defs.c.version + 1)
    )


def insert_property(conn: Connection, definition_id: int, spec: PropertySpec, now_ms: int) -> None:
    conn.execute(insert(props).values(**_property_values(definition_id, spec, now_ms)))
    touch(conn, definition_id, now_ms)


def update_property(
    conn: Connection,
    definition_id: int,
    name: str,
    *,
    label: str | None,
    description: str | None,
    options: Sequence[Option] | None,
    now_ms: int,
) -> None:
    values: dict[str, Any] = {"updated_at": now_ms}
    if label is not None:
        values["label"] = label
    if description is not None:
        values["description"] = description
    if options is not None:
        values["options"] = _options_json(options)
    conn.execute(
        update(props)
        .where(props.c.definition_id == definition_id, props.c.name == name)
        .values(**values)
    )
    touch(conn, definition_id, now_ms)


def delete_property(conn: Connection, definition_id: int, name: str, now_ms: int) -> None:
    conn.execute(delete(props).where(props.c.definition_id == definition_id, props.c.name == name))
    touch(conn, definition_id, now_ms)


def get_code(conn: Connection, definition_id: int) -> str | None:
    code: str | None = conn.execute(
        select(defs.c.custom_code).where(defs.c.id == definition_id)
    ).scalar_one_or_none()
    return code


def set_code(conn: Connection, definition_id: int, code: str, now_ms: int) -> None:
    conn.execute(update(defs).where(defs.c.id == definition_id).values(custom_code=code))
    touch(conn, definition_id, now_ms)


def get_tracking_rule(conn: Connection, definition_id: int) -> str | None:
    """A visual event's rule as stored (JSON; domain/url_rules.py reads it)."""
    rule: str | None = conn.execute(
        select(defs.c.tracking_rule).where(defs.c.id == definition_id)
    ).scalar_one_or_none()
    return rule


def set_tracking_rule(conn: Connection, definition_id: int, rule: str, now_ms: int) -> None:
    conn.execute(update(defs).where(defs.c.id == definition_id).values(tracking_rule=rule))
    touch(conn, definition_id, now_ms)


def touch(conn: Connection, definition_id: int, now_ms: int) -> None:
    conn.execute(
        update(defs)
        .where(defs.c.id == definition_id)
        .values(updated_at=now_ms, version=defs.c.version + 1)
    )


def _properties_of(
    conn: Connection, definition_ids: Iterable[int]
) -> dict[int, tuple[PropertySpec, ...]]:
    ids = list(definition_ids)
    grouped: dict[int, list[PropertySpec]] = defaultdict(list)
    if ids:
        rows = conn.execute(
            select(props)
            .where(props.c.definition_id.in_(ids))
            .order_by(props.c.definition_id, props.c.hubspot_defined.desc(), props.c.id)
        )
        for row in rows:
            grouped[row.definition_id].append(_property(row))
    return {i: tuple(grouped[i]) for i in ids}


def _property_values(definition_id: int, spec: PropertySpec, now_ms: int) -> dict[str, Any]:
    return {
        "definition_id": definition_id,
        "name": spec.name,
        "label": spec.label,
        "type": spec.type.value,
        "description": spec.description,
        "options": []
        if spec.name in _DEFAULT_OPTIONS and spec.hubspot_defined
        else _options_json(spec.options),
        "hubspot_defined": spec.hubspot_defined,
        "display_order": spec.display_order,
        "hidden": spec.hidden,
        "created_at": now_ms,
        "updated_at": now_ms,
    }


def _options_json(options: Sequence[Option]) -> list[dict[str, Any]]:
    return [
        {
            "label": o.label,
            "value": o.value,
            "displayOrder": o.display_order,
            "hidden": o.hidden,
            "description": o.description,
        }
        for o in options
    ]


# HubSpot's default properties are read-only, so their options are the domain's own,
# never the copy a row holds: hs_language's 184 options made every definition twice as
# slow to read, and definitions made before a default gained options get them too.
_DEFAULT_OPTIONS = {spec.name: spec.options for spec in DEFAULT_PROPERTIES}


def _property(row: Row[Any]) -> PropertySpec:
    options = _DEFAULT_OPTIONS.get(row.name) if row.hubspot_defined else None
    if options is None:
        options = tuple(
            Option(
                label=o["label"],
                value=o["value"],
                display_order=o["displayOrder"],
                hidden=o["hidden"],
                description=o["description"],
            )
            for o in row.options
        )
    return PropertySpec(
        name=row.name,
        label=row.label,
        type=PropertyType(row.type),
        description=row.description,
        options=options,
        hubspot_defined=row.hubspot_defined,
        display_order=row.display_order,
        hidden=row.hidden,
    )


def _definition(row: Row[Any], properties: tuple[PropertySpec, ...]) -> EventDefinition:
    matching = (
        MatchingRule(row.matching_event_property, row.matching_target_property)
        if row.matching_event_property
        else None
    )
    return EventDefinition(
        id=row.id,
        portal_id=row.portal_id,
        name=row.name,
        label=row.label,
        description=row.description,
        object_type=find_object_type(row.object_type_id) or OBJECT_TYPES[0],
        tracking_type=row.tracking_type,
        matching_rule=matching,
        properties=properties,
        created_at=row.created_at,
        updated_at=row.updated_at,
        version=row.version,
    )
