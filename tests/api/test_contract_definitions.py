"""Our event-definition responses checked against HubSpot's published OpenAPI files.

The spec files live in ../shared/spec/hubspot (the `shared_dir` fixture skips, or fails
under OCCUR_REQUIRE_ALL_TESTS=1, when they are absent). Every operation a file lists
under event-definitions is called on the path it names; the status must be the one the
spec documents and the body must validate against the schema the spec gives for it,
closed and with formats checked (see tests/support/contract.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx2
import pytest
from starlette.testclient import TestClient

from occur.app import create_app
from occur.config import Settings
from occur.services import access
from occur.store.db import Database
from tests.conftest import Tenant
from tests.support.contract import Contract, validate

SPEC_FILES = {
    "v3": "events-definitions-v3.json",
    "2026-03": "events-definitions-2026-03.json",
}
# The served prefix for each spec file, and what it is checked against.
ALIASES = [
    ("v3", "/events/v3/event-definitions"),
    ("2026-03", "/events/2026-03/event-definitions"),
    ("2026-03", "/events/custom/2026-03/event-definitions"),
    ("2026-03", "/events/custom/2026-03/event-definitions/"),
]
# Only these: the spec files also list /send/batch, which occur does not serve yet.
DEFINITIONS = "/event-definitions"


def _base(contract: Contract) -> str:
    """The spec's path for the collection, e.g. /events/v3/event-definitions."""
    paths: list[str] = [p for p in contract.spec["paths"] if p.endswith(DEFINITIONS)]
    (base,) = paths
    return base


def _spec_path(contract: Contract, tail: str) -> str:
    """The spec's path for a served tail such as /viewed_car/property/condition."""
    return _base(contract) + tail.replace("viewed_car", "{eventName}").replace(
        "/property/condition", "/property/{propertyName}"
    )


@pytest.fixture(params=sorted(SPEC_FILES))
def contract(request: pytest.FixtureRequest, shared_dir: Path) -> Contract:
    path = shared_dir / "spec" / "hubspot" / SPEC_FILES[request.param]
    assert path.is_file(), f"{path} is missing from ../shared"
    return Contract.load(path)


def _contracts(shared_dir: Path) -> dict[str, Contract]:
    return {k: Contract.load(shared_dir / "spec" / "hubspot" / f) for k, f in SPEC_FILES.items()}


OPTION = {"label": "New", "value": "new", "displayOrder": 0, "hidden": False}
EGG: dict[str, Any] = {
    "label": "Viewed Car",
    "name": "viewed_car",
    "description": "Looked at a car.",
    "primaryObject": "CONTACT",
    "includeDefaultProperties": True,
    "propertyDefinitions": [
        {"name": "condition", "label": "Condition", "type": "enumeration", "options": [OPTION]},
        {"name": "vin", "label": "VIN", "type": "string", "description": "Vehicle id."},
        {"name": "price", "label": "Price", "type": "number"},
        {"name": "seen_at", "label": "Seen at", "type": "datetime"},
        {"name": "built_on", "label": "Built on", "type": "date"},
        {"name": "electric", "label": "Electric", "type": "bool"},
    ],
    "customMatchingId": {
        "primaryObjectRule": {"eventPropertyName": "vin", "targetObjectPropertyName": "email"}
    },
}


def _walk(
    client: TestClient, contract: Contract, served: str
) -> Iterator[tuple[str, str, httpx2.Response]]:
    """Call every definitions operation once on `served`; yield (method, spec path, answer)."""
    slash = "/" if served.endswith("/") else ""
    root = served.rstrip("/")

    def call(method: str, tail: str, body: Any = None, **params: Any) -> httpx2.Response:
        path = _spec_path(contract, tail)
        if body is not None:
            contract.check_request(method, path, body)
        r = client.request(method, root + tail + slash, json=body, params=params or None)
        contract.check_response(method, path, r)
        return r

    yield "POST", "", call("POST", "", EGG)
    other = {k: v for k, v in EGG.items() if k != "customMatchingId"}
    other |= {"name": "rented_car", "label": "Rented Car"}
    yield "POST", "", call("POST", "", other)
    yield "GET", "", call("GET", "", includeProperties="true", limit=1)
    yield "GET", "", call("GET", "", searchString="car")
    yield "GET", "/viewed_car", call("GET", "/viewed_car")
    patch: dict[str, Any] = {"label": "Viewed A Car", "description": "Changed."}
    if "propertyOrder" in contract.spec["components"]["schemas"][
        "ExternalBehavioralEventTypeDefinitionPatch"
    ].get("required", []):
        patch["propertyOrder"] = []
    yield "PATCH", "/viewed_car", call("PATCH", "/viewed_car", patch)
    new_prop = {"name": "trim", "label": "Trim", "type": "enumeration", "options": [OPTION]}
    yield "POST", "/viewed_car/property", call("POST", "/viewed_car/property", new_prop)
    options = [OPTION, {**OPTION, "label": "Used", "value": "used", "displayOrder": 1}]
    change = {"label": "State", "description": "Wear.", "options": options}
    yield (
        "PATCH",
        "/viewed_car/property/condition",
        call("PATCH", "/viewed_car/property/condition", change),
    )
    yield (
        "DELETE",
        "/viewed_car/property/condition",
        call("DELETE", "/viewed_car/property/condition"),
    )
    yield "DELETE", "/viewed_car", call("DELETE", "/viewed_car")


