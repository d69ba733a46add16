"""POST /crm/v3/objects/{type}/search: every operator, sorts, paging, on both stores."""

from __future__ import annotations

import time
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.api.test_crm_objects import OBJECTS, SYSTEM, create
from tests.conftest import Tenant
from tests.support.http import expect_error

DEALS = [
    {"dealname": "Big Deal", "amount": "1500", "closedate": "2024-01-15", "dealstage": "won"},
    {"dealname": "Small deal", "amount": "9", "closedate": "2023-06-01", "dealstage": "lost"},
    {"dealname": "Medium", "amount": "10.5"},
    {"dealname": "Negative_100% deal", "amount": "-3", "closedate": "2025-01-01"},
    {"dealname": "No amount"},
]
CONTACTS = [
    {"email": "ada@hubspot.com", "firstname": "Ada", "lastname": "Lovelace"},
    {"email": "bob@example.com", "firstname": "Bob"},
    {"email": "carol@HubSpot.com", "firstname": "Carol Ann"},
    {"firstname": "Dan"},
]


@pytest.fixture
def seeded(api: TestClient) -> TestClient:
    for plural, rows in (("deals", DEALS), ("contacts", CONTACTS)):
        r = api.post(
            f"{OBJECTS}/{plural}/batch/create",
            json={"inputs": [{"properties": p} for p in rows]},
        )
        assert r.status_code == 201, r.text
    return api


def search(api: TestClient, plural: str, body: dict[str, Any]) -> dict[str, Any]:
    r = api.post(f"{OBJECTS}/{plural}/search", json=body)
    assert r.status_code == 200, r.text
    found: dict[str, Any] = r.json()
    return found


def one_filter(property_name: str, operator: str, **value: Any) -> dict[str, Any]:
    return {
        "filterGroups": [
            {"filters": [{"propertyName": property_name, "operator": operator, **value}]}
        ]
    }


def deal_names(api: TestClient, body: dict[str, Any]) -> list[str]:
    found = search(api, "deals", {"properties": ["dealname"], "limit": 100, **body})
    assert found["total"] == len(found["results"])
    return [x["properties"]["dealname"] for x in found["results"]]


def emails(api: TestClient, body: dict[str, Any]) -> list[str | None]:
    found = search(api, "contacts", {"limit": 100, **body})
    return [x["properties"]["email"] for x in found["results"]]


# --- operators on text -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ("EQ", {"value": "big deal"}, ["Big Deal"]),
        ("EQ", {"value": "Big"}, []),
        ("NEQ", {"value": "BIG DEAL"}, ["Small deal", "Medium", "Negative_100% deal", "No amount"]),
        ("IN", {"values": ["medium", "NO AMOUNT", "other"]}, ["Medium", "No amount"]),
        (
            "NOT_IN",
            {"values": ["medium", "no amount"]},
            ["Big Deal", "Small deal", "Negative_100% deal"],
        ),
        ("CONTAINS_TOKEN", {"value": "DEAL"}, ["Big Deal", "Small deal", "Negative_100% deal"]),
        ("CONTAINS_TOKEN", {"value": "dea"}, []),
        ("CONTAINS_TOKEN", {"value": "dea*"}, ["Big Deal", "Small deal", "Negative_100% deal"]),
        ("CONTAINS_TOKEN", {"value": "*ium"}, ["Medium"]),
        ("CONTAINS_TOKEN", {"value": "negative_100%"}, ["Negative_100% deal"]),
        ("CONTAINS_TOKEN", {"value": "%"}, []),
        ("CONTAINS_TOKEN", {"value": "negative_100_"}, []),
        ("CONTAINS_TOKEN", {"value": "negative%"}, []),
        ("NOT_CONTAINS_TOKEN", {"value": "deal"}, ["Medium", "No amount"]),
    ],
)
def test_text_operators(
    seeded: TestClient, operator: str, value: dict[str, Any], expected: list[str]
) -> None:
    assert deal_names(seeded, one_filter("dealname", operator, **value)) == expected


def test_unset_values_count_as_not_equal(seeded: TestClient) -> None:
    body = one_filter("dealstage", "NEQ", value="won")
    assert deal_names(seeded, body) == ["Small deal", "Medium", "Negative_100% deal", "No amount"]
    body = one_filter("dealstage", "NOT_IN", values=["won", "lost"])
    assert deal_names(seeded, body) == ["Medium", "Negative_100% deal", "No amount"]
    body = one_filter("dealstage", "IN", values=["WON", "lost"])
    assert deal_names(seeded, body) == ["Big Deal", "Small deal"]


