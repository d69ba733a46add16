"""A beacon: what the tracking script sends the collector (docs/tracking.md).

Reading is strict about the *structure* (a body that is not a beacon is a 400, with
every problem listed) and lenient about *content*: page texts that are too long are cut
and nonsense screen sizes are dropped, since a page cannot fix what its browser reports.
Event names and property values are judged later, per completion (collection.py), so
that one bad event never costs the others.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from occur.domain.completions import MAX_EVENT_NAME_CHARS, MAX_UUID_CHARS
from occur.domain.crm import normalise_email
from occur.domain.fields import NUL, FieldReader, json_type_name
from occur.domain.properties import MAX_LONG_VALUE_CHARS, MAX_VALUE_CHARS
from occur.domain.timestamps import MAX_DATETIME_MS, MIN_DATETIME_MS
from occur.errors import collect

BEACON_VERSION = 1
MAX_EVENTS = 50
# BCP 47 tags are at most 35 characters in practice (RFC 5646 §4.4.1).
MAX_LANGUAGE_CHARS = 35
MAX_SCREEN_PIXELS = 100_000
# The hubspotutk cookie: 32 lowercase hexadecimal characters, as HubSpot's script sets it.
UTK_PATTERN = re.compile(r"[0-9a-f]{32}")

UNSUPPORTED_VERSION = "UNSUPPORTED_VERSION"
INVALID_UTK = "INVALID_UTK"
INVALID_KIND = "INVALID_KIND"
INVALID_TIME = "INVALID_TIME"
TOO_MANY_EVENTS = "TOO_MANY_EVENTS"


class EventKind(StrEnum):
    PAGEVIEW = "pageview"
    EVENT = "event"


_KINDS = {kind.value: kind for kind in EventKind}


@dataclass(frozen=True, slots=True)
class Page:
    """The page the beacon was sent from; texts already cut to what is stored."""

    url: str
    title: str = ""
    referrer: str = ""
    language: str = ""
    screen_width: int | None = None
    screen_height: int | None = None


@dataclass(frozen=True, slots=True)
class TrackedEvent:
    """One page view or custom event; `name` and `properties` only for events."""

    kind: EventKind
    id: str
    at: int
    name: str = ""
    properties: Mapping[str, object] | None = None


@dataclass(frozen=True, slots=True)
class Beacon:
    """A structurally valid beacon. `email` is the identified address, when it is one;
    `unreadable_email` what `identify` sent when it is not (counted, not refused)."""

    utk: str
    page: Page
    events: tuple[TrackedEvent, ...]
    email: str | None = None
    unreadable_email: str | None = None


def read_beacon(body: object) -> Beacon:
    """The beacon in a decoded JSON body, or one ValidationError listing every problem."""
    r = FieldReader()
    obj = r.obj(body, "body")
    collect(r.problems)
    assert obj is not None
    version = r.get(obj, "v", int, "v", required=True)
    if version is not None and version != BEACON_VERSION:
        r.add(
            "v", f"This collector reads beacons of version {BEACON_VERSION}.", UNSUPPORTED_VERSION
        )
    utk = r.text(obj, "utk", "utk", required=True)
    if utk is not None and not UTK_PATTERN.fullmatch(utk):
        r.add("utk", "utk must be 32 lowercase hexadecimal characters.", INVALID_UTK)
    page = _page(r, obj.get("page"))
    email, unreadable = _identify(r, obj.get("identify"))
    events = _events(r, obj)
    collect(r.problems)
    assert utk is not None and page is not None
    return Beacon(utk, page, events, email, unreadable)


def _page(r: FieldReader, raw: object) -> Page | None:
    if raw is None:
        r.add("page", "page is required.", "REQUIRED")
        return None
    page = r.obj(raw, "page")
    if page is None:
        return None
    url = r.get(page, "url", str, "page.url", required=True)
    title = r.get(page, "title", str, "page.title")
    referrer = r.get(page, "referrer", str, "page.referrer")
    language = r.get(page, "language", str, "page.language")
    width = _pixels(r, page, "screenWidth")
    height = _pixels(r, page, "screenHeight")
    return Page(
        url=_cut(url, MAX_LONG_VALUE_CHARS),
        title=_cut(title, MAX_VALUE_CHARS),
        referrer=_cut(referrer, MAX_LONG_VALUE_CHARS),
        language=_cut(language, MAX_LANGUAGE_CHARS),
        screen_width=width,
        screen_height=height,
    )


def _pixels(r: FieldReader, page: Mapping[str, Any], key: str) -> int | None:
    """A screen size in whole pixels; a fraction is rounded, nonsense is dropped."""
    raw = page.get(key)
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        path = f"page.{key}"
        r.add(path, f"{path} must be a number, not {json_type_name(raw)}.", "INVALID_TYPE")
        return None
    if not math.isfinite(raw) or not 0 < raw <= MAX_SCREEN_PIXELS:
        return None
    return round(raw)


def _identify(r: FieldReader, raw: object) -> tuple[str | None, str | None]:
    if raw is None:
        return None, None
    identify = r.obj(raw, "identify")
    if identify is None:
        return None, None
    raw = identify.get("email")
    if raw is None or raw == "":
        return None, None
    # What a page passed to identify() is not the beacon's structure: a value that is
    # not an email is counted, and the beacon's events are stored all the same.
    text = raw if isinstance(raw, str) else json_type_name(raw)
    if not text.strip():
        return None, None
    email = normalise_email(text)
    if email is None or NUL in email:
        return None, _cut(text, MAX_VALUE_CHARS)
    return email, None


def _events(r: FieldReader, obj: Mapping[str, Any]) -> tuple[TrackedEvent, ...]:
    raw = r.get(obj, "events", list, "events", required=True)
    if raw is None:
        return ()
    if not raw:
        r.add("events", "events must hold at least one event.", "REQUIRED")
    elif len(raw) > MAX_EVENTS:
        r.add(
            "events",
            f"A beacon holds at most {MAX_EVENTS} events; this one has {len(raw)}.",
            TOO_MANY_EVENTS,
        )
        return ()
    found = (_event(r, item, f"events[{i}]") for i, item in enumerate(raw))
    return tuple(event for event in found if event is not None)


def _event(r: FieldReader, raw: object, path: str) -> TrackedEvent | None:
    obj = r.obj(raw, path)
    if obj is None:
        return None
    kind_text = r.get(obj, "kind", str, f"{path}.kind", required=True)
    kind = _KINDS.get(kind_text) if kind_text is not None else None
    if kind_text is not None and kind is None:
        r.add(f"{path}.kind", f"{path}.kind must be pageview or event.", INVALID_KIND)
    event_id = r.text(
        obj, "id", f"{path}.id", required=True, allow_empty=False, max_chars=MAX_UUID_CHARS
    )
    at = _at(r, obj, f"{path}.at")
    name, properties = "", None
    if kind is EventKind.EVENT:
        name = (
            r.text(
                obj,
                "name",
                f"{path}.name",
                required=True,
                allow_empty=False,
                max_chars=MAX_EVENT_NAME_CHARS,
            )
            or ""
        )
        properties = r.get(obj, "properties", dict, f"{path}.properties") or {}
    if kind is None or event_id is None or at is None or (kind is EventKind.EVENT and not name):
        return None
    return TrackedEvent(kind, event_id, at, name.strip(), properties)


def _at(r: FieldReader, obj: Mapping[str, Any], path: str) -> int | None:
    """Epoch milliseconds, as the browser's Date.now() gives them."""
    raw = obj.get("at")
    if raw is None:
        r.add(path, f"{path} is required.", "REQUIRED")
        return None
    whole = isinstance(raw, int) or (isinstance(raw, float) and raw.is_integer())
    if isinstance(raw, bool) or not whole:
        r.add(path, f"{path} must be epoch milliseconds (a whole number).", INVALID_TIME)
        return None
    assert isinstance(raw, int | float)
    if not MIN_DATETIME_MS <= raw <= MAX_DATETIME_MS:
        r.add(path, f"{path} must fall within the years 1000 to 9999.", INVALID_TIME)
        return None
    return int(raw)


def _cut(text: str | None, limit: int) -> str:
    return (text or "").replace(NUL, "")[:limit]
