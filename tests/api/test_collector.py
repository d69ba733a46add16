"""The tracking script's collector through HTTP, on both stores: what a beacon stores,
what it drops and counts, who may send, and that no input gets a 500."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import replace
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from occur.app import create_app
from occur.config import Settings
from occur.errors import ValidationError
from occur.services import tracking_settings
from occur.store.db import Database
from occur.store.schema import crm_objects, page_views, visitors
from tests.conftest import Tenant
from tests.support.events import count, define, stored_events
from tests.support.http import expect_error

UTK = "0123456789abcdef0123456789abcdef"
OTHER_UTK = "fedcba9876543210fedcba9876543210"
SITE = "https://shop.example"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1"
)
PAGE = {
    "url": f"{SITE}/pricing?utm_source=ads&utm_campaign=spring",
    "title": "Pricing",
    "referrer": "https://google.com/",
    "language": "en-US",
    "screenWidth": 390,
    "screenHeight": 844,
}


def now_ms() -> int:
    return int(time.time() * 1000)


def custom(name: str, event_id: str, **properties: Any) -> dict[str, Any]:
    return {"kind": "event", "id": event_id, "at": now_ms(), "name": name,
            "properties": properties}  # fmt: skip


def pageview(event_id: str) -> dict[str, Any]:
    return {"kind": "pageview", "id": event_id, "at": now_ms()}


def beacon(*events: dict[str, Any], utk: str = UTK, **extra: Any) -> dict[str, Any]:
    return {"v": 1, "utk": utk, "page": PAGE, "events": list(events), **extra}


def post(
    client: TestClient,
    portal_id: int,
    body: object,
    *,
    origin: str | None = SITE,
    headers: dict[str, str | bytes] | None = None,
) -> httpx.Response:
    sent: dict[str, str | bytes] = {
        "Content-Type": "text/plain;charset=UTF-8",
        "User-Agent": IPHONE,
    }
    if origin is not None:
        sent["Origin"] = origin
    sent.update(headers or {})
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(f"/collect/{portal_id}", content=content, headers=sent)


def stored(client: TestClient, portal_id: int, body: object, **options: Any) -> None:
    r = post(client, portal_id, body, **options)
    assert r.status_code == 204, r.text
    assert r.content == b""


@pytest.fixture
def demo(api: TestClient, tenant: Tenant) -> str:
    """A contact event with an enumeration and a number property; its full name."""
    define(api, {"label": "Watched demo", "name": "watched_demo", "propertyDefinitions": [
        {"label": "Plan", "name": "plan", "type": "enumeration",
         "options": [{"label": "Free", "value": "free"}, {"label": "Pro", "value": "pro"}]},
        {"label": "Minutes", "name": "minutes", "type": "number"},
    ]})  # fmt: skip
    return f"pe{tenant.portal_id}_watched_demo"


def rejections(db: Database, portal_id: int) -> dict[tuple[str, str, str], int]:
    return {
        (r.event_name, r.reason, r.property_name): r.count
        for r in tracking_settings.rejected_completions(db, portal_id)
    }


# --- what a beacon stores -------------------------------------------------------------------


def test_a_beacon_stores_its_events_with_the_page_context(
    api: TestClient, db: Database, tenant: Tenant, demo: str
) -> None:
    r = post(api, tenant.portal_id, beacon(
        pageview("p-1"),
        custom(demo, "e-1", plan="pro", minutes="12.50"),
        custom("watched_demo", "e-2"),  # the short name works too
    ))  # fmt: skip
    assert r.status_code == 204, r.text
    assert r.headers["Access-Control-Allow-Origin"] == SITE
    assert r.headers["Vary"] == "Origin"
    first, second = stored_events(db)
    assert (first.uuid, second.uuid) == ("e-1", "e-2")
    assert first.object_id is None and first.visitor_id is not None
    assert first.properties == {
        "plan": "pro",
        "minutes": "12.5",
        "hs_page_url": PAGE["url"],
        "hs_page_title": "Pricing",
        "hs_referrer": "https://google.com/",
        "hs_language": "en",
        "hs_screen_width": "390",
        "hs_screen_height": "844",
        "hs_utm_source": "ads",
        "hs_utm_campaign": "spring",
        "hs_browser": "Mobile Safari",
        "hs_operating_system": "iOS",
        "hs_operating_version": "17.2",
        "hs_device_type": "Smartphone",
    }
    assert count(db, page_views) == 1 and count(db, visitors) == 1
    assert rejections(db, tenant.portal_id) == {}


def test_sixty_long_properties_are_stored_as_fifty_cut_to_their_limits(
    api: TestClient, db: Database, tenant: Tenant, demo: str
) -> None:
    properties = {f"prop_{i:02d}": "v" * 2000 for i in range(59)}
    properties["a_link_url"] = "u" * 2000
    stored(api, tenant.portal_id, beacon(custom(demo, "e-1", **properties)))
    [event] = stored_events(db)
    sent = {name: value for name, value in event.properties.items() if not name.startswith("hs_")}
    assert len(sent) == 50  # the context values come on top of the 50
    assert len(event.properties) == 50 + 12
    assert len(sent["a_link_url"]) == 1024
    assert {len(v) for name, v in sent.items() if name != "a_link_url"} == {256}
    assert "prop_48" in sent and "prop_49" not in sent  # the first 50 names in order


def test_undefined_properties_are_kept_and_readable_once_identified(
    api: TestClient, db: Database, tenant: Tenant, demo: str
) -> None:
    stored(api, tenant.portal_id, beacon(
        custom(demo, "e-1", not_yet_defined="kept", plan="pro"),
        identify={"email": "ada@example.com"},
    ))  # fmt: skip
    [event] = stored_events(db)
    assert event.properties["not_yet_defined"] == "kept"
    body = api.get("/events/v3/events", params={"eventType": demo}).json()
    [read] = body["results"]
    assert read["id"] == "e-1" and read["properties"]["plan"] == "pro"


def test_unknown_events_and_bad_values_are_counted_not_stored(
    api: TestClient, db: Database, tenant: Tenant, demo: str
) -> None:
    define(api, {"label": "Deal won", "name": "deal_won", "primaryObject": "DEAL"})
    body = beacon(
        custom("no_such_event", "a"),
        custom(f"pe{tenant.portal_id}_deal_won", "b"),
        custom(demo, "c", plan="gold", minutes="lots", note="kept"),
    )
    stored(api, tenant.portal_id, body)
    [event] = stored_events(db)
    assert event.uuid == "c"
    assert "plan" not in event.properties and "minutes" not in event.properties
    assert event.properties["note"] == "kept"
    stored(api, tenant.portal_id, body)  # counted again, stored once (same ids)
    assert len(stored_events(db)) == 1
    assert rejections(db, tenant.portal_id) == {
        ("no_such_event", "UNKNOWN_EVENT", ""): 2,
        (f"pe{tenant.portal_id}_deal_won", "NOT_A_CONTACT_EVENT", ""): 2,
        (demo, "INVALID_ENUMERATION_OPTION", "plan"): 2,
        (demo, "INVALID_NUMBER", "minutes"): 2,
    }
    [first, *_] = tracking_settings.rejected_completions(db, tenant.portal_id)
    assert first.count == 2 and first.last_seen >= first.first_seen
    assert {r.example for r in tracking_settings.rejected_completions(db, tenant.portal_id)} >= {
        "gold", "lots", PAGE["url"]
    }  # fmt: skip


def test_a_deleted_event_is_counted_as_unknown(
    api: TestClient, db: Database, tenant: Tenant, demo: str
) -> None:
    stored(api, tenant.portal_id, beacon(custom(demo, "a")))
    assert api.delete("/events/v3/event-definitions/watched_demo").status_code == 204
    stored(api, tenant.portal_id, beacon(custom(demo, "b")))
    assert [e.uuid for e in stored_events(db)] == []  # deleting removed the occurrences
    assert rejections(db, tenant.portal_id) == {(demo, "UNKNOWN_EVENT", ""): 1}


def test_identify_moves_earlier_anonymous_completions_to_the_contact(
    api: TestClient, db: Database, tenant: Tenant, demo: str
) -> None:
    stored(api, tenant.portal_id, beacon(custom(demo, "before")))
    assert [e.object_id for e in stored_events(db)] == [None]
    stored(api, tenant.portal_id, beacon(
        custom(demo, "after"), identify={"email": "Ada@Example.com"}
    ))  # fmt: skip
    [contact] = api.get("/crm/v3/objects/contacts").json()["results"]
    assert contact["properties"]["email"].lower() == "ada@example.com"
    params = {"objectType": "contact", "objectId": contact["id"]}
    body = api.get("/events/v3/events", params=params).json()
    assert sorted(e["id"] for e in body["results"]) == ["after", "before"]
    # A repeated identify neither creates nor moves anything.
    stored(api, tenant.portal_id, beacon(pageview("p"), identify={"email": "ada@example.com"}))
    assert count(db, crm_objects) == 1


def test_an_unreadable_email_is_counted_and_the_events_stored(
    api: TestClient, db: Database, tenant: Tenant, demo: str
) -> None:
    stored(api, tenant.portal_id, beacon(custom(demo, "a"), identify={"email": "not-an-email"}))
    assert [e.object_id for e in stored_events(db)] == [None]
    assert rejections(db, tenant.portal_id) == {("(identify)", "INVALID_EMAIL", ""): 1}


def test_a_repeated_id_is_stored_once(
    api: TestClient, db: Database, tenant: Tenant, demo: str
) -> None:
    body = beacon(pageview("p-1"), custom(demo, "e-1"))
    stored(api, tenant.portal_id, body)
    stored(api, tenant.portal_id, body)
    stored(api, tenant.portal_id, beacon(pageview("p-1"), custom(demo, "e-1"), custom(demo, "e-1")))
    assert [e.uuid for e in stored_events(db)] == ["e-1"]
    assert count(db, page_views) == 1


def test_a_time_more_than_a_day_ahead_is_stored_as_received(
    api: TestClient, db: Database, tenant: Tenant, demo: str
) -> None:
    ahead = custom(demo, "a")
    ahead["at"] = now_ms() + 2 * 86_400_000
    yesterday = custom(demo, "b")
    yesterday["at"] = now_ms() - 86_400_000
    stored(api, tenant.portal_id, beacon(ahead, yesterday))
    first, second = stored_events(db)
    assert abs(first.occurred_at - first.received_at) < 60_000
    assert second.occurred_at == yesterday["at"]


# --- the pixel ---------------------------------------------------------------------------


def pixel(client: TestClient, portal_id: int, data: str | None, **headers: str) -> httpx.Response:
    params = {"d": data} if data is not None else {}
    return client.get(f"/collect/{portal_id}.gif", params=params, headers=headers)


def encoded(body: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")


def test_the_pixel_stores_a_beacon_and_always_answers_a_gif(
    api: TestClient, db: Database, tenant: Tenant, demo: str
) -> None:
    r = pixel(api, tenant.portal_id, encoded(beacon(custom(demo, "px"))), Referer=f"{SITE}/a")
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/gif"
    assert r.content.startswith(b"GIF89a")
    assert [e.uuid for e in stored_events(db)] == ["px"]
    for data, status in [(None, 400), ("!!!", 400), (encoded([1]), 400), ("x" * 30_000, 400)]:
        r = pixel(api, tenant.portal_id, data)
        assert (r.status_code, r.content[:6]) == (status, b"GIF89a")
    assert pixel(api, 999_999, encoded(beacon(pageview("p")))).status_code == 404


def test_the_pixel_judges_the_site_by_its_referer(
    db: Database, client: TestClient, tenant: Tenant
) -> None:
    tracking_settings.update_tracking_settings(
        db, tenant.portal_id, allowed_domains="shop.example", consent_required=False
    )
    data = encoded(beacon(pageview("p")))
    assert pixel(client, tenant.portal_id, data, Referer="https://evil.example/").status_code == 403
    assert pixel(client, tenant.portal_id, data).status_code == 403
    assert pixel(client, tenant.portal_id, data, Referer=f"{SITE}/x").status_code == 200
    assert count(db, page_views) == 1


# --- who may send -------------------------------------------------------------------------


def test_only_sites_on_the_allowed_domains_may_send(
    client: TestClient, db: Database, tenant: Tenant
) -> None:
    saved = tracking_settings.update_tracking_settings(
        db, tenant.portal_id, allowed_domains="https://Example.com/\nshop.example\n",
        consent_required=True,
    )  # fmt: skip
    assert saved == tracking_settings.TrackingSettings(("example.com", "shop.example"), True)
    body = beacon(pageview("p"))
    answers = [
        ("https://www.example.com", 204),
        ("https://example.com:8443", 204),
        ("https://notexample.com", 403),
        ("null", 403),
        (None, 403),
    ]
    for origin, status in answers:
        r = post(client, tenant.portal_id, body, origin=origin)
        assert r.status_code == status, (origin, r.text)
        if status == 403:
            expect_error(r, 403, "FORBIDDEN")
            assert "Access-Control-Allow-Origin" not in r.headers
    r = post(client, tenant.portal_id, body, origin=None, headers={"Referer": f"{SITE}/page"})
    assert r.status_code == 204
    assert count(db, page_views) == 1


def test_preflight_answers_allowed_origins_only(
    client: TestClient, db: Database, tenant: Tenant
) -> None:
    tracking_settings.update_tracking_settings(
        db, tenant.portal_id, allowed_domains="shop.example", consent_required=False
    )
    path = f"/collect/{tenant.portal_id}"
    ask = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    r = client.options(path, headers={"Origin": SITE, **ask})
    assert r.status_code == 204
    assert r.headers["Access-Control-Allow-Origin"] == SITE
    assert "POST" in r.headers["Access-Control-Allow-Methods"]
    assert r.headers["Access-Control-Allow-Headers"] == "Content-Type"
    assert "Access-Control-Allow-Credentials" not in r.headers
    r = client.options(path, headers={"Origin": "https://evil.example", **ask})
    assert r.status_code == 403 and "Access-Control-Allow-Origin" not in r.headers
    assert client.options("/collect/999999", headers={"Origin": SITE, **ask}).status_code == 404


def test_any_site_may_send_when_no_domain_is_listed(
    client: TestClient, db: Database, tenant: Tenant
) -> None:
    r = post(client, tenant.portal_id, beacon(pageview("p")), origin="https://anything.example")
    assert r.status_code == 204
    assert r.headers["Access-Control-Allow-Origin"] == "https://anything.example"
    stored(client, tenant.portal_id, beacon(pageview("q")), origin=None)


@pytest.mark.parametrize("path", ["/collect/999999", "/collect/0", "/collect/99999999999999999999"])
def test_an_unknown_portal_is_404(client: TestClient, path: str) -> None:
    r = client.post(path, content=json.dumps(beacon(pageview("p"))), headers={"Origin": SITE})
    expect_error(r, 404, "OBJECT_NOT_FOUND")


def test_settings_refuse_lines_that_are_not_hosts(db: Database, tenant: Tenant) -> None:
    with pytest.raises(ValidationError) as caught:
        tracking_settings.update_tracking_settings(
            db, tenant.portal_id, allowed_domains="ok.example\nno way", consent_required=False
        )
    assert [e.in_ for e in caught.value.errors] == ["allowed_domains"]
    assert "no way" in caught.value.errors[0].message


def test_visitors_and_addresses_are_rate_limited(
    settings: Settings, db: Database, tenant: Tenant
) -> None:
    limited = replace(
        settings, collect_visitor_rate_per_second=2, collect_address_rate_per_second=3
    )
    with TestClient(create_app(limited, db), raise_server_exceptions=False) as client:

        def send(utk: str, event_id: str, *, site_known: bool = False) -> int:
            r = post(client, tenant.portal_id, beacon(pageview(event_id), utk=utk))
            if r.status_code == 429:
                expect_error(r, 429, "RATE_LIMITS")
                assert int(r.headers["Retry-After"]) >= 1
                # The page can read why only once its site was judged (not per address).
                allowed = r.headers.get("Access-Control-Allow-Origin")
                assert allowed == (SITE if site_known else None)
            return r.status_code

        assert [send(UTK, "a"), send(UTK, "b"), send(UTK, "c", site_known=True)] == [
            204,
            204,
            429,
        ]
        assert send(OTHER_UTK, "d") == 429  # the address has spent its three
        time.sleep(0.6)  # two a second per visitor, three per address
        assert send(OTHER_UTK, "e") == 204
    assert count(db, page_views) == 3


# --- bodies that are not beacons -------------------------------------------------------------


def test_a_body_over_one_mib_is_413(client: TestClient, tenant: Tenant) -> None:
    huge = beacon(custom("x", "a", blob="x" * (1024 * 1024)))
    r = post(client, tenant.portal_id, huge)
    expect_error(r, 413, "VALIDATION_ERROR")
    assert r.headers["Access-Control-Allow-Origin"] == SITE


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"\xff\xfe",
        b"[]",
        b"null",
        b'{"v": 1}',
        b"[" * 100_000,
        b'{"v":1,"utk":"0123456789abcdef0123456789abcdef","page":{"url":"x"},"events":"all"}',
        json.dumps(beacon(pageview("p"), v=2)).encode(),
        json.dumps(beacon(pageview("p"), utk="not-hex")).encode(),
        json.dumps(beacon(*[pageview(str(i)) for i in range(51)])).encode(),
        json.dumps(beacon({"kind": "event", "id": "a", "at": "yesterday", "name": "x"})).encode(),
        json.dumps(beacon(pageview("p"), page={"url": ["x"]})).encode(),
    ],
)
def test_a_body_that_is_not_a_beacon_is_400(
    client: TestClient, db: Database, tenant: Tenant, body: bytes
) -> None:
    r = post(client, tenant.portal_id, body)
    expect_error(r, 400, "VALIDATION_ERROR")
    assert count(db, page_views) == 0


@pytest.mark.parametrize(
    "properties",
    [
        {"nested": {"a": [1, {"b": None}]}, "list": [1, 2], "none": None},
        {"big": 10**30, "tiny": 1e-300, "neg": -0.0, "bool": False, "minutes": 1e300},
        {"": "empty name", "\x00": "nul name", "a\x00b": "x\x00y", "é" * 80: "ü" * 3000},
        {"plan": ["pro"], "minutes": {"n": 1}, "hs_page_url": 5},
        {f"K{i}": i for i in range(500)},
    ],
)
def test_any_property_values_are_stored_leniently(
    api: TestClient, db: Database, tenant: Tenant, demo: str, properties: dict[str, Any]
) -> None:
    stored(api, tenant.portal_id, beacon(custom(demo, "a", **properties)))
    assert [e.uuid for e in stored_events(db)] == ["a"]


def test_strange_text_is_stored_or_refused_never_a_500(
    api: TestClient, db: Database, tenant: Tenant, demo: str
) -> None:
    head = b'{"v":1,"utk":"0123456789abcdef0123456789abcdef","page":{"url":"https://a.example/'
    event = b'"events":[{"kind":"event","id":"%s","at":1767225600000,"name":"watched_demo",'
    odd = {"User-Agent": b"Mozilla/5.0 \xff\xfe (weird)"}
    lone_surrogates = (
        head
        + b'\\ud800?utm_source=\\udfff","language":"\\ud83d"},'
        + event % b"\\ud800"
        + b'"properties":{"\\ud800":"\\udc00x"}}]}'
    )
    expect_error(post(api, tenant.portal_id, lone_surrogates, headers=odd), 400, "VALIDATION_ERROR")
    huge_number = head + b'"},' + event % b"a" + b'"properties":{"n":1' + b"0" * 5000 + b"}}]}"
    expect_error(post(api, tenant.portal_id, huge_number, headers=odd), 400, "VALIDATION_ERROR")
    valid = (
        head + b'\\ud83d\\ude00?utm_source=\\u0000x","title":"\\u0000\\ud83d\\ude00",'
        b'"language":"\\u0000"},'
        + event % b"\\ud83d\\ude00"
        + b'"properties":{"\\u0000\\ud83d\\ude00":"\\u0000\\ud83d\\ude00"}}]}'
    )
    stored(api, tenant.portal_id, valid, headers=odd)
    [found] = stored_events(db)
    assert found.uuid == "\U0001f600"
    assert found.properties["\U0001f600"] == "\U0001f600"
    assert found.properties["hs_page_title"] == "\U0001f600"
