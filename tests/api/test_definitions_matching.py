"""customMatchingId: an event property that finds the record by one of its unique properties."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.api.test_definitions import DEFS
from tests.support.http import expect_error

RULE = "customMatchingId.primaryObjectRule"


def matching(event_property: Any, target: Any) -> dict[str, Any]:
    return {
        "primaryObjectRule": {
            "eventPropertyName": event_property,
            "targetObjectPropertyName": target,
        }
    }


def egg(**fields: Any) -> dict[str, Any]:
    return {
        "label": "Signed Up",
        "name": "signed_up",
        "propertyDefinitions": [
            {"name": "user_email", "label": "User email", "type": "string"},
            {"name": "account_id", "label": "Account", "type": "number"},
        ],
        **fields,
    }


@pytest.mark.parametrize(
    ("event_property", "target"), [("user_email", "email"), ("account_id", "hs_object_id")]
)
def test_a_rule_on_a_contact_is_kept_and_returned(
    api: TestClient, event_property: str, target: str
) -> None:
    rule = matching(event_property, target)
    r = api.post(DEFS, json=egg(customMatchingId=rule))
    assert r.status_code == 201, r.text
    assert r.json()["customMatchingId"] == rule
    assert api.get(f"{DEFS}/signed_up").json()["customMatchingId"] == rule
    listed = api.get(DEFS).json()["results"][0]
    assert listed["customMatchingId"] == rule
    patched = api.patch(f"{DEFS}/signed_up", json={"label": "Joined"}).json()
    assert patched["customMatchingId"] == rule


def test_a_default_property_may_be_the_event_property(api: TestClient) -> None:
    r = api.post(DEFS, json=egg(customMatchingId=matching("hs_page_id", "hs_object_id")))
    assert r.status_code == 201
    without_defaults = egg(
        name="other",
        includeDefaultProperties=False,
        customMatchingId=matching("hs_page_id", "hs_object_id"),
    )
    expect_error(
        api.post(DEFS, json=without_defaults), 400, "VALIDATION_ERROR", f"{RULE}.eventPropertyName"
    )


def test_the_event_property_must_exist_on_the_definition(api: TestClient) -> None:
    r = api.post(DEFS, json=egg(customMatchingId=matching("nope", "email")))
    body = expect_error(r, 400, "VALIDATION_ERROR", f"{RULE}.eventPropertyName")
    assert [e["in"] for e in body["errors"]] == [f"{RULE}.eventPropertyName"]
    assert api.get(f"{DEFS}/signed_up").status_code == 404


@pytest.mark.parametrize("target", ["firstname", "lastname", "phone", "nope", "EMAIL "])
def test_the_target_must_be_unique_on_contacts(api: TestClient, target: str) -> None:
    r = api.post(DEFS, json=egg(customMatchingId=matching("user_email", target)))
    expect_error(r, 400, "VALIDATION_ERROR", f"{RULE}.targetObjectPropertyName")


@pytest.mark.parametrize(
    ("primary", "bad", "good"),
    [
        ("COMPANY", "email", "hs_object_id"),
        ("DEAL", "dealname", "hs_object_id"),
        ("TICKET", "subject", "hs_object_id"),
    ],
)
def test_the_target_must_be_unique_on_the_primary_object(
    api: TestClient, primary: str, bad: str, good: str
) -> None:
    r = api.post(
        DEFS, json=egg(primaryObject=primary, customMatchingId=matching("account_id", bad))
    )
    expect_error(r, 400, "VALIDATION_ERROR", f"{RULE}.targetObjectPropertyName")
    r = api.post(
        DEFS, json=egg(primaryObject=primary, customMatchingId=matching("account_id", good))
    )
    assert r.status_code == 201
    assert r.json()["customMatchingId"]["primaryObjectRule"]["targetObjectPropertyName"] == good


def test_both_subfields_wrong_are_two_problems(api: TestClient) -> None:
    r = api.post(DEFS, json=egg(customMatchingId=matching("nope", "firstname")))
    body = expect_error(r, 400, "VALIDATION_ERROR")
    assert sorted(e["in"] for e in body["errors"]) == [
        f"{RULE}.eventPropertyName",
        f"{RULE}.targetObjectPropertyName",
    ]


@pytest.mark.parametrize(
    ("value", "where"),
    [
        ("email", "customMatchingId"),
        ([], "customMatchingId"),
        ({}, RULE),
        ({"primaryObjectRule": "email"}, RULE),
        (
            {"primaryObjectRule": {"eventPropertyName": "user_email"}},
            f"{RULE}.targetObjectPropertyName",
        ),
        ({"primaryObjectRule": {"targetObjectPropertyName": "email"}}, f"{RULE}.eventPropertyName"),
        (matching(1, "email"), f"{RULE}.eventPropertyName"),
        (matching("user_email", ["email"]), f"{RULE}.targetObjectPropertyName"),
        (matching("", "email"), f"{RULE}.eventPropertyName"),
    ],
)
def test_a_malformed_rule_names_the_field(api: TestClient, value: Any, where: str) -> None:
    r = api.post(DEFS, json=egg(customMatchingId=value))
    expect_error(r, 400, "VALIDATION_ERROR", where)


def test_the_matched_property_cannot_be_deleted(api: TestClient) -> None:
    api.post(DEFS, json=egg(customMatchingId=matching("user_email", "email")))
    r = api.delete(f"{DEFS}/signed_up/property/user_email")
    expect_error(r, 400, "VALIDATION_ERROR", "propertyName")
    names = [p["name"] for p in api.get(f"{DEFS}/signed_up").json()["properties"]]
    assert "user_email" in names
    # Its neighbour is not protected.
    assert api.delete(f"{DEFS}/signed_up/property/account_id").status_code == 204


def test_a_null_rule_is_no_rule(api: TestClient) -> None:
    r = api.post(DEFS, json=egg(customMatchingId=None))
    assert r.status_code == 201
    assert "customMatchingId" not in r.json()
    assert api.delete(f"{DEFS}/signed_up/property/user_email").status_code == 204
