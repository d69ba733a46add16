"""Bad input to the CRM objects API: always a 4xx in HubSpot's error shape, never a 500."""

from __future__ import annotations

import random
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.api.test_crm_objects import OBJECTS, create
from tests.support.http import expect_error

MiB = 1024 * 1024
BODY_ROUTES = [
    ("POST", "/contacts"),
    ("PATCH", "/contacts/1"),
    ("POST", "/contacts/search"),
    ("POST", "/contacts/gdpr-delete"),
    ("POST", "/contacts/batch/create"),
    ("POST", "/contacts/batch/read"),
    ("POST", "/contacts/batch/update"),
    ("POST", "/contacts/batch/upsert"),
    ("POST", "/contacts/batch/archive"),
]


def test_an_unknown_property_is_400_naming_it(api: TestClient) -> None:
    r = api.post(f"{OBJECTS}/contacts", json={"properties": {"email": "a@b.co", "foo": "x"}})
    body = expect_error(r, 400, "VALIDATION_ERROR", "properties.foo", "PROPERTY_DOESNT_EXIST")
    assert len(body["errors"]) == 1
    assert api.get(f"{OBJECTS}/contacts").json()["results"] == []


def test_a_property_of_another_type_does_not_exist_here(api: TestClient) -> None:
    r = api.post(f"{OBJECTS}/companies", json={"properties": {"email": "a@b.co"}})
    expect_error(r, 400, "VALIDATION_ERROR", "properties.email", "PROPERTY_DOESNT_EXIST")
    r = api.post(f"{OBJECTS}/contacts", json={"properties": {"Email": "a@b.co"}})
    expect_error(r, 400, "VALIDATION_ERROR", "properties.Email", "PROPERTY_DOESNT_EXIST")


def test_every_problem_gets_its_own_entry(api: TestClient) -> None:
    r = api.post(
        f"{OBJECTS}/deals",
        json={
            "properties": {
                "foo": "1",
                "bar": "2",
                "amount": "lots",
                "closedate": "someday",
                "dealname": {"x": 1},
                "createdate": "2024-01-01",
            }
        },
    )
    body = expect_error(r, 400, "VALIDATION_ERROR")
    found = {(e["in"], e["code"]) for e in body["errors"]}
    assert found == {
        ("properties.foo", "PROPERTY_DOESNT_EXIST"),
        ("properties.bar", "PROPERTY_DOESNT_EXIST"),
        ("properties.amount", "INVALID_NUMBER"),
        ("properties.closedate", "INVALID_DATE"),
        ("properties.dealname", "INVALID_TYPE"),
        ("properties.createdate", "READ_ONLY_VALUE"),
    }


@pytest.mark.parametrize("name", ["createdate", "lastmodifieddate", "hs_object_id"])
def test_system_properties_are_read_only(api: TestClient, name: str) -> None:
    created = create(api, "tickets", subject="S")
    for method, path in (("POST", "/tickets"), ("PATCH", f"/tickets/{created['id']}")):
        r = api.request(method, OBJECTS + path, json={"properties": {name: "1"}})
        expect_error(r, 400, "VALIDATION_ERROR", f"properties.{name}", "READ_ONLY_VALUE")


@pytest.mark.parametrize(
    "email", ["not-an-email", "a@b", "@b.co", "a b@c.co", "a@b.co@d.co", "x" * 250 + "@b.co"]
)
def test_an_email_must_look_like_one(api: TestClient, email: str) -> None:
    r = api.post(f"{OBJECTS}/contacts", json={"properties": {"email": email}})
    expect_error(r, 400, "VALIDATION_ERROR", "properties.email", "INVALID_EMAIL")


@pytest.mark.parametrize(
    "amount", ["abc", "NaN", "Infinity", "1_000", "1,5", "0x10", "1e400", "1" * 45, "--1", True]
)
def test_a_number_property_must_hold_a_number(api: TestClient, amount: Any) -> None:
    r = api.post(f"{OBJECTS}/deals", json={"properties": {"amount": amount}})
    expect_error(r, 400, "VALIDATION_ERROR", "properties.amount", "INVALID_NUMBER")


@pytest.mark.parametrize(
    "closedate", ["tomorrow", "2024-13-01", "99999-01-01", "0999-12-31", "²", "1.5", True]
)
def test_a_date_property_must_hold_a_date(api: TestClient, closedate: Any) -> None:
    r = api.post(f"{OBJECTS}/deals", json={"properties": {"closedate": closedate}})
    expect_error(r, 400, "VALIDATION_ERROR", "properties.closedate", "INVALID_DATE")


@pytest.mark.parametrize(
    ("body", "where", "code"),
    [
        ([], "body", "INVALID_TYPE"),
        ("x", "body", "INVALID_TYPE"),
        ({}, "properties", "REQUIRED"),
        ({"properties": None}, "properties", "REQUIRED"),
        ({"properties": []}, "properties", "INVALID_TYPE"),
        ({"properties": "email=a@b.co"}, "properties", "INVALID_TYPE"),
        ({"properties": {"firstname": ["A"]}}, "properties.firstname", "INVALID_TYPE"),
        ({"properties": {"firstname": {"v": "A"}}}, "properties.firstname", "INVALID_TYPE"),
        ({"properties": {"firstname": "a\x00b"}}, "properties.firstname", "INVALID"),
        ({"properties": {"firstname": "x" * 65_537}}, "properties.firstname", "TOO_LONG"),
        ({"properties": {}, "associations": [{"to": {"id": "1"}}]}, "associations", "UNSUPPORTED"),
        ({"properties": {}, "associations": {}}, "associations", "INVALID_TYPE"),
    ],
)
def test_wrong_shapes_name_the_field(api: TestClient, body: Any, where: str, code: str) -> None:
    created = create(api, "contacts", firstname="A")
    for method, path in (("POST", "/contacts"), ("PATCH", f"/contacts/{created['id']}")):
        r = api.request(method, OBJECTS + path, json=body)
        expect_error(r, 400, "VALIDATION_ERROR", where, code)


