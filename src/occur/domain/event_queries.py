"""What a `GET /events/v3/events` query asks for, and the cursors that page through it.

HubSpot's read API takes its filters as query parameters, some of them with the filter's
subject in the parameter's own name (`property.plan=pro`, `objectProperty.email=…`), so
the rules here read the raw (name, value) pairs rather than a fixed set of fields. Every
problem is collected with the parameter's name as its `in`, as the JSON validators do.

Paging cursors are in event_cursors.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from occur.domain.crm import EMAIL, MAX_EMAIL_CHARS, MAX_OBJECT_ID, OBJECT_ID
from occur.domain.definitions import EventDefinition, fully_qualified_name
from occur.domain.event_cursors import Position, decode_cursor
from occur.domain.fields import NUL
from occur.domain.names import name_problem
from occur.domain.objects import CONTACT, OBJECT_TYPES, ObjectType, find_object_type
from occur.domain.occurrences import InvalidValue, coerce_value
from occur.domain.timestamps import ms_from_text
from occur.errors import FieldError, collect

DEFAULT_LIMIT = 20
MAX_LIMIT = 1_000
MAX_IDS = 1_000
PROPERTY_PREFIX = "property."
OBJECT_PROPERTY_PREFIX = "objectProperty."
# Parameters that take one value; the list ones (id, sort, properties) take many.
SINGLE = ("objectType", "objectId", "eventType", "occurredAfter", "occurredBefore", "limit")
CURSORS = ("after", "before")
LISTS = ("id", "sort", "properties")

_ASCENDING = frozenset({"ASCENDING", "ASC", "OCCURREDAT"})
_DESCENDING = frozenset({"DESCENDING", "DESC", "-OCCURREDAT"})
_DIGITS = re.compile(r"[0-9]{1,19}")
# A '+' of a UTC offset that a client did not percent-encode arrives as a space.
_SPACED_OFFSET = re.compile(r"^(.*[0-9]) ([0-9]{2}(?::?[0-9]{2})?)$")


@dataclass(frozen=True)
class EventQuery:
    """One validated read. Times are epoch ms: `occurred_after` inclusive, `occurred_before`
    exclusive, so consecutive windows neither overlap nor leave a gap."""

    event_type: str | None
    object_type: ObjectType | None
    object_id: int | None
    email: str | None  # objectProperty.email, lowercased: the contact it names
    occurred_after: int | None
    occurred_before: int | None
    property_values: tuple[tuple[str, str], ...]  # (lowercased name, value as sent)
    ids: tuple[str, ...]
    properties: frozenset[str] | None  # the names to return; None returns all
    newest_first: bool
    limit: int
    after: Position | None
    before: Position | None

    @property
    def names_a_record(self) -> bool:
        return self.object_id is not None or self.email is not None


def read_event_query(params: Iterable[tuple[str, str]]) -> EventQuery:
    """Validate the query string of a read; one ValidationError lists every problem."""
    grouped: dict[str, list[str]] = {}
    for name, value in params:
        grouped.setdefault(name, []).append(value)
    reader = QueryReader(grouped)
    object_type = reader.object_type()
    object_id, email = reader.record(object_type)
    event_type = reader.text("eventType")
    query = EventQuery(
        event_type=event_type,
        object_type=object_type,
        object_id=object_id,
        email=email,
        occurred_after=reader.time("occurredAfter"),
        occurred_before=reader.time("occurredBefore"),
        property_values=reader.property_values(),
        ids=reader.ids(),
        properties=reader.projection(),
        newest_first=reader.newest_first(),
        limit=reader.limit(),
        after=reader.cursor("after"),
        before=reader.cursor("before"),
    )
    if query.after is not None and query.before is not None:
        reader.add("before", "Send after or before, not both.", "INVALID")
    if event_type is None and not query.names_a_record and not reader.problems:
        reader.add(
            "eventType",
            "Name an event type (eventType) or a record (objectType with objectId or "
            "objectProperty.email): occur does not read every occurrence of a portal at once.",
            "REQUIRED",
        )
    collect(reader.problems)
    return query


def event_name_in_portal(portal_id: int, event_type: str) -> str | None:
    """The short name an eventType names in this portal; None when it is another portal's
    (or a HubSpot `e_…`/app `ae…` type, which occur does not record)."""
    prefix = fully_qualified_name(portal_id, "")
    if not event_type.startswith(prefix):
        return None
    name = event_type[len(prefix) :]
    return name if name_problem(name) is None else None


def filter_value(definition: EventDefinition | None, name: str, raw: str) -> str:
    """The stored text a `property.{name}` filter value stands for.

    With the event type known, the value is read as its property's type, the way `send`
    stores it (`1500.00` finds a number stored as `1500`, `TRUE` a bool stored as `true`).
    A value that is not one of that type is compared as sent: an enumeration option that
    was removed later is still found in the occurrences that hold it.
    """
    spec = definition.property_named(name) if definition is not None else None
    if spec is None:
        return raw
    try:
        return coerce_value(spec, raw)
    except InvalidValue:
        return raw


class QueryReader:
    """Reads grouped query-string parameters one by one, recording each problem under its
    name, so that one ValidationError lists them all (the read API, the Analyze tab)."""

    def __init__(self, grouped: dict[str, list[str]]) -> None:
        self.grouped = grouped
        self.problems: list[FieldError] = []

    def add(self, name: str, message: str, code: str) -> None:
        self.problems.append(FieldError(message, in_=name, code=code))

    def one(self, name: str) -> str | None:
        """The value of a one-value parameter; empty counts as absent."""
        values = {v for v in self.grouped.get(name, []) if v != ""}
        if not values:
            return None
        if len(values) > 1:
            self.add(name, f"{name} was given more than once with different values.", "INVALID")
            return None
        (value,) = values
        if NUL in value:
            self.add(name, f"{name} must not contain the NUL character (U+0000).", "INVALID")
            return None
        return value

    def many(self, name: str) -> list[str]:
        """A list parameter, sent repeated (`id=a&id=b`) or comma-joined (`id=a,b`)."""
        found: list[str] = []
        for raw in self.grouped.get(name, []):
            found.extend(part.strip() for part in raw.split(",") if part.strip())
        if any(NUL in value for value in found):
            self.add(name, f"{name} must not contain the NUL character (U+0000).", "INVALID")
            return []
        return found

    def text(self, name: str) -> str | None:
        value = self.one(name)
        return value.strip() if value is not None else None

    def object_type(self) -> ObjectType | None:
        raw = self.text("objectType")
        if raw is None:
            return None
        found = find_object_type(raw)
        if found is None:
            known = ", ".join(t.primary_object.lower() for t in OBJECT_TYPES)
            self.add("objectType", f"objectType must be one of {known}; got {raw!r}.", "INVALID")
        return found

    def record(self, object_type: ObjectType | None) -> tuple[int | None, str | None]:
        """objectId and objectProperty.{name}: the one record the query is about."""
        object_id = self.object_id("objectId", self.text("objectId"))
        email: str | None = None
        for key in sorted(k for k in self.grouped if k.startswith(OBJECT_PROPERTY_PREFIX)):
            name = key[len(OBJECT_PROPERTY_PREFIX) :]
            value = self.text(key)
            if value is None:
                continue
            if name == OBJECT_ID:
                by_property = self.object_id(key, value)
                if object_id is not None and by_property not in (None, object_id):
                    self.add(key, f"{key} and objectId name different records.", "INVALID")
                object_id = by_property if by_property is not None else object_id
            elif name == EMAIL and object_type in (None, CONTACT):
                email = self.email(key, value)
            else:
                self.add(key, _object_property_problem(key, object_type), "INVALID")
        given = object_id is not None or email is not None
        if given and object_type is None and not self._has_problem("objectType"):
            self.add(
                "objectType",
                "objectType is required with objectId or objectProperty.*, "
                "e.g. objectType=contact.",
                "REQUIRED",
            )
        return object_id, email

    def object_id(self, name: str, raw: str | None) -> int | None:
        if raw is None:
            return None
        if not _DIGITS.fullmatch(raw) or not 1 <= int(raw) <= MAX_OBJECT_ID:
            self.add(
                name,
                f"{name} must be a record id (a positive whole number); got {raw!r}.",
                "INVALID",
            )
            return None
        return int(raw)

    def email(self, name: str, raw: str) -> str | None:
        if len(raw) > MAX_EMAIL_CHARS or "@" not in raw:
            self.add(name, f"{name} must be an email address; got {raw[:80]!r}.", "INVALID")
            return None
        return raw.lower()

    def time(self, name: str) -> int | None:
        raw = self.text(name)
        if raw is None:
            return None
        found = ms_from_text(raw)
        spaced = _SPACED_OFFSET.match(raw)
        if found is None and spaced is not None:
            found = ms_from_text(f"{spaced.group(1)}+{spaced.group(2)}")
        if found is None:
            self.add(
                name,
                f"{name} must be an ISO-8601 date-time (2024-01-31T12:00:00Z) or epoch "
                f"milliseconds, within years 1000 to 9999; got {raw[:80]!r}.",
                "INVALID_DATETIME",
            )
        return found

    def property_values(self) -> tuple[tuple[str, str], ...]:
        chosen: dict[str, str] = {}
        keys = sorted(k for k in self.grouped if k.startswith(PROPERTY_PREFIX))
        for key in keys:
            name = key[len(PROPERTY_PREFIX) :].lower()
            problem = name_problem(name)
            if problem is not None:
                self.add(key, _property_name_problem(key, problem), "INVALID")
                continue
            values = set(self.grouped[key])
            if any(NUL in v for v in values):
                self.add(key, f"{key} must not contain the NUL character (U+0000).", "INVALID")
                continue
            if name in chosen:
                values.add(chosen[name])
            if len(values) > 1:
                self.add(key, f"{key} was given more than once with different values.", "INVALID")
                continue
            chosen[name] = values.pop()
        return tuple(sorted(chosen.items()))

    def ids(self) -> tuple[str, ...]:
        found = list(dict.fromkeys(self.many("id")))
        if len(found) > MAX_IDS:
            self.add("id", f"id takes at most {MAX_IDS} values; got {len(found)}.", "TOO_MANY")
            return ()
        return tuple(found)

    def projection(self) -> frozenset[str] | None:
        names = self.many("properties")
        return frozenset(n.lower() for n in names) if names else None

    def newest_first(self) -> bool:
        orders: set[bool] = set()
        for raw in self.many("sort"):
            key = raw.upper()
            if key in _ASCENDING or key in _DESCENDING:
                orders.add(key in _DESCENDING)
            else:
                self.add(
                    "sort",
                    f"sort must be ASCENDING or DESCENDING (or occurredAt, -occurredAt); "
                    f"got {raw[:80]!r}.",
                    "INVALID",
                )
        if len(orders) > 1:
            self.add("sort", "sort asks for both ascending and descending order.", "INVALID")
        return orders != {False}

    def limit(self) -> int:
        raw = self.text("limit")
        if raw is None:
            return DEFAULT_LIMIT
        if not re.fullmatch(r"[+-]?[0-9]{1,12}", raw) or not 1 <= int(raw) <= MAX_LIMIT:
            self.add(
                "limit",
                f"limit must be a whole number from 1 to {MAX_LIMIT}; got {raw[:80]!r}.",
                "INVALID",
            )
            return DEFAULT_LIMIT
        return int(raw)

    def cursor(self, name: str) -> Position | None:
        raw = self.one(name)
        if raw is None:
            return None
        position = decode_cursor(raw)
        if position is None:
            self.add(
                name,
                f"{name} is not a paging cursor this server issued; use paging.next.after "
                "or paging.prev.before from a previous answer.",
                "INVALID",
            )
        return position

    def _has_problem(self, name: str) -> bool:
        return any(p.in_ == name for p in self.problems)


def _object_property_problem(key: str, object_type: ObjectType | None) -> str:
    if key == OBJECT_PROPERTY_PREFIX + "{propname}":
        return (
            f"{key} is the placeholder of HubSpot's SDK, not a property name: send the "
            "filter as objectProperty.email=… (raw HTTP)."
        )
    if key == OBJECT_PROPERTY_PREFIX + EMAIL:
        kind = object_type.singular if object_type is not None else "record"
        return f"{key} identifies contacts only; objectType names a {kind}."
    return (
        f"{key}: a record is identified by a unique property, objectProperty.email "
        "(contacts) or objectProperty.hs_object_id."
    )


def _property_name_problem(key: str, problem: str) -> str:
    if key == PROPERTY_PREFIX + "{propname}":
        return (
            f"{key} is the placeholder of HubSpot's SDK, not a property name: send the "
            "filter as property.NAME=value (raw HTTP)."
        )
    return f"{key} does not name an event property: {problem}"
