"""The collector's tables: rejected completions, page views, and each portal's tracking
settings (allowed domains, consent). Written inside the ingest writer's transactions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects import postgresql, sqlite

from occur.domain.collection import PageView, Rejection
from occur.store.schema import page_views, portals, rejected_completions

# (event name, reason, property name): one rejected_completions row.
_Key = tuple[str, str, str]


@dataclass(frozen=True)
class RejectedRow:
    """One rejected_completions row, without its portal."""

    event_name: str
    reason: str
    property_name: str
    count: int
    first_seen: int
    last_seen: int
    example: str


@dataclass(frozen=True)
class TrackingSettings:
    allowed_domains: str  # one per line, as stored
    consent_required: bool


def count_rejections(
    conn: Connection, portal_id: int, rejections: Sequence[Rejection], now_ms: int
) -> None:
    """Add each rejection to its (event, reason, property) row, creating it when new.

    Counted in Python first: one statement may not update a row twice on PostgreSQL. Rows
    go in key order, so two writers updating the same rows take their locks alike.
    """
    if not rejections:
        return
    counts: Counter[_Key] = Counter()
    examples: dict[_Key, str] = {}
    for rejection in rejections:
        key = (rejection.event_name, rejection.reason, rejection.property_name)
        counts[key] += 1
        examples[key] = rejection.example  # the latest one
    rows = [
        {
            "portal_id": portal_id,
            "event_name": key[0],
            "reason": key[1],
            "property_name": key[2],
            "count": counts[key],
            "first_seen": now_ms,
            "last_seen": now_ms,
            "example": examples[key],
        }
        for key in sorted(counts)
    ]
    statement = _insert(conn, rejected_completions)
    excluded = statement.excluded
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=["portal_id", "event_name", "reason", "property_name"],
            set_={
                "count": rejected_completions.c.count + excluded.count,
                "last_seen": excluded.last_seen,
                "example": excluded.example,
            },
        ),
        rows,
    )


def list_rejections(conn: Connection, portal_id: int, limit: int = 500) -> list[RejectedRow]:
    """A portal's rejected completions, the most recently seen first."""
    table = rejected_completions.c
    columns = [c for c in rejected_completions.c if c.name != "portal_id"]
    rows = conn.execute(
        select(*columns)
        .where(table.portal_id == portal_id)
        .order_by(table.last_seen.desc(), table.event_name, table.reason, table.property_name)
        .limit(limit)
    )
    return [RejectedRow(**row._mapping) for row in rows]


def insert_page_views(
    conn: Connection,
    portal_id: int,
    visitor_id: int,
    views: Sequence[PageView],
    received_at: int,
) -> None:
    """Store page views; one already stored for this visitor under its uuid is skipped."""
    if not views:
        return
    statement = _insert(conn, page_views).on_conflict_do_nothing(
        index_elements=["visitor_id", "uuid"]
    )
    conn.execute(
        statement,
        [
            {
                "portal_id": portal_id,
                "visitor_id": visitor_id,
                "uuid": view.uuid,
                "url": view.url,
                "title": view.title,
                "referrer": view.referrer,
                "occurred_at": view.occurred_at,
                "received_at": received_at,
            }
            for view in views
        ],
    )


def get_tracking_settings(conn: Connection, portal_id: int) -> TrackingSettings | None:
    """None when there is no such portal."""
    row = conn.execute(
        select(portals.c.allowed_domains, portals.c.consent_required).where(
            portals.c.id == portal_id
        )
    ).first()
    if row is None:
        return None
    return TrackingSettings(row.allowed_domains, bool(row.consent_required))


def update_tracking_settings(
    conn: Connection, portal_id: int, *, allowed_domains: str, consent_required: bool
) -> None:
    conn.execute(
        update(portals)
        .where(portals.c.id == portal_id)
        .values(allowed_domains=allowed_domains, consent_required=consent_required)
    )


def _insert(conn: Connection, table: Any) -> Any:
    """INSERT … ON CONFLICT in the connection's dialect (both engines support it)."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