def test_an_empty_associations_list_is_accepted(api: TestClient) -> None:
    r = api.post(f"{OBJECTS}/contacts", json={"properties": {}, "associations": []})
    assert r.status_code == 201


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
@pytest.mark.parametrize("raw", [b"{", b'{"properties": {},}', b"properties=x", b"\xff{}"])
def test_malformed_json_is_400_on_every_body_route(
    api: TestClient, method: str, path: str, raw: bytes
) -> None:
    r = api.request(method, OBJECTS + path, content=raw)
    body = expect_error(r, 400, "VALIDATION_ERROR", "body")
    assert body["errors"][0]["code"] == "MALFORMED_JSON"


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
def test_a_body_over_1_mib_is_413(api: TestClient, method: str, path: str) -> None:
    raw = b'{"properties": {"firstname": "' + b"x" * MiB + b'"}}'
    expect_error(api.request(method, OBJECTS + path, content=raw), 413, "VALIDATION_ERROR")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("limit", "0"),
        ("limit", "101"),
        ("limit", "ten"),
        ("limit", "-1"),
        ("after", "abc"),
        ("after", "-1"),
        ("after", "²"),
        ("after", "99999999999999999999999"),
        ("archived", "maybe"),
    ],
)
def test_bad_list_parameters_are_400(api: TestClient, name: str, value: str) -> None:
    expect_error(
        api.get(f"{OBJECTS}/contacts", params={name: value}), 400, "VALIDATION_ERROR", name
    )


def test_bad_read_parameters_are_400(api: TestClient) -> None:
    created = create(api, "contacts", firstname="A")
    r = api.get(f"{OBJECTS}/contacts/{created['id']}", params={"archived": "perhaps"})
    expect_error(r, 400, "VALIDATION_ERROR", "archived")


# --- never a 500 -------------------------------------------------------------------------

ODD_VALUES: list[Any] = [
    None,
    "",
    " ",
    "\x00",
    "é",
    "x" * 3000,
    0,
    -1,
    2**63,
    1e308,
    -1e-308,
    True,
    [],
    {},
    [None],
    {"a": None},
    "1e999",
    "9" * 40,
]


def _odd_bodies() -> list[Any]:
    bodies: list[Any] = [None, 0, "x", [], {}, {"inputs": None}, {"inputs": {}}]
    for value in ODD_VALUES:
        bodies += [
            {"properties": {"firstname": value, "email": value}},
            {"properties": value},
            {"inputs": value},
            {"inputs": [value]},
            {"inputs": [{"id": value, "properties": {"email": value}, "idProperty": value}]},
            {"objectId": value, "idProperty": value},
            {"filterGroups": [{"filters": [{"propertyName": value, "operator": "EQ"}]}]},
            {"filterGroups": [{"filters": [{"propertyName": "email", "operator": value}]}]},
            {
                "filterGroups": [
                    {"filters": [{"propertyName": "createdate", "operator": "GT", "value": value}]}
                ]
            },
            {"filterGroups": value, "sorts": value, "limit": value, "after": value},
            {"sorts": [value], "properties": [value], "query": value},
        ]
    return bodies


def test_odd_bodies_never_cause_a_server_error(api: TestClient) -> None:
    create(api, "contacts", email="ada@example.com")
    for method, path in BODY_ROUTES:
        for body in _odd_bodies():
            r = api.request(method, OBJECTS + path, json=body)
            assert r.status_code < 500, (method, path, body, r.text)
            if r.status_code >= 400:
                assert r.json()["status"] == "error"


def test_random_json_like_text_never_causes_a_server_error(api: TestClient) -> None:
    rng = random.Random(20260402)
    alphabet = '{}[]":,0123456789-.eE truefalsnulpropertiesinputsid\\\x00é'
    for _ in range(150):
        raw = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 60))).encode()
        for method, path in BODY_ROUTES:
            r = api.request(method, OBJECTS + path, content=raw)
            assert r.status_code < 500, (method, path, raw, r.text)


@pytest.mark.parametrize("segment", ["%00", "%ff", "a" * 2000, "%F0%9F%9A%97", "%20", "1%2F2"])
def test_odd_path_segments_are_404(api: TestClient, segment: str) -> None:
    create(api, "contacts", firstname="A")
    for method in ("GET", "PATCH", "DELETE"):
        r = api.request(method, f"{OBJECTS}/contacts/{segment}", json={"properties": {}})
        assert r.status_code == 404, (method, segment, r.text)
        r = api.request(method, f"{OBJECTS}/{segment}/1", json={"properties": {}})
        assert r.status_code == 404, (method, segment, r.text)
