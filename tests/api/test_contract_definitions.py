"""Our event-definition responses checked against HubSpot's published OpenAPI files.

The spec files live in ../shared/spec/hubspot (the `shared_dir` fixture skips, or fails
under OCCUR_REQUIRE_ALL_TESTS=1, when they are absent). Every operation a file lists
under event-definitions is called on the path it names; the status must be the one the
spec documents and the body must validate against the schema the spec gives for it.

Validation is stricter than the spec in one way: object schemas are closed
(`additionalProperties: false`), so a field we send that HubSpot does not declare, or a
misspelt one, fails. Error bodies may also carry `status: "error"`, which HubSpot's real
responses hold but its schema leaves out. Formats are checked too (date-time, uuid,
int32), which jsonschema skips unless told to.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx2
import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from starlette.testclient import TestClient

from occur.app import create_app
from occur.config import Settings
from occur.services import access
from occur.store.db import Database
from tests.conftest import Tenant

SPEC_URI = "urn:hubspot:event-definitions"
FORMATS = FormatChecker(formats=())


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if "T" not in value:
        raise ValueError(f"{value!r} has no time part")
    return datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None


@FORMATS.checks("uuid", raises=ValueError)
def _uuid(value: object) -> bool:
    return not isinstance(value, str) or bool(uuid.UUID(value))


@FORMATS.checks("int32")
def _int32(value: object) -> bool:
    return not isinstance(value, int) or -(2**31) <= value < 2**31


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def _closed(spec: dict[str, Any]) -> dict[str, Any]:
    """A copy of the spec whose object schemas allow only the properties they declare."""
    strict = copy.deepcopy(spec)
    for schema in strict["components"]["schemas"].values():
        if "properties" in schema and "additionalProperties" not in schema:
            schema["additionalProperties"] = False
    error = strict["components"]["schemas"]["Error"]
    error["properties"]["status"] = {"const": "error"}
    return strict


@dataclass(frozen=True)
class Contract:
    """One spec file: its definitions operations, and validators for what they answer."""

    spec: dict[str, Any]
    base: str  # the spec's path for the collection, e.g. /events/v3/event-definitions
    strict: Registry[Any]
    loose: Registry[Any]

    @classmethod
    def load(cls, path: Path) -> Contract:
        spec = json.loads(path.read_text())
        (base,) = [p for p in spec["paths"] if p.endswith("/event-definitions")]

        def registry(contents: dict[str, Any]) -> Registry[Any]:
            resource = Resource.from_contents(contents, default_specification=DRAFT202012)
            return Registry().with_resource(SPEC_URI, resource)

        return cls(spec, base, registry(_closed(spec)), registry(spec))

    def operations(self) -> set[tuple[str, str]]:
        return {
            (method.upper(), path)
            for path, item in self.spec["paths"].items()
            if "/event-definitions" in path
            for method in item
            if method in {"get", "post", "patch", "delete", "put"}
        }

    def operation(self, method: str, path: str) -> dict[str, Any]:
        found: dict[str, Any] = self.spec["paths"][path][method.lower()]
        return found

    def success_status(self, method: str, path: str) -> int:
        codes = [int(c) for c in self.operation(method, path)["responses"] if c.isdigit()]
        assert len(codes) == 1, codes
        return codes[0]

    def _validator(self, pointer: str, *, strict: bool) -> Draft202012Validator:
        return Draft202012Validator(
            {"$ref": f"{SPEC_URI}#{pointer}"},
            registry=self.strict if strict else self.loose,
            format_checker=FORMATS,
        )

    def check_response(self, method: str, path: str, r: httpx2.Response) -> None:
        status = self.success_status(method, path)
        assert r.status_code == status, f"{method} {path}: {r.status_code} {r.text[:300]}"
        content = self.operation(method, path)["responses"][str(status)].get("content") or {}
        if "application/json" not in content:
            assert r.content == b"", f"{method} {path} answers {status} with a body"
            return
        assert r.headers["content-type"].startswith("application/json")
        pointer = "/" + _pointer(
            "paths",
            path,
            method.lower(),
            "responses",
            str(status),
            "content",
            "application/json",
            "schema",
        )
        _validate(self._validator(pointer, strict=True), r.json(), f"{method} {path}")

    def check_request(self, method: str, path: str, body: Any) -> None:
        """Our test body is one a client built from this spec could send."""
        pointer = "/" + _pointer(
            "paths", path, method.lower(), "requestBody", "content", "application/json", "schema"
        )
        _validate(self._validator(pointer, strict=False), body, f"request {method} {path}")

    def check_error(self, r: httpx2.Response) -> None:
        assert r.status_code >= 400
        _validate(self._validator("/components/schemas/Error", strict=True), r.json(), "error")

    def schema(self, name: str) -> Draft202012Validator:
        return self._validator("/" + _pointer("components", "schemas", name), strict=True)


def _validate(validator: Draft202012Validator, instance: Any, what: str) -> None:
    problems = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    assert not problems, f"{what}: {len(problems)} problems: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:200]}"
        for e in problems[:8]
    )


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
        path = contract.base + tail.replace("viewed_car", "{eventName}").replace(
            "/property/condition", "/property/{propertyName}"
        )
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
        path = contract.base + tail.replace("viewed_car", "{eventName}").replace(
            "/property/condition", "/property/{propertyName}"
        )
        called.add((method, path))
    assert called == contract.operations()


def test_created_definition_has_the_shape_and_values_hubspot_documents(
    api: TestClient, contract: Contract, tenant: Tenant
) -> None:
    r = api.post(contract.base, json=EGG)
    contract.check_response("POST", contract.base, r)
    d = r.json()
    assert d["fullyQualifiedName"] == f"pe{tenant.portal_id}_viewed_car"
    assert d["objectTypeId"] == f"6-{d['id']}"
    assert d["customMatchingId"] == EGG["customMatchingId"]
    types = {p["name"]: (p["type"], p["fieldType"]) for p in d["properties"]}
    assert types["seen_at"] == ("datetime", "date")
    assert types["electric"] == ("bool", "radio")
    validator = contract.schema("Property")
    for p in d["properties"]:
        _validate(validator, p, p["name"])


@pytest.mark.parametrize("primary", ["CONTACT", "COMPANY", "DEAL", "TICKET"])
def test_each_primary_object_validates(api: TestClient, contract: Contract, primary: str) -> None:
    body = {
        "label": "E",
        "primaryObject": primary,
        "includeDefaultProperties": False,
        "propertyDefinitions": [],
    }
    contract.check_request("POST", contract.base, body)
    r = api.post(contract.base, json=body)
    contract.check_response("POST", contract.base, r)
    assert r.json()["properties"] == []


def test_list_pages_validate(api: TestClient, contract: Contract) -> None:
    empty = api.get(contract.base)
    contract.check_response("GET", contract.base, empty)
    for i in range(3):
        api.post(
            contract.base,
            json={"label": f"E{i}", "propertyDefinitions": [], "includeDefaultProperties": True},
        )
    first = api.get(contract.base, params={"limit": 2, "includeProperties": "true"})
    contract.check_response("GET", contract.base, first)
    after = first.json()["paging"]["next"]["after"]
    last = api.get(contract.base, params={"limit": 2, "after": after})
    contract.check_response("GET", contract.base, last)
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
    for label, r in _error_responses(client, contract.base, tenant, db):
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
        assert client.post(contract.base, json={"label": "A"}).status_code == 201
        r = client.post(contract.base, json={"label": "B"})
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
