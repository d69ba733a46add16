"""POST /crm/v3/objects/contacts/gdpr-delete: the contact and its events go for good."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from occur.store.db import Database
from occur.store.schema import crm_objects, event_values, events
from tests.api.test_crm_objects import OBJECTS, create
from tests.conftest import Tenant
from tests.support.http import expect_error

GDPR = f"{OBJECTS}/contacts/gdpr-delete"


def definition_id(api: TestClient) -> int:
    r = api.post("/events/v3/event-definitions", json={"label": "Viewed", "name": "viewed"})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def add_events(api: TestClient, tenant: Tenant, object_id: str, count: int) -> None:
    """Occurrences attached to a contact, sent through the API, each with a property
    value so that the indexed value rows must go too."""
    inputs = [
        {
            "eventName": f"pe{tenant.portal_id}_viewed",
            "objectId": object_id,
            "occurredAt": 1_700_000_000_000 + i,
            "properties": {"hs_page_title": f"page {i}"},
        }
        for i in range(count)
    ]
    r = api.post("/events/v3/send/batch", json={"inputs": inputs})
    assert r.status_code == 204, r.text


def values_of(db: Database, object_id: str) -> int:
    with db.read() as conn:
        query = (
            select(func.count())
            .select_from(event_values.join(events, events.c.id == event_values.c.event_id))
            .where(events.c.object_id == int(object_id))
        )
        return int(conn.execute(query).scalar_one())


def orphan_values(db: Database) -> int:
    with db.read() as conn:
        query = (
            select(func.count())
            .select_from(event_values)
            .where(~select(events.c.id).where(events.c.id == event_values.c.event_id).exists())
        )
        return int(conn.execute(query).scalar_one())


def events_of(db: Database, object_id: str) -> int:
    with db.read() as conn:
        query = select(func.count()).select_from(events).where(events.c.object_id == int(object_id))
        return int(conn.execute(query).scalar_one())


def rows_with_id(db: Database, object_id: str) -> int:
    with db.read() as conn:
        query = (
            select(func.count()).select_from(crm_objects).where(crm_objects.c.id == int(object_id))
        )
        return int(conn.execute(query).scalar_one())


@pytest.mark.parametrize("by_email", [False, True])
def test_gdpr_delete_removes_the_contact_and_its_events(
    api: TestClient, db: Database, tenant: Tenant, by_email: bool
) -> None:
    definition_id(api)
    gone = create(api, "contacts", email="Ada@example.com")
    kept = create(api, "contacts", email="bob@example.com")
    add_events(api, tenant, gone["id"], 3)
    add_events(api, tenant, kept["id"], 2)
    assert values_of(db, gone["id"]) == 3
    body = (
        {"objectId": "ada@EXAMPLE.com", "idProperty": "email"}
        if by_email
        else {"objectId": gone["id"]}
    )
    r = api.post(GDPR, json=body)
    assert r.status_code == 204, r.text
    assert rows_with_id(db, gone["id"]) == 0
    assert events_of(db, gone["id"]) == 0
    assert events_of(db, kept["id"]) == 2
    assert values_of(db, kept["id"]) == 2
    assert orphan_values(db) == 0
    expect_error(api.get(f"{OBJECTS}/contacts/{gone['id']}?archived=true"), 404, "OBJECT_NOT_FOUND")
    assert api.get(f"{OBJECTS}/contacts/{kept['id']}").status_code == 200
    expect_error(api.post(GDPR, json=body), 404, "OBJECT_NOT_FOUND")
    # the address is free again
    assert create(api, "contacts", email="ada@example.com")["id"] != gone["id"]


def test_gdpr_delete_also_removes_an_archived_contact(api: TestClient, db: Database) -> None:
    gone = create(api, "contacts", email="ada@example.com")
    assert api.delete(f"{OBJECTS}/contacts/{gone['id']}").status_code == 204
    r = api.post(GDPR, json={"objectId": "ada@example.com", "idProperty": "email"})
    assert r.status_code == 204
    assert rows_with_id(db, gone["id"]) == 0


def test_gdpr_delete_of_another_portals_contact_is_404(
    client: TestClient, db: Database, tenant: Tenant, other_tenant: Tenant
) -> None:
    client.headers.update(tenant.headers)
    mine = create(client, "contacts", email="ada@example.com")
    for body in ({"objectId": mine["id"]}, {"objectId": "ada@example.com", "idProperty": "email"}):
        r = client.post(GDPR, json=body, headers=other_tenant.headers)
        expect_error(r, 404, "OBJECT_NOT_FOUND")
    assert rows_with_id(db, mine["id"]) == 1


@pytest.mark.parametrize(
    ("body", "where", "code"),
    [
        ({}, "objectId", "REQUIRED"),
        ({"objectId": ""}, "objectId", "REQUIRED"),
        ({"objectId": []}, "objectId", "INVALID_TYPE"),
        ({"objectId": "1", "idProperty": "firstname"}, "idProperty", "NOT_UNIQUE"),
        ({"objectId": "1", "idProperty": 5}, "idProperty", "INVALID_TYPE"),
    ],
)
def test_gdpr_delete_shapes(api: TestClient, body: object, where: str, code: str) -> None:
    expect_error(api.post(GDPR, json=body), 400, "VALIDATION_ERROR", where, code)


def test_gdpr_delete_is_for_contacts_only(api: TestClient, db: Database) -> None:
    company = create(api, "companies", name="Acme")
    r = api.post(f"{OBJECTS}/companies/gdpr-delete", json={"objectId": company["id"]})
    expect_error(r, 404, "OBJECT_NOT_FOUND")
    assert rows_with_id(db, company["id"]) == 1


def test_gdpr_delete_of_a_missing_contact_is_404(api: TestClient) -> None:
    expect_error(api.post(GDPR, json={"objectId": "424242"}), 404, "OBJECT_NOT_FOUND")
    r = api.post(GDPR, json={"objectId": 424242})
    expect_error(r, 404, "OBJECT_NOT_FOUND")
