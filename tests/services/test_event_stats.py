"""Events list statistics against the rows behind them, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
import uuid

from occur.services import access, definitions, event_stats
from occur.services.event_stats import EventStats
from occur.store.db import Database
from occur.store.events import NewEvent, insert_events

NOW = 1_767_225_600_000
DAY_MS = 86_400_000
WINDOW_START = NOW - 30 * DAY_MS


def _definition(db: Database, portal_id: int, label: str) -> int:
    return definitions.create(db, portal_id, {"label": label}, max_definitions=50).id


def _insert(db: Database, portal_id: int, definition_id: int, moments: list[int]) -> None:
    rows = [
        NewEvent(
            definition_id=definition_id,
            uuid=str(uuid.uuid4()),
            object_type_id="0-1",
            object_id=1,
            visitor_id=None,
            occurred_at=moment,
            properties={},
        )
        for moment in moments
    ]
    with db.write() as conn:
        insert_events(conn, portal_id, rows, received_at=NOW)


def test_the_window_is_the_last_30_days_up_to_now(db: Database) -> None:
    portal_id = access.create_portal(db, "Acme")[0].id
    busy = _definition(db, portal_id, "Busy")
    idle = _definition(db, portal_id, "Idle")
    old = _definition(db, portal_id, "Old")
    ahead = _definition(db, portal_id, "Ahead")
    _insert(db, portal_id, busy, [WINDOW_START - 1, WINDOW_START, NOW - 5, NOW, NOW + 1])
    _insert(db, portal_id, old, [NOW - 400 * DAY_MS, WINDOW_START - 1])
    _insert(db, portal_id, ahead, [NOW + DAY_MS])  # a future occurredAt has not happened

    assert event_stats.event_list_stats(db, portal_id, NOW) == {
        busy: EventStats(completions_30d=3, last_completion_ms=NOW),
        idle: EventStats(completions_30d=0, last_completion_ms=None),
        old: EventStats(completions_30d=0, last_completion_ms=WINDOW_START - 1),
        ahead: EventStats(completions_30d=0, last_completion_ms=None),
    }


def test_only_the_portals_live_definitions_are_listed(db: Database) -> None:
    portal_id = access.create_portal(db, "Acme")[0].id
    other_id = access.create_portal(db, "Globex")[0].id
    kept = _definition(db, portal_id, "Kept")
    gone = _definition(db, portal_id, "Gone")
    theirs = _definition(db, other_id, "Theirs")
    for definition_id, owner in ((kept, portal_id), (gone, portal_id), (theirs, other_id)):
        _insert(db, owner, definition_id, [NOW - DAY_MS])
    definitions.delete(db, portal_id, "gone")

    assert set(event_stats.event_list_stats(db, portal_id, NOW)) == {kept}
    assert event_stats.event_list_stats(db, other_id, NOW) == {theirs: EventStats(1, NOW - DAY_MS)}
    assert event_stats.event_list_stats(db, 4242, NOW) == {}


def test_the_figures_match_a_count_of_the_rows(db: Database) -> None:
    rng = random.Random(7)
    portal_id = access.create_portal(db, "Acme")[0].id
    moments: dict[int, list[int]] = {}
    for n in range(5):
        definition_id = _definition(db, portal_id, f"Event {n}")
        moments[definition_id] = [
            NOW + rng.randrange(-90 * DAY_MS, 2 * DAY_MS) for _ in range(rng.randrange(0, 800))
        ]
        _insert(db, portal_id, definition_id, moments[definition_id])

    for now in (NOW, NOW - 45 * DAY_MS):
        expected = {
            definition_id: EventStats(
                sum(now - 30 * DAY_MS <= m <= now for m in times),
                max((m for m in times if m <= now), default=None),
            )
            for definition_id, times in moments.items()
        }
        assert event_stats.event_list_stats(db, portal_id, now) == expected
