"""Our occurrence-read responses checked against HubSpot's published OpenAPI files.

Both spec files (`events-read-v3.json`, `events-read-2026-03.json`) are walked: every
operation each lists is called on the path it names, with results, with both paging
links and with none, and every answer must validate against the closed schema the spec
gives for it (see tests/support/contract.py). Error answers validate against `Error`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx2
import pytest
from starlette.testclient import TestClient

from occur.services import access
from occur.store.db import Database
from tests.api.test_events_read import MINUTE, T0, Seed
from tests.conftest import Tenant
from tests.support.contract import Contract

SPEC_FILES = {"v3": "events-read-v3.json", "2026-03": "events-read-2026-03.json"}
TYPES_TAIL = "/event-types"


@pytest.fixture(params=sorted(SPEC_FILES))
def contract(request: pytest.FixtureRequest, shared_dir: Path) -> Contract:
    path = shared_dir / "spec" / "hubspot" / SPEC_FILES[request.param]
    assert path.is_file(), f"{path} is missing from ../shared"
    return Contract.load(path)


def _paths(contract: Contract) -> tuple[str, str]:
    """The spec's (occurrences, event types) paths."""
    ops = contract.operations()
    (types,) = [p for m, p in ops if p.endswith(TYPES_TAIL)]
    (occurrences,) = [p for m, p in ops if not p.endswith(TYPES_TAIL)]
    assert ops == {("GET", occurrences), ("GET", types)}
    return occurrences, types


@pytest.fixture
def seed(client: TestClient, db: Database, tenant: Tenant) -> Seed:
    return Seed(client, db, tenant)


def test_every_operation_answers_as_its_spec_says(
    api: TestClient, contract: Contract, seed: Seed
) -> None:
    occurrences, types = _paths(contract)
    empty = api.get(types)
    contract.check_response("GET", types, empty)
    assert empty.json() == {"eventTypes": []}

    d = seed.definition("viewed", {"plan": "string", "price": "number", "paid": "bool"})
    ada = seed.contact("ada@example.com")
    made = seed.events(
        d, ada, [T0 + i * MINUTE for i in range(5)], {"plan": "pro", "price": "9.5", "paid": "true"}
    )
    listed = api.get(types)
    contract.check_response("GET", types, listed)
    assert listed.json() == {"eventTypes": [seed.fqn("viewed")]}

    def get(**params: Any) -> httpx2.Response:
        r = api.get(occurrences, params=params)
        contract.check_response("GET", occurrences, r)
        return r

    nothing = get(eventType=seed.fqn("nope"))
    assert nothing.json() == {"results": []}
    first = get(eventType=seed.fqn("viewed"), limit=2).json()
    assert set(first["paging"]) == {"next"}
    middle = get(eventType=seed.fqn("viewed"), limit=2, after=first["paging"]["next"]["after"])
    assert set(middle.json()["paging"]) == {"next", "prev"}
    back = get(eventType=seed.fqn("viewed"), limit=2, before=first["paging"]["next"]["after"])
    assert [e["id"] for e in back.json()["results"]] == [made[4]]
    assert set(back.json()["paging"]) == {"next"}
    by_record = get(objectType="CONTACT", objectId=ada, sort="ASCENDING", limit=100).json()
    assert [e["id"] for e in by_record["results"]] == made
    one = by_record["results"][0]
    assert one["properties"] == {"plan": "pro", "price": "9.5", "paid": "true"}
    assert one["objectId"] == str(ada)
    filtered = get(
        **{
            "objectType": "contact",
            "objectProperty.email": "ada@example.com",
            "eventType": seed.fqn("viewed"),
            "property.price": "9.50",
            "occurredAfter": "2026-01-01T00:01:00.000Z",
            "occurredBefore": str(T0 + 3 * MINUTE),
            "id": made[1],
        }
    )
    assert [e["id"] for e in filtered.json()["results"]] == [made[1]]


@pytest.mark.parametrize("served", ["/events/v3/events/", "/events/event-occurrences/2026-03/"])
def test_trailing_slash_paths_answer_the_same_shape(
    api: TestClient, contract: Contract, seed: Seed, served: str
) -> None:
    occurrences, types = _paths(contract)
    seed.events(seed.definition("viewed"), seed.contact("a@example.com"), [T0, T0 + 1])
    r = api.get(served, params={"eventType": seed.fqn("viewed"), "limit": 1})
    contract.check_response("GET", occurrences, r)
    assert len(r.json()["results"]) == 1
    contract.check_response("GET", types, api.get(served + TYPES_TAIL.lstrip("/")))


def test_error_bodies_validate_against_error(
    client: TestClient, contract: Contract, tenant: Tenant, db: Database
) -> None:
    occurrences, types = _paths(contract)
    narrow = access.create_token(db, tenant.portal_id, ["crm.objects.contacts.read"])
    answers = {
        "401": client.get(occurrences, params={"eventType": "pe1_x"}),
        "401 types": client.get(types),
        "403": client.get(
            occurrences,
            params={"eventType": "pe1_x"},
            headers={"Authorization": f"Bearer {narrow.secret}"},
        ),
        "400 nothing named": client.get(occurrences, headers=tenant.headers),
        "400 many": client.get(
            occurrences,
            params={"objectId": "x", "limit": "0", "after": "bad", "sort": "sideways"},
            headers=tenant.headers,
        ),
        "405": client.post(occurrences, json={}, headers=tenant.headers),
    }
    for label, r in answers.items():
        assert r.status_code == int(label[:3]), (label, r.text)
        contract.check_error(r)
        if r.status_code == 400:
            assert all("in" in e and "code" in e for e in r.json()["errors"]), label


def test_the_strict_check_can_fail(contract: Contract) -> None:
    """Guard the guard: the closed schemas refuse what occur must never send."""
    validator = contract.schema("ExternalUnifiedEvent")
    good = {
        "objectType": "CONTACT",
        "objectId": "1",
        "eventType": "pe1_viewed",
        "occurredAt": "2026-01-01T00:00:00.000Z",
        "id": "5e2e5d3a-6d65-4a41-9d6b-6d6f1a0b0c0d",
        "properties": {"plan": "pro"},
    }
    assert not list(validator.iter_errors(good))
    assert list(validator.iter_errors({**good, "objectId": 1}))
    assert list(validator.iter_errors({**good, "properties": {"seats": 3}}))
    assert list(validator.iter_errors({**good, "occurredAt": "1767225600000"}))
    assert list(validator.iter_errors({**good, "uuid": good["id"]}))
    paging = contract.schema("Paging")
    assert list(paging.iter_errors({"next": {"link": "x"}}))
