"""The writer's held connection: it commits like Database.write, and survives the server
dropping it (PostgreSQL restarts, idle-connection reapers) without losing a write."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from occur.store.db import Database, HeldConnection


def _portal_names(db: Database) -> list[str]:
    with db.read() as conn:
        return list(conn.execute(text("SELECT name FROM portals ORDER BY id")).scalars())


def _add_portal(conn_source: HeldConnection, name: str) -> None:
    with conn_source.write() as conn:
        conn.execute(
            text("INSERT INTO portals (name, created_at) VALUES (:name, 0)"), {"name": name}
        )


def test_commits_and_rolls_back_like_a_write_transaction(db: Database) -> None:
    held = HeldConnection(db)
    _add_portal(held, "kept")
    with pytest.raises(RuntimeError), held.write() as conn:
        conn.execute(text("INSERT INTO portals (name, created_at) VALUES ('undone', 0)"))
        raise RuntimeError("the caller fails mid-transaction")
    _add_portal(held, "after")
    held.close()
    assert _portal_names(db) == ["kept", "after"]


# A SQLite file connection has no server to drop it: these run on PostgreSQL only.
postgresql_only = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@postgresql_only
def test_a_connection_the_server_killed_is_replaced(db: Database) -> None:
    held = HeldConnection(db, idle_ping_seconds=0)
    _add_portal(held, "before")
    with held.write() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    with db.write() as other:
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    _add_portal(held, "after")  # pinged first, found dead, reconnected
    with held.write() as conn:
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
    held.close()
    assert _portal_names(db) == ["before", "after"]


@postgresql_only
def test_without_the_idle_ping_a_dead_connection_fails_once_then_recovers(db: Database) -> None:
    held = HeldConnection(db, idle_ping_seconds=3600)
    with held.write() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    with db.write() as other:
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    with pytest.raises(DBAPIError):
        _add_portal(held, "lost with the connection")
    _add_portal(held, "next")
    held.close()
    assert _portal_names(db) == ["next"]
