"""Contacts looked up by email seek the unique (portal, type, email) index.

Sends and import chunks look up hundreds of emails at once. Without table statistics
(a new SQLite file never has any) SQLite's planner preferred the (portal, type,
archived, id) index and tested every live contact of the portal against the list: an
import chunk of 1,000 rows spent 91 ms there among 5,000 contacts. The statements are
explained by SQLite itself here; PostgreSQL plans from statistics and is not asked.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from occur.domain.objects import CONTACT
from occur.services import access
from occur.store import crm
from occur.store.db import Database

UNIQUE_EMAIL = "sqlite_autoindex_crm_objects_1"


def _plans(db: Database, lookup: Any) -> list[str]:
    """SQLite's plan of every statement `lookup(conn)` runs."""
    seen: list[tuple[str, Any]] = []

    def remember(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    with db.read() as conn:
        event.listen(conn, "before_cursor_execute", remember)
        lookup(conn)
        event.remove(conn, "before_cursor_execute", remember)
        raw = conn.connection.driver_connection
        assert raw is not None
        return [
            " / ".join(str(row[3]) for row in raw.execute(f"EXPLAIN QUERY PLAN {sql}", params))
            for sql, params in seen
        ]


def test_emails_are_sought_in_the_unique_index(db: Database) -> None:
    if not db.is_sqlite:
        pytest.skip("PostgreSQL plans from its statistics")
    portal, _token = access.create_portal(db, "Acme")
    emails = [f"p{i}@x.test" for i in range(300)]
    with db.write() as conn:
        crm.insert_objects(conn, portal.id, CONTACT, [{"email": e} for e in emails], 0)
    wanted = [*emails[:200], "nobody@x.test"]
    with db.read() as conn:
        found = crm.contact_ids_by_email(conn, portal.id, CONTACT, wanted)
        records = crm.find_by_emails(conn, portal.id, CONTACT, wanted)
    assert sorted(found) == sorted(emails[:200]) == sorted(records)
    for lookup in (
        lambda c: crm.contact_ids_by_email(c, portal.id, CONTACT, wanted),
        lambda c: crm.find_by_emails(c, portal.id, CONTACT, wanted),
    ):
        (plan,) = _plans(db, lookup)
        assert f"USING INDEX {UNIQUE_EMAIL} (portal_id=? AND object_type_id=? AND email=?)" in plan
