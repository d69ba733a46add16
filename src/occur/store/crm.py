"""CRM records (contacts, companies, deals, tickets). Every query is scoped to one portal
and one object type.

Client-set values live in the JSON column `properties`; the system properties are the
columns id, created_at and updated_at. Contacts also keep their lowercased email in the
unique `email` column; archiving a contact frees it, so the address can be used again.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    Select,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)

from occur.domain.crm import EMAIL, CrmObject, email_key
from occur.domain.objects import ObjectType
from occur.store.schema import crm_objects as t


@dataclass(frozen=True)
class ObjectPage:
    objects: list[CrmObject]
    next_after: int | None


def insert_objects(
    conn: Connection,
    portal_id: int,
    object_type: ObjectType,
    values: Sequence[Mapping[str, str]],
    now_ms: int,
) -> list[CrmObject]:
    """Insert records in the order given; returns them with their new ids."""
    if not values:
        return []
    rows = [
        {
            "portal_id": portal_id,
            "object_type_id": object_type.type_id,
            "properties": dict(v),
            "email": email_key(object_type, v),
            "archived": False,
            "archived_at": None,
            "created_at": now_ms,
            "updated_at": now_ms,
        }
        for v in values
    ]
    ids = conn.execute(insert(t).returning(t.c.id, sort_by_parameter_order=True), rows).scalars()
    return [
        CrmObject(id, object_type, dict(v), now_ms, now_ms, None)
        for id, v in zip(ids.all(), values, strict=True)
    ]


def find_by_ids(
    conn: Connection,
    portal_id: int,
    object_type: ObjectType,
    ids: Collection[int],
    *,
    archived: bool | None = False,
    for_update: bool = False,
) -> dict[int, CrmObject]:
    """Records by id; `archived` None means live or archived."""
    if not ids:
        return {}
    query = _select(portal_id, object_type, archived).where(t.c.id.in_(list(ids)))
    rows = conn.execute(query.with_for_update() if for_update else query)
    return {row.id: row_object(row, object_type) for row in rows}


def find_by_emails(
    conn: Connection,
    portal_id: int,
    object_type: ObjectType,
    emails: Collection[str],
    *,
    archived: bool | None = False,
    for_update: bool = False,
) -> dict[str, CrmObject]:
    """Contacts by lowercased email. Archived contacts no longer hold the unique column,
    so they are found through their stored email property."""
    if not emails:
        return {}
    wanted = sorted({e.lower() for e in emails})
    live = t.c.email.in_(wanted)
    stored = func.lower(t.c.properties[EMAIL].as_string()).in_(wanted)
    if archived is False:
        query = select(t).where(*_scope(portal_id, object_type), _UNARCHIVED_UNINDEXED, live)
    else:
        query = _select(portal_id, object_type, archived).where(stored)
    found: dict[str, CrmObject] = {}
    for row in conn.execute(query.with_for_update() if for_update else query):
        record = row_object(row, object_type)
        key = record.values.get(EMAIL, "").lower()
        if key not in found or not record.archived:  # a live holder wins over archived ones
            found[key] = record
    return found


# The writer's per-group lookups, built once: building a statement costs more than
# running it (cProfile of services.ingest_store.store_group).
_LIVE_RECORD = (
    t.c.portal_id == bindparam("portal"),
    t.c.object_type_id == bindparam("type"),
    t.c.archived.is_(False),
)
_LIVE_IDS = select(t.c.id).where(*_LIVE_RECORD, t.c.id.in_(bindparam("ids", expanding=True)))
# "Not archived" written so that SQLite cannot read it from an index: without table
# statistics its planner otherwise scans every live contact of the portal through the
# (portal, type, archived, id) index and tests each email (91 ms for 833 emails among
# 5,000 contacts, the time of a whole import chunk), instead of seeking each email in
# the unique (portal, type, email) index. PostgreSQL's planner has statistics.
_UNARCHIVED_UNINDEXED = func.coalesce(t.c.archived, False).is_(False)
_CONTACT_IDS_BY_EMAIL = select(t.c.email, t.c.id).where(
    t.c.portal_id == bindparam("portal"),
    t.c.object_type_id == bindparam("type"),
    _UNARCHIVED_UNINDEXED,
    t.c.email.in_(bindparam("emails", expanding=True)),
)


def live_ids(
    conn: Connection, portal_id: int, object_type: ObjectType, ids: Collection[int]
) -> set[int]:
    """Which of these ids name live records: the cheap existence check ingestion needs."""
    if not ids:
        return set()
    params = {"portal": portal_id, "type": object_type.type_id, "ids": sorted(set(ids))}
    return set(conn.execute(_LIVE_IDS, params).scalars())


def contact_ids_by_email(
    conn: Connection, portal_id: int, contact: ObjectType, emails: Collection[str]
) -> dict[str, int]:
    """Live contacts' ids by lowercased email, through the unique email column."""
    if not emails:
        return {}
    params = {
        "portal": portal_id,
        "type": contact.type_id,
        "emails": sorted({e.lower() for e in emails}),
    }
    return {row.email: row.id for row in conn.execute(_CONTACT_IDS_BY_EMAIL, params)}


