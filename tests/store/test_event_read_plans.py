"""The read API's queries are served by indexes, not by scans, on both engines.

Each query shape store/event_reads.py builds is explained by the engine itself:
SQLite's EXPLAIN QUERY PLAN must SEARCH the expected index and never SCAN an events
table or sort in a temporary B-tree; PostgreSQL's EXPLAIN, on a few thousand analysed
rows with sequential scans priced out (so that a plan that *could* use the index does),
must use the expected index and no sequential scan of events or event_values. A query
written so that no index could serve it (a JSON scan, an OR across columns) fails here
on both engines.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Connection, Select

from occur.services import access
from occur.services import definitions as definition_service
from occur.store.db import Database
from occur.store.event_reads import EventFilter, find_events, select_events
from occur.store.events import NewEvent, insert_events

T0 = 1_767_225_600_000
BY_TYPE = "ix_events_definition_id_occurred_at_id"
BY_RECORD = "ix_events_portal_id_object_type_id_object_id_occurred_at_id"
BY_VALUE = "ix_event_values_lookup"
# event_values' primary key (event_id, name): one probe per row for further filters
VALUE_OF_ROW = {"sqlite": "sqlite_autoindex_event_values_1", "postgresql": "pk_event_values"}


@dataclass(frozen=True)
class Seeded:
    portal_id: int
    definitions: list[int]


@pytest.fixture
def seeded(db: Database) -> Seeded:
    """3 event types x 1,500 occurrences over 200 contacts, values of two properties."""
    portal, _token = access.create_portal(db, "Plans")
    ids = []
    for name in ("viewed", "bought", "left"):
        created = definition_service.create(
            db,
            portal.id,
            {
                "label": name,
                "name": name,
                "propertyDefinitions": [{"name": "plan", "label": "Plan", "type": "string"}],
            },
            max_definitions=10,
        )
        ids.append(created.id)
    counter = itertools.count()
    rows = [
        NewEvent(
            definition_id=d,
            uuid=str(uuid.uuid4()),
            object_type_id="0-1",
            object_id=1 + n % 200,
            visitor_id=None,
            occurred_at=T0 + n * 1_000,
            properties={"plan": f"plan-{n % 50}", "hs_page_url": f"https://x.test/{n % 300}"},
        )
        for d in ids
        for n in (next(counter) for _ in range(1_500))
    ]
    with db.write() as conn:
        insert_events(conn, portal.id, rows, received_at=T0)
    with db.write() as conn:
        conn.exec_driver_sql("ANALYZE")
    return Seeded(portal.id, ids)


def _plan(conn: Connection, query: Select[Any]) -> str:
    sql = str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    if conn.dialect.name == "sqlite":
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql).all()
        return "\n".join(str(row[-1]) for row in rows)
    conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
    return "\n".join(str(row[0]) for row in conn.exec_driver_sql("EXPLAIN " + sql))


def _assert_served_by(db: Database, f: EventFilter, index: str, *, probes: bool = False) -> None:
    """Both orders, first page and a page past a cursor: each uses `index`, none scans."""
    with db.read() as conn:
        every = find_events(conn, f, ascending=True, beyond=None, limit=100_000)
    assert len(every) >= 3
    middle = every[len(every) // 2].position
    for ascending, beyond in itertools.product((False, True), (None, middle)):
        query = select_events(f, ascending=ascending, beyond=beyond, limit=21)
        with db.read() as conn:
            plan = _plan(conn, query)
            found = find_events(conn, f, ascending=ascending, beyond=beyond, limit=21)
        where = f"ascending={ascending} beyond={beyond}:\n{plan}"
        assert index in plan, where
        if probes:
            assert VALUE_OF_ROW[db.engine.dialect.name] in plan, where
        if db.is_sqlite:
            assert "SCAN events" not in plan, where
            assert "SCAN v" not in plan and "SCAN event_values" not in plan, where
            assert "TEMP B-TREE" not in plan, where  # the index gives the order
        else:
            assert "Seq Scan on events" not in plan, where
            assert "Seq Scan on event_values" not in plan, where
            assert "Sort" not in plan, where  # the index gives the order
        assert found, where  # the shape explained is one that finds rows
        keys = [(e.occurred_at, e.id) for e in found]
        assert keys == sorted(keys, reverse=not ascending), where


def test_one_event_type_in_a_time_range(db: Database, seeded: Seeded) -> None:
    f = EventFilter(
        portal_id=seeded.portal_id,
        definition_id=seeded.definitions[1],
        occurred_from=T0 + 1_600_000,
        occurred_until=T0 + 2_800_000,
    )
    _assert_served_by(db, f, BY_TYPE)


def test_one_record_in_a_time_range(db: Database, seeded: Seeded) -> None:
    f = EventFilter(
        portal_id=seeded.portal_id,
        object_type_id="0-1",
        object_id=7,
        occurred_from=T0,
        occurred_until=T0 + 4_000_000,
    )
    _assert_served_by(db, f, BY_RECORD)


def test_one_record_with_a_property_filter(db: Database, seeded: Seeded) -> None:
    f = EventFilter(
        portal_id=seeded.portal_id,
        object_type_id="0-1",
        object_id=7,
        values=(("plan", "plan-6"),),  # record 7 holds occurrences n = 6 (mod 200)
    )
    _assert_served_by(db, f, BY_RECORD, probes=True)


def test_a_property_filter_on_one_event_type(db: Database, seeded: Seeded) -> None:
    f = EventFilter(
        portal_id=seeded.portal_id,
        definition_id=seeded.definitions[0],
        occurred_from=T0,
        occurred_until=T0 + 3_000_000,
        values=(("plan", "plan-7"),),
    )
    _assert_served_by(db, f, BY_VALUE)


def test_two_property_filters_enter_through_one(db: Database, seeded: Seeded) -> None:
    f = EventFilter(
        portal_id=seeded.portal_id,
        definition_id=seeded.definitions[0],
        values=(("hs_page_url", "https://x.test/7"), ("plan", "plan-7")),
    )
    _assert_served_by(db, f, BY_VALUE, probes=True)