def test_email_filters(seeded: TestClient) -> None:
    assert emails(seeded, one_filter("email", "EQ", value="BOB@example.COM")) == ["bob@example.com"]
    assert emails(seeded, one_filter("email", "CONTAINS_TOKEN", value="*@hubspot.com")) == [
        "ada@hubspot.com",
        "carol@HubSpot.com",
    ]
    assert emails(seeded, one_filter("email", "NOT_HAS_PROPERTY")) == [None]
    assert emails(seeded, one_filter("firstname", "CONTAINS_TOKEN", value="ann")) == [
        "carol@HubSpot.com"
    ]


# --- operators on numbers and dates ------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ("EQ", {"value": "10.50"}, ["Medium"]),
        ("EQ", {"value": 9}, ["Small deal"]),
        ("NEQ", {"value": "9"}, ["Big Deal", "Medium", "Negative_100% deal", "No amount"]),
        ("GT", {"value": "9"}, ["Big Deal", "Medium"]),
        ("GTE", {"value": "9"}, ["Big Deal", "Small deal", "Medium"]),
        ("LT", {"value": "9"}, ["Negative_100% deal"]),
        ("LTE", {"value": "9.0"}, ["Small deal", "Negative_100% deal"]),
        ("LT", {"value": "1e1"}, ["Small deal", "Negative_100% deal"]),
        ("GT", {"value": -5}, ["Big Deal", "Small deal", "Medium", "Negative_100% deal"]),
        ("BETWEEN", {"value": "0", "highValue": "100"}, ["Small deal", "Medium"]),
        ("IN", {"values": ["9", "1500.0"]}, ["Big Deal", "Small deal"]),
        ("NOT_IN", {"values": ["9", 1500]}, ["Medium", "Negative_100% deal", "No amount"]),
        ("HAS_PROPERTY", {}, ["Big Deal", "Small deal", "Medium", "Negative_100% deal"]),
        ("NOT_HAS_PROPERTY", {}, ["No amount"]),
    ],
)
def test_number_operators_compare_numerically(
    seeded: TestClient, operator: str, value: dict[str, Any], expected: list[str]
) -> None:
    assert deal_names(seeded, one_filter("amount", operator, **value)) == expected


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ("EQ", {"value": "2024-01-15"}, ["Big Deal"]),
        ("EQ", {"value": "1705276800000"}, ["Big Deal"]),
        ("EQ", {"value": "2024-01-15T01:00:00+01:00"}, ["Big Deal"]),
        ("GT", {"value": "2024-01-01"}, ["Big Deal", "Negative_100% deal"]),
        ("GT", {"value": "2024-01-15"}, ["Negative_100% deal"]),
        ("GTE", {"value": 1705276800000}, ["Big Deal", "Negative_100% deal"]),
        ("LT", {"value": "2024-01-01T00:00:00Z"}, ["Small deal"]),
        ("LTE", {"value": "2024-01-15T00:00:00.000Z"}, ["Big Deal", "Small deal"]),
        ("BETWEEN", {"value": "2023-01-01", "highValue": "2024-12-31"}, ["Big Deal", "Small deal"]),
        (
            "NEQ",
            {"value": "2024-01-15"},
            ["Small deal", "Medium", "Negative_100% deal", "No amount"],
        ),
        ("IN", {"values": ["2023-06-01", "2025-01-01"]}, ["Small deal", "Negative_100% deal"]),
        ("HAS_PROPERTY", {}, ["Big Deal", "Small deal", "Negative_100% deal"]),
        ("NOT_HAS_PROPERTY", {}, ["Medium", "No amount"]),
    ],
)
def test_date_operators_compare_in_time(
    seeded: TestClient, operator: str, value: dict[str, Any], expected: list[str]
) -> None:
    assert deal_names(seeded, one_filter("closedate", operator, **value)) == expected


