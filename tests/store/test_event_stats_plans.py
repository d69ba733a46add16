"""The events list statistics are served by the events index on both engines.

The one statement of store/event_stats.py is explained by each engine on a few thousand
analysed rows (PostgreSQL with sequential scans priced out, so that a plan that could
use the index does): both correlated subqueries must read
`ix_events_definition_id_occurred_at_id`, the latest completion by walking it backwards
(no sort), and no plan may scan the events table. A `GROUP BY` or `max()` form that
reads a definition's every index entry would still pass the index check on SQLite, so
the SQLite plan must also bound the latest-completion search by `occurred_at`.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Connection

from occur.services import access
from occur.services import definitions as definition_service
from occur.store.db import Database
from occur.store.event_stats import STATS
from occur.store.events import NewEvent, insert_events

T0 = 1_767_225_600_000
BY_TYPE = "ix_events_definition_id_occurred_at_id"


@pytest.fixture
def portal_id(db: Database) -> int:
    """4 event types, 1,500 occurrences each over 200 contacts; analysed."""
    portal, _token = access.create_portal(db, "Plans")
    ids = [
        definition_service.create(db, portal.id, {"label": name}, max_definitions=10).id
        for name in ("viewed", "bought", "left", "quiet")
    ]
    rows = [
        NewEvent(
            definition_id=d,
            uuid=str(uuid.uuid4()),
            object_type_id="0-1",
            object_id=1 + n % 200,
            visitor_id=None,
            occurred_at=T0 + n * 60_000,
            properties={},
        )
        for d in ids[:3]
        for n in range(1_500)
    ]
    with db.write() as conn:
        insert_events(conn, portal.id, rows, received_at=T0)
    with db.write() as conn:
        conn.exec_driver_sql("ANALYZE")
    return portal.id


def _plan(conn: Connection, portal_id: int) -> str:
    query = STATS.params(portal=portal_id, since=T0 + 30_000_000, until=T0 + 60_000_000)
    sql = str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    if conn.dialect.name == "sqlite":
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql).all()
        return "\n".join(str(row[-1]) for row in rows)
    conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
    return "\n".join(str(row[0]) for row in conn.exec_driver_sql("EXPLAIN " + sql))


def test_both_statistics_are_index_range_reads(db: Database, portal_id: int) -> None:
    with db.read() as conn:
        plan = _plan(conn, portal_id)
        found = conn.execute(
            STATS, {"portal": portal_id, "since": T0 + 30_000_000, "until": T0 + 60_000_000}
        ).all()
    assert [row.in_window for row in found] == [501, 501, 501, 0], plan
    assert plan.count(BY_TYPE) == 2, plan
    if db.is_sqlite:
        lines = [line for line in plan.splitlines() if BY_TYPE in line]
        assert all(line.startswith("SEARCH e USING COVERING INDEX") for line in lines), plan
        assert "definition_id=? AND occurred_at>? AND occurred_at<?" in lines[0], plan
        assert "definition_id=? AND occurred_at<?" in lines[1], plan
        assert "SCAN" not in plan, plan
        assert "TEMP B-TREE" not in plan, plan
    else:
        assert "Seq Scan" not in plan, plan
        assert "Sort" not in plan, plan  # the index gives the latest first
        assert f"Scan Backward using {BY_TYPE}" in plan, plan
