"""Engines and transactions for SQLite and PostgreSQL.

SQLite: WAL with synchronous=FULL so a committed write survives power loss, foreign keys
on, and write transactions opened with BEGIN IMMEDIATE so two writers queue on the busy
timeout instead of failing when a reader tries to upgrade its lock.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

SQLITE_BUSY_TIMEOUT_MS = 10_000
_WRITE = "occur_write"


class Database:
    """An engine plus the two kinds of transaction occur uses."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction: committed when the block ends, rolled back on error."""
        with self.engine.connect() as conn:
            conn.execution_options(**{_WRITE: True})
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """One read transaction, a consistent snapshot for the block."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def ping(self) -> bool:
        """True when the database answers a trivial query."""
        try:
            with self.read() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    def dispose(self) -> None:
        self.engine.dispose()


class HeldConnection:
    """One connection kept open across write transactions, for a thread that does little
    else (the ingest writer).

    A pool checkout costs more than the transaction it serves on PostgreSQL: the
    pre-ping and the reset on return took 2.7 ms of a 5.8 ms one-event group (measured
    with the writer alone, durable cluster). So the connection is pinged only after it
    sat idle (a restarted server drops it), and a connection that fails is discarded:
    the next transaction opens a new one.
    """

    def __init__(self, db: Database, *, idle_ping_seconds: float = 10.0) -> None:
        self._db = db
        self._idle_ping_seconds = idle_ping_seconds
        self._conn: Connection | None = None
        self._used_at = 0.0

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction on the held connection, as `Database.write` makes."""
        conn = self._usable()
        try:
            with conn.begin():
                yield conn
        except DBAPIError as exc:
            if exc.connection_invalidated:
                self.close()
            raise
        finally:
            self._used_at = time.monotonic()

    def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            conn.close()

    def _usable(self) -> Connection:
        conn = self._conn
        if conn is not None and not conn.closed and not conn.invalidated:
            idle = time.monotonic() - self._used_at
            if self._db.is_sqlite or idle < self._idle_ping_seconds or _answers(conn):
                return conn
        self.close()
        conn = self._conn = self._db.engine.connect()
        conn.execution_options(**{_WRITE: True})
        return conn


def _answers(conn: Connection) -> bool:
    try:
        conn.exec_driver_sql("SELECT 1")
        conn.rollback()
    except DBAPIError:
        return False
    return True


def open_database(url: str) -> Database:
    """Create the engine for a database URL (SQLite files get their folder made)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return Database(_sqlite_engine(url, parsed.database))
    engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
    return Database(engine)


def _sqlite_engine(url: str, database: str | None) -> Engine:
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Hand transaction control to the "begin" hook below.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine
