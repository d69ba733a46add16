"""Reading a collector beacon: its structure strictly (every problem listed), its page
texts leniently (cut, not refused)."""

from __future__ import annotations

from typing import Any

import pytest

from occur.domain.beacons import (
    MAX_EVENTS,
    Beacon,
    EventKind,
    Page,
    TrackedEvent,
    read_beacon,
)
from occur.errors import ValidationError

UTK = "0123456789abcdef0123456789abcdef"
AT = 1_767_225_600_000


def beacon(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "v": 1,
        "utk": UTK,
        "page": {"url": "https://shop.example/p?utm_source=ads", "title": "Shop",
                 "referrer": "https://google.com/", "language": "en-US",
                 "screenWidth": 1440, "screenHeight": 900},
        "events": [
            {"kind": "pageview", "id": "p-1", "at": AT},
            {"kind": "event", "id": "e-1", "at": AT, "name": "pe7_watched_demo",
             "properties": {"plan": "pro"}},
        ],
    }  # fmt: skip
    body.update(changes)
    return body


def problems(body: object) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        read_beacon(body)
    return [f"{e.in_}:{e.code}" for e in caught.value.errors]


def test_a_full_beacon_is_read() -> None:
    found = read_beacon(beacon(identify={"email": " Ada@Example.com "}))
    assert found == Beacon(
        utk=UTK,
        page=Page("https://shop.example/p?utm_source=ads", "Shop", "https://google.com/",
                  "en-US", 1440, 900),
        events=(
            TrackedEvent(EventKind.PAGEVIEW, "p-1", AT),
            TrackedEvent(EventKind.EVENT, "e-1", AT, "pe7_watched_demo", {"plan": "pro"}),
        ),
        email="Ada@Example.com",
    )  # fmt: skip


def test_every_structural_problem_is_listed_at_once() -> None:
    body = beacon(v=2, utk="ABC", page={"url": 5, "screenWidth": "wide"}, events=[
        {"kind": "click", "id": "", "at": "now"},
        {"kind": "event", "id": "x", "at": 1.5},
        "not an object",
    ])  # fmt: skip
    assert problems(body) == [
        "v:UNSUPPORTED_VERSION",
        "utk:INVALID_UTK",
        "page.url:INVALID_TYPE",
        "page.screenWidth:INVALID_TYPE",
        "events[0].kind:INVALID_KIND",
        "events[0].id:REQUIRED",
        "events[0].at:INVALID_TIME",
        "events[1].at:INVALID_TIME",
        "events[1].name:REQUIRED",
        "events[2]:INVALID_TYPE",
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ([], ["body:INVALID_TYPE"]),
        ("text", ["body:INVALID_TYPE"]),
        ({}, ["v:REQUIRED", "utk:REQUIRED", "page:REQUIRED", "events:REQUIRED"]),
        (beacon(events=[]), ["events:REQUIRED"]),
        (beacon(page=[]), ["page:INVALID_TYPE"]),
        (beacon(identify="ada@example.com"), ["identify:INVALID_TYPE"]),
        (beacon(v=True), ["v:INVALID_TYPE"]),
        (beacon(utk="0123456789abcdef0123456789abcde\n"), ["utk:INVALID_UTK"]),
        (beacon(events=[{"kind": "event", "id": "a", "at": AT, "name": "x",
                         "properties": ["a"]}]), ["events[0].properties:INVALID_TYPE"]),
        (beacon(events=[{"kind": "pageview", "id": "a\x00", "at": AT}]), ["events[0].id:INVALID"]),
        (beacon(events=[{"kind": "pageview", "id": "a" * 101, "at": AT}]),
         ["events[0].id:TOO_LONG"]),
        (beacon(events=[{"kind": "pageview", "id": "a", "at": 10**20}]),
         ["events[0].at:INVALID_TIME"]),
        (beacon(events=[{"kind": "pageview", "id": "a"}]), ["events[0].at:REQUIRED"]),
    ],
)  # fmt: skip
def test_a_body_that_is_not_a_beacon_is_refused(body: object, expected: list[str]) -> None:
    assert problems(body) == expected


def test_at_most_50_events() -> None:
    event = {"kind": "pageview", "id": "a", "at": AT}
    assert len(read_beacon(beacon(events=[event] * MAX_EVENTS)).events) == MAX_EVENTS
    assert problems(beacon(events=[event] * (MAX_EVENTS + 1))) == ["events:TOO_MANY_EVENTS"]


def test_page_texts_are_cut_and_nonsense_sizes_dropped() -> None:
    found = read_beacon(beacon(page={
        "url": "https://a.example/" + "x" * 2000, "title": "t\x00" * 300,
        "referrer": "r" * 2000, "language": "l" * 100, "screenWidth": -1,
        "screenHeight": 10**9,
    }))  # fmt: skip
    assert len(found.page.url) == 1024 and len(found.page.referrer) == 1024
    assert found.page.title == "t" * 256
    assert len(found.page.language) == 35
    assert (found.page.screen_width, found.page.screen_height) == (None, None)
    assert read_beacon(beacon(page={"url": "", "screenWidth": 1439.6})).page.screen_width == 1440


def test_page_fields_other_than_the_url_are_optional() -> None:
    assert read_beacon(beacon(page={"url": "https://a.example/"})).page == Page(
        "https://a.example/"
    )


def test_an_email_that_is_not_one_is_kept_aside_not_refused() -> None:
    found = read_beacon(beacon(identify={"email": "not an email"}))
    assert (found.email, found.unreadable_email) == (None, "not an email")
    assert read_beacon(beacon(identify={"email": "  "})).email is None
    assert read_beacon(beacon(identify={})).email is None
    assert read_beacon(beacon(identify={"email": 5})).unreadable_email == "a number"
    assert read_beacon(beacon(identify={"firstname": "Ada"})) == read_beacon(beacon())


def test_a_pageview_ignores_name_and_properties() -> None:
    event = {"kind": "pageview", "id": "a", "at": AT, "name": 5, "properties": "x"}
    assert read_beacon(beacon(events=[event])).events == (
        TrackedEvent(EventKind.PAGEVIEW, "a", AT),
    )


def test_a_float_time_that_is_whole_is_read() -> None:
    event = {"kind": "pageview", "id": "a", "at": float(AT)}
    assert read_beacon(beacon(events=[event])).events[0].at == AT
