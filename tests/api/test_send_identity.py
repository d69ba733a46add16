"""Which record a completion lands on: customMatchingId > objectId > email > utk, and the
anonymous visitor whose occurrences move to its contact once identified."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from starlette.testclient import TestClient

from occur.app import create_app
from occur.config import Settings
from occur.services import visitors
from occur.store.db import Database
from occur.store.schema import crm_objects
from tests.api.test_crm_objects import OBJECTS, create
from tests.conftest import Tenant
from tests.support.events import count, counts, define, send, send_batch, stored_events
from tests.support.http import expect_error


@pytest.fixture
def name(api: TestClient, tenant: Tenant) -> str:
    define(api, {"label": "Signed up", "name": "signed_up",
                 "propertyDefinitions": [{"label": "Customer", "name": "customer",
                                          "type": "string"}]})  # fmt: skip
    return f"pe{tenant.portal_id}_signed_up"


def contact_ids(db: Database) -> list[int]:
    return [e.object_id for e in stored_events(db) if e.object_id is not None]


def test_email_of_a_known_contact_attaches_to_it_ignoring_case(
    api: TestClient, db: Database, name: str
) -> None:
    ada = create(api, "contacts", email="Ada@Example.com")
    send(api, {"eventName": name, "email": "ADA@example.COM"})
    assert contact_ids(db) == [int(ada["id"])]
    assert count(db, crm_objects) == 1


def test_an_unknown_email_creates_the_contact_once(
    api: TestClient, db: Database, name: str
) -> None:
    send_batch(api, [{"eventName": name, "email": "new@example.com"}] * 3)
    send(api, {"eventName": name, "email": "New@example.com"})
    [created] = api.get(f"{OBJECTS}/contacts").json()["results"]
    assert created["properties"]["email"] == "new@example.com"
    assert contact_ids(db) == [int(created["id"])] * 4


def test_with_creation_off_an_unknown_email_is_refused(
    settings: Settings, db: Database, tenant: Tenant
) -> None:
    off = replace(settings, create_contacts_from_email=False)
    with TestClient(create_app(off, db), raise_server_exceptions=False) as api:
        api.headers.update(tenant.headers)
        name = f"pe{tenant.portal_id}_x"
        define(api, {"label": "X", "name": "x"})
        known = create(api, "contacts", email="known@example.com")
        before = counts(db)
        r = api.post("/events/v3/send/batch", json={"inputs": [
            {"eventName": name, "email": "known@example.com"},
            {"eventName": name, "email": "nobody@example.com"},
        ]})  # fmt: skip
        expect_error(r, 400, "VALIDATION_ERROR", "inputs[1].email", "OBJECT_NOT_FOUND")
        assert counts(db) == before
        send(api, {"eventName": name, "email": "known@example.com"})
        assert contact_ids(db) == [int(known["id"])]


def test_object_id_wins_over_email_and_utk(api: TestClient, db: Database, name: str) -> None:
    ada = create(api, "contacts", email="ada@example.com")
    send(api, {"eventName": name, "objectId": ada["id"], "email": "other@example.com",
               "utk": "visitor-1"})  # fmt: skip
    assert contact_ids(db) == [int(ada["id"])]
    assert counts(db)["crm_objects"] == 1 and counts(db)["visitors"] == 0


def test_email_wins_over_utk(api: TestClient, db: Database, name: str) -> None:
    ada = create(api, "contacts", email="ada@example.com")
    send(api, {"eventName": name, "email": "ada@example.com", "utk": "visitor-1"})
    [event] = stored_events(db)
    assert (event.object_id, event.visitor_id) == (int(ada["id"]), None)


@pytest.mark.parametrize("target", ["email", "hs_object_id"])
def test_a_custom_matching_rule_wins_over_object_id(
    api: TestClient, db: Database, tenant: Tenant, target: str
) -> None:
    define(api, {
        "label": "Bought", "name": "bought",
        "propertyDefinitions": [{"label": "Buyer", "name": "buyer", "type": "string"}],
        "customMatchingId": {"primaryObjectRule": {"eventPropertyName": "buyer",
                                                   "targetObjectPropertyName": target}},
    })  # fmt: skip
    ada = create(api, "contacts", email="ada@example.com")
    bob = create(api, "contacts", email="bob@example.com")
    buyer = "ADA@example.com" if target == "email" else ada["id"]
    name = f"pe{tenant.portal_id}_bought"
    send(api, {"eventName": name, "objectId": bob["id"], "properties": {"buyer": buyer}})
    send(api, {"eventName": name, "objectId": bob["id"]})  # no buyer: objectId decides
    assert contact_ids(db) == [int(ada["id"]), int(bob["id"])]
    unknown = "zed@example.com" if target == "email" else "999999"
    r = api.post("/events/v3/send", json={"eventName": name, "objectId": bob["id"],
                                          "properties": {"buyer": unknown}})  # fmt: skip
    expect_error(r, 400, "VALIDATION_ERROR", "properties.buyer", "OBJECT_NOT_FOUND")
    r = api.post("/events/v3/send", json={"eventName": name, "properties": {"buyer": "x y"}})
    expect_error(r, 400, "VALIDATION_ERROR", "properties.buyer", "INVALID_MATCHING_VALUE")
    assert len(stored_events(db)) == 2 and count(db, crm_objects) == 2


def test_utk_alone_holds_the_occurrence_for_an_anonymous_visitor(
    api: TestClient, db: Database, tenant: Tenant, name: str
) -> None:
    send_batch(api, [{"eventName": name, "utk": "cookie-a"}, {"eventName": name, "utk": "cookie-a"},
                     {"eventName": name, "utk": "cookie-b"}])  # fmt: skip
    events = stored_events(db)
    assert [e.object_id for e in events] == [None, None, None]
    assert events[0].visitor_id == events[1].visitor_id != events[2].visitor_id
    assert counts(db)["visitors"] == 2 and counts(db)["crm_objects"] == 0


def test_identifying_a_visitor_moves_its_occurrences_to_the_contact(
    api: TestClient, db: Database, tenant: Tenant, name: str
) -> None:
    send_batch(api, [{"eventName": name, "utk": "cookie-a"}] * 2 + [
        {"eventName": name, "utk": "cookie-b"}])  # fmt: skip
    done = visitors.identify(db, tenant.portal_id, "cookie-a", "Ada@example.com")
    assert done.contact_created and done.occurrences_moved == 2
    [ada] = api.get(f"{OBJECTS}/contacts").json()["results"]
    assert int(ada["id"]) == done.contact_id
    assert ada["properties"]["email"] == "Ada@example.com"
    # later completions with the utk go straight to the contact
    send(api, {"eventName": name, "utk": "cookie-a"})
    events = stored_events(db)
    assert [e.object_id for e in events] == [done.contact_id, done.contact_id, None,
                                             done.contact_id]  # fmt: skip
    # identifying again with the same email moves nothing and creates nothing
    again = visitors.identify(db, tenant.portal_id, "cookie-a", "ada@example.com")
    assert (again.contact_id, again.contact_created, again.occurrences_moved) == (
        done.contact_id, False, 0)  # fmt: skip
    # a second visitor of the same person joins the same contact
    other = visitors.identify(db, tenant.portal_id, "cookie-b", "ADA@example.com")
    assert (other.contact_id, other.contact_created, other.occurrences_moved) == (
        done.contact_id, False, 1)  # fmt: skip
    assert count(db, crm_objects) == 1


def test_identify_before_any_completion_makes_the_visitor(
    api: TestClient, db: Database, tenant: Tenant, name: str
) -> None:
    ada = create(api, "contacts", email="ada@example.com")
    done = visitors.identify(db, tenant.portal_id, "fresh", "ada@example.com")
    assert (done.contact_id, done.contact_created, done.occurrences_moved) == (
        int(ada["id"]), False, 0)  # fmt: skip
    send(api, {"eventName": name, "utk": "fresh"})
    assert contact_ids(db) == [int(ada["id"])]


def test_identify_refuses_what_is_not_an_email(db: Database, tenant: Tenant) -> None:
    with pytest.raises(Exception, match="not an email address"):
        visitors.identify(db, tenant.portal_id, "cookie", "not-an-email")
    assert counts(db)["visitors"] == 0


def test_visitors_are_per_portal(
    api: TestClient, db: Database, tenant: Tenant, other_tenant: Tenant, name: str,
    client: TestClient,
) -> None:  # fmt: skip
    send(api, {"eventName": name, "utk": "shared-cookie"})
    visitors.identify(db, other_tenant.portal_id, "shared-cookie", "eve@example.com")
    [event] = stored_events(db)
    assert event.object_id is None  # the other portal's identify moved nothing of ours
    assert counts(db)["visitors"] == 2


def test_email_and_utk_are_for_contact_events_only(
    api: TestClient, db: Database, tenant: Tenant
) -> None:
    define(api, {"label": "Quoted", "name": "quoted", "primaryObject": "DEAL"})
    deal = create(api, "deals", dealname="Big")
    name = f"pe{tenant.portal_id}_quoted"
    before = counts(db)
    for field in ("email", "utk"):
        value: Any = "ada@example.com" if field == "email" else "cookie"
        r = api.post("/events/v3/send", json={"eventName": name, "objectId": deal["id"],
                                              field: value})  # fmt: skip
        expect_error(r, 400, "VALIDATION_ERROR", field, "CONTACTS_ONLY")
    assert counts(db) == before
    r = api.post("/events/v3/send", json={"eventName": name})
    body = expect_error(r, 400, "VALIDATION_ERROR")
    assert body["errors"][0]["code"] == "MISSING_IDENTIFIER"
    assert "objectId" in body["message"]
