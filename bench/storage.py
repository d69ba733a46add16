"""The storage ceiling: the rows occur stores for an event, inserted as plainly as possible.

No HTTP, no validation, no identity lookup, no dedup check: a fresh database migrated by
occur, opened by occur's own `open_database` (so SQLite runs WAL with synchronous=FULL,
and write transactions begin IMMEDIATE), then one `events` row and one `event_values`
row per property for each event, ids chosen here (no RETURNING), in transactions of
1,000 events. Whatever occur's batch path does beyond this is its overhead.

Two ways to insert, each its own ceiling:
- `sqlalchemy`: SQLAlchemy Core executemany with dict parameters (issue 3's definition);
- `driver`: what the drivers do fastest, sqlite3's executemany with positional tuples
  and PostgreSQL's COPY; occur's writer inserts this way, so this is the tighter ceiling.
The rate counts the transactions only, not building their parameters.
"""

from __future__ import annotations

import random
import time
import uuid
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Table, insert

from occur.services import access, definitions
from occur.store import migrate
from occur.store.db import Database, open_database
from occur.store.events import encode_properties, value_key
from occur.store.schema import event_values, events

from .workload import DEFINITION, OCCURRED_AT_MS, STORED

EVENTS_PER_TRANSACTION = 1_000
# The spread shape (see _rows): a year of moments over this many records.
SPREAD_MS = 365 * 86_400_000
SPREAD_RECORDS = 50_000
SPREAD_SEED = 6
SPREAD_CHOICES = {  # and an amount drawn as a number
    "plan": ("free", "pro", "enterprise"),
    "source": ("newsletter", "webinar", "trade show", "partner", "ads"),
    "trial": ("true", "false"),
}
CONTACT = "0-1"
EVENT_COLUMNS = tuple(column.name for column in events.columns)
VALUE_COLUMNS = tuple(column.name for column in event_values.columns)

Rows = list[tuple[Any, ...]]
Params = Callable[[Table, Rows], Any]
Insert = Callable[[Connection, Table, Any], None]


@dataclass
class StorageResult:
    events: int = 0
    seconds: float = 0.0
    commit_seconds: array[float] = field(default_factory=lambda: array("d"))

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class _Target:
    portal_id: int
    definition_id: int


def _prepare(db: Database) -> _Target:
    migrate.upgrade(db)
    portal, _ = access.create_portal(db, "Bench storage")
    definition = definitions.create(db, portal.id, DEFINITION, max_definitions=1)
    return _Target(portal.id, definition.id)


def _rows(target: _Target, first_id: int, spread: random.Random | None = None) -> tuple[Rows, Rows]:
    """One transaction's rows, in table column order: events, then their values.

    By default every event is the same moment, record and values with a counting uuid:
    each index grows at its end, the cheapest insert there is. With `spread` (a seeded
    generator) the rows are shaped like a back-filled spreadsheet's: a moment anywhere in
    the past year, one of SPREAD_RECORDS records, a random uuid and values drawn from
    the bench's own choices, so every index takes its entries all over its width.
    """
    ids = range(first_id, first_id + EVENTS_PER_TRANSACTION)
    event_rows: Rows = []
    value_rows: Rows = []
    for i in ids:
        at, record, uid, stored = OCCURRED_AT_MS, 1, f"storage-{i}", STORED
        if spread is not None:
            at = OCCURRED_AT_MS - spread.randrange(SPREAD_MS)
            record = spread.randrange(1, SPREAD_RECORDS + 1)
            uid = str(uuid.UUID(int=spread.getrandbits(128), version=5))
            stored = {name: spread.choice(choices) for name, choices in SPREAD_CHOICES.items()}
            stored["amount"] = str(spread.randrange(1, 100_000) / 100)
        event = {
            "id": i,
            "portal_id": target.portal_id,
            "definition_id": target.definition_id,
            "uuid": uid,
            "object_type_id": CONTACT,
            "object_id": record,
            "visitor_id": None,
            "occurred_at": at,
            "received_at": OCCURRED_AT_MS,
            "properties": encode_properties(stored),
            "import_id": None,
        }
        event_rows.append(tuple(event[name] for name in EVENT_COLUMNS))
        for k, v in stored.items():
            value = {
                "event_id": i,
                "name": k,
                "definition_id": target.definition_id,
                "occurred_at": at,
                "value_key": value_key(v),
                "value": v,
                "record_key": record,
            }
            value_rows.append(tuple(value[name] for name in VALUE_COLUMNS))
    return event_rows, value_rows


def _as_dicts(table: Table, rows: Rows) -> list[dict[str, Any]]:
    names = [column.name for column in table.columns]
    return [dict(zip(names, row, strict=True)) for row in rows]


def _as_tuples(_table: Table, rows: Rows) -> Rows:
    return rows


def _sqlalchemy(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    conn.execute(insert(table), rows)


def _driver(conn: Connection, table: Table, rows: Rows) -> None:
    names = ", ".join(column.name for column in table.columns)
    if conn.dialect.name == "postgresql":
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" * len(table.columns))
    conn.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", rows)


# How: (parameters built before the clock starts, the timed insert).
INSERTS: dict[str, tuple[Params, Insert]] = {
    "sqlalchemy": (_as_dicts, _sqlalchemy),
    "driver": (_as_tuples, _driver),
}


def describe(how: str, dialect: str) -> str:
    """The table's words for an insert method on a backend."""
    if how == "sqlalchemy":
        return "SQLAlchemy executemany"
    return "COPY" if dialect == "postgresql" else "sqlite3 executemany"


class StorageCeiling:
    """A fresh database at `url`, filled in rounds that add up to one result."""

    def __init__(self, url: str, how: str, *, spread: bool = False) -> None:
        self._db = open_database(url)
        self._spread = random.Random(SPREAD_SEED) if spread else None
        self._params, self._insert = INSERTS[how]
        self._target = _prepare(self._db)
        self.label = describe(how, self._db.engine.dialect.name)
        self.result = StorageResult()

    def run(self, seconds: float) -> None:
        """Insert 1,000-event transactions for `seconds`; only the transactions are timed."""
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            self._transaction()

    def fill(self, events_wanted: int) -> None:
        """Insert 1,000-event transactions until the table holds `events_wanted` more:
        on spread rows the rate falls as the table grows, so a ceiling for N rows is
        measured over N rows."""
        goal = self.result.events + events_wanted
        while self.result.events < goal:
            self._transaction()

    def _transaction(self) -> None:
        """One timed transaction of 1,000 events; building its rows is not timed."""
        result = self.result
        event_rows, value_rows = _rows(self._target, result.events + 1, self._spread)
        event_params = self._params(events, event_rows)
        value_params = self._params(event_values, value_rows)
        began = time.perf_counter()
        with self._db.write() as conn:
            self._insert(conn, events, event_params)
            self._insert(conn, event_values, value_params)
        spent = time.perf_counter() - began
        result.commit_seconds.append(spent)
        result.seconds += spent
        result.events += EVENTS_PER_TRANSACTION

    def close(self) -> None:
        self._db.dispose()
