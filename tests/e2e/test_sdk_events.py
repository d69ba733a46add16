"""The official hubspot-api-client (v12) sends events to a live occur and reads them back.

v12 has no event-definition API, so definitions are made with raw HTTP. Its read call
sends the `objectProperty.*` and `property.*` filters under a literal `{propname}` key
(DESIGN §6), so those two filters are tested with raw HTTP too.
"""

from __future__ import annotations

import json
import uuid as uuids
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hubspot import HubSpot
from hubspot.crm.contacts import SimplePublicObjectInputForCreate
from hubspot.events.send import (
    ApiException,
    BatchedBehavioralEventHttpCompletionRequest,
    BehavioralEventHttpCompletionRequest,
)

from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e

PLANS = ("free", "pro", "team")
BATCH = 500
# Far enough in the past that nothing else in the portal shares the window.
START = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)


@dataclass(frozen=True)
class Setup:
    event_name: str
    contact_id: str
    email: str


@pytest.fixture
def hubspot(live_server: LiveServer) -> HubSpot:
    return HubSpot(access_token=live_server.token, host=live_server.base_url)


def raw(live_server: LiveServer) -> httpx.Client:
    headers = {"Authorization": f"Bearer {live_server.token}"}
    return httpx.Client(base_url=live_server.base_url, headers=headers, timeout=30)


def define(live_server: LiveServer, properties: list[dict[str, Any]]) -> str:
    """A new contact event definition (raw HTTP: v12 has no definitions API); its
    fullyQualifiedName, the `eventName` send and read use."""
    name = f"sdk_{uuids.uuid4().hex[:12]}"
    body = {"label": f"SDK {name}", "name": name, "propertyDefinitions": properties}
    with raw(live_server) as client:
        r = client.post("/events/v3/event-definitions", json=body)
    assert r.status_code == 201, r.text
    fqn = str(r.json()["fullyQualifiedName"])
    assert fqn == f"pe{live_server.portal_id}_{name}"
    return fqn


@pytest.fixture
def setup(hubspot: HubSpot, live_server: LiveServer) -> Setup:
    event_name = define(
        live_server,
        [
            {
                "name": "plan",
                "label": "Plan",
                "type": "enumeration",
                "options": [{"label": p.title(), "value": p} for p in PLANS],
            },
            {"name": "seq", "label": "Seq", "type": "number"},
            {"name": "note", "label": "Note", "type": "string"},
        ],
    )
    email = f"sdk-{uuids.uuid4().hex[:10]}@example.com"
    contact = hubspot.crm.contacts.basic_api.create(
        simple_public_object_input_for_create=SimplePublicObjectInputForCreate(
            properties={"email": email}
        )
    )
    return Setup(event_name, str(contact.id), email)


def completion(setup: Setup, i: int, **identity: str) -> BehavioralEventHttpCompletionRequest:
    """Occurrence number i: its own uuid, a time i seconds and i ms after START."""
    return BehavioralEventHttpCompletionRequest(
        event_name=setup.event_name,
        uuid=str(uuids.uuid4()),
        occurred_at=START + timedelta(seconds=i, milliseconds=i % 1000),
        properties={
            "plan": PLANS[i % 3],
            "seq": str(i),
            "note": f"occurrence {i} — ünïcode, spaces  kept ",
            "hs_page_url": f"https://example.com/pricing?i={i}",
        },
        **(identity or {"object_id": setup.contact_id}),
    )


def expected(c: BehavioralEventHttpCompletionRequest, contact_id: str) -> dict[str, Any]:
    """What the read API answers for completion `c` (every value a string)."""
    return {
        "id": c.uuid,
        "object_type": "CONTACT",
        "object_id": contact_id,
        "event_type": c.event_name,
        "occurred_at": c.occurred_at,
        "properties": dict(c.properties),
    }


def read_all(hubspot: HubSpot, **query: Any) -> tuple[list[dict[str, Any]], int]:
    """Every result of an SDK read, following `paging.next.after`; and the page count."""
    get_page = hubspot.events.events_api.get_page
    results: list[dict[str, Any]] = []
    after = None
    for pages in range(1, 100):
        page = get_page(**query, after=after)
        results += [
            {
                "id": e.id,
                "object_type": e.object_type,
                "object_id": e.object_id,
                "event_type": e.event_type,
                "occurred_at": e.occurred_at,
                "properties": e.properties,
            }
            for e in page.results
        ]
        if page.paging is None or page.paging.next is None:
            return results, pages
        after = page.paging.next.after
    raise AssertionError("paging did not end")


def test_send_one_then_read_it_back(hubspot: HubSpot, setup: Setup) -> None:
    by_id = completion(setup, 0)
    assert (
        hubspot.events.send.basic_api.send(behavioral_event_http_completion_request=by_id) is None
    )
    # A known contact's email attaches the occurrence to that contact.
    by_email = completion(setup, 1, email=setup.email.upper())
    hubspot.events.send.basic_api.send(behavioral_event_http_completion_request=by_email)

    results, pages = read_all(
        hubspot,
        object_type="contact",
        object_id=int(setup.contact_id),
        event_type=setup.event_name,
        sort=["ASCENDING"],
    )
    assert pages == 1
    assert results == [expected(by_id, setup.contact_id), expected(by_email, setup.contact_id)]

    types = hubspot.events.events_api.get_types()
    assert setup.event_name in types.event_types


