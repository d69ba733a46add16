"""POST /events/v3/send and /send/batch: what a valid completion stores, and as what."""

from __future__ import annotations

import time
from typing import Any

import pytest
from starlette.testclient import TestClient

from occur.store.db import Database
from tests.api.test_crm_objects import create, token_with
from tests.conftest import Tenant
from tests.support.events import define, send, send_batch, stored_events
from tests.support.http import at_once, expect_error

PROPERTIES = [
    {"label": "Plan", "name": "plan", "type": "enumeration",
     "options": [{"label": "Pro", "value": "pro"}, {"label": "Free", "value": "free"},
                 {"label": "Team", "value": "team"}]},
    {"label": "Seconds", "name": "seconds", "type": "number"},
    {"label": "Paid", "name": "paid", "type": "bool"},
    {"label": "Renews", "name": "renews_at", "type": "datetime"},
    {"label": "Start", "name": "start_day", "type": "date"},
    {"label": "Note", "name": "note", "type": "string"},
]  # fmt: skip


@pytest.fixture
def demo(api: TestClient) -> dict[str, Any]:
    return define(api, {"label": "Watched demo", "name": "watched_demo",
                        "propertyDefinitions": PROPERTIES})  # fmt: skip


@pytest.fixture
def contact(api: TestClient) -> str:
    return str(create(api, "contacts", email="ada@example.com")["id"])


def test_send_stores_one_occurrence_with_canonical_values(
    api: TestClient, db: Database, tenant: Tenant, demo: dict[str, Any], contact: str
) -> None:
    send(api, {
        "eventName": f"pe{tenant.portal_id}_watched_demo",
        "objectId": contact,
        "occurredAt": "2026-03-01T10:15:30.250+02:00",
        "properties": {
            "plan": "team;pro", "seconds": 12.50, "paid": "TRUE", "renews_at": 1767225600000,
            "start_day": "2026-02-03", "note": "  kept as sent ", "hs_page_url": "https://x.test/a",
        },
    })  # fmt: skip
    [event] = stored_events(db)
    assert event.definition_id == int(demo["id"])
    assert event.object_type_id == "0-1"
    assert event.object_id == int(contact)
    assert event.visitor_id is None
    assert event.occurred_at == 1772352930250  # 08:15:30.250Z
    assert event.properties == {
        "plan": "team;pro",
        "seconds": "12.5",
        "paid": "true",
        "renews_at": "2026-01-01T00:00:00.000Z",
        "start_day": "2026-02-03",
        "note": "  kept as sent ",
        "hs_page_url": "https://x.test/a",
    }
    assert len(event.uuid) == 36 and event.uuid.count("-") == 4  # generated uuid4


def test_occurred_at_defaults_to_the_time_received(
    api: TestClient, db: Database, tenant: Tenant, demo: dict[str, Any], contact: str
) -> None:
    before = int(time.time() * 1000)
    send(api, {"eventName": f"pe{tenant.portal_id}_watched_demo", "objectId": contact})
    after = int(time.time() * 1000)
    [event] = stored_events(db)
    assert before <= event.occurred_at <= after
    assert event.occurred_at <= event.received_at <= after
    assert event.properties == {}


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("2026-01-02T03:04:05Z", 1767323045000),
        ("2026-01-02T03:04:05.006Z", 1767323045006),
        ("2026-01-02", 1767312000000),
        ("1767323045006", 1767323045006),
        (1767323045006, 1767323045006),
    ],
)
def test_occurred_at_takes_iso_8601_or_epoch_ms(
    api: TestClient, db: Database, tenant: Tenant, demo: dict[str, Any], contact: str,
    sent: object, stored: int,
) -> None:  # fmt: skip
    send(api, {"eventName": f"pe{tenant.portal_id}_watched_demo", "objectId": contact,
               "occurredAt": sent, "properties": {}})  # fmt: skip
    assert [e.occurred_at for e in stored_events(db)] == [stored]


@pytest.mark.parametrize(
    "path",
    [
        "/events/v3/send/",
        "/events/2026-03/send",
        "/events/custom/2026-03/send",
        "/events/custom/2025-09/send/",
    ],
)
def test_send_is_served_on_every_alias(
    api: TestClient, db: Database, tenant: Tenant, demo: dict[str, Any], contact: str, path: str
) -> None:
    body = {"eventName": f"pe{tenant.portal_id}_watched_demo", "objectId": contact}
    r = api.post(path, json=body)
    assert r.status_code == 204, r.text
    batch = path.rstrip("/") + "/batch"
    r = api.post(batch, json={"inputs": [body, body]})
    assert r.status_code == 204, r.text
    assert len(stored_events(db)) == 3


