"""Migrations build exactly the tables schema.py describes, on both engines."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from occur.services import access, definitions
from occur.store import migrate
from occur.store.db import Database, open_database
from occur.store.schema import metadata
from occur.store.visitors import insert_visitors


def test_migrated_database_matches_the_schema(db: Database) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_database_is_at_head_and_upgrade_is_idempotent(db: Database) -> None:
    assert migrate.current_revision(db) == migrate.head_revision()
    migrate.upgrade(db)
    assert migrate.current_revision(db) == migrate.head_revision()


def test_value_rows_learn_their_record_when_upgraded(db: Database) -> None:
    """0006 copies each occurrence's record onto its value rows: the contact, or minus
    the visitor while anonymous, so unique counts by value stay right on old data."""
    portal, _token = access.create_portal(db, "Old")
    definition = definitions.create(
        db, portal.id, {"label": "Old", "primaryObject": "CONTACT"}, max_definitions=5
    )
    with db.write() as conn:
        visitor = insert_visitors(conn, portal.id, ["utk"], 0)["utk"].id
    migrate.downgrade(db, "0005")
    with db.engine.begin() as conn:
        for event_id, object_id, visitor_id in (
            (1, 42, None),
            (2, None, visitor),
            (3, 42, visitor),
        ):
            conn.execute(
                text(
                    "INSERT INTO events (id, portal_id, definition_id, uuid, object_type_id,"
                    " object_id, visitor_id, occurred_at, received_at, properties)"
                    " VALUES (:id, :portal, :definition, :uuid, '0-1', :object, :visitor,"
                    " 1, 1, '{}')"
                ),
                {
                    "id": event_id,
                    "portal": portal.id,
                    "definition": definition.id,
                    "uuid": f"u{event_id}",
                    "object": object_id,
                    "visitor": visitor_id,
                },
            )
            conn.exec_driver_sql(
                "INSERT INTO event_values (event_id, name, definition_id, occurred_at, "
                f"value_key, value) VALUES ({event_id}, 'plan', {definition.id}, 1, 'pro', 'pro')"
            )
    migrate.upgrade(db)
    with db.engine.connect() as conn:
        found = conn.exec_driver_sql(
            "SELECT event_id, record_key FROM event_values ORDER BY event_id"
        ).all()
    assert [tuple(row) for row in found] == [(1, 42), (2, -visitor), (3, 42)]


def test_downgrading_keeps_the_rows_that_point_at_altered_tables(db: Database) -> None:
    """Dropping a column of portals or event_definitions must not copy and drop the
    table: on SQLite, with foreign keys on, that cascades into every child row."""
    portal, _token = access.create_portal(db, "Kept")
    body = {
        "label": "Kept",
        "primaryObject": "CONTACT",
        "propertyDefinitions": [{"name": "plan", "label": "Plan", "type": "string"}],
    }
    definitions.create(db, portal.id, body, max_definitions=5)
    migrate.downgrade(db, "0002")
    with db.engine.connect() as conn:
        count = conn.exec_driver_sql("SELECT count(*) FROM event_properties").scalar_one()
        kept = conn.exec_driver_sql("SELECT count(*) FROM event_definitions").scalar_one()
    assert (kept, count) == (1, 33)  # the custom property and the 32 default ones
    migrate.upgrade(db)
    assert migrate.current_revision(db) == migrate.head_revision()


def test_sqlite_runs_in_wal_with_full_sync_and_foreign_keys(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'data' / 'occur.sqlite'}")
    with db.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    db.dispose()
