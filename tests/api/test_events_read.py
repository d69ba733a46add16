"""GET /events/v3/events and /events/v3/events/event-types, on both stores.

Occurrences are seeded with store.events.insert_events (what the send path's writer
calls), definitions and contacts through the HTTP API, so these tests exercise the read
path alone. Every filter, both sort orders, limit bounds, cursors both ways (also while
new occurrences arrive between pages), tenant isolation and every kind of 400.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.testclient import TestClient

from occur.domain.timestamps import iso_from_ms
from occur.services import access
from occur.store.db import Database
from occur.store.events import NewEvent, insert_events
from tests.conftest import Tenant
from tests.support.http import expect_error

EVENTS = "/events/v3/events"
TYPES = "/events/v3/events/event-types"
DEFINITIONS = "/events/v3/event-definitions"
CONTACTS = "/crm/v3/objects/contacts"
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00.000Z
MINUTE = 60_000


@dataclass
class Seed:
    """Makes definitions and contacts over HTTP and stores occurrences directly."""

    client: TestClient
    db: Database
    tenant: Tenant

    def definition(
        self,
        name: str,
        properties: Mapping[str, str] | None = None,
        primary_object: str = "CONTACT",
    ) -> int:
        props = [
            {"name": n, "label": n.title(), "type": t, **_options(t)}
            for n, t in (properties or {"plan": "string"}).items()
        ]
        r = self.client.post(
            DEFINITIONS,
            headers=self.tenant.headers,
            json={
                "label": name.title(),
                "name": name,
                "primaryObject": primary_object,
                "propertyDefinitions": props,
            },
        )
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    def contact(self, email: str) -> int:
        r = self.client.post(
            CONTACTS, headers=self.tenant.headers, json={"properties": {"email": email}}
        )
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    def events(
        self,
        definition_id: int,
        object_id: int | None,
        times: list[int],
        properties: Mapping[str, str] | None = None,
        object_type_id: str = "0-1",
    ) -> list[str]:
        """Store one occurrence per time; returns their uuids in the same order."""
        rows = [
            NewEvent(
                definition_id=definition_id,
                uuid=str(uuid.uuid4()),
                object_type_id=object_type_id,
                object_id=object_id,
                visitor_id=None,
                occurred_at=at,
                properties=dict(properties or {}),
            )
            for at in times
        ]
        with self.db.write() as conn:
            insert_events(conn, self.tenant.portal_id, rows, received_at=T0)
        return [row.uuid for row in rows]

    def fqn(self, name: str) -> str:
        return f"pe{self.tenant.portal_id}_{name}"


def _options(kind: str) -> dict[str, Any]:
    if kind != "enumeration":
        return {}
    return {"options": [{"label": v, "value": v, "displayOrder": i} for i, v in enumerate("ab")]}


@pytest.fixture
def seed(client: TestClient, db: Database, tenant: Tenant) -> Seed:
    return Seed(client, db, tenant)


def read(api: TestClient, path: str = EVENTS, **params: Any) -> dict[str, Any]:
    r = api.get(path, params=params)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def ids(body: Mapping[str, Any]) -> list[str]:
    return [e["id"] for e in body["results"]]


# --- shape, aliases, event types ---------------------------------------------------------


def test_an_occurrence_reads_back_in_hubspots_shape(api: TestClient, seed: Seed) -> None:
    d = seed.definition("signed_up", {"plan": "string", "seats": "number"})
    ada = seed.contact("ada@example.com")
    (only,) = seed.events(d, ada, [T0 + 123], {"plan": "pro", "seats": "12"})
    body = read(api, eventType=seed.fqn("signed_up"))
    assert body == {
        "results": [
            {
                "objectType": "CONTACT",
                "objectId": str(ada),
                "eventType": seed.fqn("signed_up"),
                "occurredAt": "2026-01-01T00:00:00.123Z",
                "id": only,
                "properties": {"plan": "pro", "seats": "12"},
            }
        ]
    }


@pytest.mark.parametrize(
    "path",
    [
        EVENTS,
        EVENTS + "/",
        "/events/event-occurrences/2026-03",
        "/events/event-occurrences/2026-03/",
    ],
)
def test_every_alias_reads_the_same(api: TestClient, seed: Seed, path: str) -> None:
    d = seed.definition("viewed")
    made = seed.events(d, seed.contact("a@example.com"), [T0, T0 + 1])
    assert ids(read(api, path, eventType=seed.fqn("viewed"))) == made[::-1]


@pytest.mark.parametrize(
    "path", [TYPES, TYPES + "/", "/events/event-occurrences/2026-03/event-types"]
)
def test_event_types_are_the_live_definitions_sorted(
    api: TestClient, seed: Seed, path: str
) -> None:
    assert read(api, path) == {"eventTypes": []}
    for name in ("zeta", "alpha", "gone", "mid"):
        seed.definition(name)
    assert api.delete(f"{DEFINITIONS}/gone").status_code == 204
    names = ["alpha", "mid", "zeta"]
    assert read(api, path) == {"eventTypes": [seed.fqn(n) for n in names]}


def test_objects_of_every_type_are_named_upper_case(api: TestClient, seed: Seed) -> None:
    d = seed.definition("closed", primary_object="DEAL")
    made = seed.events(d, 77, [T0], object_type_id="0-3")
    body = read(api, eventType=seed.fqn("closed"))
    assert [(e["objectType"], e["objectId"]) for e in body["results"]] == [("DEAL", "77")]
    for spelling in ("deal", "DEALS", "0-3"):
        assert ids(read(api, objectType=spelling, objectId=77)) == made


# --- record filters --------------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["contact", "CONTACT", "contacts", "Contacts", "0-1"])
def test_a_record_reads_its_occurrences_of_every_type(
    api: TestClient, seed: Seed, spelling: str
) -> None:
    ada, bob = seed.contact("ada@example.com"), seed.contact("bob@example.com")
    viewed, bought = seed.definition("viewed"), seed.definition("bought")
    mine = seed.events(viewed, ada, [T0, T0 + 2]) + seed.events(bought, ada, [T0 + 1])
    seed.events(viewed, bob, [T0 + 3])
    body = read(api, objectType=spelling, objectId=ada)
    assert ids(body) == [mine[1], mine[2], mine[0]]
    assert {e["eventType"] for e in body["results"]} == {seed.fqn("viewed"), seed.fqn("bought")}
    assert {e["objectId"] for e in body["results"]} == {str(ada)}


def test_a_record_and_an_event_type_together(api: TestClient, seed: Seed) -> None:
    ada = seed.contact("ada@example.com")
    viewed, bought = seed.definition("viewed"), seed.definition("bought")
    wanted = seed.events(viewed, ada, [T0])
    seed.events(bought, ada, [T0 + 1])
    seed.events(viewed, ada + 1000, [T0 + 2])
    assert ids(read(api, objectType="contact", objectId=ada, eventType=seed.fqn("viewed"))) == (
        wanted
    )


def test_an_event_types_other_object_type_matches_nothing(api: TestClient, seed: Seed) -> None:
    d = seed.definition("closed", primary_object="DEAL")
    seed.events(d, 5, [T0], object_type_id="0-3")
    assert read(api, eventType=seed.fqn("closed"), objectType="contact") == {"results": []}
    assert len(read(api, eventType=seed.fqn("closed"), objectType="deal")["results"]) == 1


def test_object_property_email_finds_the_contact(api: TestClient, seed: Seed) -> None:
    ada, bob = seed.contact("Ada@Example.com"), seed.contact("bob@example.com")
    d = seed.definition("viewed")
    made = seed.events(d, ada, [T0, T0 + 1])
    seed.events(d, bob, [T0 + 2])
    for email in ("ada@example.com", "ADA@example.COM"):
        found = read(api, **{"objectType": "contact", "objectProperty.email": email})
        assert ids(found) == made[::-1]
    both = {"objectType": "contact", "objectProperty.email": "ada@example.com", "objectId": ada}
    assert ids(read(api, **both)) == made[::-1]
    clash = {**both, "objectId": bob}
    assert read(api, **clash) == {"results": []}
    unknown = {"objectType": "contact", "objectProperty.email": "nobody@example.com"}
    assert read(api, **unknown) == {"results": []}


def test_object_property_hs_object_id_is_the_object_id(api: TestClient, seed: Seed) -> None:
    ada = seed.contact("ada@example.com")
    made = seed.events(seed.definition("viewed"), ada, [T0])
    found = read(api, **{"objectType": "contact", "objectProperty.hs_object_id": ada})
    assert ids(found) == made


def test_anonymous_occurrences_are_not_returned(api: TestClient, seed: Seed) -> None:
    d = seed.definition("viewed")
    seed.events(d, None, [T0, T0 + 1], {"plan": "pro"})
    known = seed.events(d, seed.contact("a@example.com"), [T0 + 2], {"plan": "pro"})
    assert ids(read(api, eventType=seed.fqn("viewed"))) == known
    assert ids(read(api, eventType=seed.fqn("viewed"), **{"property.plan": "pro"})) == known


# --- event type ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "event_type",
    [
        "viewed",
        "pe{other}_viewed",
        "PE{portal}_viewed",
        "pe{portal}_VIEWED",
        "e_visited_page",
        "ae123_viewed",
        "pe{portal}_nope",
        "pe{portal}_",
    ],
)
def test_an_event_type_not_of_this_portal_is_an_empty_page(
    api: TestClient, seed: Seed, event_type: str
) -> None:
    seed.events(seed.definition("viewed"), seed.contact("a@example.com"), [T0])
    portal = seed.tenant.portal_id
    wanted = event_type.format(portal=portal, other=portal + 1)
    assert read(api, eventType=wanted) == {"results": []}
    assert len(read(api, eventType=seed.fqn("viewed"))["results"]) == 1


def test_a_deleted_definitions_occurrences_are_gone(api: TestClient, seed: Seed) -> None:
    ada = seed.contact("a@example.com")
    seed.events(seed.definition("gone"), ada, [T0])
    kept = seed.events(seed.definition("kept"), ada, [T0 + 1])
    assert api.delete(f"{DEFINITIONS}/gone").status_code == 204
    assert ids(read(api, objectType="contact", objectId=ada)) == kept
    assert read(api, eventType=seed.fqn("gone")) == {"results": []}


# --- time window -------------------------------------------------------------------------


def test_occurred_after_is_inclusive_and_before_exclusive(api: TestClient, seed: Seed) -> None:
    d = seed.definition("viewed")
    made = seed.events(d, seed.contact("a@example.com"), [T0 + i * MINUTE for i in range(5)])
    window = {"occurredAfter": iso_from_ms(T0 + MINUTE), "occurredBefore": T0 + 3 * MINUTE}
    assert ids(read(api, eventType=seed.fqn("viewed"), **window)) == [made[2], made[1]]
    after_only = read(api, eventType=seed.fqn("viewed"), occurredAfter=T0 + 4 * MINUTE)
    assert ids(after_only) == [made[4]]
    before_only = read(api, eventType=seed.fqn("viewed"), occurredBefore=iso_from_ms(T0 + 1))
    assert ids(before_only) == [made[0]]
    empty = {"occurredAfter": T0 + 3 * MINUTE, "occurredBefore": T0 + MINUTE}
    assert read(api, eventType=seed.fqn("viewed"), **empty) == {"results": []}


@pytest.mark.parametrize(
    "spelling",
    [
        "2026-01-01T00:01:00Z",
        "2026-01-01T00:01:00.000Z",
        "2026-01-01T01:01:00+01:00",
        "2026-01-01T01:01:00 01:00",  # an SDK's unencoded '+' arrives as a space
        "2026-01-01T00:01:00",
        str(T0 + MINUTE),
    ],
)
def test_times_are_read_in_every_spelling(api: TestClient, seed: Seed, spelling: str) -> None:
    d = seed.definition("viewed")
    made = seed.events(d, seed.contact("a@example.com"), [T0, T0 + MINUTE])
    assert ids(read(api, eventType=seed.fqn("viewed"), occurredAfter=spelling)) == [made[1]]


def test_a_date_alone_means_its_midnight_utc(api: TestClient, seed: Seed) -> None:
    d = seed.definition("viewed")
    made = seed.events(d, seed.contact("a@example.com"), [T0 - 1, T0])
    assert ids(read(api, eventType=seed.fqn("viewed"), occurredAfter="2026-01-01")) == [made[1]]


# --- property filters ----------------------------------------------------------------------


def test_property_filters_match_exactly_and_together(api: TestClient, seed: Seed) -> None:
    d = seed.definition("bought", {"plan": "string", "color": "string"})
    ada = seed.contact("a@example.com")
    pro_red = seed.events(d, ada, [T0], {"plan": "pro", "color": "red"})
    pro_blue = seed.events(d, ada, [T0 + 1], {"plan": "pro", "color": "blue"})
    seed.events(d, ada, [T0 + 2], {"plan": "Pro", "color": "red"})
    seed.events(d, ada, [T0 + 3], {"plan": "pro "})
    fqn = seed.fqn("bought")
    assert ids(read(api, eventType=fqn, **{"property.plan": "pro"})) == pro_blue + pro_red
    both = {"property.plan": "pro", "property.color": "red"}
    assert ids(read(api, eventType=fqn, **both)) == pro_red
    assert ids(read(api, eventType=fqn, **{"property.PLAN": "pro", "property.color": "blue"})) == (
        pro_blue
    )
    assert read(api, eventType=fqn, **{"property.plan": "enterprise"}) == {"results": []}


def test_long_values_match_only_in_full(api: TestClient, seed: Seed) -> None:
    """Two URLs sharing the 200 indexed leading characters differ after them."""
    d = seed.definition("visited", {"landing_url": "string"})
    ada = seed.contact("a@example.com")
    stem = "https://example.com/" + "é" * 150 + "/" + "x" * 100
    assert len(stem) > 200
    first = seed.events(d, ada, [T0], {"landing_url": stem + "/one?q=1"})
    second = seed.events(d, ada, [T0 + 1], {"landing_url": stem + "/two?q=2"})
    seed.events(d, ada, [T0 + 2], {"landing_url": stem[:200]})
    fqn = seed.fqn("visited")
    for wanted, made in ((stem + "/one?q=1", first), (stem + "/two?q=2", second)):
        found = read(api, eventType=fqn, **{"property.landing_url": wanted})
        assert ids(found) == made
        assert found["results"][0]["properties"]["landing_url"] == wanted
    assert read(api, eventType=fqn, **{"property.landing_url": stem}) == {"results": []}
    on_record = {
        "objectType": "contact",
        "objectId": ada,
        "property.landing_url": stem + "/one?q=1",
    }
    assert ids(read(api, **on_record)) == first


@pytest.mark.parametrize("value", ["Zürich", "東京 タワー", "🚗 + 🚙", "a&b=c?d#e%20f", "new york"])
def test_non_ascii_and_url_special_values(api: TestClient, seed: Seed, value: str) -> None:
    d = seed.definition("visited", {"city": "string"})
    ada = seed.contact("a@example.com")
    made = seed.events(d, ada, [T0], {"city": value})
    seed.events(d, ada, [T0 + 1], {"city": value + "x"})
    found = read(api, eventType=seed.fqn("visited"), **{"property.city": value})
    assert ids(found) == made
    assert found["results"][0]["properties"] == {"city": value}


def test_a_plus_in_the_url_is_a_space(api: TestClient, seed: Seed) -> None:
    d = seed.definition("visited", {"city": "string"})
    made = seed.events(d, seed.contact("a@example.com"), [T0], {"city": "new york"})
    r = api.get(f"{EVENTS}?eventType={seed.fqn('visited')}&property.city=new+york")
    assert r.status_code == 200, r.text
    assert ids(r.json()) == made


def test_filter_values_are_read_as_the_propertys_type(api: TestClient, seed: Seed) -> None:
    types = {
        "price": "number",
        "paid": "bool",
        "at": "datetime",
        "on": "date",
        "tier": "enumeration",
    }
    d = seed.definition("bought", types)
    stored = {"price": "1500", "paid": "true", "at": "2026-01-02T03:04:05.000Z", "on": "2026-01-02"}
    made = seed.events(d, seed.contact("a@example.com"), [T0], {**stored, "tier": "a"})
    fqn = seed.fqn("bought")
    for name, spelling in (
        ("price", "1500.00"),
        ("price", "1.5e3"),
        ("paid", "TRUE"),
        ("at", "2026-01-02T04:04:05+01:00"),
        ("at", "1767323045000"),
        ("on", "2026-01-02"),
        ("tier", "a"),
    ):
        assert ids(read(api, eventType=fqn, **{f"property.{name}": spelling})) == made, spelling
    assert read(api, eventType=fqn, **{"property.price": "abc"}) == {"results": []}


def test_a_removed_enumeration_option_is_still_found(api: TestClient, seed: Seed) -> None:
    d = seed.definition("bought", {"tier": "enumeration"})
    made = seed.events(d, seed.contact("a@example.com"), [T0], {"tier": "retired"})
    assert ids(read(api, eventType=seed.fqn("bought"), **{"property.tier": "retired"})) == made


def test_values_of_undefined_properties_stay_hidden(api: TestClient, seed: Seed) -> None:
    """The tracker keeps names that are not defined yet (DESIGN §3b): reads show them, and
    filters find them, only once a property of that name is defined."""
    d = seed.definition("viewed", {"plan": "string"})
    ada = seed.contact("a@example.com")
    made = seed.events(d, ada, [T0], {"plan": "pro", "later": "yes"})
    fqn = seed.fqn("viewed")
    assert read(api, eventType=fqn)["results"][0]["properties"] == {"plan": "pro"}
    assert read(api, eventType=fqn, **{"property.later": "yes"}) == {"results": []}
    on_record = {"objectType": "contact", "objectId": ada, "property.later": "yes"}
    assert read(api, **on_record) == {"results": []}
    r = api.post(
        f"{DEFINITIONS}/viewed/property", json={"name": "later", "label": "L", "type": "string"}
    )
    assert r.status_code == 201, r.text
    assert read(api, eventType=fqn)["results"][0]["properties"] == {"plan": "pro", "later": "yes"}
    assert ids(read(api, eventType=fqn, **{"property.later": "yes"})) == made
    assert ids(read(api, **on_record)) == made
    assert api.delete(f"{DEFINITIONS}/viewed/property/plan").status_code == 204
    assert read(api, eventType=fqn)["results"][0]["properties"] == {"later": "yes"}
    assert read(api, eventType=fqn, **{"property.plan": "pro"}) == {"results": []}


def test_a_record_filter_with_property_filters_spans_event_types(
    api: TestClient, seed: Seed
) -> None:
    ada = seed.contact("a@example.com")
    viewed, bought = seed.definition("viewed"), seed.definition("bought")
    seed.events(viewed, seed.contact("b@example.com"), [T0], {"plan": "pro"})
    made = seed.events(viewed, ada, [T0 + 1], {"plan": "pro"})
    made += seed.events(bought, ada, [T0 + 2], {"plan": "pro"})
    seed.events(bought, ada, [T0 + 3], {"plan": "free"})
    found = read(api, objectType="contact", objectId=ada, **{"property.plan": "pro"})
    assert ids(found) == made[::-1]


def test_properties_names_the_ones_returned(api: TestClient, seed: Seed) -> None:
    d = seed.definition("bought", {"plan": "string", "color": "string", "size": "string"})
    seed.events(d, seed.contact("a@example.com"), [T0], {"plan": "p", "color": "c", "size": "s"})
    fqn = seed.fqn("bought")
    assert read(api, eventType=fqn, properties="plan,SIZE")["results"][0]["properties"] == {
        "plan": "p",
        "size": "s",
    }
    r = api.get(EVENTS, params=[("eventType", fqn), ("properties", "color"), ("properties", "x")])
    assert r.json()["results"][0]["properties"] == {"color": "c"}


# --- ids ---------------------------------------------------------------------------------


def test_ids_repeated_or_comma_joined(api: TestClient, seed: Seed) -> None:
    d = seed.definition("viewed")
    ada = seed.contact("a@example.com")
    made = seed.events(d, ada, [T0, T0 + 1, T0 + 2])
    fqn = seed.fqn("viewed")
    repeated = api.get(EVENTS, params=[("eventType", fqn), ("id", made[0]), ("id", made[2])])
    assert ids(repeated.json()) == [made[2], made[0]]
    joined = read(api, eventType=fqn, id=f"{made[1]},{made[0]}")
    assert ids(joined) == [made[1], made[0]]
    on_record = read(api, objectType="contact", objectId=ada, id=made[1])
    assert ids(on_record) == [made[1]]
    other_record = read(api, objectType="contact", objectId=ada + 1, id=made[1])
    assert other_record == {"results": []}
    assert read(api, eventType=fqn, id=str(uuid.uuid4())) == {"results": []}


# --- sort and limit ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sort", "newest_first"),
    [
        (None, True),
        ("DESCENDING", True),
        ("-occurredAt", True),
        ("desc", True),
        ("ASCENDING", False),
        ("occurredAt", False),
        ("ascending", False),
        ("ASCENDING,occurredAt", False),
    ],
)
def test_sort(api: TestClient, seed: Seed, sort: str | None, newest_first: bool) -> None:
    d = seed.definition("viewed")
    ada = seed.contact("a@example.com")
    made = seed.events(d, ada, [T0 + 5, T0, T0 + 9, T0])  # two at T0: the later id is newer
    oldest_first = [made[1], made[3], made[0], made[2]]
    params = {"eventType": seed.fqn("viewed")} | ({"sort": sort} if sort else {})
    expected = oldest_first[::-1] if newest_first else oldest_first
    assert ids(read(api, **params)) == expected
    by_record = {"objectType": "contact", "objectId": ada} | ({"sort": sort} if sort else {})
    assert ids(read(api, **by_record)) == expected


def test_limit_default_and_bounds(api: TestClient, seed: Seed) -> None:
    d = seed.definition("viewed")
    seed.events(d, seed.contact("a@example.com"), [T0 + i for i in range(1001)])
    fqn = seed.fqn("viewed")
    default = read(api, eventType=fqn)
    assert len(default["results"]) == 20
    assert "next" in default["paging"]
    assert len(read(api, eventType=fqn, limit=1)["results"]) == 1
    most = read(api, eventType=fqn, limit=1000)
    assert len(most["results"]) == 1000
    rest = read(api, eventType=fqn, limit=1000, after=most["paging"]["next"]["after"])
    assert len(rest["results"]) == 1
    assert "next" not in rest["paging"]
    for bad in ("0", "1001", "-1", "abc", "1.5", "99999999999999999999"):
        expect_error(
            api.get(EVENTS, params={"eventType": fqn, "limit": bad}),
            400,
            "VALIDATION_ERROR",
            "limit",
            "INVALID",
        )


# --- cursors -------------------------------------------------------------------------------


def _walk(api: TestClient, params: dict[str, Any], direction: str) -> list[list[str]]:
    """Follow paging links in one direction ("next" or "prev") until they end."""
    pages: list[list[str]] = []
    r = api.get(EVENTS, params=params)
    while True:
        assert r.status_code == 200, r.text
        body = r.json()
        pages.append(ids(body))
        link = body.get("paging", {}).get(direction)
        if link is None:
            return pages
        r = api.get(link["link"])


@pytest.mark.parametrize("sort", ["DESCENDING", "ASCENDING"])
def test_cursors_walk_forward_and_back(api: TestClient, seed: Seed, sort: str) -> None:
    d = seed.definition("viewed")
    ada = seed.contact("a@example.com")
    # ties on occurredAt across page edges: order falls back to the stored id
    times = [T0 + (i // 3) for i in range(10)]
    made = seed.events(d, ada, times)
    order = made if sort == "ASCENDING" else made[::-1]
    for params in (
        {"eventType": seed.fqn("viewed"), "sort": sort, "limit": 3},
        {"objectType": "contact", "objectId": ada, "sort": sort, "limit": 3},
    ):
        pages = _walk(api, params, "next")
        assert pages == [order[0:3], order[3:6], order[6:9], order[9:10]]
        first = api.get(EVENTS, params=params).json()
        assert "prev" not in first["paging"]
        last_after = api.get(EVENTS, params={**params, "after": _cursor_of(api, params, 3)})
        back = _walk_from(api, last_after, "prev")
        assert back == [order[9:10], order[6:9], order[3:6], order[0:3]]


def _cursor_of(api: TestClient, params: dict[str, Any], pages: int) -> str:
    """The `after` cursor at the end of page number `pages`."""
    body = api.get(EVENTS, params=params).json()
    for _ in range(pages - 1):
        body = api.get(body["paging"]["next"]["link"]).json()
    after: str = body["paging"]["next"]["after"]
    return after


def _walk_from(api: TestClient, r: Any, direction: str) -> list[list[str]]:
    pages: list[list[str]] = []
    while True:
        assert r.status_code == 200, r.text
        body = r.json()
        pages.append(ids(body))
        link = body.get("paging", {}).get(direction)
        if link is None:
            return pages
        r = api.get(link["link"])


def test_cursors_page_through_property_filters(api: TestClient, seed: Seed) -> None:
    d = seed.definition("viewed")
    ada = seed.contact("a@example.com")
    made = seed.events(d, ada, [T0 + i for i in range(7)], {"plan": "pro"})
    seed.events(d, ada, [T0 + i for i in range(7)], {"plan": "free"})
    params = {"eventType": seed.fqn("viewed"), "property.plan": "pro", "limit": 3}
    assert _walk(api, params, "next") == [made[6:3:-1], made[3:0:-1], made[0:1]]
    on_record = {"objectType": "contact", "objectId": ada, "property.plan": "pro", "limit": 3}
    assert _walk(api, on_record, "next") == [made[6:3:-1], made[3:0:-1], made[0:1]]


def test_links_keep_every_filter(api: TestClient, seed: Seed) -> None:
    d = seed.definition("viewed")
    made = seed.events(d, seed.contact("a@example.com"), [T0 + i for i in range(5)], {"plan": "é"})
    params = [
        ("eventType", seed.fqn("viewed")),
        ("property.plan", "é"),
        ("id", made[0]),
        ("id", made[1]),
        ("id", made[2]),
        ("limit", "1"),
        ("sort", "ASCENDING"),
    ]
    r = api.get(EVENTS, params=params)
    link = r.json()["paging"]["next"]["link"]
    assert link.startswith("http")
    assert ids(api.get(link).json()) == [made[1]]
    second = api.get(link).json()
    assert ids(api.get(second["paging"]["next"]["link"]).json()) == [made[2]]
    assert ids(api.get(second["paging"]["prev"]["link"]).json()) == [made[0]]
    assert "before" not in second["paging"]["next"]["link"]
    assert "after" not in second["paging"]["prev"]["link"]


def test_cursors_stay_correct_while_new_events_arrive(api: TestClient, seed: Seed) -> None:
    """Newest first: newer arrivals land before page one and shift nothing; a backdated
    arrival in the part not read yet is read when paging gets there; one in the part
    already read is not read twice or make another row repeat."""
    d = seed.definition("viewed")
    ada = seed.contact("a@example.com")
    made = seed.events(d, ada, [T0 + i * MINUTE for i in range(10)])
    params = {"eventType": seed.fqn("viewed"), "limit": 4}
    first = read(api, **params)
    assert ids(first) == made[9:5:-1]
    newer = seed.events(d, ada, [T0 + 100 * MINUTE, T0 + 9 * MINUTE])  # the second ties the top
    passed = seed.events(d, ada, [T0 + 7 * MINUTE + 1])
    # the second ties the edge row made[6]: a later id at the same time is older than
    # it newest-first, so it lies behind the edge, still to be read (made[5] ties it too)
    ahead = seed.events(d, ada, [T0 + 2 * MINUTE + 1, T0 + 5 * MINUTE])
    behind = seed.events(d, ada, [T0 + 6 * MINUTE])  # a later id: newer than made[6]
    second = api.get(first["paging"]["next"]["link"]).json()
    third = api.get(second["paging"]["next"]["link"]).json()
    seen = ids(first) + ids(second) + ids(third)
    assert len(seen) == len(set(seen))
    assert set(made) <= set(seen)
    assert set(ahead) <= set(seen)
    assert not (set(newer) | set(passed) | set(behind)) & set(seen)
    assert "next" not in third["paging"]
    # and back again: the page before page two now holds what arrived in that part
    back = api.get(second["paging"]["prev"]["link"]).json()
    assert ids(back) == [passed[0], made[7], behind[0], made[6]]
    assert "prev" in back["paging"]


def test_a_cursor_past_the_end_is_an_empty_page_that_links_back(
    api: TestClient, seed: Seed
) -> None:
    d = seed.definition("viewed")
    made = seed.events(d, seed.contact("a@example.com"), [T0, T0 + 1])
    params = {"eventType": seed.fqn("viewed"), "limit": 1, "sort": "ASCENDING"}
    assert "paging" not in read(api, **{**params, "limit": 2})
    second = read(api, **params, after=read(api, **params)["paging"]["next"]["after"])
    assert ids(second) == [made[1]]
    assert "next" not in second["paging"]
    past = read(api, **params, after=second["paging"]["prev"]["before"])  # the last row's
    assert ids(past) == []
    assert "next" not in past["paging"]
    assert ids(api.get(past["paging"]["prev"]["link"]).json()) == [made[1]]


def test_before_the_start_is_an_empty_page_that_links_forward(api: TestClient, seed: Seed) -> None:
    d = seed.definition("viewed")
    made = seed.events(d, seed.contact("a@example.com"), [T0, T0 + 1])
    params = {"eventType": seed.fqn("viewed"), "limit": 1, "sort": "ASCENDING"}
    second = read(api, **params, after=read(api, **params)["paging"]["next"]["after"])
    first = read(api, **params, before=second["paging"]["prev"]["before"])
    assert ids(first) == [made[0]]
    assert "prev" not in first["paging"]
    nothing = read(api, **params, before=first["paging"]["next"]["after"])  # the first row's
    assert ids(nothing) == []
    assert "prev" not in nothing["paging"]
    assert ids(api.get(nothing["paging"]["next"]["link"]).json()) == [made[0]]


def _tampered(cursor: str) -> list[str]:
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    version, at, row_id, check = raw.split(".")

    def enc(text: str) -> str:
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    flipped = cursor[:-1] + ("A" if cursor[-1] != "A" else "B")
    return [
        flipped,
        enc(f"{version}.{at}.{int(row_id) + 1}.{check}"),
        enc(f"{version}.{int(at) - 1}.{row_id}.{check}"),
        enc(f"2.{at}.{row_id}.{check}"),
        enc(f"{at}.{row_id}"),
        cursor + "==",
        "12345",
        "not a cursor",
        "ö" * 10,
        "A" * 500,
    ]


@pytest.mark.parametrize("name", ["after", "before"])
def test_a_tampered_cursor_is_400(api: TestClient, seed: Seed, name: str) -> None:
    d = seed.definition("viewed")
    seed.events(d, seed.contact("a@example.com"), [T0, T0 + 1])
    fqn = seed.fqn("viewed")
    cursor = read(api, eventType=fqn, limit=1)["paging"]["next"]["after"]
    assert read(api, eventType=fqn, **{name: cursor})["results"] is not None
    for bad in _tampered(cursor):
        r = api.get(EVENTS, params={"eventType": fqn, name: bad})
        expect_error(r, 400, "VALIDATION_ERROR", name, "INVALID")


def test_after_and_before_together_is_400(api: TestClient, seed: Seed) -> None:
    d = seed.definition("viewed")
    seed.events(d, seed.contact("a@example.com"), [T0, T0 + 1])
    fqn = seed.fqn("viewed")
    cursor = read(api, eventType=fqn, limit=1)["paging"]["next"]["after"]
    r = api.get(EVENTS, params={"eventType": fqn, "after": cursor, "before": cursor})
    expect_error(r, 400, "VALIDATION_ERROR", "before", "INVALID")


# --- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "in_", "code"),
    [
        ({}, "eventType", "REQUIRED"),
        ({"objectType": "contact"}, "eventType", "REQUIRED"),
        ({"sort": "ASCENDING", "limit": "5"}, "eventType", "REQUIRED"),
        ({"objectId": "5"}, "objectType", "REQUIRED"),
        ({"objectProperty.email": "a@example.com"}, "objectType", "REQUIRED"),
        ({"objectType": "widget", "objectId": "5"}, "objectType", "INVALID"),
        ({"objectType": "contact", "objectId": "abc"}, "objectId", "INVALID"),
        ({"objectType": "contact", "objectId": "0"}, "objectId", "INVALID"),
        ({"objectType": "contact", "objectId": "-5"}, "objectId", "INVALID"),
        ({"objectType": "contact", "objectId": "99999999999999999999"}, "objectId", "INVALID"),
        ({"objectType": "contact", "objectId": "1", "hapikey": "x"}, None, None),
        (
            {"objectType": "contact", "objectProperty.phone": "123"},
            "objectProperty.phone",
            "INVALID",
        ),
        (
            {"objectType": "deal", "objectProperty.email": "a@example.com"},
            "objectProperty.email",
            "INVALID",
        ),
        (
            {"objectType": "contact", "objectProperty.email": "not-an-email"},
            "objectProperty.email",
            "INVALID",
        ),
        (
            {"objectType": "contact", "objectProperty.{propname}": "a@example.com"},
            "objectProperty.{propname}",
            "INVALID",
        ),
        ({"eventType": "pe1_x", "property.{propname}": "v"}, "property.{propname}", "INVALID"),
        ({"eventType": "pe1_x", "property.9lives": "v"}, "property.9lives", "INVALID"),
        ({"eventType": "pe1_x", "property.": "v"}, "property.", "INVALID"),
        ({"eventType": "pe1_x", "occurredAfter": "yesterday"}, "occurredAfter", "INVALID_DATETIME"),
        (
            {"eventType": "pe1_x", "occurredBefore": "2026-13-01"},
            "occurredBefore",
            "INVALID_DATETIME",
        ),
        (
            {"eventType": "pe1_x", "occurredAfter": "0999-01-01"},
            "occurredAfter",
            "INVALID_DATETIME",
        ),
        ({"eventType": "pe1_x", "sort": "newest"}, "sort", "INVALID"),
        ({"eventType": "pe1_x", "sort": "ASCENDING,DESCENDING"}, "sort", "INVALID"),
        ({"eventType": "pe1_\x00"}, "eventType", "INVALID"),
        ({"eventType": "pe1_x", "property.plan": "a\x00b"}, "property.plan", "INVALID"),
        ({"eventType": "pe1_x", "id": "a\x00"}, "id", "INVALID"),
        ({"eventType": "pe1_x", "id": ",".join(str(i) for i in range(1001))}, "id", "TOO_MANY"),
    ],
)
def test_bad_queries_are_400_naming_the_parameter(
    api: TestClient, params: dict[str, str], in_: str | None, code: str | None
) -> None:
    r = api.get(EVENTS, params=params)
    if in_ is None:  # an unknown parameter is ignored, like HubSpot's unknown fields
        assert r.status_code == 200, r.text
        return
    expect_error(r, 400, "VALIDATION_ERROR", in_, code)


def test_every_problem_is_listed_at_once(api: TestClient) -> None:
    r = api.get(
        EVENTS,
        params={
            "objectType": "contact",
            "objectId": "x",
            "limit": "0",
            "sort": "up",
            "occurredAfter": "soon",
            "after": "nope",
        },
    )
    body = expect_error(r, 400, "VALIDATION_ERROR")
    named = {e["in"] for e in body["errors"]}
    assert named == {"objectId", "limit", "sort", "occurredAfter", "after"}


def test_one_value_parameters_given_twice(api: TestClient, seed: Seed) -> None:
    d = seed.definition("viewed")
    made = seed.events(d, seed.contact("a@example.com"), [T0])
    fqn = seed.fqn("viewed")
    same = api.get(EVENTS, params=[("eventType", fqn), ("eventType", fqn)])
    assert ids(same.json()) == made
    clash = api.get(EVENTS, params=[("eventType", fqn), ("eventType", fqn + "x")])
    expect_error(clash, 400, "VALIDATION_ERROR", "eventType", "INVALID")
    folded = [("eventType", fqn), ("property.plan", "a"), ("property.PLAN", "b")]
    expect_error(api.get(EVENTS, params=folded), 400, "VALIDATION_ERROR", "property.plan")


# --- access ---------------------------------------------------------------------------------


def test_reads_need_a_token(client: TestClient) -> None:
    for path in (EVENTS, TYPES):
        expect_error(client.get(path, params={"eventType": "pe1_x"}), 401, "INVALID_AUTHENTICATION")


@pytest.mark.parametrize(
    ("scopes", "allowed"),
    [
        (["analytics.behavioral_events.send"], True),
        (["behavioral_events.event_definitions.read_write"], True),
        (["crm.objects.contacts.read"], False),
        (["crm.objects.contacts.read", "automation"], False),
    ],
)
def test_read_scopes(
    client: TestClient, seed: Seed, db: Database, tenant: Tenant, scopes: list[str], allowed: bool
) -> None:
    d = seed.definition("viewed")
    made = seed.events(d, seed.contact("a@example.com"), [T0])
    token = access.create_token(db, tenant.portal_id, scopes)
    headers = {"Authorization": f"Bearer {token.secret}"}
    for path, params in ((EVENTS, {"eventType": seed.fqn("viewed")}), (TYPES, {})):
        r = client.get(path, params=params, headers=headers)
        if allowed:
            assert r.status_code == 200, r.text
        else:
            body = expect_error(r, 403, "MISSING_SCOPES")
            assert "analytics.behavioral_events.send" in body["context"]["requiredScopes"]
    if allowed:
        r = client.get(EVENTS, params={"eventType": seed.fqn("viewed")}, headers=headers)
        assert ids(r.json()) == made


def test_another_portals_occurrences_never_show(
    client: TestClient, seed: Seed, db: Database, other_tenant: Tenant
) -> None:
    ada = seed.contact("secret@example.com")
    d = seed.definition("viewed")
    seed.events(d, ada, [T0], {"plan": "pro"})
    other = Seed(client, db, other_tenant)
    mine = other.events(other.definition("viewed"), other.contact("secret@example.com"), [T0])
    h = other_tenant.headers
    queries: list[dict[str, Any]] = [
        {"eventType": seed.fqn("viewed")},
        {"eventType": seed.fqn("viewed"), "property.plan": "pro"},
        {"objectType": "contact", "objectId": ada},
        {"objectType": "contact", "objectId": ada, "property.plan": "pro"},
        {"objectType": "contact", "objectId": ada, "eventType": seed.fqn("viewed")},
    ]
    for params in queries:
        r = client.get(EVENTS, params=params, headers=h)
        assert r.json() == {"results": []}, params
    by_email = {"objectType": "contact", "objectProperty.email": "secret@example.com"}
    assert ids(client.get(EVENTS, params=by_email, headers=h).json()) == mine
    types = client.get(TYPES, headers=h).json()
    assert types == {"eventTypes": [other.fqn("viewed")]}
    assert read_as(client, seed.tenant, TYPES) == {"eventTypes": [seed.fqn("viewed")]}


def read_as(client: TestClient, tenant: Tenant, path: str, **params: Any) -> dict[str, Any]:
    r = client.get(path, params=params, headers=tenant.headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body