@pytest.mark.parametrize(("version", "served"), ALIASES)
def test_every_operation_answers_as_its_spec_says(
    api: TestClient, shared_dir: Path, version: str, served: str
) -> None:
    contract = _contracts(shared_dir)[version]
    called = set()
    for method, tail, _answer in _walk(api, contract, served):
        called.add((method, _spec_path(contract, tail)))
    assert called == contract.operations(under=DEFINITIONS)


def test_created_definition_has_the_shape_and_values_hubspot_documents(
    api: TestClient, contract: Contract, tenant: Tenant
) -> None:
    base = _base(contract)
    r = api.post(base, json=EGG)
    contract.check_response("POST", base, r)
    d = r.json()
    assert d["fullyQualifiedName"] == f"pe{tenant.portal_id}_viewed_car"
    assert d["objectTypeId"] == f"6-{d['id']}"
    assert d["customMatchingId"] == EGG["customMatchingId"]
    types = {p["name"]: (p["type"], p["fieldType"]) for p in d["properties"]}
    assert types["seen_at"] == ("datetime", "date")
    assert types["electric"] == ("bool", "radio")
    validator = contract.schema("Property")
    for p in d["properties"]:
        validate(validator, p, p["name"])


@pytest.mark.parametrize("primary", ["CONTACT", "COMPANY", "DEAL", "TICKET"])
def test_each_primary_object_validates(api: TestClient, contract: Contract, primary: str) -> None:
    body = {
        "label": "E",
        "primaryObject": primary,
        "includeDefaultProperties": False,
        "propertyDefinitions": [],
    }
    base = _base(contract)
    contract.check_request("POST", base, body)
    r = api.post(base, json=body)
    contract.check_response("POST", base, r)
    assert r.json()["properties"] == []


def test_list_pages_validate(api: TestClient, contract: Contract) -> None:
    base = _base(contract)
    empty = api.get(base)
    contract.check_response("GET", base, empty)
    for i in range(3):
        api.post(
            base,
            json={"label": f"E{i}", "propertyDefinitions": [], "includeDefaultProperties": True},
        )
    first = api.get(base, params={"limit": 2, "includeProperties": "true"})
    contract.check_response("GET", base, first)
    after = first.json()["paging"]["next"]["after"]
    last = api.get(base, params={"limit": 2, "after": after})
    contract.check_response("GET", base, last)
    assert "paging" not in last.json()


def _error_responses(
    client: TestClient, base: str, tenant: Tenant, db: Database
) -> Iterator[tuple[str, httpx2.Response]]:
    auth = tenant.headers
    client.post(base, json={"label": "E", "name": "e"}, headers=auth)
    yield "401", client.get(base)
    yield "401 bad", client.get(base, headers={"Authorization": "Bearer nope"})
    narrow = access.create_token(db, tenant.portal_id, ["crm.objects.contacts.read"])
    yield "403", client.get(base, headers={"Authorization": f"Bearer {narrow.secret}"})
    yield "404", client.get(f"{base}/nope", headers=auth)
    yield "404 property", client.delete(f"{base}/e/property/nope", headers=auth)
    yield "409", client.post(base, json={"label": "E", "name": "e"}, headers=auth)
    yield (
        "409 property",
        client.post(
            f"{base}/e/property",
            json={"name": "hs_browser", "label": "B", "type": "string"},
            headers=auth,
        ),
    )
    yield (
        "400 many",
        client.post(
            base,
            json={"label": 1, "propertyDefinitions": [{"name": "X", "type": "nope"}]},
            headers=auth,
        ),
    )
    yield "400 json", client.post(base, content=b"{", headers=auth)
    yield "400 query", client.get(base, params={"limit": "0"}, headers=auth)
    yield "413", client.post(base, content=b" " * (1024 * 1024 + 1), headers=auth)
    yield "405", client.put(f"{base}/e", json={}, headers=auth)


def test_error_bodies_validate_against_error(
    client: TestClient, contract: Contract, tenant: Tenant, db: Database
) -> None:
    seen = set()
    for label, r in _error_responses(client, _base(contract), tenant, db):
        assert r.status_code == int(label[:3]), (label, r.text)
        contract.check_error(r)
        seen.add(r.status_code)
        body = r.json()
        if r.status_code in (400, 409):
            assert all("in" in e and "code" in e for e in body["errors"]), label
    assert seen == {400, 401, 403, 404, 405, 409, 413}


def test_capped_portal_error_validates(
    settings: Settings, db: Database, tenant: Tenant, contract: Contract
) -> None:
    with TestClient(create_app(replace(settings, max_definitions=1), db)) as client:
        client.headers.update(tenant.headers)
        base = _base(contract)
        assert client.post(base, json={"label": "A"}).status_code == 201
        r = client.post(base, json={"label": "B"})
        assert r.status_code == 400
        contract.check_error(r)


def test_the_strict_check_can_fail(contract: Contract) -> None:
    """Guard the guard: the closed schemas refuse an undeclared or mistyped field."""
    validator = contract.schema("ExternalBehavioralEventTypeDefinition")
    good = {
        "id": "1",
        "name": "e",
        "fullyQualifiedName": "pe1_e",
        "labels": {"singular": "E"},
        "objectTypeId": "6-1",
        "properties": [],
        "associations": [],
        "archived": False,
        "createdAt": "2026-03-01T00:00:00.000Z",
    }
    assert not list(validator.iter_errors(good))
    assert list(validator.iter_errors({**good, "fullyQualifedName": "typo"}))
    assert list(validator.iter_errors({**good, "createdAt": "yesterday"}))
    assert list(validator.iter_errors({**good, "archived": "false"}))
    error = contract.schema("Error")
    assert list(error.iter_errors({"message": "m", "category": "C", "correlationId": "not-a-uuid"}))