def test_a_batch_stores_every_input_in_order(
    api: TestClient, db: Database, tenant: Tenant, demo: dict[str, Any], contact: str
) -> None:
    name = f"pe{tenant.portal_id}_watched_demo"
    send_batch(api, [
        {"eventName": name, "objectId": contact, "uuid": f"u{i}", "occurredAt": 1_000_000 + i,
         "properties": {"seconds": i}}
        for i in range(500)
    ])  # fmt: skip
    events = stored_events(db)
    assert [e.uuid for e in events] == [f"u{i}" for i in range(500)]
    assert [e.properties["seconds"] for e in events] == [str(i) for i in range(500)]


def test_deal_events_attach_to_deals(api: TestClient, db: Database, tenant: Tenant) -> None:
    define(api, {"label": "Quoted", "name": "quoted", "primaryObject": "DEAL"})
    deal = create(api, "deals", dealname="Big one")
    send(api, {"eventName": f"pe{tenant.portal_id}_quoted", "objectId": int(deal["id"])})
    [event] = stored_events(db)
    assert (event.object_type_id, event.object_id) == ("0-3", int(deal["id"]))


def test_sending_needs_the_send_scope(
    client: TestClient, db: Database, tenant: Tenant, api: TestClient, demo: dict[str, Any],
    contact: str,
) -> None:  # fmt: skip
    body = {"eventName": f"pe{tenant.portal_id}_watched_demo", "objectId": contact}
    headers = token_with(db, tenant, "behavioral_events.event_definitions.read_write")
    r = client.post("/events/v3/send", json=body, headers=headers)
    expect_error(r, 403, "MISSING_SCOPES")
    headers = token_with(db, tenant, "analytics.behavioral_events.send")
    assert client.post("/events/v3/send", json=body, headers=headers).status_code == 204
    assert (
        client.post(
            "/events/v3/send", json=body, headers={"Authorization": "Bearer no"}
        ).status_code
        == 401
    )
    assert len(stored_events(db)) == 1


def test_a_property_added_a_moment_ago_is_accepted_at_once(
    api: TestClient, db: Database, tenant: Tenant, demo: dict[str, Any], contact: str
) -> None:
    body: dict[str, Any] = {"eventName": f"pe{tenant.portal_id}_watched_demo",
                            "objectId": contact, "properties": {"coupon": "X1"}}  # fmt: skip
    send(api, {**body, "properties": {}})  # the definition is cached now
    r = api.post("/events/v3/send", json=body)
    expect_error(r, 400, "VALIDATION_ERROR", "properties.coupon", "PROPERTY_DOESNT_EXIST")
    r = api.post(
        "/events/v3/event-definitions/watched_demo/property",
        json={"label": "Coupon", "name": "coupon", "type": "string"},
    )
    assert r.status_code == 201, r.text
    send(api, body)
    assert stored_events(db)[-1].properties == {"coupon": "X1"}


def test_a_property_deleted_a_moment_ago_is_refused_at_once(
    api: TestClient, db: Database, tenant: Tenant, demo: dict[str, Any], contact: str
) -> None:
    body = {"eventName": f"pe{tenant.portal_id}_watched_demo", "objectId": contact,
            "properties": {"note": "hello"}}  # fmt: skip
    send(api, body)  # cached, with `note`
    assert api.delete("/events/v3/event-definitions/watched_demo/property/note").status_code == 204
    r = api.post("/events/v3/send", json=body)
    expect_error(r, 400, "VALIDATION_ERROR", "properties.note", "PROPERTY_DOESNT_EXIST")
    assert len(stored_events(db)) == 1


def test_a_deleted_definition_takes_no_more_completions(
    api: TestClient, db: Database, tenant: Tenant, demo: dict[str, Any], contact: str
) -> None:
    body = {"eventName": f"pe{tenant.portal_id}_watched_demo", "objectId": contact}
    send(api, body)
    assert api.delete("/events/v3/event-definitions/watched_demo").status_code == 204
    r = api.post("/events/v3/send", json=body)
    expect_error(r, 400, "VALIDATION_ERROR", "eventName", "MISSING_EVENT_DEFINITION")
    assert stored_events(db) == []


def test_concurrent_requests_are_all_stored(
    api: TestClient, db: Database, tenant: Tenant, demo: dict[str, Any], contact: str
) -> None:
    name = f"pe{tenant.portal_id}_watched_demo"

    def one(i: int) -> int:
        body = {"eventName": name, "objectId": contact, "uuid": f"c{i}",
                "properties": {"seconds": i}}  # fmt: skip
        return api.post("/events/v3/send", json=body).status_code

    assert at_once(40, one) == [204] * 40
    assert sorted(e.uuid for e in stored_events(db)) == sorted(f"c{i}" for i in range(40))
