"""Anonymous visitors (hubspotutk) and the contact each turned out to be."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, update

from occur.store.schema import visitors


@dataclass(frozen=True, slots=True)
class Visitor:
    id: int
    utk: str
    contact_id: int | None


def find_visitors(
    conn: Connection,
    portal_id: int,
    utks: Collection[str],
    *,
    lock: bool = False,
    exclusive: bool = False,
) -> dict[str, Visitor]:
    """Visitors by utk. `lock` takes a row lock on PostgreSQL (shared, or `exclusive`), so
    that an identify that re-attaches a visitor's occurrences and the writer storing new
    ones for it take turns. SQLite's single writer already makes them take turns."""
    if not utks:
        return {}
    query = select(visitors).where(
        visitors.c.portal_id == portal_id, visitors.c.utk.in_(sorted(set(utks)))
    )
    if lock:
        query = query.with_for_update(read=not exclusive)
    return {row.utk: Visitor(row.id, row.utk, row.contact_id) for row in conn.execute(query)}


def insert_visitors(
    conn: Connection, portal_id: int, utks: Collection[str], now_ms: int
) -> dict[str, Visitor]:
    """Create anonymous visitors for utks not seen before."""
    wanted = sorted(set(utks))
    if not wanted:
        return {}
    result = conn.execute(
        insert(visitors).returning(visitors.c.id, sort_by_parameter_order=True),
        [{"portal_id": portal_id, "utk": utk, "created_at": now_ms} for utk in wanted],
    )
    return {
        utk: Visitor(visitor_id, utk, None)
        for utk, (visitor_id,) in zip(wanted, result, strict=True)
    }


def set_contact(conn: Connection, visitor_id: int, contact_id: int, now_ms: int) -> None:
    conn.execute(
        update(visitors)
        .where(visitors.c.id == visitor_id)
        .values(contact_id=contact_id, identified_at=now_ms)
    )