def update_values(
    conn: Connection,
    portal_id: int,
    object_type: ObjectType,
    object_id: int,
    values: Mapping[str, str],
    now_ms: int,
) -> None:
    conn.execute(
        update(t)
        .where(*_scope(portal_id, object_type), t.c.id == object_id)
        .values(properties=dict(values), email=email_key(object_type, values), updated_at=now_ms)
    )


def archive(
    conn: Connection, portal_id: int, object_type: ObjectType, ids: Collection[int], now_ms: int
) -> int:
    """Hide live records (and free their unique email); returns how many were archived."""
    if not ids:
        return 0
    result = conn.execute(
        update(t)
        .where(*_scope(portal_id, object_type), t.c.id.in_(list(ids)), t.c.archived.is_(False))
        .values(archived=True, archived_at=now_ms, updated_at=now_ms, email=None)
    )
    return result.rowcount


def delete_object(conn: Connection, portal_id: int, object_type: ObjectType, object_id: int) -> int:
    """Remove a record for good (GDPR delete)."""
    result = conn.execute(delete(t).where(*_scope(portal_id, object_type), t.c.id == object_id))
    return result.rowcount


def list_page(
    conn: Connection,
    portal_id: int,
    object_type: ObjectType,
    *,
    archived: bool,
    limit: int,
    after_id: int | None,
) -> ObjectPage:
    query = _select(portal_id, object_type, archived)
    if after_id is not None:
        query = query.where(t.c.id > after_id)
    rows = conn.execute(query.order_by(t.c.id).limit(limit + 1)).all()
    objects = [row_object(row, object_type) for row in rows[:limit]]
    more = len(rows) > limit
    return ObjectPage(objects, objects[-1].id if more and objects else None)


def scope(
    portal_id: int, object_type: ObjectType, archived: bool | None
) -> list[ColumnElement[bool]]:
    """The WHERE terms every query of this table starts from."""
    terms = _scope(portal_id, object_type)
    if archived is not None:
        terms.append(t.c.archived.is_(archived))
    return terms


def _scope(portal_id: int, object_type: ObjectType) -> list[ColumnElement[bool]]:
    return [t.c.portal_id == portal_id, t.c.object_type_id == object_type.type_id]


def _select(portal_id: int, object_type: ObjectType, archived: bool | None) -> Select[Any]:
    return select(t).where(*scope(portal_id, object_type, archived))


def row_object(row: Row[Any], object_type: ObjectType) -> CrmObject:
    """The one row → CrmObject mapper."""
    return CrmObject(
        id=row.id,
        object_type=object_type,
        values=dict(row.properties),
        created_at=row.created_at,
        updated_at=row.updated_at,
        archived_at=row.archived_at,
    )
