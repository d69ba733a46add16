"""POST /crm/v3/objects/{type}/search: what a valid search request is.

Filter groups are ORed, the filters of a group ANDed. Filter values arrive as strings
(or JSON numbers) and are normalised here by the property's kind, so the store only
compares: text as text (case-insensitively), numbers as floats, datetimes as epoch ms.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from occur.domain.crm import (
    INVALID_DATE,
    INVALID_NUMBER,
    MAX_VALUE_CHARS,
    PROPERTY_DOESNT_EXIST,
    normalise_number,
    selection,
    wire_text,
)
from occur.domain.fields import NUL, FieldReader
from occur.domain.objects import ObjectType, ValueKind
from occur.domain.timestamps import ms_from_text
from occur.errors import collect

DEFAULT_LIMIT = 10
MAX_LIMIT = 200  # HubSpot's search page limit
MAX_FILTER_GROUPS = 6
MAX_FILTERS = 18  # across all groups, as HubSpot counts them
MAX_VALUES = 100  # IN / NOT_IN
MAX_SORTS = 5
MAX_QUERY_CHARS = 3000
MAX_OFFSET = 2**31 - 1
INVALID_OPERATOR = "INVALID_OPERATOR"


class Operator(StrEnum):
    EQ = "EQ"
    NEQ = "NEQ"
    LT = "LT"
    LTE = "LTE"
    GT = "GT"
    GTE = "GTE"
    BETWEEN = "BETWEEN"
    IN = "IN"
    NOT_IN = "NOT_IN"
    HAS_PROPERTY = "HAS_PROPERTY"
    NOT_HAS_PROPERTY = "NOT_HAS_PROPERTY"
    CONTAINS_TOKEN = "CONTAINS_TOKEN"
    NOT_CONTAINS_TOKEN = "NOT_CONTAINS_TOKEN"


_NO_VALUE = {Operator.HAS_PROPERTY, Operator.NOT_HAS_PROPERTY}
_LISTS = {Operator.IN, Operator.NOT_IN}
_ORDERED = {Operator.LT, Operator.LTE, Operator.GT, Operator.GTE, Operator.BETWEEN}
_TOKENS = {Operator.CONTAINS_TOKEN, Operator.NOT_CONTAINS_TOKEN}
_TEXT_KINDS = {ValueKind.STRING, ValueKind.ENUMERATION}
_DIRECTIONS = {"ASCENDING": False, "ASC": False, "DESCENDING": True, "DESC": True}

Comparable = str | float | int  # text, number, epoch ms


@dataclass(frozen=True)
class Filter:
    property_name: str
    kind: ValueKind
    operator: Operator
    values: tuple[Comparable, ...]  # one, two (BETWEEN), many (IN) or none


@dataclass(frozen=True)
class Sort:
    property_name: str
    kind: ValueKind
    descending: bool


@dataclass(frozen=True)
class SearchRequest:
    groups: tuple[tuple[Filter, ...], ...]
    sorts: tuple[Sort, ...]
    query: str | None
    limit: int
    offset: int
    properties: tuple[str, ...]


def token_pattern(value: str) -> str:
    """A LIKE pattern (escape `\\`) matching a whole space-separated word of
    ` {text} `, case-folded; `*` in the value is a wildcard, as in HubSpot."""
    escaped = re.sub(r"([\\%_])", r"\\\1", value.lower()).replace("*", "%")
    return f"% {escaped} %"


def read_search(body: object, object_type: ObjectType) -> SearchRequest:
    r = FieldReader()
    obj = r.obj(body, "body")
    collect(r.problems)
    assert obj is not None
    groups = _read_groups(r, obj, object_type)
    sorts = _read_sorts(r, obj, object_type)
    query = r.text(obj, "query", "query", max_chars=MAX_QUERY_CHARS)
    limit = r.get(obj, "limit", int, "limit")
    if limit is not None and not 1 <= limit <= MAX_LIMIT:
        r.add("limit", f"limit must be between 1 and {MAX_LIMIT}; got {limit}.", "INVALID")
    offset = _read_after(r, obj.get("after"))
    names = _read_names(r, obj)
    collect(r.problems)
    return SearchRequest(
        groups=groups,
        sorts=sorts,
        query=query.strip() or None if query else None,
        limit=limit or DEFAULT_LIMIT,
        offset=offset,
        properties=selection(object_type, names),
    )


def _read_groups(
    r: FieldReader, obj: Mapping[str, Any], object_type: ObjectType
) -> tuple[tuple[Filter, ...], ...]:
    raw = r.get(obj, "filterGroups", list, "filterGroups") or []
    if len(raw) > MAX_FILTER_GROUPS:
        r.add("filterGroups", f"At most {MAX_FILTER_GROUPS} filterGroups.", "TOO_MANY_FILTERS")
        return ()
    groups: list[tuple[Filter, ...]] = []
    count = 0
    for g, raw_group in enumerate(raw):
        path = f"filterGroups[{g}]"
        group = r.obj(raw_group, path)
        filters = r.get(group, "filters", list, f"{path}.filters") if group is not None else None
        found: list[Filter] = []
        for f, raw_filter in enumerate(filters or []):
            count += 1
            checked = r.obj(raw_filter, f"{path}.filters[{f}]")
            if checked is not None:
                parsed = _read_filter(r, checked, object_type, f"{path}.filters[{f}]")
                if parsed is not None:
                    found.append(parsed)
        groups.append(tuple(found))
    if count > MAX_FILTERS:
        r.add("filterGroups", f"At most {MAX_FILTERS} filters in all groups.", "TOO_MANY_FILTERS")
    return tuple(groups)


def _read_filter(
    r: FieldReader, obj: Mapping[str, Any], object_type: ObjectType, path: str
) -> Filter | None:
    name = r.text(obj, "propertyName", f"{path}.propertyName", required=True)
    raw_operator = r.text(obj, "operator", f"{path}.operator", required=True)
    kind = _known(r, object_type, name, f"{path}.propertyName")
    operator = None
    if raw_operator is not None:
        if raw_operator.upper() in Operator.__members__:
            operator = Operator(raw_operator.upper())
        else:
            r.add(
                f"{path}.operator",
                f"Unknown operator {raw_operator!r}; use one of {', '.join(Operator)}.",
                INVALID_OPERATOR,
            )
    if kind is None or operator is None or name is None:
        return None
    if operator in _ORDERED and kind in _TEXT_KINDS:
        message = f"{operator} compares numbers and dates; {name} is a text property."
        r.add(f"{path}.operator", message, INVALID_OPERATOR)
        return None
    if operator in _TOKENS and kind not in _TEXT_KINDS:
        message = f"{operator} searches text; {name} is a {kind} property."
        r.add(f"{path}.operator", message, INVALID_OPERATOR)
        return None
    values = _read_values(r, obj, operator, kind, path)
    return None if values is None else Filter(name, kind, operator, values)


def _read_values(
    r: FieldReader, obj: Mapping[str, Any], operator: Operator, kind: ValueKind, path: str
) -> tuple[Comparable, ...] | None:
    if operator in _NO_VALUE:
        return ()
    if operator in _LISTS:
        raw = r.get(obj, "values", list, f"{path}.values", required=True)
        if raw is not None and not 1 <= len(raw) <= MAX_VALUES:
            r.add(f"{path}.values", f"values must hold 1 to {MAX_VALUES} values.", "INVALID")
            return None
        fields = [(v, f"{path}.values[{i}]") for i, v in enumerate(raw or [])]
    else:
        fields = [(obj.get("value"), f"{path}.value")]
        if operator is Operator.BETWEEN:
            fields.append((obj.get("highValue"), f"{path}.highValue"))
    before = len(r.problems)
    values = [_comparable(r, value, kind, where) for value, where in fields]
    if len(r.problems) > before or not fields:
        return None
    return tuple(v for v in values if v is not None)


def _comparable(r: FieldReader, value: object, kind: ValueKind, where: str) -> Comparable | None:
    text = wire_text(r, value, where)
    if text is None:
        if value is None:
            r.add(where, f"{where} is required.", "REQUIRED")
        return None
    if NUL in text or len(text) > MAX_VALUE_CHARS:
        r.add(where, f"{where} must be text without U+0000, at most {MAX_VALUE_CHARS} chars.")
        return None
    if kind is ValueKind.NUMBER:
        number = normalise_number(text)
        if number is None:
            r.add(where, f"{where} must be a number; got {text!r}.", INVALID_NUMBER)
            return None
        return float(number)
    if kind is ValueKind.DATETIME:
        ms = ms_from_text(text)
        if ms is None:
            r.add(where, f"{where} must be epoch milliseconds or ISO-8601.", INVALID_DATE)
        return ms
    return text


def _read_sorts(
    r: FieldReader, obj: Mapping[str, Any], object_type: ObjectType
) -> tuple[Sort, ...]:
    raw = r.get(obj, "sorts", list, "sorts") or []
    if len(raw) > MAX_SORTS:
        r.add("sorts", f"At most {MAX_SORTS} sorts.", "INVALID")
        return ()
    sorts: list[Sort] = []
    for i, item in enumerate(raw):
        path = f"sorts[{i}]"
        parsed = _sort_parts(r, item, path)
        if parsed is None:
            continue
        name, direction = parsed
        kind = _known(r, object_type, name, f"{path}.propertyName")
        descending = _DIRECTIONS.get(direction.upper())
        if descending is None:
            r.add(
                f"{path}.direction",
                f"direction must be ASCENDING or DESCENDING; got {direction!r}.",
            )
        if kind is not None and descending is not None:
            sorts.append(Sort(name, kind, descending))
    return tuple(sorts)


def _sort_parts(r: FieldReader, item: object, path: str) -> tuple[str, str] | None:
    """`{propertyName, direction}`, that object as a JSON string, `name` or `-name`."""
    if isinstance(item, str) and item.strip().startswith("{"):
        try:
            item = json.loads(item)
        except ValueError:
            r.add(path, f"{path} is not valid JSON.", "INVALID")
            return None
    if isinstance(item, str):
        name = item.strip()
        return (name[1:], "DESCENDING") if name.startswith("-") else (name, "ASCENDING")
    checked = r.obj(item, path)
    if checked is None:
        return None
    property_name = r.text(checked, "propertyName", f"{path}.propertyName", required=True)
    direction = r.text(checked, "direction", f"{path}.direction") or "ASCENDING"
    return None if property_name is None else (property_name, direction)


def _known(
    r: FieldReader, object_type: ObjectType, name: str | None, path: str
) -> ValueKind | None:
    if name is None:
        return None
    kind = object_type.properties.get(name)
    if kind is None:
        message = f"Property {name!r} does not exist on {object_type.plural}."
        r.add(path, message, PROPERTY_DOESNT_EXIST)
    return kind


def _read_after(r: FieldReader, raw: object) -> int:
    """The offset cursor of `paging.next.after` (a string of digits; a number is fine)."""
    if raw is None or raw == "":
        return 0
    text = str(raw) if isinstance(raw, int) and not isinstance(raw, bool) else raw
    if isinstance(text, str) and re.fullmatch(r"[0-9]{1,10}", text) and int(text) <= MAX_OFFSET:
        return int(text)
    r.add("after", f"after is not a paging cursor this server issued: {raw!r}.", "INVALID")
    return 0


def _read_names(r: FieldReader, obj: Mapping[str, Any]) -> Sequence[str]:
    raw = r.get(obj, "properties", list, "properties") or []
    names: list[str] = []
    for i, name in enumerate(raw):
        if isinstance(name, str):
            names.append(name)
        else:
            r.add(f"properties[{i}]", f"properties[{i}] must be a string.", "INVALID_TYPE")
    return names