def test_a_batch_of_500_reads_back_exactly_page_by_page(hubspot: HubSpot, setup: Setup) -> None:
    sent = [completion(setup, i) for i in range(BATCH)]
    request = BatchedBehavioralEventHttpCompletionRequest(inputs=sent)
    assert (
        hubspot.events.send.batch_api.send(batched_behavioral_event_http_completion_request=request)
        is None
    )

    everything: dict[str, Any] = {"object_type": "contact", "object_id": int(setup.contact_id)}
    ascending, pages = read_all(
        hubspot, **everything, event_type=setup.event_name, sort=["ASCENDING"], limit=120
    )
    assert pages == 5  # 120 + 120 + 120 + 120 + 20
    assert ascending == [expected(c, setup.contact_id) for c in sent]

    # A time window that starts and ends between two occurrences, newest first (the
    # default order), in pages of 64: exactly occurrences 100..399.
    window: dict[str, Any] = {
        "occurred_after": sent[100].occurred_at - timedelta(milliseconds=300),
        "occurred_before": sent[399].occurred_at + timedelta(milliseconds=300),
    }
    newest_first, pages = read_all(
        hubspot, **everything, event_type=setup.event_name, **window, limit=64
    )
    assert pages == 5  # 4 x 64 + 44
    assert newest_first == [expected(c, setup.contact_id) for c in reversed(sent[100:400])]

    # Sending the batch again stores nothing twice: a uuid is stored once per event type.
    hubspot.events.send.batch_api.send(batched_behavioral_event_http_completion_request=request)
    again, _ = read_all(hubspot, **everything, event_type=setup.event_name, limit=1000)
    assert len(again) == BATCH
    assert {e["id"] for e in again} == {c.uuid for c in sent}


def test_object_property_and_property_filters_over_raw_http(
    hubspot: HubSpot, live_server: LiveServer, setup: Setup
) -> None:
    sent = [completion(setup, i) for i in range(30)]
    hubspot.events.send.batch_api.send(
        batched_behavioral_event_http_completion_request=BatchedBehavioralEventHttpCompletionRequest(
            inputs=sent
        )
    )
    team = [c.uuid for c in reversed(sent) if c.properties["plan"] == "team"]
    with raw(live_server) as client:
        r = client.get(
            "/events/v3/events",
            params={
                "objectType": "contact",
                "objectProperty.email": setup.email,
                "eventType": setup.event_name,
                "property.plan": "team",
                "limit": 100,
            },
        )
        assert r.status_code == 200, r.text
        assert [e["id"] for e in r.json()["results"]] == team
        assert {e["objectId"] for e in r.json()["results"]} == {setup.contact_id}

        note = sent[7].properties["note"]
        r = client.get(
            "/events/v3/events/",
            params={
                "objectType": "CONTACT",
                "objectId": setup.contact_id,
                "eventType": setup.event_name,
                "property.note": note,
            },
        )
        assert r.status_code == 200, r.text
        [found] = r.json()["results"]
        assert found["id"] == sent[7].uuid
        assert found["properties"]["note"] == note


def error_body(exc: ApiException) -> dict[str, Any]:
    """The error JSON in HubSpot's shape, with its required fields checked."""
    assert exc.status == 400, exc
    body: dict[str, Any] = json.loads(exc.body)
    assert body["status"] == "error"
    assert body["category"] == "VALIDATION_ERROR"
    assert body["message"]
    assert uuids.UUID(body["correlationId"])
    assert body["errors"] and all(e["message"] for e in body["errors"])
    return body


def test_an_undefined_property_raises_api_exception_400(hubspot: HubSpot, setup: Setup) -> None:
    bad = completion(setup, 0)
    bad.properties = {**bad.properties, "colour": "blue"}
    with pytest.raises(ApiException) as raised:
        hubspot.events.send.basic_api.send(behavioral_event_http_completion_request=bad)
    body = error_body(raised.value)
    assert [(e["in"], e["code"]) for e in body["errors"]] == [
        ("properties.colour", "PROPERTY_DOESNT_EXIST")
    ]
    found, _ = read_all(hubspot, event_type=setup.event_name, id=[bad.uuid])
    assert found == []


def test_fifty_one_properties_in_a_batch_fail_it_whole(
    hubspot: HubSpot, live_server: LiveServer, setup: Setup
) -> None:
    wide = define(
        live_server,
        [{"name": f"p{n:02}", "label": f"P{n:02}", "type": "string"} for n in range(50)],
    )
    fifty = {f"p{n:02}": str(n) for n in range(50)}
    good = BehavioralEventHttpCompletionRequest(
        event_name=wide, object_id=setup.contact_id, uuid=str(uuids.uuid4()), properties=fifty
    )
    over = BehavioralEventHttpCompletionRequest(
        event_name=wide,
        object_id=setup.contact_id,
        uuid=str(uuids.uuid4()),
        properties={**fifty, "hs_page_title": "one too many"},
    )
    request = BatchedBehavioralEventHttpCompletionRequest(inputs=[good, over])
    with pytest.raises(ApiException) as raised:
        hubspot.events.send.batch_api.send(batched_behavioral_event_http_completion_request=request)
    body = error_body(raised.value)
    assert [e["in"] for e in body["errors"]] == ["inputs[1].properties"]
    # All or nothing: the valid input 0 was not stored either.
    found, _ = read_all(hubspot, event_type=wide, id=[good.uuid, over.uuid])
    assert found == []

    # Fifty are allowed: the same batch without the extra property is stored whole.
    over.properties = {**fifty}
    hubspot.events.send.batch_api.send(batched_behavioral_event_http_completion_request=request)
    found, _ = read_all(hubspot, event_type=wide, id=[good.uuid, over.uuid])
    assert {e["id"] for e in found} == {good.uuid, over.uuid}
    assert all(e["properties"] == fifty for e in found)