def test_system_properties_filter_on_their_columns(api: TestClient) -> None:
    made = []
    for i in range(4):
        made.append(create(api, "companies", name=f"C{i}"))
        time.sleep(0.003)

    def names(body: dict[str, Any]) -> list[str]:
        found = search(api, "companies", {"properties": ["name"], **body})
        return [x["properties"]["name"] for x in found["results"]]

    ids = [m["id"] for m in made]
    assert names(one_filter("hs_object_id", "EQ", value=ids[1])) == ["C1"]
    assert names(one_filter("hs_object_id", "IN", values=[ids[0], ids[3]])) == ["C0", "C3"]
    assert names(one_filter("hs_object_id", "GT", value=ids[1])) == ["C2", "C3"]
    assert names(one_filter("hs_object_id", "NEQ", value=ids[1])) == ["C0", "C2", "C3"]
    assert names(one_filter("createdate", "GTE", value=made[2]["createdAt"])) == ["C2", "C3"]
    assert names(one_filter("createdate", "LT", value=made[1]["createdAt"])) == ["C0"]
    assert names(one_filter("createdate", "EQ", value=made[3]["createdAt"])) == ["C3"]
    time.sleep(0.003)
    patched = api.patch(f"{OBJECTS}/companies/{ids[0]}", json={"properties": {"name": "C0!"}})
    assert names(one_filter("lastmodifieddate", "EQ", value=patched.json()["updatedAt"])) == ["C0!"]
    assert names(one_filter("lastmodifieddate", "GT", value=made[3]["updatedAt"])) == ["C0!"]
    assert len(names(one_filter("hs_object_id", "HAS_PROPERTY"))) == 4
    assert names(one_filter("createdate", "NOT_HAS_PROPERTY")) == []


# --- groups, sorts, paging ---------------------------------------------------------------


def test_groups_are_ored_and_filters_within_a_group_anded(seeded: TestClient) -> None:
    body = {
        "filterGroups": [
            {"filters": [{"propertyName": "amount", "operator": "GT", "value": "100"}]},
            {"filters": [{"propertyName": "dealstage", "operator": "EQ", "value": "lost"}]},
        ]
    }
    assert deal_names(seeded, body) == ["Big Deal", "Small deal"]
    body = {
        "filterGroups": [
            {
                "filters": [
                    {"propertyName": "amount", "operator": "GT", "value": "0"},
                    {"propertyName": "closedate", "operator": "HAS_PROPERTY"},
                ]
            },
            {"filters": [{"propertyName": "dealname", "operator": "EQ", "value": "no amount"}]},
        ]
    }
    assert deal_names(seeded, body) == ["Big Deal", "Small deal", "No amount"]
    everything = deal_names(seeded, {"filterGroups": []})
    assert len(everything) == 5


@pytest.mark.parametrize(
    ("sorts", "expected"),
    [
        (
            [{"propertyName": "amount", "direction": "DESCENDING"}],
            ["Big Deal", "Medium", "Small deal", "Negative_100% deal", "No amount"],
        ),
        (["amount"], ["Negative_100% deal", "Small deal", "Medium", "Big Deal", "No amount"]),
        (["-amount"], ["Big Deal", "Medium", "Small deal", "Negative_100% deal", "No amount"]),
        (
            ['{"propertyName": "closedate", "direction": "ASCENDING"}'],
            ["Small deal", "Big Deal", "Negative_100% deal", "Medium", "No amount"],
        ),
        (
            [{"propertyName": "dealname"}],
            ["Big Deal", "Medium", "Negative_100% deal", "No amount", "Small deal"],
        ),
        (
            [{"propertyName": "hs_object_id", "direction": "desc"}],
            ["No amount", "Negative_100% deal", "Medium", "Small deal", "Big Deal"],
        ),
        (
            ["dealstage", "-amount"],
            ["Small deal", "Big Deal", "Medium", "Negative_100% deal", "No amount"],
        ),
    ],
)
def test_sorts(seeded: TestClient, sorts: list[Any], expected: list[str]) -> None:
    assert deal_names(seeded, {"sorts": sorts}) == expected


def test_createdate_sorts_descending(api: TestClient) -> None:
    for i in range(3):
        create(api, "tickets", subject=f"T{i}")
        time.sleep(0.003)
    body = {"sorts": [{"propertyName": "createdate", "direction": "DESCENDING"}]}
    found = search(api, "tickets", body)
    assert [x["properties"]["subject"] for x in found["results"]] == ["T2", "T1", "T0"]


