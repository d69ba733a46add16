"""The event-definitions API over HTTP: create, read, list, change, delete, properties.

Every test runs on SQLite and PostgreSQL (see tests/conftest.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from occur.services import access
from occur.store.db import Database
from tests.conftest import Tenant
from tests.support.http import expect_error

DEFS = "/events/v3/event-definitions"
VIEWED_CAR: dict[str, Any] = {
    "label": "Viewed Car",
    "name": "viewed_car",
    "description": "A visitor looked at a car.",
    "primaryObject": "CONTACT",
    "includeDefaultProperties": True,
    "propertyDefinitions": [
        {
            "name": "condition",
            "label": "Condition",
            "type": "enumeration",
            "description": "New or used.",
            "options": [{"label": "New", "value": "new"}, {"label": "Used", "value": "used"}],
        },
        {"name": "year", "label": "Year", "type": "number"},
    ],
}

# hubspot-facts.md §2: name, label, type, fieldType, in the guide's order.
DEFAULTS = [
    ("hs_asset_description", "Asset description", "string", "text"),
    ("hs_asset_type", "Asset type", "string", "text"),
    ("hs_browser", "Browser", "string", "text"),
    ("hs_campaign_id", "Campaign ID", "string", "text"),
    ("hs_city", "City", "string", "text"),
    ("hs_country", "Country", "string", "text"),
    ("hs_device_name", "Device name", "string", "text"),
    ("hs_device_type", "Device type", "enumeration", "select"),
    ("hs_element_class", "Element class", "string", "text"),
    ("hs_element_id", "Element ID", "string", "text"),
    ("hs_element_text", "Element text", "string", "text"),
    ("hs_language", "Language", "enumeration", "select"),
    ("hs_link_href", "Link href", "string", "text"),
    ("hs_operating_system", "Operating system", "string", "text"),
    ("hs_operating_version", "Operating version", "string", "text"),
    ("hs_page_content_type", "Page content type", "enumeration", "select"),
    ("hs_page_id", "Page ID", "string", "text"),
    ("hs_page_title", "Page title", "string", "text"),
    ("hs_page_url", "Page URL", "string", "text"),
    ("hs_parent_module_id", "Parent Module ID", "string", "text"),
    ("hs_referrer", "Referrer", "string", "text"),
    ("hs_region", "Region", "string", "text"),
    ("hs_screen_height", "Screen height", "number", "number"),
    ("hs_screen_width", "Screen width", "number", "number"),
    ("hs_touchpoint_source", "Touchpoint source", "string", "text"),
    ("hs_tracking_name", "Tracking name", "string", "text"),
    ("hs_user_agent", "User agent", "string", "text"),
    ("hs_utm_campaign", "UTM Campaign", "string", "text"),
    ("hs_utm_content", "UTM Content", "string", "text"),
    ("hs_utm_medium", "UTM Medium", "string", "text"),
    ("hs_utm_source", "UTM Source", "string", "text"),
    ("hs_utm_term", "UTM Term", "string", "text"),
]
DEVICE_TYPES = [
    "Game Console",
    "PDA",
    "Personal Computer",
    "Desktop",
    "Smartphone",
    "Smart TV",
    "Tablet",
    "Wearable Computer",
    "Unknown",
]
PAGE_CONTENT_TYPES = [
    ("BLOG_POST", "Blog Post"),
    ("KNOWLEDGE_ARTICLE", "Knowledge Article"),
    ("LANDING_PAGE", "Landing Page"),
    ("LISTING_PAGE", "Listing Page"),
    ("STANDARD_PAGE", "Standard Page"),
    ("WEB_INTERACTIVE", "Web Interactive"),
]


def create(api: TestClient, **fields: Any) -> dict[str, Any]:
    body = {"label": fields.get("name", "Event").replace("_", " ").title(), **fields}
    r = api.post(DEFS, json=body)
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


def parse_time(text: str) -> datetime:
    assert text.endswith("Z")
    return datetime.fromisoformat(text[:-1] + "+00:00")


# --- create and read -------------------------------------------------------------------


def test_create_answers_201_with_every_field(api: TestClient, tenant: Tenant) -> None:
    before = datetime.now(UTC)
    r = api.post(DEFS, json=VIEWED_CAR)
    assert r.status_code == 201, r.text
    d = r.json()
    assert d["id"].isdigit()
    assert d["name"] == "viewed_car"
    assert d["fullyQualifiedName"] == f"pe{tenant.portal_id}_viewed_car"
    assert d["labels"] == {"singular": "Viewed Car", "plural": "Viewed Car"}
    assert d["description"] == "A visitor looked at a car."
    assert d["primaryObject"] == "CONTACT"
    assert d["objectTypeId"] == f"6-{d['id']}"
    assert d["primaryObjectId"] == "0-1"
    assert d["trackingType"] == "MANUAL"
    assert d["associations"] == []
    assert d["archived"] is False
    assert "customMatchingId" not in d
    created, updated = parse_time(d["createdAt"]), parse_time(d["updatedAt"])
    assert before - timedelta(seconds=1) <= created <= datetime.now(UTC) + timedelta(seconds=1)
    assert updated == created

    props = d["properties"]
    assert len(props) == 32 + 2
    condition, year = props[-2:]
    assert condition == {
        **condition,
        "name": "condition",
        "label": "Condition",
        "type": "enumeration",
        "fieldType": "select",
        "groupName": "event_properties",
        "description": "New or used.",
        "hubspotDefined": False,
        "displayOrder": 0,
        "hidden": False,
    }
    assert condition["options"] == [
        {"label": "New", "value": "new", "displayOrder": 0, "hidden": False, "description": ""},
        {"label": "Used", "value": "used", "displayOrder": 1, "hidden": False, "description": ""},
    ]
    assert (year["name"], year["type"], year["fieldType"], year["options"]) == (
        "year",
        "number",
        "number",
        [],
    )
    assert year["displayOrder"] == 1
    assert year["description"] == ""


def test_default_properties_are_hubspots_32(api: TestClient) -> None:
    props = create(api, name="e")["properties"]
    defaults = [p for p in props if p["hubspotDefined"]]
    assert [(p["name"], p["label"], p["type"], p["fieldType"]) for p in defaults] == DEFAULTS
    assert all(p["groupName"] == "event_properties" and not p["hidden"] for p in defaults)
    by_name = {p["name"]: p for p in defaults}
    device = by_name["hs_device_type"]["options"]
    assert [(o["value"], o["label"]) for o in device] == [(v, v) for v in DEVICE_TYPES]
    content = by_name["hs_page_content_type"]["options"]
    assert [(o["value"], o["label"]) for o in content] == PAGE_CONTENT_TYPES
    assert [o["displayOrder"] for o in content] == list(range(len(PAGE_CONTENT_TYPES)))
    strings = [p for p in defaults if p["type"] != "enumeration"]
    assert all(p["options"] == [] for p in strings)


def test_include_default_properties_false_keeps_only_custom(api: TestClient) -> None:
    d = create(
        api,
        name="e",
        includeDefaultProperties=False,
        propertyDefinitions=[{"name": "plan", "label": "Plan", "type": "string"}],
    )
    assert [p["name"] for p in d["properties"]] == ["plan"]
    got = api.get(f"{DEFS}/e").json()
    assert [p["name"] for p in got["properties"]] == ["plan"]


def test_include_default_properties_absent_means_true(api: TestClient) -> None:
    r = api.post(DEFS, json={"label": "Only A Label"})
    assert r.status_code == 201
    d = r.json()
    assert d["name"] == "only_a_label"
    assert len(d["properties"]) == 32
    assert d["primaryObject"] == "CONTACT"


@pytest.mark.parametrize(
    ("primary", "type_id"),
    [("CONTACT", "0-1"), ("COMPANY", "0-2"), ("DEAL", "0-3"), ("TICKET", "0-5")],
)
def test_primary_objects_and_their_ids(api: TestClient, primary: str, type_id: str) -> None:
    d = create(api, name="e", primaryObject=primary)
    assert (d["primaryObject"], d["primaryObjectId"]) == (primary, type_id)
    got = api.get(f"{DEFS}/e").json()
    assert (got["primaryObject"], got["primaryObjectId"]) == (primary, type_id)


def test_get_answers_the_same_definition_by_name_and_full_name(
    api: TestClient, tenant: Tenant
) -> None:
    created = api.post(DEFS, json=VIEWED_CAR).json()
    by_name = api.get(f"{DEFS}/viewed_car")
    assert by_name.status_code == 200
    assert by_name.json() == created
    by_full = api.get(f"{DEFS}/pe{tenant.portal_id}_viewed_car")
    assert by_full.status_code == 200
    assert by_full.json() == created


def test_ids_and_object_type_ids_differ_per_definition(api: TestClient) -> None:
    first, second = create(api, name="a"), create(api, name="b")
    assert first["id"] != second["id"]
    assert first["objectTypeId"] != second["objectTypeId"]


# --- list ------------------------------------------------------------------------------


def test_list_walks_every_page_with_the_after_cursor(api: TestClient) -> None:
    names = [f"event_{i}" for i in range(7)]
    for name in names:
        create(api, name=name)
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 3}
    pages = 0
    while True:
        r = api.get(DEFS, params=params)
        assert r.status_code == 200
        page = r.json()
        assert page["total"] == 7
        assert len(page["results"]) <= 3
        seen += [d["name"] for d in page["results"]]
        pages += 1
        if "paging" not in page:
            break
        nxt = page["paging"]["next"]
        assert nxt["after"]
        assert f"after={nxt['after']}" in nxt["link"]
        assert nxt["link"].startswith("http")
        params = {"limit": 3, "after": nxt["after"]}
    assert pages == 3
    assert seen == names


def test_list_exact_final_page_has_no_next(api: TestClient) -> None:
    for i in range(4):
        create(api, name=f"e{i}")
    first = api.get(DEFS, params={"limit": 2}).json()
    second = api.get(DEFS, params={"limit": 2, "after": first["paging"]["next"]["after"]}).json()
    assert [d["name"] for d in second["results"]] == ["e2", "e3"]
    assert "paging" not in second


def test_list_sort_order_desc_walks_backwards(api: TestClient) -> None:
    for i in range(3):
        create(api, name=f"e{i}")
    first = api.get(DEFS, params={"limit": 2, "sortOrder": "DESC"}).json()
    assert [d["name"] for d in first["results"]] == ["e2", "e1"]
    after = first["paging"]["next"]["after"]
    rest = api.get(DEFS, params={"limit": 2, "sortOrder": "DESC", "after": after}).json()
    assert [d["name"] for d in rest["results"]] == ["e0"]
    assert "paging" not in rest


def test_list_include_properties(api: TestClient) -> None:
    create(api, name="e", propertyDefinitions=[{"name": "p", "label": "P", "type": "string"}])
    bare = api.get(DEFS).json()["results"][0]
    assert bare["properties"] == []
    assert bare["name"] == "e"
    off = api.get(DEFS, params={"includeProperties": "false"}).json()["results"][0]
    assert off["properties"] == []
    full = api.get(DEFS, params={"includeProperties": "true"}).json()["results"][0]
    assert len(full["properties"]) == 33
    assert full["properties"][-1]["name"] == "p"


def test_list_search_string_is_a_literal_contains(api: TestClient) -> None:
    for name in ("viewed_car", "rented_car", "viewed_boat", "ab_cd", "abxcd"):
        create(api, name=name)
    car = api.get(DEFS, params={"searchString": "car"}).json()
    assert car["total"] == 2
    assert sorted(d["name"] for d in car["results"]) == ["rented_car", "viewed_car"]
    # Case does not matter, and `_` and `%` are not SQL wildcards.
    assert api.get(DEFS, params={"searchString": "VIEWED"}).json()["total"] == 2
    assert [d["name"] for d in api.get(DEFS, params={"searchString": "b_c"}).json()["results"]] == [
        "ab_cd"
    ]
    assert api.get(DEFS, params={"searchString": "%"}).json() == {"total": 0, "results": []}
    paged = api.get(DEFS, params={"searchString": "viewed", "limit": 1}).json()
    assert paged["total"] == 2
    assert "paging" in paged


def test_list_searches_labels_too(api: TestClient) -> None:
    create(api, name="e1", label="Checkout Started")
    found = api.get(DEFS, params={"searchString": "checkout"}).json()
    assert [d["name"] for d in found["results"]] == ["e1"]


def test_an_empty_list(api: TestClient) -> None:
    r = api.get(DEFS)
    assert r.status_code == 200
    assert r.json() == {"total": 0, "results": []}


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("limit", "0"),
        ("limit", "101"),
        ("limit", "ten"),
        ("after", "abc"),
        ("after", "-1"),
        ("includeProperties", "maybe"),
        ("sortOrder", "SIDEWAYS"),
        ("searchString", "a\x00b"),
    ],
)
def test_list_rejects_bad_query_parameters(api: TestClient, param: str, value: str) -> None:
    expect_error(api.get(DEFS, params={param: value}), 400, "VALIDATION_ERROR", param)


def test_list_limits_at_the_edges(api: TestClient) -> None:
    for i in range(2):
        create(api, name=f"e{i}")
    assert len(api.get(DEFS, params={"limit": 1}).json()["results"]) == 1
    assert len(api.get(DEFS, params={"limit": 100}).json()["results"]) == 2


def test_a_cursor_past_every_id_is_an_empty_page_not_a_crash(api: TestClient) -> None:
    create(api, name="e")
    beyond = str(10**17)
    assert api.get(DEFS, params={"after": beyond}).json() == {"total": 1, "results": []}
    desc = api.get(DEFS, params={"after": beyond, "sortOrder": "DESC"}).json()
    assert [d["name"] for d in desc["results"]] == ["e"]


def test_a_cursor_no_server_could_issue_is_a_400(api: TestClient) -> None:
    r = api.get(DEFS, params={"after": "9" * 40})
    assert r.status_code == 400
    assert r.json()["errors"][0]["in"] == "after"


# --- change ----------------------------------------------------------------------------


def test_patch_changes_label_and_description_and_answers_201(api: TestClient) -> None:
    created = create(api, name="e", description="old")
    r = api.patch(f"{DEFS}/e", json={"label": "New Label", "description": "new"})
    assert r.status_code == 201
    d = r.json()
    assert d["labels"] == {"singular": "New Label", "plural": "New Label"}
    assert d["description"] == "new"
    assert parse_time(d["updatedAt"]) >= parse_time(created["updatedAt"])
    assert d["createdAt"] == created["createdAt"]
    assert api.get(f"{DEFS}/e").json() == d


def test_patch_changes_only_what_it_names(api: TestClient) -> None:
    create(api, name="e", label="Keep", description="old")
    d = api.patch(f"{DEFS}/e", json={"description": "new"}).json()
    assert (d["labels"]["singular"], d["description"]) == ("Keep", "new")
    d = api.patch(f"{DEFS}/e", json={"label": "Changed"}).json()
    assert (d["labels"]["singular"], d["description"]) == ("Changed", "new")


def test_patch_cannot_rename_or_move_a_definition(api: TestClient) -> None:
    create(api, name="e")
    r = api.patch(f"{DEFS}/e", json={"name": "other", "primaryObject": "DEAL", "propertyOrder": []})
    assert r.status_code == 201
    assert (r.json()["name"], r.json()["primaryObject"]) == ("e", "CONTACT")
    assert api.get(f"{DEFS}/other").status_code == 404


# --- delete ----------------------------------------------------------------------------


def test_delete_then_get_is_404_and_the_name_is_never_reused(api: TestClient) -> None:
    create(api, name="viewed_car", label="Viewed Car")
    r = api.delete(f"{DEFS}/viewed_car")
    assert r.status_code == 204
    assert r.content == b""
    expect_error(api.get(f"{DEFS}/viewed_car"), 404, "OBJECT_NOT_FOUND")
    assert api.get(DEFS).json() == {"total": 0, "results": []}
    again = api.post(DEFS, json={"label": "Viewed Car", "name": "viewed_car"})
    expect_error(again, 409, "CONFLICT", "name")
    expect_error(api.delete(f"{DEFS}/viewed_car"), 404, "OBJECT_NOT_FOUND")
    # A name derived from the same label steps around the reserved one.
    derived = api.post(DEFS, json={"label": "Viewed Car"})
    assert derived.status_code == 201
    assert derived.json()["name"] == "viewed_car_2"


def test_delete_by_full_name(api: TestClient, tenant: Tenant) -> None:
    create(api, name="e")
    assert api.delete(f"{DEFS}/pe{tenant.portal_id}_e").status_code == 204
    assert api.get(f"{DEFS}/e").status_code == 404


# --- properties ------------------------------------------------------------------------


def test_add_property_answers_201_and_shows_on_the_definition(api: TestClient) -> None:
    create(api, name="e", propertyDefinitions=[{"name": "a", "label": "A", "type": "string"}])
    r = api.post(
        f"{DEFS}/e/property",
        json={
            "name": "plan",
            "label": "Plan",
            "type": "enumeration",
            "description": "Which.",
            "options": [{"label": "Pro", "value": "pro"}],
        },
    )
    assert r.status_code == 201
    p = r.json()
    assert p == {
        **p,
        "name": "plan",
        "label": "Plan",
        "type": "enumeration",
        "fieldType": "select",
        "groupName": "event_properties",
        "description": "Which.",
        "hubspotDefined": False,
        "hidden": False,
        "displayOrder": 1,
    }
    assert [o["value"] for o in p["options"]] == ["pro"]
    got = api.get(f"{DEFS}/e").json()["properties"]
    assert got[-1] == p
    assert [q["name"] for q in got[-2:]] == ["a", "plan"]


def test_add_property_derives_its_name_from_the_label(api: TestClient) -> None:
    create(api, name="e", propertyDefinitions=[{"name": "plan_name", "label": "X", "type": "bool"}])
    r = api.post(f"{DEFS}/e/property", json={"label": "Plan Name", "type": "string"})
    assert r.status_code == 201
    assert r.json()["name"] == "plan_name_2"


def test_add_property_after_a_deleted_one_goes_last(api: TestClient) -> None:
    create(
        api,
        name="e",
        propertyDefinitions=[
            {"name": "a", "label": "A", "type": "string"},
            {"name": "b", "label": "B", "type": "string"},
        ],
    )
    assert api.delete(f"{DEFS}/e/property/a").status_code == 204
    added = api.post(f"{DEFS}/e/property", json={"name": "c", "label": "C", "type": "string"})
    orders = {p["name"]: p["displayOrder"] for p in api.get(f"{DEFS}/e").json()["properties"]}
    assert added.json()["displayOrder"] > orders["b"]


def test_patch_property_label_description_and_options_answers_201(api: TestClient) -> None:
    create(api, name="e", propertyDefinitions=VIEWED_CAR["propertyDefinitions"])
    r = api.patch(
        f"{DEFS}/e/property/condition",
        json={
            "label": "State",
            "description": "How worn.",
            "options": [
                {"label": "Mint", "value": "mint"},
                {"label": "Worn", "value": "worn", "hidden": True, "displayOrder": 5},
            ],
        },
    )
    assert r.status_code == 201
    p = r.json()
    assert (p["name"], p["label"], p["description"], p["type"]) == (
        "condition",
        "State",
        "How worn.",
        "enumeration",
    )
    # Options replace the old ones: "new" and "used" are gone.
    assert [(o["value"], o["hidden"], o["displayOrder"]) for o in p["options"]] == [
        ("mint", False, 0),
        ("worn", True, 5),
    ]
    stored = {q["name"]: q for q in api.get(f"{DEFS}/e").json()["properties"]}
    assert stored["condition"] == p


def test_patch_property_without_options_keeps_them(api: TestClient) -> None:
    create(api, name="e", propertyDefinitions=VIEWED_CAR["propertyDefinitions"])
    p = api.patch(f"{DEFS}/e/property/condition", json={"label": "State"}).json()
    assert [o["value"] for o in p["options"]] == ["new", "used"]
    assert p["description"] == "New or used."


def test_delete_property_answers_204_and_it_is_gone(api: TestClient) -> None:
    create(api, name="e", propertyDefinitions=VIEWED_CAR["propertyDefinitions"])
    r = api.delete(f"{DEFS}/e/property/year")
    assert r.status_code == 204
    assert r.content == b""
    names = [p["name"] for p in api.get(f"{DEFS}/e").json()["properties"]]
    assert "year" not in names
    assert "condition" in names
    expect_error(api.delete(f"{DEFS}/e/property/year"), 404, "OBJECT_NOT_FOUND")


def test_default_properties_cannot_be_changed_or_deleted(api: TestClient) -> None:
    create(api, name="e")
    expect_error(
        api.patch(f"{DEFS}/e/property/hs_browser", json={"label": "Mine"}),
        400,
        "VALIDATION_ERROR",
        "propertyName",
    )
    expect_error(
        api.delete(f"{DEFS}/e/property/hs_browser"), 400, "VALIDATION_ERROR", "propertyName"
    )
    assert any(p["name"] == "hs_browser" for p in api.get(f"{DEFS}/e").json()["properties"])


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/nope", None),
        ("PATCH", "/nope", {"label": "X"}),
        ("DELETE", "/nope", None),
        ("POST", "/nope/property", {"label": "X", "type": "string"}),
        ("PATCH", "/nope/property/p", {"label": "X"}),
        ("DELETE", "/nope/property/p", None),
        ("PATCH", "/e/property/nope", {"label": "X"}),
        ("DELETE", "/e/property/nope", None),
        ("GET", "/a%00b", None),
        ("GET", "/" + "a" * 60, None),
        ("GET", "/E", None),
    ],
)
def test_unknown_definitions_and_properties_are_404(
    api: TestClient, method: str, path: str, body: dict[str, Any] | None
) -> None:
    create(api, name="e")
    r = api.request(method, DEFS + path, json=body)
    expect_error(r, 404, "OBJECT_NOT_FOUND")


# --- path aliases ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "base",
    [
        "/events/v3/event-definitions",
        "/events/2026-03/event-definitions",
        "/events/custom/2026-03/event-definitions",
        "/events/custom/2025-09/event-definitions",
    ],
)
@pytest.mark.parametrize("slash", ["", "/"])
def test_every_route_answers_on_every_alias(api: TestClient, base: str, slash: str) -> None:
    def url(tail: str = "") -> str:
        return base + tail + slash

    assert api.post(url(), json=VIEWED_CAR).status_code == 201
    listed = api.get(url(), params={"includeProperties": "true"})
    assert listed.status_code == 200
    assert [d["name"] for d in listed.json()["results"]] == ["viewed_car"]
    assert api.get(url("/viewed_car")).json()["name"] == "viewed_car"
    assert api.patch(url("/viewed_car"), json={"label": "V"}).status_code == 201
    prop = {"name": "color", "label": "Color", "type": "string"}
    assert api.post(url("/viewed_car/property"), json=prop).status_code == 201
    assert api.patch(url("/viewed_car/property/color"), json={"label": "C"}).status_code == 201
    assert api.delete(url("/viewed_car/property/color")).status_code == 204
    assert api.delete(url("/viewed_car")).status_code == 204
    expect_error(api.get(url("/viewed_car")), 404, "OBJECT_NOT_FOUND")


# --- tenancy ---------------------------------------------------------------------------


def test_another_portal_cannot_see_or_touch_a_definition(
    client: TestClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    mine, theirs = tenant.headers, other_tenant.headers
    assert client.post(DEFS, json=VIEWED_CAR, headers=mine).status_code == 201
    full = f"pe{tenant.portal_id}_viewed_car"
    attempts: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", "/viewed_car", None),
        ("GET", f"/{full}", None),
        ("PATCH", "/viewed_car", {"label": "Mine now"}),
        ("DELETE", "/viewed_car", None),
        ("DELETE", f"/{full}", None),
        ("POST", "/viewed_car/property", {"name": "x", "label": "X", "type": "string"}),
        ("PATCH", "/viewed_car/property/year", {"label": "Mine"}),
        ("DELETE", "/viewed_car/property/year", None),
    ]
    for method, path, body in attempts:
        r = client.request(method, DEFS + path, json=body, headers=theirs)
        expect_error(r, 404, "OBJECT_NOT_FOUND")
    assert client.get(DEFS, headers=theirs).json() == {"total": 0, "results": []}
    searched = client.get(DEFS, params={"searchString": "car"}, headers=theirs).json()
    assert searched["total"] == 0
    # Nothing they tried changed it.
    mine_now = client.get(f"{DEFS}/viewed_car", headers=mine).json()
    assert mine_now["labels"]["singular"] == "Viewed Car"
    assert [p["name"] for p in mine_now["properties"][-2:]] == ["condition", "year"]


def test_the_same_name_lives_in_two_portals(
    client: TestClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    a = client.post(DEFS, json=VIEWED_CAR, headers=tenant.headers).json()
    b = client.post(DEFS, json={**VIEWED_CAR, "label": "Theirs"}, headers=other_tenant.headers)
    assert b.status_code == 201
    assert b.json()["fullyQualifiedName"] == f"pe{other_tenant.portal_id}_viewed_car"
    assert b.json()["id"] != a["id"]
    assert client.delete(f"{DEFS}/viewed_car", headers=other_tenant.headers).status_code == 204
    still = client.get(f"{DEFS}/viewed_car", headers=tenant.headers)
    assert still.status_code == 200
    assert still.json()["labels"]["singular"] == "Viewed Car"
    listed = client.get(DEFS, headers=tenant.headers).json()
    assert [d["id"] for d in listed["results"]] == [a["id"]]


def test_a_deleted_name_in_one_portal_is_free_in_another(
    client: TestClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    client.post(DEFS, json=VIEWED_CAR, headers=tenant.headers)
    client.delete(f"{DEFS}/viewed_car", headers=tenant.headers)
    r = client.post(DEFS, json=VIEWED_CAR, headers=other_tenant.headers)
    assert r.status_code == 201


# --- authentication --------------------------------------------------------------------

ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "", None),
    ("POST", "", {"label": "X"}),
    ("GET", "/e", None),
    ("PATCH", "/e", {"label": "X"}),
    ("DELETE", "/e", None),
    ("POST", "/e/property", {"label": "X", "type": "string"}),
    ("PATCH", "/e/property/p", {"label": "X"}),
    ("DELETE", "/e/property/p", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_every_route_needs_a_valid_token(
    client: TestClient,
    db: Database,
    tenant: Tenant,
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    created = client.post(
        DEFS,
        json={
            "label": "E",
            "name": "e",
            "propertyDefinitions": [{"name": "p", "label": "P", "type": "string"}],
        },
        headers=tenant.headers,
    )
    assert created.status_code == 201
    url = DEFS + path
    for headers in ({}, {"Authorization": "Bearer occur-pat-not-a-real-token"}):
        expect_error(
            client.request(method, url, json=body, headers=headers), 401, "INVALID_AUTHENTICATION"
        )
    narrow = access.create_token(db, tenant.portal_id, ["crm.objects.contacts.read"])
    r = client.request(method, url, json=body, headers={"Authorization": f"Bearer {narrow.secret}"})
    err = expect_error(r, 403, "MISSING_SCOPES")
    assert err["context"]["requiredScopes"] == ["behavioral_events.event_definitions.read_write"]
    # None of the refused requests changed anything.
    d = client.get(f"{DEFS}/e", headers=tenant.headers).json()
    assert d["labels"]["singular"] == "E"
    assert [p["name"] for p in d["properties"]][-1] == "p"
    assert client.get(DEFS, headers=tenant.headers).json()["total"] == 1
