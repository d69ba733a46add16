"""A record's timeline: what services.timeline returns, and that every statement it runs
on events is served by the record index on both engines (store/timeline.py).

The plan checks seed a portal where the filter's event type is rare and the record busy
with another type: the shape in which a planner is most tempted to enter through the
event-type index instead, and read that type's whole history across every record.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Connection, Select

from occur.domain.event_cursors import Position
from occur.domain.objects import CONTACT
from occur.errors import NotFound
from occur.services import access, crm, timeline
from occur.services import definitions as definition_service
from occur.store import timeline as store
from occur.store.db import Database
from occur.store.events import NewEvent, insert_events

T0 = 1_767_225_600_000
BY_RECORD = "ix_events_portal_id_object_type_id_object_id_occurred_at_id"
BY_TYPE = "ix_events_definition_id_occurred_at_id"
CONTACTS = 50


@dataclass(frozen=True)
class Seeded:
    portal_id: int
    contacts: list[int]
    busy: int  # definition ids
    other: int
    rare: int


def _define(db: Database, portal_id: int, name: str) -> int:
    body = {
        "label": name.capitalize(),
        "name": name,
        "propertyDefinitions": [{"name": "plan", "label": "Plan", "type": "string"}],
    }
    return definition_service.create(db, portal_id, body, max_definitions=10).id


@pytest.fixture
def seeded(db: Database) -> Seeded:
    """3,000 'busy' and 1,000 'other' completions over 50 contacts; 'rare' 3 times, all
    on the first contact."""
    portal, _token = access.create_portal(db, "Timeline")
    contacts = [
        crm.create(db, portal.id, CONTACT, {"properties": {"email": f"c{i}@x.test"}}).record.id
        for i in range(CONTACTS)
    ]
    busy, other, rare = (_define(db, portal.id, n) for n in ("busy", "other", "rare"))
    counter = itertools.count()

    def row(definition_id: int, contact: int) -> NewEvent:
        n = next(counter)
        return NewEvent(
            definition_id,
            str(uuid.uuid4()),
            "0-1",
            contact,
            None,
            T0 + n * 1_000,
            {"plan": f"p{n % 7}"},
        )

    rows = [row(busy, contacts[n % CONTACTS]) for n in range(3_000)]
    rows += [row(other, contacts[n % CONTACTS]) for n in range(1_000)]
    rows += [row(rare, contacts[0]) for _ in range(3)]
    with db.write() as conn:
        insert_events(conn, portal.id, rows, received_at=T0)
    with db.write() as conn:
        conn.exec_driver_sql("ANALYZE")
    return Seeded(portal.id, contacts, busy, other, rare)


def _plan(conn: Connection, query: Select[Any]) -> str:
    sql = str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    if conn.dialect.name == "sqlite":
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql).all()
        return "\n".join(str(row[-1]) for row in rows)
    conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
    return "\n".join(str(row[0]) for row in conn.exec_driver_sql("EXPLAIN " + sql))


def _assert_record_index(db: Database, query: Select[Any], *, ordered: bool) -> None:
    """Served by the record's index range and no other; `ordered`: in the index's order,
    without a sort."""
    with db.read() as conn:
        plan = _plan(conn, query)
    assert BY_RECORD in plan and BY_TYPE not in plan, plan
    if db.is_sqlite:
        assert "SCAN events" not in plan, plan
        if ordered:
            assert "TEMP B-TREE" not in plan, plan  # the index gives the order
    else:
        assert "Seq Scan on events" not in plan, plan
        if ordered:
            assert "Sort" not in plan, plan


def test_each_timeline_read_uses_the_record_index(db: Database, seeded: Seeded) -> None:
    record = seeded.contacts[0]
    with db.read() as conn:
        every = store.record_events(
            conn,
            seeded.portal_id,
            "0-1",
            record,
            definition_ids=None,
            older_than=None,
            limit=10_000,
        )
    middle = every[len(every) // 2].position
    filters = (None, [seeded.rare], [seeded.rare, seeded.other])
    for definition_ids, older_than in itertools.product(filters, (None, middle)):
        query = store.select_record_events(
            seeded.portal_id,
            "0-1",
            record,
            definition_ids=definition_ids,
            older_than=older_than,
            limit=21,
        )
        # With a filter PostgreSQL may read the record's whole range and sort what
        # passes (it expects few rows to pass): still bounded by the one record.
        _assert_record_index(db, query, ordered=definition_ids is None or db.is_sqlite)
    _assert_record_index(db, store.select_counts(seeded.portal_id, "0-1", record), ordered=False)


def test_a_page_holds_the_chosen_types_newest_first_and_links_to_the_next(
    db: Database, seeded: Seeded
) -> None:
    record = str(seeded.contacts[0])
    names = {
        d.id: d.fully_qualified_name
        for d in (definition_service.get(db, seeded.portal_id, n) for n in ("busy", "rare"))
    }
    chosen = [names[seeded.rare], names[seeded.busy], "pe999_busy", "not a name"]
    first = timeline.record_timeline(db, seeded.portal_id, CONTACT, record, event_names=chosen)
    assert first.chosen == (names[seeded.busy], names[seeded.rare])  # by label, known only
    counts = {t.name: t.count for t in first.event_types}
    assert counts == {
        names[seeded.busy]: 60,
        f"pe{seeded.portal_id}_other": 20,
        names[seeded.rare]: 3,
    }
    assert first.total == 63
    assert [i.label for i in first.items[:3]] == ["Rare"] * 3  # stored last, so newest
    assert {i.label for i in first.items} == {"Rare", "Busy"}
    assert first.items[0].properties == (("Plan", "p5"),)  # n = 4002: p{n % 7}
    keys = [(i.occurred_at, i.id) for i in first.items]
    assert keys == sorted(keys, reverse=True) and len(keys) == timeline.PAGE_SIZE
    assert first.next_after == Position(*keys[-1])
    seen = list(first.items)
    after = first.next_after
    while after is not None:
        page = timeline.record_timeline(
            db,
            seeded.portal_id,
            CONTACT,
            record,
            event_names=chosen,
            after=after,
            with_counts=False,
        )
        assert page.total is None and {t.count for t in page.event_types} == {None}
        seen += page.items
        after = page.next_after
    assert len(seen) == len({i.id for i in seen}) == 63


def test_archived_and_foreign_records_are_not_found(db: Database, seeded: Seeded) -> None:
    other_portal, _ = access.create_portal(db, "Other")
    record = str(seeded.contacts[1])
    with pytest.raises(NotFound):
        timeline.record_timeline(db, other_portal.id, CONTACT, record)
    crm.archive(db, seeded.portal_id, CONTACT, record)
    with pytest.raises(NotFound):
        timeline.record_timeline(db, seeded.portal_id, CONTACT, record)
