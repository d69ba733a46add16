"""Reading what ingestion stored, straight from the store (the read API has its own tests)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from starlette.testclient import TestClient

from occur.store.db import Database
from occur.store.events import decode_properties
from occur.store.schema import crm_objects, event_values, events, visitors


@dataclass(frozen=True)
class Stored:
    id: int
    definition_id: int
    uuid: str
    object_type_id: str
    object_id: int | None
    visitor_id: int | None
    occurred_at: int
    received_at: int
    properties: dict[str, str]


def stored_events(db: Database) -> list[Stored]:
    with db.read() as conn:
        rows = conn.execute(select(events).order_by(events.c.id)).all()
    return [
        Stored(
            r.id,
            r.definition_id,
            r.uuid,
            r.object_type_id,
            r.object_id,
            r.visitor_id,
            r.occurred_at,
            r.received_at,
            decode_properties(r.properties),
        )
        for r in rows
    ]


def count(db: Database, table: Any) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def counts(db: Database) -> dict[str, int]:
    """Rows in every table a send may write: all zero after a refused first request."""
    return {
        "events": count(db, events),
        "event_values": count(db, event_values),
        "crm_objects": count(db, crm_objects),
        "visitors": count(db, visitors),
    }


def define(api: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    """Create an event definition through the API; returns its JSON."""
    r = api.post("/events/v3/event-definitions", json=body)
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result


def send(api: TestClient, body: dict[str, Any]) -> None:
    r = api.post("/events/v3/send", json=body)
    assert r.status_code == 204, r.text
    assert r.content == b""


def send_batch(api: TestClient, inputs: list[dict[str, Any]]) -> None:
    r = api.post("/events/v3/send/batch", json={"inputs": inputs})
    assert r.status_code == 204, r.text
    assert r.content == b""
