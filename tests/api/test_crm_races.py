"""Concurrent writes to CRM records: unique emails hold, no update is lost."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.api.test_crm_objects import OBJECTS, create
from tests.support.http import at_once

THREADS = 8


def test_one_of_many_simultaneous_creates_of_an_email_wins(api: TestClient) -> None:
    def post(i: int) -> int:
        body = {"properties": {"email": "Race@example.com", "firstname": str(i)}}
        return api.post(f"{OBJECTS}/contacts", json=body).status_code

    statuses = at_once(THREADS, post)
    assert sorted(statuses) == [201] + [409] * (THREADS - 1)
    assert len(api.get(f"{OBJECTS}/contacts").json()["results"]) == 1


def test_simultaneous_patches_of_different_properties_are_all_kept(api: TestClient) -> None:
    names = ["firstname", "lastname", "phone", "company", "lifecyclestage"]
    created = create(api, "contacts", email="ada@example.com")
    path = f"{OBJECTS}/contacts/{created['id']}"

    def patch(i: int) -> int:
        body = {"properties": {names[i]: f"value-{i}"}}
        return api.patch(path, json=body).status_code

    assert at_once(len(names), patch) == [200] * len(names)
    got = api.get(path, params={"properties": ",".join(names)}).json()["properties"]
    assert {n: got[n] for n in names} == {n: f"value-{i}" for i, n in enumerate(names)}
