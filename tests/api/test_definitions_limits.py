"""The event-definition limits over HTTP, each with a breaching and a just-inside request."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from starlette.testclient import TestClient

from occur.app import create_app
from occur.config import Settings
from occur.store.db import Database
from tests.api.test_definitions import DEFS
from tests.conftest import Tenant
from tests.support.http import expect_error


def prop(name: str, ptype: str = "string", **extra: Any) -> dict[str, Any]:
    return {"name": name, "label": name.replace("_", " ").title(), "type": ptype, **extra}


def egg(*props: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"label": "Event", "propertyDefinitions": list(props), **fields}


def ok(api: TestClient, body: Any, url: str = DEFS) -> dict[str, Any]:
    r = api.post(url, json=body)
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


BAD_NAMES = [
    pytest.param("a" * 51, id="51-chars"),
    pytest.param("Viewed", id="uppercase-first"),
    pytest.param("viewedCar", id="uppercase-inside"),
    pytest.param("1abc", id="digit-first"),
    pytest.param("_abc", id="underscore-first"),
    pytest.param("ab-c", id="hyphen"),
    pytest.param("ab c", id="space"),
    pytest.param("café", id="non-ascii"),
    pytest.param("abc\n", id="trailing-newline"),
    pytest.param("", id="empty"),
]
GOOD_NAMES = ["a" * 50, "a", "a1_b_", "z_9"]


# --- names -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", BAD_NAMES)
def test_event_name_breaking_the_rule_is_400(api: TestClient, name: str) -> None:
    expect_error(api.post(DEFS, json=egg(name=name)), 400, "VALIDATION_ERROR", "name")
    assert api.get(DEFS).json()["total"] == 0


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_event_name_inside_the_rule_is_201(api: TestClient, name: str) -> None:
    assert ok(api, egg(name=name))["name"] == name
    assert api.get(f"{DEFS}/{name}").status_code == 200


@pytest.mark.parametrize("name", BAD_NAMES)
def test_property_name_breaking_the_rule_is_400(api: TestClient, name: str) -> None:
    r = api.post(DEFS, json=egg(prop("fine"), {"name": name, "label": "L", "type": "string"}))
    expect_error(r, 400, "VALIDATION_ERROR", "propertyDefinitions[1].name")
    ok(api, egg(name="e"))
    r = api.post(f"{DEFS}/e/property", json={"name": name, "label": "L", "type": "string"})
    expect_error(r, 400, "VALIDATION_ERROR", "name")


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_property_name_inside_the_rule_is_201(api: TestClient, name: str) -> None:
    created = ok(api, egg(prop(name), name="e"))
    assert created["properties"][-1]["name"] == name
    r = api.post(f"{DEFS}/e/property", json=prop(name[:-1] + "q" if len(name) > 1 else "q"))
    assert r.status_code == 201


# --- labels ----------------------------------------------------------------------------


def test_event_label_of_100_is_fine_and_101_is_not(api: TestClient) -> None:
    expect_error(api.post(DEFS, json=egg(label="x" * 101)), 400, "VALIDATION_ERROR", "label")
    assert ok(api, egg(label="x" * 100))["labels"]["singular"] == "x" * 100
    ok(api, egg(name="e"))
    expect_error(
        api.patch(f"{DEFS}/e", json={"label": "y" * 101}), 400, "VALIDATION_ERROR", "label"
    )
    assert api.patch(f"{DEFS}/e", json={"label": "y" * 100}).status_code == 201


@pytest.mark.parametrize("label", ["", "   "])
def test_event_label_must_not_be_empty(api: TestClient, label: str) -> None:
    expect_error(api.post(DEFS, json=egg(label=label)), 400, "VALIDATION_ERROR", "label")
    ok(api, egg(name="e"))
    expect_error(api.patch(f"{DEFS}/e", json={"label": label}), 400, "VALIDATION_ERROR", "label")


def test_event_label_is_required(api: TestClient) -> None:
    body = expect_error(
        api.post(DEFS, json={"name": "e", "propertyDefinitions": []}), 400, "VALIDATION_ERROR"
    )
    assert [(e["in"], e["code"]) for e in body["errors"]] == [("label", "REQUIRED")]


def test_property_label_of_50_is_fine_and_51_is_not(api: TestClient) -> None:
    long = {"name": "p", "label": "x" * 51, "type": "string"}
    expect_error(
        api.post(DEFS, json=egg(long)), 400, "VALIDATION_ERROR", "propertyDefinitions[0].label"
    )
    created = ok(api, egg({**long, "label": "x" * 50}, name="e"))
    assert created["properties"][-1]["label"] == "x" * 50
    r = api.post(f"{DEFS}/e/property", json={**long, "name": "q"})
    expect_error(r, 400, "VALIDATION_ERROR", "label")
    assert api.post(f"{DEFS}/e/property", json={**long, "name": "q", "label": "y" * 50}).is_success
    r = api.patch(f"{DEFS}/e/property/p", json={"label": "z" * 51})
    expect_error(r, 400, "VALIDATION_ERROR", "label")
    assert api.patch(f"{DEFS}/e/property/p", json={"label": "z" * 50}).status_code == 201


def test_property_label_is_required_and_not_empty(api: TestClient) -> None:
    r = api.post(DEFS, json=egg({"name": "p", "type": "string"}, {"label": "", "type": "bool"}))
    body = expect_error(r, 400, "VALIDATION_ERROR")
    assert {e["in"] for e in body["errors"]} == {
        "propertyDefinitions[0].label",
        "propertyDefinitions[1].label",
    }


# --- how many properties ----------------------------------------------------------------


def test_fifty_custom_properties_fit_and_fifty_one_do_not(api: TestClient) -> None:
    fifty = [prop(f"p{i}") for i in range(50)]
    body = expect_error(api.post(DEFS, json=egg(*fifty, prop("p50"))), 400, "VALIDATION_ERROR")
    assert [(e["in"], e["code"]) for e in body["errors"]] == [
        ("propertyDefinitions", "TOO_MANY_PROPERTIES")
    ]
    created = ok(api, egg(*fifty, name="e"))
    assert len(created["properties"]) == 32 + 50
    # The 32 defaults do not count toward the 50.
    r = api.post(f"{DEFS}/e/property", json=prop("p50"))
    body = expect_error(r, 400, "VALIDATION_ERROR")
    assert [e["code"] for e in body["errors"]] == ["TOO_MANY_PROPERTIES"]
    assert len(api.get(f"{DEFS}/e").json()["properties"]) == 82


def test_the_fiftieth_property_can_be_added_and_a_freed_slot_reused(api: TestClient) -> None:
    ok(api, egg(*[prop(f"p{i}") for i in range(49)], name="e"))
    assert api.post(f"{DEFS}/e/property", json=prop("p49")).status_code == 201
    assert api.post(f"{DEFS}/e/property", json=prop("p50")).status_code == 400
    assert api.delete(f"{DEFS}/e/property/p0").status_code == 204
    assert api.post(f"{DEFS}/e/property", json=prop("p50")).status_code == 201


# --- types and options -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("ptype", "field_type"),
    [
        ("string", "text"),
        ("number", "number"),
        ("enumeration", "select"),
        ("datetime", "date"),
        ("date", "date"),
        ("bool", "radio"),
    ],
)
def test_each_property_type_is_accepted(api: TestClient, ptype: str, field_type: str) -> None:
    extra = {"options": [{"label": "A", "value": "a"}]} if ptype == "enumeration" else {}
    created = ok(api, egg(prop("p", ptype, **extra), name="e"))
    p = created["properties"][-1]
    assert (p["type"], p["fieldType"]) == (ptype, field_type)
    added = api.post(f"{DEFS}/e/property", json=prop("q", ptype, **extra))
    assert added.status_code == 201
    assert (added.json()["type"], added.json()["fieldType"]) == (ptype, field_type)


@pytest.mark.parametrize("ptype", ["boolean", "text", "integer", "STRING", "", "select"])
def test_an_unknown_type_is_400(api: TestClient, ptype: str) -> None:
    r = api.post(DEFS, json=egg(prop("p", ptype)))
    expect_error(r, 400, "VALIDATION_ERROR", "propertyDefinitions[0].type")
    ok(api, egg(name="e"))
    expect_error(
        api.post(f"{DEFS}/e/property", json=prop("p", ptype)), 400, "VALIDATION_ERROR", "type"
    )


def test_a_type_is_required(api: TestClient) -> None:
    r = api.post(DEFS, json=egg({"name": "p", "label": "P"}))
    expect_error(r, 400, "VALIDATION_ERROR", "propertyDefinitions[0].type")


@pytest.mark.parametrize("options", [None, []])
def test_an_enumeration_needs_an_option(api: TestClient, options: list[Any] | None) -> None:
    p = prop("p", "enumeration", **({} if options is None else {"options": options}))
    expect_error(
        api.post(DEFS, json=egg(p)), 400, "VALIDATION_ERROR", "propertyDefinitions[0].options"
    )
    one = ok(api, egg(prop("p", "enumeration", options=[{"label": "A", "value": "a"}]), name="e"))
    assert [o["value"] for o in one["properties"][-1]["options"]] == ["a"]
    # A change cannot take its last option away either.
    r = api.patch(f"{DEFS}/e/property/p", json={"options": []})
    expect_error(r, 400, "VALIDATION_ERROR", "options")
    kept = api.get(f"{DEFS}/e").json()["properties"][-1]
    assert [o["value"] for o in kept["options"]] == ["a"]


def test_option_values_must_be_unique(api: TestClient) -> None:
    same = [{"label": "A", "value": "a"}, {"label": "B", "value": "a"}]
    r = api.post(DEFS, json=egg(prop("p", "enumeration", options=same)))
    expect_error(r, 400, "VALIDATION_ERROR", "propertyDefinitions[0].options[1].value")
    distinct = [{"label": "A", "value": "a"}, {"label": "A", "value": "b"}]
    ok(api, egg(prop("p", "enumeration", options=distinct), name="e"))
    r = api.patch(f"{DEFS}/e/property/p", json={"options": same})
    expect_error(r, 400, "VALIDATION_ERROR", "options[1].value")


def test_an_option_value_with_a_semicolon_is_refused(api: TestClient) -> None:
    r = api.post(DEFS, json=egg(prop("p", "enumeration", options=[{"label": "A", "value": "a;b"}])))
    expect_error(r, 400, "VALIDATION_ERROR", "propertyDefinitions[0].options[0].value")
    # In a label it separates nothing and is fine.
    fine = [{"label": "A;B", "value": "a_b"}]
    created = ok(api, egg(prop("p", "enumeration", options=fine), name="e"))
    assert created["properties"][-1]["options"][0]["label"] == "A;B"
    r = api.patch(f"{DEFS}/e/property/p", json={"options": [{"label": "X", "value": "x;y"}]})
    expect_error(r, 400, "VALIDATION_ERROR", "options[0].value")


def test_options_on_a_non_enumeration_are_refused(api: TestClient) -> None:
    r = api.post(DEFS, json=egg(prop("p", options=[{"label": "A", "value": "a"}])))
    expect_error(r, 400, "VALIDATION_ERROR", "propertyDefinitions[0].options")
    ok(api, egg(prop("p"), name="e"))
    r = api.patch(f"{DEFS}/e/property/p", json={"options": [{"label": "A", "value": "a"}]})
    expect_error(r, 400, "VALIDATION_ERROR", "options")


# --- duplicate names -------------------------------------------------------------------


@pytest.mark.parametrize("second", ["color", "Color", "COLOR"])
def test_names_equal_after_lowercasing_are_duplicates(api: TestClient, second: str) -> None:
    r = api.post(DEFS, json=egg(prop("color"), {"name": second, "label": "C", "type": "string"}))
    expect_error(r, 400, "VALIDATION_ERROR", "propertyDefinitions[1].name")
    ok(api, egg(prop("color"), prop("colour")))


def test_a_custom_property_may_not_take_a_default_name(api: TestClient) -> None:
    r = api.post(DEFS, json=egg(prop("hs_page_url")))
    expect_error(r, 400, "VALIDATION_ERROR", "propertyDefinitions[0].name")
    # Without the defaults the name is free (occur's choice; HubSpot is silent).
    created = ok(api, egg(prop("hs_page_url"), includeDefaultProperties=False))
    assert created["properties"][0]["hubspotDefined"] is False


def test_adding_a_property_the_event_has_is_a_409(api: TestClient) -> None:
    ok(api, egg(prop("color"), name="e"))
    for taken in ("color", "hs_browser"):
        r = api.post(f"{DEFS}/e/property", json=prop(taken))
        expect_error(r, 409, "CONFLICT", "name")
    # Together with other problems it is one 400 listing them all.
    r = api.post(f"{DEFS}/e/property", json={"name": "color", "label": "", "type": "nope"})
    body = expect_error(r, 400, "VALIDATION_ERROR")
    assert {e["in"] for e in body["errors"]} == {"name", "label", "type"}


def test_an_explicit_taken_event_name_is_409_not_suffixed(api: TestClient) -> None:
    ok(api, egg(name="viewed_car"))
    expect_error(api.post(DEFS, json=egg(name="viewed_car")), 409, "CONFLICT", "name")
    assert api.get(DEFS).json()["total"] == 1


# --- derived names ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "name"),
    [
        ("Viewed Car", "viewed_car"),
        ("  Viewed -- Car!! ", "viewed_car"),
        ("Ça été Ünïcödé", "ca_ete_unicode"),
        ("2024 Sale", "n_2024_sale"),
        ("x" * 60, "x" * 50),
        ("日本語", "event"),
    ],
)
def test_a_name_is_derived_from_the_label(api: TestClient, label: str, name: str) -> None:
    assert ok(api, {"label": label})["name"] == name


def test_derived_names_take_2_then_3(api: TestClient) -> None:
    names = [ok(api, {"label": "Viewed Car"})["name"] for _ in range(3)]
    assert names == ["viewed_car", "viewed_car_2", "viewed_car_3"]
    long = [ok(api, {"label": "y" * 70})["name"] for _ in range(2)]
    assert long == ["y" * 50, "y" * 48 + "_2"]


def test_derived_property_names(api: TestClient) -> None:
    created = ok(
        api,
        egg(
            {"label": "Plan Name", "type": "string"},
            {"label": "plan name", "type": "string"},
            {"label": "HS Browser", "type": "string"},
            {"label": "9 Lives", "type": "number"},
        ),
    )
    custom = [p["name"] for p in created["properties"] if not p["hubspotDefined"]]
    assert custom == ["plan_name", "plan_name_2", "hs_browser_2", "n_9_lives"]


# --- the portal's cap ------------------------------------------------------------------


def test_the_portal_cap_refuses_one_more_and_frees_a_slot_on_delete(
    settings: Settings, db: Database, tenant: Tenant
) -> None:
    capped = replace(settings, max_definitions=3)
    with TestClient(create_app(capped, db), raise_server_exceptions=False) as client:
        client.headers.update(tenant.headers)
        for i in range(3):
            assert client.post(DEFS, json=egg(name=f"e{i}")).status_code == 201
        body = expect_error(client.post(DEFS, json=egg(name="e3")), 400, "VALIDATION_ERROR")
        assert body["subCategory"] == "LIMIT_EXCEEDED"
        assert "3" in body["message"]
        assert client.get(DEFS).json()["total"] == 3
        assert client.delete(f"{DEFS}/e0").status_code == 204
        assert client.post(DEFS, json=egg(name="e3")).status_code == 201


def test_the_cap_is_per_portal(
    settings: Settings, db: Database, tenant: Tenant, other_tenant: Tenant
) -> None:
    capped = replace(settings, max_definitions=1)
    with TestClient(create_app(capped, db), raise_server_exceptions=False) as client:
        assert client.post(DEFS, json=egg(name="e"), headers=tenant.headers).status_code == 201
        r = client.post(DEFS, json=egg(name="f"), headers=tenant.headers)
        expect_error(r, 400, "VALIDATION_ERROR")
        r = client.post(DEFS, json=egg(name="e"), headers=other_tenant.headers)
        assert r.status_code == 201


# --- primary object --------------------------------------------------------------------


@pytest.mark.parametrize("primary", ["LEAD", "", "0-9", "CONTACTS_X"])
def test_an_unknown_primary_object_is_400(api: TestClient, primary: str) -> None:
    r = api.post(DEFS, json=egg(primaryObject=primary))
    expect_error(r, 400, "VALIDATION_ERROR", "primaryObject")


def test_primary_object_cannot_be_a_number(api: TestClient) -> None:
    r = api.post(DEFS, json=egg(primaryObject=1))
    expect_error(r, 400, "VALIDATION_ERROR", "primaryObject")