def test_paging_with_limit_and_after(seeded: TestClient) -> None:
    seen: list[str] = []
    body: dict[str, Any] = {"limit": 2, "properties": ["dealname"], "sorts": ["-amount"]}
    pages = 0
    while True:
        found = search(seeded, "deals", body)
        pages += 1
        assert found["total"] == 5
        seen.extend(x["properties"]["dealname"] for x in found["results"])
        nxt = found.get("paging", {}).get("next")
        if nxt is None:
            break
        body["after"] = nxt["after"]
    assert pages == 3
    assert seen == ["Big Deal", "Medium", "Small deal", "Negative_100% deal", "No amount"]
    beyond = search(seeded, "deals", {"after": "50"})
    assert beyond["total"] == 5 and beyond["results"] == [] and "paging" not in beyond
    assert len(search(seeded, "deals", {})["results"]) == 5  # default limit 10
    assert len(search(seeded, "deals", {"after": 3})["results"]) == 2


def test_search_returns_the_properties_asked_for(seeded: TestClient) -> None:
    found = search(seeded, "contacts", {"properties": ["firstname", "nosuch"]})
    assert all(set(x["properties"]) == {"firstname", *SYSTEM} for x in found["results"])
    default = search(seeded, "contacts", {})
    assert all(
        set(x["properties"]) == {"email", "firstname", "lastname", *SYSTEM}
        for x in default["results"]
    )
    assert {"total", "results"} == set(default)


def test_query_searches_text_properties(seeded: TestClient) -> None:
    assert emails(seeded, {"query": "LOVELACE"}) == ["ada@hubspot.com"]
    assert emails(seeded, {"query": "hubspot"}) == ["ada@hubspot.com", "carol@HubSpot.com"]
    assert emails(seeded, {"query": "100%"}) == []
    assert deal_names(seeded, {"query": "100%"}) == ["Negative_100% deal"]


def test_query_finds_values_that_json_writes_escaped(api: TestClient) -> None:
    """The document text is only a first sieve: quotes, backslashes and accents are
    escaped there, and a property name matches it too, yet neither may change results."""
    rows = [
        {"email": "q@x.test", "firstname": 'Say "hi"', "lastname": "back\\slash"},
        {"email": "e@x.test", "firstname": "Élodie", "lastname": "Müller"},
        {"email": "n@x.test", "firstname": "Plain", "lastname": "Name"},
    ]
    r = api.post(
        f"{OBJECTS}/contacts/batch/create", json={"inputs": [{"properties": p} for p in rows]}
    )
    assert r.status_code == 201, r.text
    assert emails(api, {"query": '"hi"'}) == ["q@x.test"]
    assert emails(api, {"query": "k\\s"}) == ["q@x.test"]
    assert emails(api, {"query": "ülle"}) == ["e@x.test"]
    assert emails(api, {"query": "MÜLL"}) == ["e@x.test"]
    assert emails(api, {"query": "firstname"}) == []  # a key, not a value
    assert emails(api, {"query": "lain na"}) == []  # across two values
    assert emails(api, {"query": "plain"}) == ["n@x.test"]


def test_archived_records_are_not_found(seeded: TestClient) -> None:
    first = search(seeded, "deals", {"limit": 1})["results"][0]
    assert seeded.delete(f"{OBJECTS}/deals/{first['id']}").status_code == 204
    assert "Big Deal" not in deal_names(seeded, {})


