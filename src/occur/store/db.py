"""Engines and transactions for SQLite and PostgreSQL.

SQLite: WAL with synchronous=FULL so a committed write survives power loss, foreign keys
on, and write transactions opened with BEGIN IMMEDIATE so two writers queue on the busy
timeout instead of failing when a reader tries to upgrade its lock.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

SQLITE_BUSY_TIMEOUT_MS = 10_000
# How often the ingest writer's WAL is copied into a SQLite database (HeldConnection).
CHECKPOINT_EVERY_SECONDS = 0.2
_WRITE = "occur_write"

log = logging.getLogger("occur.db")


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

    On a SQLite file its commits leave the WAL checkpoint to a thread of its own
    (`WalCheckpointer`): SQLite otherwise copies the WAL into the database inside
    whichever commit passes 1,000 WAL pages, and every request queued behind that commit
    waits for the copy.
    """

    def __init__(
        self,
        db: Database,
        *,
        idle_ping_seconds: float = 10.0,
        checkpoint_every_seconds: float = CHECKPOINT_EVERY_SECONDS,
    ) -> None:
        self._db = db
        self._idle_ping_seconds = idle_ping_seconds
        self._conn: Connection | None = None
        self._used_at = 0.0
        self._checkpointer = (
            WalCheckpointer(db, checkpoint_every_seconds) if _sqlite_file(db) else None
        )

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
        if self._checkpointer is not None:
            self._checkpointer.stop()

    def _usable(self) -> Connection:
        conn = self._conn
        if conn is not None and not conn.closed and not conn.invalidated:
            idle = time.monotonic() - self._used_at
            if self._db.is_sqlite or idle < self._idle_ping_seconds or _answers(conn):
                return conn
        dropped, self._conn = self._conn, None
        if dropped is not None:
            dropped.close()
        conn = self._conn = self._db.engine.connect()
        conn.execution_options(**{_WRITE: True})
        if self._checkpointer is not None:
            # On the DBAPI connection: through SQLAlchemy it would open a transaction.
            conn.connection.driver_connection.execute("PRAGMA wal_autocheckpoint=0")  # type: ignore[union-attr]
            self._checkpointer.start()
        return conn


class WalCheckpointer:
    """A thread that copies a SQLite database's committed WAL pages into the database
    file every `every_seconds` (a PASSIVE checkpoint: it never blocks a writer or a
    reader, and skips pages a reader still needs). The WAL then starts over from its
    beginning at the next write, as it does after SQLite's own checkpoints.

    bench/import.py with the ingest writer's checkpoints moved here: an import's 25-row
    chunks took 16 ms at p90 while sends flowed, against 36-45 ms when each commit
    passing 1,000 WAL pages also copied them.
    """

    def __init__(self, db: Database, every_seconds: float) -> None:
        self._db = db
        self._every_seconds = every_seconds
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.checkpoints = 0  # PRAGMAs that ran (for tests)

    def start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stopping.clear()
            self._thread = threading.Thread(
                target=self._run, name="occur-wal-checkpoint", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop, after a last checkpoint so that a clean shutdown leaves a short WAL."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(30)
            self._thread = None

    def _run(self) -> None:
        raw = self._db.engine.raw_connection()
        try:
            while True:
                stopping = self._stopping.wait(self._every_seconds)
                self._checkpoint(raw)
                if stopping:
                    return
        finally:
            raw.close()

    def _checkpoint(self, raw: Any) -> None:
        try:
            raw.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            self.checkpoints += 1
        except sqlite3.Error:
            # A busy checkpoint lock or a full disk: the next one tries again, and
            # nothing committed depends on it.
            log.warning("WAL checkpoint failed", exc_info=True)


def _sqlite_file(db: Database) -> bool:
    database = db.engine.url.database
    return db.is_sqlite and bool(database) and database != ":memory:"


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
