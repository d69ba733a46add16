"""The Analyze tab's counts on a busy event type, on SQLite and on PostgreSQL, in one run.

One event type with 200,000 completions spread over the last 365 days by ~5,000
contacts (a few percent anonymous visitors), with an enumeration property `plan` and a
string property `source` of 40 skewed values (a tenth of completions without one). Each
shape of the tab (day / week / month buckets x total / unique x no filter / a filter
on plan / a breakdown by source) is one `services.analysis.analyze` call, timed over the
365-day preset (the widest range, so the most rows) and the default 30-day one.

The baseline, measured in the same run and on the same data, is the cheapest question a
chart could ask: `SELECT count(*)` of the event type's completions over the same range,
one range of `ix_events_definition_id_occurred_at_id`. The page budget is 300 ms at the
95th percentile, so one analyze call should stay well under 100 ms.

SQLite is left as occur leaves it (no ANALYZE has ever run); PostgreSQL gets VACUUM
ANALYZE after the load, the state autovacuum reaches on its own shortly after.

Run from the repository root: `python -m bench.analysis [--runs 7] [--events 200000]`.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from occur.domain.analysis import read_analysis_query
from occur.domain.objects import CONTACT
from occur.services import access, definitions
from occur.services.analysis import analyze
from occur.services.clock import now_ms
from occur.store import crm as crm_store
from occur.store import migrate
from occur.store.db import Database, open_database
from occur.store.events import NewEvent, insert_events
from occur.store.schema import events
from occur.store.visitors import insert_visitors

from . import backends
from .backends import Backend

DAY_MS = 86_400_000
TIME_ZONE = "Europe/Paris"  # a zone with DST, so buckets of 23 and 25 hours occur
PLANS = (("free", 50), ("starter", 30), ("pro", 15), ("enterprise", 5))
SOURCES = 40
NO_SOURCE_SHARE = 0.1
ANONYMOUS_SHARE = 0.03
VISITORS = 500
BATCH = 5_000
DEFINITION: dict[str, Any] = {
    "label": "Bench analysed",
    "name": "bench_analysed",
    "primaryObject": "CONTACT",
    "propertyDefinitions": [
        {
            "name": "plan",
            "label": "Plan",
            "type": "enumeration",
            "options": [{"label": p.title(), "value": p} for p, _ in PLANS],
        },
        {"name": "source", "label": "Source", "type": "string"},
    ],
}
SHAPES = [
    (interval, metric, extra)
    for interval in ("day", "week", "month")
    for metric in ("total", "unique")
    for extra in ("none", "filter", "breakdown")
]
EXTRA_PARAMS = {
    "none": [],
    "filter": [("filterProperty", "plan"), ("filterValue", "pro")],
    "breakdown": [("breakdown", "source")],
}
BACKENDS: dict[str, Callable[[], AbstractContextManager[Backend]]] = {
    "sqlite": backends.sqlite,
    "postgresql": backends.postgresql,
}


@dataclass(frozen=True)
class Loaded:
    db: Database
    portal_id: int
    definition_id: int
    now_ms: int


@dataclass(frozen=True)
class Timing:
    median_ms: float
    max_ms: float


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs per shape")
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--contacts", type=int, default=5_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    options = parser.parse_args()
    for name in options.backends.split(","):
        if name == "postgresql" and not backends.postgres_available():
            print("postgresql: server binaries not found, skipped")
            continue
        with BACKENDS[name]() as backend:
            db = open_database(backend.fresh_database("analysis"))
            try:
                loaded = _load(db, options.events, options.contacts)
                _report(name, loaded, options.runs)
            finally:
                db.dispose()


def _load(db: Database, count: int, contacts: int) -> Loaded:
    started = time.perf_counter()
    migrate.upgrade(db)
    portal, _token = access.create_portal(db, "Bench analysis")
    definition = definitions.create(db, portal.id, DEFINITION, max_definitions=1)
    now = now_ms()
    with db.write() as conn:
        made = crm_store.insert_objects(
            conn, portal.id, CONTACT, [{"email": f"c{i}@bench.test"} for i in range(contacts)], now
        )
        visitors = insert_visitors(conn, portal.id, [f"utk{i}" for i in range(VISITORS)], now)
    contact_ids = [c.id for c in made]
    visitor_ids = [v.id for v in visitors.values()]
    rows = _completions(definition.id, count, now, contact_ids, visitor_ids)
    for first in range(0, len(rows), BATCH):
        with db.write() as conn:
            insert_events(conn, portal.id, rows[first : first + BATCH], received_at=now)
    if not db.is_sqlite:
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
    print(f"loaded {count:,} completions in {time.perf_counter() - started:.1f} s")
    return Loaded(db, portal.id, definition.id, now)


def _completions(
    definition_id: int, count: int, now: int, contacts: list[int], visitors: list[int]
) -> list[NewEvent]:
    """Completions in time order (as live ingestion stores them), a few contacts busy
    and most occasional, plans and sources skewed the way real values are."""
    rng = random.Random(4)
    times = sorted(now - rng.randrange(365 * DAY_MS) for _ in range(count))
    plans, plan_weights = zip(*PLANS, strict=True)
    source_weights = [1 / (i + 1) for i in range(SOURCES)]
    found = []
    for i, at in enumerate(times):
        properties = {"plan": rng.choices(plans, plan_weights)[0]}
        if rng.random() >= NO_SOURCE_SHARE:
            source = rng.choices(range(SOURCES), source_weights)[0]
            properties["source"] = f"source-{source}"
        anonymous = rng.random() < ANONYMOUS_SHARE
        found.append(
            NewEvent(
                definition_id=definition_id,
                uuid=f"bench-{i}",
                object_type_id=CONTACT.type_id,
                object_id=None if anonymous else contacts[int(len(contacts) * rng.random() ** 2)],
                visitor_id=rng.choice(visitors) if anonymous else None,
                occurred_at=at,
                properties=properties,
            )
        )
    return found


def _report(backend: str, loaded: Loaded, runs: int) -> None:
    for preset in ("365d", "30d"):
        base = [("range", preset)]
        query = read_analysis_query(base, now_ms=loaded.now_ms, time_zone=TIME_ZONE)
        buckets = query.buckets()
        start_ms, end_ms = buckets[0].start_ms, buckets[-1].end_ms
        baseline = _timed(runs, lambda s=start_ms, e=end_ms: _baseline(loaded, s, e))
        rows_in_range = _baseline(loaded, start_ms, end_ms)
        print(
            f"\n{backend}, range {preset} ({rows_in_range:,} completions): baseline "
            f"SELECT count(*) median {baseline.median_ms:.1f} ms"
        )
        print(f"{'interval':<8} {'metric':<7} {'extra':<10} {'median':>9} {'max':>9} {'ratio':>7}")
        for interval, metric, extra in SHAPES:
            params = [*base, ("interval", interval), ("metric", metric), *EXTRA_PARAMS[extra]]
            query = read_analysis_query(params, now_ms=loaded.now_ms, time_zone=TIME_ZONE)
            timing = _timed(
                runs, lambda q=query: analyze(loaded.db, loaded.portal_id, loaded.definition_id, q)
            )
            ratio = timing.median_ms / baseline.median_ms
            print(
                f"{interval:<8} {metric:<7} {extra:<10} {timing.median_ms:>7.1f}ms "
                f"{timing.max_ms:>7.1f}ms {ratio:>6.1f}x"
            )


def _baseline(loaded: Loaded, start_ms: int, end_ms: int) -> int:
    query = select(func.count()).where(
        events.c.definition_id == loaded.definition_id,
        events.c.occurred_at >= start_ms,
        events.c.occurred_at < end_ms,
    )
    with loaded.db.read() as conn:
        return int(conn.execute(query).scalar_one())


def _timed(runs: int, work: Callable[[], object]) -> Timing:
    work()  # warm the caches: a page is read from a database that is in use
    spent = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        spent.append((time.perf_counter() - started) * 1000)
    return Timing(statistics.median(spent), max(spent))


if __name__ == "__main__":
    main()
