"""Concurrent requests against the rules that need a look before a write.

On PostgreSQL two transactions can both check a rule (name free, under 50 properties,
under the portal cap) before either inserts; the definitions service locks the row those
rules are about. On SQLite writers already queue. These tests release several requests
at once through a barrier and check that every rule still held.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import httpx2
from starlette.testclient import TestClient

from occur.app import create_app
from occur.config import Settings
from occur.store.db import Database
from tests.api.test_definitions import DEFS
from tests.conftest import Tenant
from tests.support.http import at_once

WORKERS = 8


def statuses(answers: list[httpx2.Response]) -> list[int]:
    return sorted(a.status_code for a in answers)


def custom_names(api: TestClient, name: str) -> list[str]:
    props: list[dict[str, Any]] = api.get(f"{DEFS}/{name}").json()["properties"]
    return [p["name"] for p in props if not p["hubspotDefined"]]


def test_one_property_name_added_at_once_is_added_once(api: TestClient) -> None:
    assert api.post(DEFS, json={"label": "E", "name": "e"}).status_code == 201
    prop = {"name": "plan", "label": "Plan", "type": "string"}
    answers = at_once(WORKERS, lambda _i: api.post(f"{DEFS}/e/property", json=prop))
    assert statuses(answers) == [201] + [409] * (WORKERS - 1), [a.text for a in answers]
    assert all(a.json()["category"] == "CONFLICT" for a in answers if a.status_code == 409)
    assert custom_names(api, "e") == ["plan"]


def test_properties_added_at_once_stop_at_fifty(api: TestClient) -> None:
    forty_eight = [{"name": f"p{i}", "label": "P", "type": "string"} for i in range(48)]
    body = {"label": "E", "name": "e", "propertyDefinitions": forty_eight}
    assert api.post(DEFS, json=body).status_code == 201
    answers = at_once(
        WORKERS,
        lambda i: api.post(
            f"{DEFS}/e/property", json={"name": f"q{i}", "label": "Q", "type": "bool"}
        ),
    )
    assert statuses(answers) == [201, 201] + [400] * (WORKERS - 2), [a.text for a in answers]
    assert len(custom_names(api, "e")) == 50


def test_creates_from_one_label_at_once_each_get_a_name(api: TestClient) -> None:
    answers = at_once(WORKERS, lambda _i: api.post(DEFS, json={"label": "Same Label"}))
    assert statuses(answers) == [201] * WORKERS, [a.text for a in answers]
    names = sorted(a.json()["name"] for a in answers)
    assert names == sorted(["same_label"] + [f"same_label_{n}" for n in range(2, WORKERS + 1)])


def test_one_explicit_name_created_at_once_exists_once(api: TestClient) -> None:
    answers = at_once(WORKERS, lambda _i: api.post(DEFS, json={"label": "E", "name": "e"}))
    assert statuses(answers) == [201] + [409] * (WORKERS - 1), [a.text for a in answers]
    assert api.get(DEFS).json()["total"] == 1


def test_creates_at_once_stop_at_the_portal_cap(
    settings: Settings, db: Database, tenant: Tenant
) -> None:
    capped = replace(settings, max_definitions=3)
    with TestClient(create_app(capped, db), raise_server_exceptions=False) as client:
        client.headers.update(tenant.headers)
        answers = at_once(
            WORKERS, lambda i: client.post(DEFS, json={"label": "E", "name": f"e{i}"})
        )
        assert statuses(answers) == [201] * 3 + [400] * (WORKERS - 3), [a.text for a in answers]
        assert client.get(DEFS).json()["total"] == 3