def test_search_sees_only_its_portal(
    client: TestClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    client.headers.update(tenant.headers)
    create(client, "contacts", email="ada@example.com")
    r = client.post(
        f"{OBJECTS}/contacts/search",
        json=one_filter("email", "EQ", value="ada@example.com"),
        headers=other_tenant.headers,
    )
    assert r.status_code == 200 and r.json() == {"total": 0, "results": []}


# --- bad requests ------------------------------------------------------------------------

F0 = "filterGroups[0].filters[0]"


@pytest.mark.parametrize(
    ("body", "where", "code"),
    [
        (one_filter("nosuch", "EQ", value="x"), f"{F0}.propertyName", "PROPERTY_DOESNT_EXIST"),
        (one_filter("dealname", "LIKE", value="x"), f"{F0}.operator", "INVALID_OPERATOR"),
        (one_filter("dealname", "GT", value="x"), f"{F0}.operator", "INVALID_OPERATOR"),
        (one_filter("amount", "CONTAINS_TOKEN", value="1"), f"{F0}.operator", "INVALID_OPERATOR"),
        (one_filter("amount", "GT", value="many"), f"{F0}.value", "INVALID_NUMBER"),
        (one_filter("closedate", "GT", value="soon"), f"{F0}.value", "INVALID_DATE"),
        (one_filter("createdate", "GT", value="soon"), f"{F0}.value", "INVALID_DATE"),
        (one_filter("hs_object_id", "EQ", value="one"), f"{F0}.value", "INVALID_NUMBER"),
        (one_filter("amount", "EQ"), f"{F0}.value", "REQUIRED"),
        (one_filter("amount", "EQ", value={"a": 1}), f"{F0}.value", "INVALID_TYPE"),
        (one_filter("amount", "BETWEEN", value="1"), f"{F0}.highValue", "REQUIRED"),
        (one_filter("amount", "IN", value="1"), f"{F0}.values", "REQUIRED"),
        (one_filter("amount", "IN", values=[]), f"{F0}.values", "INVALID"),
        (one_filter("amount", "IN", values=["1"] * 101), f"{F0}.values", "INVALID"),
        (one_filter("amount", "IN", values=["1", "x"]), f"{F0}.values[1]", "INVALID_NUMBER"),
        (one_filter("dealname", "EQ", value="a\x00"), f"{F0}.value", "INVALID"),
        ({"filterGroups": [{"filters": [{"operator": "EQ"}]}]}, f"{F0}.propertyName", "REQUIRED"),
        (
            {"filterGroups": [{"filters": [{"propertyName": "amount"}]}]},
            f"{F0}.operator",
            "REQUIRED",
        ),
        ({"filterGroups": [{"filters": {}}]}, "filterGroups[0].filters", "INVALID_TYPE"),
        ({"filterGroups": [[]]}, "filterGroups[0]", "INVALID_TYPE"),
        ({"filterGroups": {}}, "filterGroups", "INVALID_TYPE"),
        ({"filterGroups": [{"filters": []}] * 7}, "filterGroups", "TOO_MANY_FILTERS"),
        (
            {
                "filterGroups": [
                    {"filters": [{"propertyName": "amount", "operator": "HAS_PROPERTY"}] * 6}
                ]
                * 4
            },
            "filterGroups",
            "TOO_MANY_FILTERS",
        ),
        ({"sorts": [{"propertyName": "nosuch"}]}, "sorts[0].propertyName", "PROPERTY_DOESNT_EXIST"),
        ({"sorts": ["-nosuch"]}, "sorts[0].propertyName", "PROPERTY_DOESNT_EXIST"),
        (
            {"sorts": [{"propertyName": "amount", "direction": "UP"}]},
            "sorts[0].direction",
            "INVALID",
        ),
        ({"sorts": ["{not json"]}, "sorts[0]", "INVALID"),
        ({"sorts": [5]}, "sorts[0]", "INVALID_TYPE"),
        ({"sorts": "amount"}, "sorts", "INVALID_TYPE"),
        ({"limit": 0}, "limit", "INVALID"),
        ({"limit": 201}, "limit", "INVALID"),
        ({"limit": "10"}, "limit", "INVALID_TYPE"),
        ({"limit": 10.5}, "limit", "INVALID_TYPE"),
        ({"after": "x"}, "after", "INVALID"),
        ({"after": "-1"}, "after", "INVALID"),
        ({"after": "99999999999"}, "after", "INVALID"),
        ({"after": True}, "after", "INVALID"),
        ({"properties": "dealname"}, "properties", "INVALID_TYPE"),
        ({"properties": [1]}, "properties[0]", "INVALID_TYPE"),
        ({"query": 5}, "query", "INVALID_TYPE"),
        ({"query": "x" * 3001}, "query", "TOO_LONG"),
    ],
)
def test_bad_search_requests_are_400(api: TestClient, body: Any, where: str, code: str) -> None:
    r = api.post(f"{OBJECTS}/deals/search", json=body)
    expect_error(r, 400, "VALIDATION_ERROR", where, code)


def test_every_search_problem_is_reported(api: TestClient) -> None:
    body = {
        "filterGroups": [
            {
                "filters": [
                    {"propertyName": "nosuch", "operator": "EQ", "value": "x"},
                    {"propertyName": "amount", "operator": "NOPE", "value": "x"},
                ]
            }
        ],
        "limit": 500,
    }
    r = api.post(f"{OBJECTS}/deals/search", json=body)
    found = {e["in"] for e in expect_error(r, 400, "VALIDATION_ERROR")["errors"]}
    assert found == {f"{F0}.propertyName", "filterGroups[0].filters[1].operator", "limit"}
