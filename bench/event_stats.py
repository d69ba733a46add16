"""The custom events list's statistics on a busy portal, on SQLite and PostgreSQL.

One portal with 30 event types and 1,000,000 completions over the last 180 days, the
busiest type holding 200,000 and the others a skewed share of the rest, arriving at a
rate that doubles across the window (so the last 30 days hold a fifth of them: the
busiest type's 30-day count reads some 43,000 index entries). Timed:

  (a) baseline: `SELECT 1` in a read transaction, the round trip every query pays;
  (b) baseline: `count(*)` of the busiest type's completions in the last 30 days, one
      range of `ix_events_definition_id_occurred_at_id`: the bulk of (c)'s work;
  (c) `services.event_stats.event_list_stats`: every type's 30-day count and last
      completion, the figures the list page shows beside each row.

The page budget is 300 ms at the 95th percentile, so (c) should be a small part of it.
SQLite is left as occur leaves it (no ANALYZE has run). PostgreSQL is measured twice:
right after the load with ANALYZE only, when the visibility map is still empty and an
index-only scan must visit the table for every entry, and after VACUUM ANALYZE, the
state autovacuum reaches on its own soon after a bulk insert.

Run from the repository root: `python -m bench.event_stats [--runs 50]`.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

from sqlalchemy import func, select, text

from occur.services import access, definitions
from occur.services.clock import now_ms
from occur.services.event_stats import WINDOW_DAYS, event_list_stats
from occur.store import migrate
from occur.store.db import Database, open_database
from occur.store.events import NewEvent, insert_events
from occur.store.schema import events

from . import backends
from .backends import Backend

DAY_MS = 86_400_000
EVENT_TYPES = 30
TOTAL = 1_000_000
BUSIEST = 200_000
CONTACTS = 20_000
BATCH = 10_000
BACKENDS: dict[str, Callable[[], AbstractContextManager[Backend]]] = {
    "sqlite": backends.sqlite,
    "postgresql": backends.postgresql,
}


@dataclass(frozen=True)
class Loaded:
    db: Database
    portal_id: int
    busiest_id: int
    now_ms: int
    seconds: float


@dataclass(frozen=True)
class Timing:
    p50_ms: float
    p95_ms: float


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50, help="timed runs per measure")
    parser.add_argument("--days", type=int, default=180, help="span of the completions")
    parser.add_argument("--backends", default="sqlite,postgresql")
    options = parser.parse_args()
    rows: list[tuple[str, ...]] = []
    for name in options.backends.split(","):
        if name == "postgresql" and not backends.postgres_available():
            print("postgresql: skipped, no server binaries (apt-get install postgresql)")
            continue
        with BACKENDS[name]() as backend:
            loaded = _load(backend.fresh_database("event_stats"), options.days)
            print(f"{name}: loaded {TOTAL:,} completions in {loaded.seconds:.1f} s")
            try:
                if name == "postgresql":
                    _maintain(loaded.db, "ANALYZE")
                    rows += _measure(f"{name} (analysed)", loaded, options.runs)
                    _maintain(loaded.db, "VACUUM ANALYZE")
                    rows += _measure(f"{name} (vacuumed)", loaded, options.runs)
                else:
                    rows += _measure(name, loaded, options.runs)
            finally:
                loaded.db.dispose()
    print(_table(rows))


def _load(url: str, days: int) -> Loaded:
    db = open_database(url)
    migrate.upgrade(db)
    portal, _token = access.create_portal(db, "Bench event stats")
    ids = [
        definitions.create(
            db, portal.id, {"label": f"Event type {n + 1}"}, max_definitions=EVENT_TYPES
        ).id
        for n in range(EVENT_TYPES)
    ]
    counts = _counts()
    now = now_ms()
    span = days * DAY_MS
    rng = random.Random(4)
    # Density growing linearly across the span: the rate doubles from start to now.
    moments = [
        (now - span + int(span * (math.sqrt(1 + 3 * rng.random()) - 1)), definition_id)
        for definition_id, count in zip(ids, counts, strict=True)
        for _ in range(count)
    ]
    moments.sort()
    began = time.perf_counter()
    for first in range(0, len(moments), BATCH):
        rows = [
            NewEvent(
                definition_id=definition_id,
                uuid=f"bench-{first + n}",
                object_type_id="0-1",
                object_id=rng.randrange(1, CONTACTS + 1),
                visitor_id=None,
                occurred_at=moment,
                properties={},
            )
            for n, (moment, definition_id) in enumerate(moments[first : first + BATCH])
        ]
        with db.write() as conn:
            insert_events(conn, portal.id, rows, received_at=now)
    return Loaded(db, portal.id, ids[0], now, time.perf_counter() - began)


def _counts() -> list[int]:
    """The busiest type's count, then the others' shares of the rest (Zipf-like)."""
    weights = [1 / (rank + 1) ** 0.8 for rank in range(EVENT_TYPES - 1)]
    rest = TOTAL - BUSIEST
    shares = [int(rest * w / sum(weights)) for w in weights]
    shares[0] += rest - sum(shares)
    assert max(shares) < BUSIEST
    return [BUSIEST, *shares]


def _maintain(db: Database, command: str) -> None:
    with db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(command)


def _measure(label: str, loaded: Loaded, runs: int) -> list[tuple[str, ...]]:
    db, now = loaded.db, loaded.now_ms
    since = now - WINDOW_DAYS * DAY_MS
    busiest = (
        select(func.count())
        .select_from(events)
        .where(
            events.c.definition_id == loaded.busiest_id,
            events.c.occurred_at >= since,
            events.c.occurred_at <= now,
        )
    )

    def select_one() -> object:
        with db.read() as conn:
            return conn.execute(text("SELECT 1")).scalar_one()

    def count_busiest() -> object:
        with db.read() as conn:
            return conn.execute(busiest).scalar_one()

    stats = event_list_stats(db, loaded.portal_id, now)
    assert len(stats) == EVENT_TYPES
    in_window = stats[loaded.busiest_id].completions_30d
    assert in_window == count_busiest()
    one = _time(select_one, runs)
    count = _time(count_busiest, runs)
    listed = _time(lambda: event_list_stats(db, loaded.portal_id, now), runs)
    return [
        (label, "(a) SELECT 1", _ms(one.p50_ms), _ms(one.p95_ms), "-", "-"),
        (
            "",
            f"(b) count busiest, 30 d ({in_window:,})",
            _ms(count.p50_ms),
            _ms(count.p95_ms),
            "-",
            "-",
        ),
        (
            "",
            f"(c) event_list_stats, {EVENT_TYPES} types",
            _ms(listed.p50_ms),
            _ms(listed.p95_ms),
            f"{listed.p50_ms / one.p50_ms:.0f}",
            f"{listed.p50_ms / count.p50_ms:.2f}",
        ),
    ]


def _time(call: Callable[[], object], runs: int) -> Timing:
    for _ in range(3):  # warm the caches and the connection pool
        call()
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        call()
        samples.append((time.perf_counter() - began) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, math.ceil(0.95 * len(samples)) - 1)]
    return Timing(statistics.median(samples), p95)


def _ms(value: float) -> str:
    return f"{value:.2f} ms" if value < 10 else f"{value:.1f} ms"


def _table(rows: list[tuple[str, ...]]) -> str:
    header = ("backend", "measure", "p50", "p95", "(c)/(a) p50", "(c)/(b) p50")
    lines = [header, *rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    rendered = [
        "  ".join(
            cell.ljust(w) if i < 2 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(line, widths, strict=True))
        ).rstrip()
        for line in lines
    ]
    rendered.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(rendered)


if __name__ == "__main__":
    main()
