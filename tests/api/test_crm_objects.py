"""The CRM objects API over HTTP: create, read, list, update, archive, for each type.

Every test runs on SQLite and PostgreSQL (see tests/conftest.py).
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from starlette.testclient import TestClient

from occur.services import access
from occur.store.db import Database
from tests.conftest import Tenant
from tests.support.http import expect_error

OBJECTS = "/crm/v3/objects"
ISO_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
SYSTEM = {"createdate", "lastmodifieddate", "hs_object_id"}
# plural, objectTypeId, a valid properties object
TYPES = [
    ("contacts", "0-1", {"email": "ada@example.com", "firstname": "Ada"}),
    ("companies", "0-2", {"name": "Acme", "domain": "acme.test"}),
    ("deals", "0-3", {"dealname": "Big one", "amount": "1500"}),
    ("tickets", "0-5", {"subject": "Broken", "content": "It broke."}),
]


def create(api: TestClient, plural: str, **properties: Any) -> dict[str, Any]:
    r = api.post(f"{OBJECTS}/{plural}", json={"properties": properties})
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


def token_with(db: Database, tenant: Tenant, *scopes: str) -> dict[str, str]:
    issued = access.create_token(db, tenant.portal_id, list(scopes))
    return {"Authorization": f"Bearer {issued.secret}"}


# --- create and read -------------------------------------------------------------------


def test_create_answers_201_with_a_simple_public_object(api: TestClient) -> None:
    r = api.post(f"{OBJECTS}/contacts", json={"properties": {"email": "ada@example.com"}})
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {"id", "properties", "createdAt", "updatedAt", "archived"}
    assert body["id"].isdigit()
    assert body["archived"] is False
    assert ISO_MS.match(body["createdAt"]) and body["updatedAt"] == body["createdAt"]
    assert body["properties"] == {
        "email": "ada@example.com",
        "createdate": body["createdAt"],
        "lastmodifieddate": body["createdAt"],
        "hs_object_id": body["id"],
    }


@pytest.mark.parametrize(("plural", "type_id", "properties"), TYPES)
def test_each_type_is_served_by_name_and_by_type_id(
    api: TestClient, plural: str, type_id: str, properties: dict[str, str]
) -> None:
    by_name = create(api, plural, **properties)
    by_id = create(api, type_id, **{k: v for k, v in properties.items() if k != "email"})
    for record in (by_name, by_id):
        for path in (plural, type_id):
            r = api.get(f"{OBJECTS}/{path}/{record['id']}")
            assert r.status_code == 200, r.text
            assert r.json()["id"] == record["id"]
    listed = api.get(f"{OBJECTS}/{type_id}").json()["results"]
    assert [x["id"] for x in listed] == [by_name["id"], by_id["id"]]


def test_types_do_not_share_records(api: TestClient) -> None:
    deal = create(api, "deals", dealname="D")
    assert api.get(f"{OBJECTS}/tickets/{deal['id']}").status_code == 404
    assert api.get(f"{OBJECTS}/contacts").json()["results"] == []


def test_get_returns_the_default_properties_with_null_for_unset_ones(api: TestClient) -> None:
    created = create(api, "contacts", email="ada@example.com", phone="123")
    r = api.get(f"{OBJECTS}/contacts/{created['id']}")
    assert r.status_code == 200
    props = r.json()["properties"]
    assert set(props) == {"email", "firstname", "lastname", *SYSTEM}
    assert props["firstname"] is None and props["lastname"] is None
    assert props["email"] == "ada@example.com"
    deal = create(api, "deals", dealname="D")
    assert set(api.get(f"{OBJECTS}/deals/{deal['id']}").json()["properties"]) == {
        "dealname",
        "amount",
        "dealstage",
        "pipeline",
        "closedate",
        *SYSTEM,
    }


@pytest.mark.parametrize(
    "query",
    [
        "properties=phone&properties=lastname&properties=nosuch",
        "properties=phone,lastname,nosuch",
    ],
)
def test_properties_selects_what_a_read_returns(api: TestClient, query: str) -> None:
    created = create(api, "contacts", email="ada@example.com", phone="123")
    props = api.get(f"{OBJECTS}/contacts/{created['id']}?{query}").json()["properties"]
    assert props == {
        "phone": "123",
        "lastname": None,
        "createdate": created["createdAt"],
        "lastmodifieddate": created["updatedAt"],
        "hs_object_id": created["id"],
    }


def test_values_are_stored_and_returned_as_strings(api: TestClient) -> None:
    contact = create(api, "contacts", firstname=123, lastname=True, phone=1.5, company=False)
    assert {k: contact["properties"][k] for k in ("firstname", "lastname", "phone", "company")} == {
        "firstname": "123",
        "lastname": "true",
        "phone": "1.5",
        "company": "false",
    }
    deal = create(api, "deals", amount=1500.0, closedate=1700000000123)
    assert deal["properties"]["amount"] == "1500"
    assert deal["properties"]["closedate"] == "2023-11-14T22:13:20.123Z"


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("1500.00", "1500"),
        (" 42 ", "42"),
        ("-0.50", "-0.5"),
        ("1e3", "1000"),
        ("0.000", "0"),
        ("+7", "7"),
        (".25", "0.25"),
    ],
)
def test_numbers_are_stored_in_plain_decimal_form(api: TestClient, given: str, stored: str) -> None:
    deal = create(api, "deals", amount=given)
    assert deal["properties"]["amount"] == stored
    fetched = api.get(f"{OBJECTS}/deals/{deal['id']}?properties=amount").json()
    assert fetched["properties"]["amount"] == stored


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("1700000000000", "2023-11-14T22:13:20.000Z"),
        ("2024-03-01", "2024-03-01T00:00:00.000Z"),
        ("2024-03-01T10:00:00+02:00", "2024-03-01T08:00:00.000Z"),
        ("2024-03-01T10:00:00.5Z", "2024-03-01T10:00:00.500Z"),
        ("0", "1970-01-01T00:00:00.000Z"),
    ],
)
def test_dates_accept_epoch_ms_or_iso_and_are_stored_normalised(
    api: TestClient, given: str, stored: str
) -> None:
    deal = create(api, "deals", closedate=given)
    assert deal["properties"]["closedate"] == stored


def test_email_is_trimmed(api: TestClient) -> None:
    assert create(api, "contacts", email="  ada@example.com ")["properties"]["email"] == (
        "ada@example.com"
    )


def test_non_ascii_text_round_trips(api: TestClient) -> None:
    created = create(api, "contacts", firstname="Zoë 🚗", lastname="Ærø")
    got = api.get(f"{OBJECTS}/contacts/{created['id']}").json()["properties"]
    assert (got["firstname"], got["lastname"]) == ("Zoë 🚗", "Ærø")


def test_get_by_email_is_case_insensitive(api: TestClient) -> None:
    created = create(api, "contacts", email="Ada@Example.com")
    r = api.get(f"{OBJECTS}/contacts/ADA@example.COM", params={"idProperty": "email"})
    assert r.status_code == 200, r.text
    assert r.json()["id"] == created["id"]
    assert r.json()["properties"]["email"] == "Ada@Example.com"
    missing = api.get(f"{OBJECTS}/contacts/bob@example.com", params={"idProperty": "email"})
    expect_error(missing, 404, "OBJECT_NOT_FOUND")


def test_get_by_hs_object_id_as_id_property(api: TestClient) -> None:
    created = create(api, "companies", name="Acme")
    r = api.get(f"{OBJECTS}/companies/{created['id']}", params={"idProperty": "hs_object_id"})
    assert r.status_code == 200 and r.json()["id"] == created["id"]


@pytest.mark.parametrize(
    ("plural", "id_property", "code"),
    [
        ("contacts", "firstname", "NOT_UNIQUE"),
        ("contacts", "nosuch", "PROPERTY_DOESNT_EXIST"),
        ("companies", "email", "PROPERTY_DOESNT_EXIST"),
        ("companies", "domain", "NOT_UNIQUE"),
    ],
)
def test_id_property_must_be_a_unique_property(
    api: TestClient, plural: str, id_property: str, code: str
) -> None:
    for method in ("GET", "PATCH"):
        r = api.request(
            method,
            f"{OBJECTS}/{plural}/x",
            params={"idProperty": id_property},
            json={"properties": {}},
        )
        expect_error(r, 400, "VALIDATION_ERROR", "idProperty", code)


# --- update ------------------------------------------------------------------------------


def test_patch_changes_values_and_lastmodifieddate(api: TestClient) -> None:
    created = create(api, "contacts", email="ada@example.com", firstname="Ada", phone="1")
    time.sleep(0.005)
    r = api.patch(
        f"{OBJECTS}/contacts/{created['id']}",
        json={"properties": {"firstname": "Augusta", "phone": "", "lastname": None}},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["properties"]["firstname"] == "Augusta"
    assert "phone" not in body["properties"]  # an empty string clears a value
    assert body["properties"]["email"] == "ada@example.com"
    assert body["createdAt"] == created["createdAt"]
    assert body["updatedAt"] > created["updatedAt"]
    assert body["properties"]["lastmodifieddate"] == body["updatedAt"]
    got = api.get(f"{OBJECTS}/contacts/{created['id']}?properties=phone,firstname").json()
    assert got["properties"]["phone"] is None
    assert got["properties"]["firstname"] == "Augusta"


def test_a_patch_that_changes_nothing_keeps_lastmodifieddate(api: TestClient) -> None:
    created = create(api, "companies", name="Acme")
    time.sleep(0.005)
    r = api.patch(f"{OBJECTS}/companies/{created['id']}", json={"properties": {"name": "Acme"}})
    assert r.status_code == 200
    assert r.json()["updatedAt"] == created["updatedAt"]


def test_patch_by_email(api: TestClient) -> None:
    created = create(api, "contacts", email="ada@example.com")
    r = api.patch(
        f"{OBJECTS}/contacts/ADA@example.com",
        params={"idProperty": "email"},
        json={"properties": {"lastname": "Lovelace"}},
    )
    assert r.status_code == 200, r.text
    assert r.json()["id"] == created["id"]
    assert r.json()["properties"]["lastname"] == "Lovelace"


def test_patch_can_change_an_email_but_not_to_a_taken_one(api: TestClient) -> None:
    ada = create(api, "contacts", email="ada@example.com")
    bob = create(api, "contacts", email="bob@example.com")
    r = api.patch(f"{OBJECTS}/contacts/{ada['id']}", json={"properties": {"email": "BOB@x.io"}})
    assert r.status_code == 200 and r.json()["properties"]["email"] == "BOB@x.io"
    r = api.patch(
        f"{OBJECTS}/contacts/{ada['id']}", json={"properties": {"email": "Bob@Example.com"}}
    )
    body = expect_error(r, 409, "CONFLICT", "properties.email", "CONTACT_EXISTS")
    assert body["message"] == f"Contact already exists. Existing ID: {bob['id']}"
    # its own address in another case is no conflict
    r = api.patch(f"{OBJECTS}/contacts/{ada['id']}", json={"properties": {"email": "bob@X.IO"}})
    assert r.status_code == 200 and r.json()["properties"]["email"] == "bob@X.IO"
    # the freed address can be taken by the other contact
    r = api.patch(
        f"{OBJECTS}/contacts/{bob['id']}", json={"properties": {"email": "ada@example.com"}}
    )
    assert r.status_code == 200, r.text


def test_creating_a_contact_with_a_taken_email_is_409(api: TestClient) -> None:
    first = create(api, "contacts", email="ada@example.com")
    r = api.post(f"{OBJECTS}/contacts", json={"properties": {"email": "ADA@EXAMPLE.COM"}})
    body = expect_error(r, 409, "CONFLICT", "properties.email", "CONTACT_EXISTS")
    assert body["message"] == f"Contact already exists. Existing ID: {first['id']}"
    assert body["errors"][0]["context"] == {"existingId": [first["id"]]}
    assert len(api.get(f"{OBJECTS}/contacts").json()["results"]) == 1


def test_contacts_without_email_do_not_collide(api: TestClient) -> None:
    create(api, "contacts", firstname="A")
    create(api, "contacts", firstname="B")
    assert len(api.get(f"{OBJECTS}/contacts").json()["results"]) == 2


# --- archive -----------------------------------------------------------------------------


def test_archive_hides_a_record_without_removing_it(api: TestClient) -> None:
    created = create(api, "deals", dealname="D")
    keep = create(api, "deals", dealname="K")
    path = f"{OBJECTS}/deals/{created['id']}"
    r = api.delete(path)
    assert r.status_code == 204 and r.content == b""
    expect_error(api.get(path), 404, "OBJECT_NOT_FOUND")
    expect_error(api.patch(path, json={"properties": {}}), 404, "OBJECT_NOT_FOUND")
    expect_error(api.delete(path), 404, "OBJECT_NOT_FOUND")
    archived = api.get(path, params={"archived": "true"})
    assert archived.status_code == 200
    body = archived.json()
    assert body["archived"] is True and ISO_MS.match(body["archivedAt"])
    assert body["properties"]["dealname"] == "D"
    assert [x["id"] for x in api.get(f"{OBJECTS}/deals").json()["results"]] == [keep["id"]]
    listed = api.get(f"{OBJECTS}/deals", params={"archived": "true"}).json()["results"]
    assert [x["id"] for x in listed] == [created["id"]]
    # a live record is not found among archived ones
    r = api.get(f"{OBJECTS}/deals/{keep['id']}", params={"archived": "true"})
    expect_error(r, 404, "OBJECT_NOT_FOUND")


def test_archiving_a_contact_frees_its_email(api: TestClient) -> None:
    old = create(api, "contacts", email="ada@example.com")
    assert api.delete(f"{OBJECTS}/contacts/{old['id']}").status_code == 204
    new = create(api, "contacts", email="ada@example.com")
    assert new["id"] != old["id"]
    by_email = api.get(f"{OBJECTS}/contacts/ada@example.com", params={"idProperty": "email"})
    assert by_email.json()["id"] == new["id"]
    archived = api.get(
        f"{OBJECTS}/contacts/ADA@example.com", params={"idProperty": "email", "archived": "true"}
    )
    assert archived.status_code == 200 and archived.json()["id"] == old["id"]


# --- list --------------------------------------------------------------------------------


def test_list_pages_through_every_record_in_id_order(api: TestClient) -> None:
    ids = [create(api, "tickets", subject=f"T{i}")["id"] for i in range(5)]
    seen: list[str] = []
    url = f"{OBJECTS}/tickets?limit=2&properties=subject"
    pages = 0
    while url:
        r = api.get(url)
        assert r.status_code == 200, r.text
        body = r.json()
        pages += 1
        seen.extend(x["id"] for x in body["results"])
        assert all(set(x["properties"]) == {"subject", *SYSTEM} for x in body["results"])
        nxt = body.get("paging", {}).get("next")
        if nxt:
            assert nxt["link"].endswith(f"after={nxt['after']}")
            url = f"{OBJECTS}/tickets?limit=2&properties=subject&after={nxt['after']}"
        else:
            url = ""
    assert seen == ids and pages == 3


def test_list_defaults_to_ten_and_allows_a_hundred(api: TestClient) -> None:
    r = api.post(
        f"{OBJECTS}/companies/batch/create",
        json={"inputs": [{"properties": {"name": f"C{i}"}} for i in range(12)]},
    )
    assert r.status_code == 201
    first = api.get(f"{OBJECTS}/companies").json()
    assert len(first["results"]) == 10 and "paging" in first
    everything = api.get(f"{OBJECTS}/companies", params={"limit": 100}).json()
    assert len(everything["results"]) == 12 and "paging" not in everything


# --- missing, other portals, scopes ----------------------------------------------------


@pytest.mark.parametrize(
    "object_id", ["999999", "abc", "0", "-1", "99999999999999999999999", "1.0"]
)
def test_a_missing_record_is_404(api: TestClient, object_id: str) -> None:
    create(api, "contacts", firstname="A")
    path = f"{OBJECTS}/contacts/{object_id}"
    expect_error(api.get(path), 404, "OBJECT_NOT_FOUND")
    expect_error(api.patch(path, json={"properties": {"firstname": "B"}}), 404, "OBJECT_NOT_FOUND")
    expect_error(api.delete(path), 404, "OBJECT_NOT_FOUND")


def test_an_unknown_object_type_is_404(api: TestClient) -> None:
    for method, tail in (("GET", ""), ("POST", ""), ("GET", "/1"), ("POST", "/search")):
        r = api.request(method, f"{OBJECTS}/widgets{tail}", json={"properties": {}})
        expect_error(r, 404, "OBJECT_NOT_FOUND")


def test_another_portals_records_are_404_never_403(
    client: TestClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    mine = client.post(
        f"{OBJECTS}/contacts",
        json={"properties": {"email": "ada@example.com"}},
        headers=tenant.headers,
    ).json()
    theirs = other_tenant.headers
    path = f"{OBJECTS}/contacts/{mine['id']}"
    expect_error(client.get(path, headers=theirs), 404, "OBJECT_NOT_FOUND")
    r = client.get(f"{OBJECTS}/contacts/ada@example.com?idProperty=email", headers=theirs)
    expect_error(r, 404, "OBJECT_NOT_FOUND")
    r = client.patch(path, json={"properties": {"firstname": "X"}}, headers=theirs)
    expect_error(r, 404, "OBJECT_NOT_FOUND")
    expect_error(client.delete(path, headers=theirs), 404, "OBJECT_NOT_FOUND")
    assert client.get(f"{OBJECTS}/contacts", headers=theirs).json()["results"] == []
    # the same email is free in another portal
    r = client.post(
        f"{OBJECTS}/contacts", json={"properties": {"email": "ada@example.com"}}, headers=theirs
    )
    assert r.status_code == 201
    still = client.get(path, headers=tenant.headers).json()
    assert still["properties"]["firstname"] is None and still["archived"] is False


def test_reads_need_the_read_or_write_scope_and_writes_the_write_scope(
    client: TestClient, db: Database, tenant: Tenant
) -> None:
    created = client.post(
        f"{OBJECTS}/deals", json={"properties": {"dealname": "D"}}, headers=tenant.headers
    ).json()
    reader = token_with(db, tenant, "crm.objects.deals.read")
    writer = token_with(db, tenant, "crm.objects.deals.write")
    other = token_with(db, tenant, "crm.objects.contacts.write")
    one = f"{OBJECTS}/deals/{created['id']}"
    reads = [("GET", one, None), ("GET", f"{OBJECTS}/deals", None)]
    reads.append(("POST", f"{OBJECTS}/deals/search", {}))
    reads.append(("POST", f"{OBJECTS}/deals/batch/read", {"inputs": [{"id": created["id"]}]}))
    for method, url, body in reads:
        for headers in (reader, writer):
            assert client.request(method, url, json=body, headers=headers).status_code in (200,)
        r = client.request(method, url, json=body, headers=other)
        body_ = expect_error(r, 403, "MISSING_SCOPES")
        assert "crm.objects.deals.read" in body_["context"]["requiredScopes"]
    writes = [
        ("POST", f"{OBJECTS}/deals", {"properties": {}}),
        ("PATCH", one, {"properties": {}}),
        ("POST", f"{OBJECTS}/deals/batch/create", {"inputs": [{"properties": {}}]}),
        ("POST", f"{OBJECTS}/deals/batch/update", {"inputs": [{"id": "1", "properties": {}}]}),
        ("POST", f"{OBJECTS}/deals/batch/upsert", {"inputs": []}),
        ("POST", f"{OBJECTS}/deals/batch/archive", {"inputs": [{"id": "1"}]}),
        ("DELETE", one, None),
    ]
    for method, url, body in writes:
        for headers in (reader, other):
            r = client.request(method, url, json=body, headers=headers)
            assert expect_error(r, 403, "MISSING_SCOPES")["context"]["requiredScopes"] == [
                "crm.objects.deals.write"
            ]
    assert client.delete(one, headers=writer).status_code == 204
    r = client.post(f"{OBJECTS}/contacts/gdpr-delete", json={"objectId": "1"}, headers=reader)
    expect_error(r, 403, "MISSING_SCOPES")


def test_no_token_is_401(client: TestClient) -> None:
    expect_error(client.get(f"{OBJECTS}/contacts"), 401, "INVALID_AUTHENTICATION")
    r = client.post(f"{OBJECTS}/contacts", json={"properties": {}})
    expect_error(r, 401, "INVALID_AUTHENTICATION")


def test_trailing_slashes_are_served(api: TestClient) -> None:
    created = api.post(f"{OBJECTS}/contacts/", json={"properties": {"firstname": "A"}})
    assert created.status_code == 201
    assert api.get(f"{OBJECTS}/contacts/{created.json()['id']}/").status_code == 200


@pytest.mark.parametrize("email", ["a%00b@example.com", "not-an-email", "x" * 400 + "@b.co", "%20"])
def test_an_email_no_contact_could_hold_is_404(api: TestClient, email: str) -> None:
    create(api, "contacts", email="ada@example.com")
    path = f"{OBJECTS}/contacts/{email}?idProperty=email"
    expect_error(api.get(path), 404, "OBJECT_NOT_FOUND")
    expect_error(api.patch(path, json={"properties": {}}), 404, "OBJECT_NOT_FOUND")
    r = api.post(
        f"{OBJECTS}/contacts/batch/read",
        json={"idProperty": "email", "inputs": [{"id": "a\u0000b@example.com"}]},
    )
    expect_error(r, 400, "VALIDATION_ERROR", "inputs[0].id")
