"""CRM batch endpoints: create, read, update, upsert, archive; all or nothing."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.api.test_crm_objects import ISO_MS, OBJECTS, SYSTEM, create
from tests.conftest import Tenant
from tests.support.http import expect_error


def batch(api: TestClient, plural: str, action: str, body: Any, **params: str) -> Any:
    return api.post(f"{OBJECTS}/{plural}/batch/{action}", json=body, params=params)


def contacts(api: TestClient) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = api.get(
        f"{OBJECTS}/contacts", params={"limit": 100, "properties": "email,firstname"}
    ).json()["results"]
    return results


# --- create ------------------------------------------------------------------------------


def test_batch_create_answers_201_with_results_in_input_order(api: TestClient) -> None:
    inputs = [
        {"properties": {"email": f"u{i}@example.com", "firstname": f"U{i}"}} for i in range(3)
    ]
    r = batch(api, "contacts", "create", {"inputs": inputs})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "COMPLETE"
    assert ISO_MS.match(body["startedAt"]) and ISO_MS.match(body["completedAt"])
    assert [x["properties"]["email"] for x in body["results"]] == [
        "u0@example.com",
        "u1@example.com",
        "u2@example.com",
    ]
    ids = [x["id"] for x in body["results"]]
    assert [x["id"] for x in contacts(api)] == ids
    for record in body["results"]:
        assert record["properties"]["hs_object_id"] == record["id"]


def test_one_invalid_input_fails_the_whole_batch(api: TestClient) -> None:
    inputs = [
        {"properties": {"email": "a@example.com"}},
        {"properties": {"email": "b@example.com"}},
        {"properties": {"email": "c@example.com", "foo": "x"}},
        {"properties": {"email": "nope"}},
    ]
    r = batch(api, "contacts", "create", {"inputs": inputs})
    body = expect_error(
        r, 400, "VALIDATION_ERROR", "inputs[2].properties.foo", "PROPERTY_DOESNT_EXIST"
    )
    expect_error(r, 400, "VALIDATION_ERROR", "inputs[3].properties.email", "INVALID_EMAIL")
    assert len(body["errors"]) == 2
    assert contacts(api) == []


@pytest.mark.parametrize(
    ("body", "where", "code"),
    [
        ({}, "inputs", "REQUIRED"),
        ({"inputs": []}, "inputs", "REQUIRED"),
        ({"inputs": {}}, "inputs", "INVALID_TYPE"),
        ({"inputs": [{"properties": {}} for _ in range(101)]}, "inputs", "TOO_MANY_INPUTS"),
        ({"inputs": [[]]}, "inputs[0]", "INVALID_TYPE"),
        ({"inputs": [{}]}, "inputs[0].properties", "REQUIRED"),
        ({"inputs": [{"properties": {"firstname": []}}]}, "inputs[0].properties.firstname", None),
    ],
)
@pytest.mark.parametrize("plural", ["contacts", "deals"])
def test_batch_create_shapes(
    api: TestClient, plural: str, body: Any, where: str, code: str | None
) -> None:
    if plural == "deals" and where.endswith("firstname"):
        code = "PROPERTY_DOESNT_EXIST"
    expect_error(batch(api, plural, "create", body), 400, "VALIDATION_ERROR", where, code)


def test_a_batch_holds_up_to_a_hundred_inputs(api: TestClient) -> None:
    inputs = [{"properties": {"name": f"C{i}"}} for i in range(100)]
    r = batch(api, "companies", "create", {"inputs": inputs})
    assert r.status_code == 201 and len(r.json()["results"]) == 100


def test_duplicate_emails_within_a_batch_are_400(api: TestClient) -> None:
    inputs = [
        {"properties": {"email": "a@example.com"}},
        {"properties": {"email": "A@EXAMPLE.com"}},
    ]
    r = batch(api, "contacts", "create", {"inputs": inputs})
    expect_error(r, 400, "VALIDATION_ERROR", "inputs[1].properties.email", "DUPLICATE_VALUE")
    assert contacts(api) == []


def test_a_taken_email_fails_the_batch_with_409(api: TestClient) -> None:
    taken = create(api, "contacts", email="b@example.com")
    inputs = [
        {"properties": {"email": "a@example.com"}},
        {"properties": {"email": "B@example.com"}},
    ]
    r = batch(api, "contacts", "create", {"inputs": inputs})
    body = expect_error(r, 409, "CONFLICT", "inputs[1].properties.email", "CONTACT_EXISTS")
    assert body["errors"][0]["context"] == {"existingId": [taken["id"]]}
    assert [c["id"] for c in contacts(api)] == [taken["id"]]


# --- read --------------------------------------------------------------------------------


def test_batch_read_by_id_with_properties(api: TestClient) -> None:
    a = create(api, "contacts", email="a@example.com", phone="1")
    b = create(api, "contacts", email="b@example.com")
    body = {"inputs": [{"id": b["id"]}, {"id": a["id"]}, {"id": b["id"]}], "properties": ["phone"]}
    r = batch(api, "contacts", "read", body)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["id"] for x in results] == [b["id"], a["id"]]
    assert results[1]["properties"] == {
        "phone": "1",
        "createdate": a["createdAt"],
        "lastmodifieddate": a["updatedAt"],
        "hs_object_id": a["id"],
    }
    r = batch(api, "contacts", "read", {"inputs": [{"id": int(a["id"])}]})
    assert set(r.json()["results"][0]["properties"]) == {"email", "firstname", "lastname", *SYSTEM}


def test_batch_read_by_email(api: TestClient) -> None:
    a = create(api, "contacts", email="a@example.com")
    r = batch(api, "contacts", "read", {"idProperty": "email", "inputs": [{"id": "A@Example.com"}]})
    assert r.status_code == 200
    assert [x["id"] for x in r.json()["results"]] == [a["id"]]


def test_batch_read_answers_207_naming_the_missing_ids(
    client: TestClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    client.headers.update(tenant.headers)
    mine = create(client, "deals", dealname="D")
    theirs = client.post(
        f"{OBJECTS}/deals", json={"properties": {"dealname": "T"}}, headers=other_tenant.headers
    ).json()
    body = {"inputs": [{"id": mine["id"]}, {"id": theirs["id"]}, {"id": "nope"}]}
    r = batch(client, "deals", "read", body)
    assert r.status_code == 207, r.text
    out = r.json()
    assert [x["id"] for x in out["results"]] == [mine["id"]]
    assert out["numErrors"] == 1
    [error] = out["errors"]
    assert error["category"] == "OBJECT_NOT_FOUND" and error["status"] == "error"
    assert error["context"] == {"ids": [theirs["id"], "nope"]}


def test_batch_read_of_archived_records(api: TestClient) -> None:
    a = create(api, "tickets", subject="A")
    b = create(api, "tickets", subject="B")
    assert api.delete(f"{OBJECTS}/tickets/{a['id']}").status_code == 204
    body = {"inputs": [{"id": a["id"]}, {"id": b["id"]}]}
    live = batch(api, "tickets", "read", body)
    assert live.status_code == 207 and [x["id"] for x in live.json()["results"]] == [b["id"]]
    archived = batch(api, "tickets", "read", body, archived="true")
    assert archived.status_code == 207
    assert [x["id"] for x in archived.json()["results"]] == [a["id"]]
    assert archived.json()["results"][0]["archived"] is True


def test_batch_read_shapes(api: TestClient) -> None:
    r = batch(api, "contacts", "read", {"inputs": [{"id": "1"}], "idProperty": "firstname"})
    expect_error(r, 400, "VALIDATION_ERROR", "idProperty", "NOT_UNIQUE")
    r = batch(api, "contacts", "read", {"inputs": [{"id": "1"}], "properties": [1]})
    expect_error(r, 400, "VALIDATION_ERROR", "properties[0]", "INVALID_TYPE")
    r = batch(api, "contacts", "read", {"inputs": [{"id": ""}, {}, {"id": True}]})
    expect_error(r, 400, "VALIDATION_ERROR", "inputs[0].id")
    expect_error(r, 400, "VALIDATION_ERROR", "inputs[1].id", "REQUIRED")
    expect_error(r, 400, "VALIDATION_ERROR", "inputs[2].id", "INVALID_TYPE")
    r = batch(api, "contacts", "read", {"inputs": [{"id": str(i)} for i in range(101)]})
    expect_error(r, 400, "VALIDATION_ERROR", "inputs", "TOO_MANY_INPUTS")


# --- update ------------------------------------------------------------------------------


def test_batch_update_changes_each_record(api: TestClient) -> None:
    a = create(api, "contacts", email="a@example.com", firstname="A")
    b = create(api, "contacts", email="b@example.com", firstname="B")
    inputs = [
        {"id": a["id"], "properties": {"firstname": "Ann"}},
        {"id": "B@example.com", "idProperty": "email", "properties": {"lastname": "Bee"}},
    ]
    r = batch(api, "contacts", "update", {"inputs": inputs})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["id"] for x in results] == [a["id"], b["id"]]
    assert results[0]["properties"]["firstname"] == "Ann"
    assert results[1]["properties"]["lastname"] == "Bee"
    got = api.get(f"{OBJECTS}/contacts/{b['id']}").json()["properties"]
    assert (got["firstname"], got["lastname"]) == ("B", "Bee")


def test_batch_update_with_a_missing_record_changes_nothing(api: TestClient) -> None:
    a = create(api, "deals", dealname="A")
    inputs = [
        {"id": a["id"], "properties": {"dealname": "changed"}},
        {"id": "999999", "properties": {"dealname": "x"}},
    ]
    r = batch(api, "deals", "update", {"inputs": inputs})
    expect_error(r, 404, "OBJECT_NOT_FOUND", "inputs[1].id")
    assert api.get(f"{OBJECTS}/deals/{a['id']}").json()["properties"]["dealname"] == "A"


def test_batch_update_with_an_invalid_input_changes_nothing(api: TestClient) -> None:
    a = create(api, "deals", dealname="A")
    inputs = [
        {"id": a["id"], "properties": {"dealname": "changed"}},
        {"id": a["id"], "properties": {"amount": "x"}},
        {"properties": {}},
    ]
    r = batch(api, "deals", "update", {"inputs": inputs})
    expect_error(r, 400, "VALIDATION_ERROR", "inputs[1].id", "DUPLICATE_ID")
    expect_error(r, 400, "VALIDATION_ERROR", "inputs[1].properties.amount", "INVALID_NUMBER")
    expect_error(r, 400, "VALIDATION_ERROR", "inputs[2].id", "REQUIRED")
    assert api.get(f"{OBJECTS}/deals/{a['id']}").json()["properties"]["dealname"] == "A"


def test_batch_update_of_one_record_by_id_and_by_email_is_400(api: TestClient) -> None:
    a = create(api, "contacts", email="a@example.com")
    inputs = [
        {"id": a["id"], "properties": {"firstname": "X"}},
        {"id": "a@example.com", "idProperty": "email", "properties": {"firstname": "Y"}},
    ]
    r = batch(api, "contacts", "update", {"inputs": inputs})
    expect_error(r, 400, "VALIDATION_ERROR", "inputs[1].id", "DUPLICATE_ID")
    assert api.get(f"{OBJECTS}/contacts/{a['id']}").json()["properties"]["firstname"] is None


def test_batch_update_to_a_taken_email_is_409(api: TestClient) -> None:
    a = create(api, "contacts", email="a@example.com", firstname="A")
    create(api, "contacts", email="b@example.com")
    inputs = [{"id": a["id"], "properties": {"firstname": "changed", "email": "B@example.com"}}]
    r = batch(api, "contacts", "update", {"inputs": inputs})
    expect_error(r, 409, "CONFLICT", "inputs[0].properties.email", "CONTACT_EXISTS")
    assert api.get(f"{OBJECTS}/contacts/{a['id']}").json()["properties"]["firstname"] == "A"


def test_batch_update_of_another_portals_record_is_404(
    client: TestClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    client.headers.update(tenant.headers)
    mine = create(client, "companies", name="Mine")
    body = {"inputs": [{"id": mine["id"], "properties": {"name": "Hacked"}}]}
    r = client.post(f"{OBJECTS}/companies/batch/update", json=body, headers=other_tenant.headers)
    expect_error(r, 404, "OBJECT_NOT_FOUND", "inputs[0].id")
    assert client.get(f"{OBJECTS}/companies/{mine['id']}").json()["properties"]["name"] == "Mine"


# --- upsert ------------------------------------------------------------------------------


def test_batch_upsert_creates_and_updates_contacts_by_email(api: TestClient) -> None:
    old = create(api, "contacts", email="Old@example.com", firstname="Old")
    inputs = [
        {"id": "new@example.com", "idProperty": "email", "properties": {"firstname": "New"}},
        {"id": "OLD@example.com", "idProperty": "email", "properties": {"lastname": "Timer"}},
    ]
    r = batch(api, "contacts", "upsert", {"inputs": inputs})
    assert r.status_code == 200, r.text
    new, updated = r.json()["results"]
    assert new["new"] is True and updated["new"] is False
    assert new["properties"]["email"] == "new@example.com"
    assert new["properties"]["firstname"] == "New"
    assert updated["id"] == old["id"]
    assert updated["properties"]["email"] == "Old@example.com"  # the found contact keeps it
    assert (updated["properties"]["firstname"], updated["properties"]["lastname"]) == (
        "Old",
        "Timer",
    )
    assert len(contacts(api)) == 2
    again = batch(api, "contacts", "upsert", {"inputs": inputs[:1]})
    assert again.json()["results"][0]["new"] is False
    assert again.json()["results"][0]["id"] == new["id"]


@pytest.mark.parametrize(
    ("plural", "item", "where", "code"),
    [
        ("contacts", {"id": "a@example.com", "properties": {}}, "inputs[0].idProperty", None),
        (
            "contacts",
            {"id": "nope", "idProperty": "email", "properties": {}},
            "inputs[0].id",
            "INVALID_EMAIL",
        ),
        (
            "contacts",
            {"id": "a@x.io", "idProperty": "email", "properties": {"email": "b@x.io"}},
            "inputs[0].properties.email",
            "INVALID",
        ),
        ("companies", {"id": "1", "properties": {}}, "inputs[0].idProperty", None),
        (
            "companies",
            {"id": "1", "idProperty": "domain", "properties": {}},
            "inputs[0].idProperty",
            "NOT_UNIQUE",
        ),
    ],
)
def test_batch_upsert_needs_email_as_id_property(
    api: TestClient, plural: str, item: dict[str, Any], where: str, code: str | None
) -> None:
    r = batch(api, plural, "upsert", {"inputs": [item]})
    expect_error(r, 400, "VALIDATION_ERROR", where, code)
    assert api.get(f"{OBJECTS}/{plural}").json()["results"] == []


def test_batch_upsert_rejects_the_same_email_twice(api: TestClient) -> None:
    inputs = [
        {"id": "a@example.com", "idProperty": "email", "properties": {}},
        {"id": "A@example.com", "idProperty": "email", "properties": {}},
    ]
    r = batch(api, "contacts", "upsert", {"inputs": inputs})
    expect_error(r, 400, "VALIDATION_ERROR", "inputs[1].id", "DUPLICATE_ID")
    assert contacts(api) == []


# --- archive -----------------------------------------------------------------------------


def test_batch_archive_hides_the_records_named(api: TestClient) -> None:
    ids = [create(api, "tickets", subject=f"T{i}")["id"] for i in range(3)]
    body = {"inputs": [{"id": ids[0]}, {"id": ids[2]}, {"id": "999999"}, {"id": "x"}]}
    r = batch(api, "tickets", "archive", body)
    assert r.status_code == 204 and r.content == b""
    live = api.get(f"{OBJECTS}/tickets").json()["results"]
    assert [x["id"] for x in live] == [ids[1]]
    archived = api.get(f"{OBJECTS}/tickets", params={"archived": "true"}).json()["results"]
    assert [x["id"] for x in archived] == [ids[0], ids[2]]
    again = batch(api, "tickets", "archive", {"inputs": [{"id": ids[0]}]})
    assert again.status_code == 204


def test_batch_archive_leaves_other_portals_alone(
    client: TestClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    client.headers.update(tenant.headers)
    mine = create(client, "tickets", subject="Mine")
    r = client.post(
        f"{OBJECTS}/tickets/batch/archive",
        json={"inputs": [{"id": mine["id"]}]},
        headers=other_tenant.headers,
    )
    assert r.status_code == 204
    assert client.get(f"{OBJECTS}/tickets/{mine['id']}").status_code == 200


def test_batch_archive_shapes(api: TestClient) -> None:
    r = batch(api, "tickets", "archive", {"inputs": [{"id": "1"}] * 101})
    expect_error(r, 400, "VALIDATION_ERROR", "inputs", "TOO_MANY_INPUTS")
    r = batch(api, "tickets", "archive", {"inputs": [{"id": None}]})
    expect_error(r, 400, "VALIDATION_ERROR", "inputs[0].id", "REQUIRED")
    expect_error(
        batch(api, "tickets", "archive", {"inputs": []}), 400, "VALIDATION_ERROR", "inputs"
    )
