"""Send and batch send checked against HubSpot's published OpenAPI files.

Every operation of events-send-v3.json and events-send-2026-03.json is called on the
path the file names (and on the `/events/custom/{ver}` alias of the dated one): a body
a client built from the spec could send answers 204 with no body and is stored; an
invalid one answers an error whose body validates against the spec's closed `Error`
(tests/support/contract.py). The `shared_dir` fixture skips, or fails under
OCCUR_REQUIRE_ALL_TESTS=1, when ../shared is absent.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx2
import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from occur.app import create_app
from occur.config import Settings
from occur.services import access
from occur.store.db import Database
from occur.store.schema import events
from tests.api.test_crm_objects import create
from tests.conftest import Tenant
from tests.support.contract import Contract

SPEC_FILES = {"v3": "events-send-v3.json", "2026-03": "events-send-2026-03.json"}
# (spec file, the prefix its paths use, a prefix that serves them too)
SERVED = [
    ("v3", "/events/v3", "/events/v3"),
    ("2026-03", "/events/2026-03", "/events/2026-03"),
    ("2026-03", "/events/2026-03", "/events/custom/2026-03"),
]
PLAN = {
    "label": "Plan",
    "name": "plan",
    "type": "enumeration",
    "options": [{"label": "Pro", "value": "pro"}, {"label": "Free", "value": "free"}],
}


def _load(shared_dir: Path, version: str) -> Contract:
    path = shared_dir / "spec" / "hubspot" / SPEC_FILES[version]
    assert path.is_file(), f"{path} is missing from ../shared"
    return Contract.load(path)


@pytest.fixture(params=sorted(SPEC_FILES))
def contract(request: pytest.FixtureRequest, shared_dir: Path) -> Contract:
    return _load(shared_dir, request.param)


@pytest.fixture
def event_name(api: TestClient) -> str:
    r = api.post(
        "/events/v3/event-definitions",
        json={"label": "Watched demo", "name": "watched_demo", "propertyDefinitions": [PLAN]},
    )
    assert r.status_code == 201, r.text
    return str(r.json()["fullyQualifiedName"])


@pytest.fixture
def contact(api: TestClient) -> str:
    return str(create(api, "contacts", email="ada@example.com")["id"])


def _stored(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(events)).scalar_one())


def _completion(event_name: str, contact: str) -> dict[str, Any]:
    """Every field the spec declares, each as the spec types it (values as strings)."""
    return {
        "eventName": event_name,
        "objectId": contact,
        "email": "ada@example.com",
        "utk": "visitor-token",
        "uuid": str(uuid.uuid4()),
        "occurredAt": "2026-01-20T21:14:16.512Z",
        "properties": {"plan": "pro", "hs_page_url": "https://example.com/pricing"},
    }


def _valid(path: str, event_name: str, contact: str) -> dict[str, Any]:
    if path.endswith("/batch"):
        return {"inputs": [_completion(event_name, contact) for _ in range(3)]}
    return _completion(event_name, contact)


def _invalid(path: str, event_name: str, contact: str) -> dict[str, Any]:
    bad = {**_completion(event_name, contact), "properties": {"plan": "gold"}}
    if path.endswith("/batch"):
        return {"inputs": [_completion(event_name, contact), bad]}
    return bad


@pytest.mark.parametrize(("version", "spec_prefix", "served"), SERVED)
def test_every_operation_answers_as_its_spec_says(
    api: TestClient,
    db: Database,
    shared_dir: Path,
    event_name: str,
    contact: str,
    version: str,
    spec_prefix: str,
    served: str,
) -> None:
    contract = _load(shared_dir, version)
    called = set()
    for method, path in sorted(contract.operations()):
        assert path.startswith(spec_prefix), path
        url = served + path.removeprefix(spec_prefix)
        body = _valid(path, event_name, contact)
        contract.check_request(method, path, body)
        before = _stored(db)
        r = api.request(method, url, json=body)
        contract.check_response(method, path, r)
        assert _stored(db) == before + (3 if path.endswith("/batch") else 1)
        invalid = _invalid(path, event_name, contact)
        contract.check_request(method, path, invalid)
        r = api.request(method, url, json=invalid)
        assert r.status_code == 400, r.text
        contract.check_error(r)
        assert _stored(db) == before + (3 if path.endswith("/batch") else 1)
        called.add((method, path))
    assert called == {("POST", f"{spec_prefix}/send"), ("POST", f"{spec_prefix}/send/batch")}


def _errors(
    client: TestClient, tenant: Tenant, db: Database, base: str, event_name: str, contact: str
) -> list[tuple[int, httpx2.Response]]:
    auth = tenant.headers
    good = _completion(event_name, contact)
    narrow = access.create_token(db, tenant.portal_id, ["crm.objects.contacts.read"])
    unknown_record = {**good, "objectId": "987654321"}
    several = {"inputs": [{**good, "eventName": 5}, {**good, "occurredAt": "soon"}, "x"]}
    return [
        (401, client.post(f"{base}/send", json=good)),
        (401, client.post(f"{base}/send/batch", json={"inputs": [good]},
                          headers={"Authorization": "Bearer nope"})),
        (403, client.post(f"{base}/send", json=good,
                          headers={"Authorization": f"Bearer {narrow.secret}"})),
        (400, client.post(f"{base}/send", content=b"{", headers=auth)),
        (400, client.post(f"{base}/send", json=[good], headers=auth)),
        (400, client.post(f"{base}/send", json={**good, "eventName": "nope"}, headers=auth)),
        (400, client.post(f"{base}/send", json=unknown_record, headers=auth)),
        (400, client.post(f"{base}/send/batch", json={"inputs": []}, headers=auth)),
        (400, client.post(f"{base}/send/batch", json={"inputs": [good] * 501}, headers=auth)),
        (400, client.post(f"{base}/send/batch", json=several, headers=auth)),
        (413, client.post(f"{base}/send", content=b" " * (1024 * 1024 + 1), headers=auth)),
        (413, client.post(f"{base}/send/batch", content=b" " * (16 * 1024 * 1024 + 1),
                          headers=auth)),
        (405, client.get(f"{base}/send", headers=auth)),
    ]  # fmt: skip


def test_error_bodies_validate_against_error(
    client: TestClient,
    db: Database,
    tenant: Tenant,
    contract: Contract,
    event_name: str,
    contact: str,
) -> None:
    (base,) = [p.removesuffix("/send") for p in contract.spec["paths"] if p.endswith("/send")]
    client.headers.pop("Authorization", None)  # `api` set it; each call says its own
    before = _stored(db)
    answers = _errors(client, tenant, db, base, event_name, contact)
    for expected, r in answers:
        assert r.status_code == expected, r.text
        contract.check_error(r)
        if expected == 400:
            assert r.json()["errors"], r.text
            assert all("in" in e and "code" in e for e in r.json()["errors"]), r.text
    assert _stored(db) == before


def test_rate_limited_answer_validates(
    settings: Settings,
    db: Database,
    tenant: Tenant,
    contract: Contract,
    event_name: str,
    contact: str,
) -> None:
    limited = replace(settings, send_rate_per_second=1)
    with TestClient(create_app(limited, db), raise_server_exceptions=False) as client:
        client.headers.update(tenant.headers)
        body = _completion(event_name, contact)
        answers = [client.post("/events/v3/send", json={**body, "uuid": f"u{i}"}) for i in range(5)]
    refused = [r for r in answers if r.status_code == 429]
    assert refused, [r.status_code for r in answers]
    for r in refused:
        contract.check_error(r)
        assert r.json()["category"] == "RATE_LIMITS"
        assert int(r.headers["Retry-After"]) >= 1
    assert _stored(db) == len(answers) - len(refused)
