"""uuid dedup: a completion's uuid is unique per event type; a repeat is answered 204 and
not stored again, so a client may retry safely (DESIGN §3b)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from occur.app import create_app
from occur.config import Settings
from occur.store.db import Database, open_database
from tests.api.test_crm_objects import create
from tests.conftest import Tenant
from tests.support.events import define, send, send_batch, stored_events


@pytest.fixture
def names(api: TestClient, tenant: Tenant) -> tuple[str, str]:
    for short in ("opened", "clicked"):
        number = {"label": "N", "name": "n", "type": "number"}
        define(api, {"label": short.title(), "name": short, "propertyDefinitions": [number]})
    return f"pe{tenant.portal_id}_opened", f"pe{tenant.portal_id}_clicked"


@pytest.fixture
def contact(api: TestClient) -> str:
    return str(create(api, "contacts", email="ada@example.com")["id"])


def completion(name: str, contact: str, uuid: str, n: int) -> dict[str, Any]:
    return {"eventName": name, "objectId": contact, "uuid": uuid, "properties": {"n": n}}


def test_a_repeated_uuid_is_accepted_and_not_stored_again(
    api: TestClient, db: Database, names: tuple[str, str], contact: str
) -> None:
    opened, _ = names
    send(api, completion(opened, contact, "order-1", 1))
    send(api, completion(opened, contact, "order-1", 2))
    send_batch(api, [completion(opened, contact, "order-1", 3)])
    [event] = stored_events(db)
    assert (event.uuid, event.properties) == ("order-1", {"n": "1"})  # the first one wins


def test_within_one_batch_the_first_of_a_uuid_wins(
    api: TestClient, db: Database, names: tuple[str, str], contact: str
) -> None:
    opened, _ = names
    send_batch(api, [completion(opened, contact, u, n)
                     for n, u in enumerate(["a", "b", "a", "c", "b"])])  # fmt: skip
    assert [(e.uuid, e.properties["n"]) for e in stored_events(db)] == [
        ("a", "0"), ("b", "1"), ("c", "3")]  # fmt: skip


def test_the_same_uuid_on_two_event_types_is_two_occurrences(
    api: TestClient, db: Database, names: tuple[str, str], contact: str
) -> None:
    opened, clicked = names
    send_batch(
        api, [completion(opened, contact, "same", 1), completion(clicked, contact, "same", 2)]
    )
    assert sorted(e.properties["n"] for e in stored_events(db)) == ["1", "2"]


def test_uuids_are_generated_when_absent_and_never_collide(
    api: TestClient, db: Database, names: tuple[str, str], contact: str
) -> None:
    opened, _ = names
    send_batch(api, [{"eventName": opened, "objectId": contact}] * 200)
    uuids = [e.uuid for e in stored_events(db)]
    assert len(uuids) == len(set(uuids)) == 200


def test_a_uuid_is_free_again_only_when_its_event_type_is_deleted(
    api: TestClient, db: Database, names: tuple[str, str], contact: str
) -> None:
    opened, _ = names
    send(api, completion(opened, contact, "kept", 1))
    assert api.delete("/events/v3/event-definitions/clicked").status_code == 204
    send(api, completion(opened, contact, "kept", 2))
    assert [e.properties for e in stored_events(db)] == [{"n": "1"}]


@pytest.fixture
def second_server(settings: Settings, tenant: Tenant) -> Iterator[TestClient]:
    """Another occur process's worth of app (its own writer) on the same store."""
    db = open_database(settings.database_url)
    with TestClient(create_app(settings, db), raise_server_exceptions=False) as other:
        other.headers.update(tenant.headers)
        yield other
    db.dispose()


def test_two_writers_racing_on_the_same_uuids_store_each_once(
    api: TestClient,
    db: Database,
    names: tuple[str, str],
    contact: str,
    second_server: TestClient,
) -> None:
    """On PostgreSQL both writers pass the dedup check before either commits; the loser's
    insert hits the unique index, and it stores its group again request by request."""
    opened, _ = names
    statuses: list[int] = []
    lock = threading.Lock()

    def push(client: TestClient, round_: int) -> None:
        inputs = [completion(opened, contact, f"r{round_}-{i}", i) for i in range(50)]
        # a fresh email each round: the loser's savepoint must drop its contact too
        inputs.append({"eventName": opened, "email": f"new{round_}@example.com",
                       "uuid": f"r{round_}-email"})  # fmt: skip
        r = client.post("/events/v3/send/batch", json={"inputs": inputs})
        with lock:
            statuses.append(r.status_code)

    for round_ in range(8):
        barrier = threading.Barrier(2)

        def run(
            client: TestClient, round_: int = round_, barrier: threading.Barrier = barrier
        ) -> None:
            barrier.wait()
            push(client, round_)

        threads = [threading.Thread(target=run, args=(c,)) for c in (api, second_server)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert set(statuses) <= {204, 503}, statuses
    assert statuses.count(204) >= 8  # at least one of each pair stored its batch
    uuids = [e.uuid for e in stored_events(db)]
    assert len(uuids) == len(set(uuids)) == 8 * 51
    emails = [
        c["properties"]["email"]
        for c in api.get("/crm/v3/objects/contacts?limit=100").json()["results"]
    ]
    assert sorted(emails) == sorted(["ada@example.com", *(f"new{r}@example.com" for r in range(8))])
