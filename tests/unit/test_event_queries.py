"""Read-query rules without a server: parsing, cursors, filter values."""

from __future__ import annotations

import pytest

from occur.domain.definitions import EventDefinition
from occur.domain.event_cursors import Position, decode_cursor, encode_cursor
from occur.domain.event_queries import (
    DEFAULT_LIMIT,
    event_name_in_portal,
    filter_value,
    read_event_query,
)
from occur.domain.objects import CONTACT
from occur.domain.properties import PropertySpec, PropertyType
from occur.domain.timestamps import MAX_DATETIME_MS, MIN_DATETIME_MS
from occur.errors import ValidationError


def test_defaults() -> None:
    q = read_event_query([("eventType", "pe1_x")])
    assert (q.limit, q.newest_first, q.after, q.before) == (DEFAULT_LIMIT, True, None, None)
    assert (q.object_type, q.object_id, q.email, q.properties) == (None, None, None, None)
    assert q.property_values == ()
    assert q.ids == ()


def test_a_full_query() -> None:
    cursor = encode_cursor(Position(5, 6))
    q = read_event_query(
        [
            ("objectType", "Contacts"),
            ("objectProperty.email", " Ada@Example.com "),
            ("property.Plan", "pro"),
            ("property.city", "new york"),
            ("id", "a,b"),
            ("id", "a"),
            ("sort", "occurredAt"),
            ("limit", "1000"),
            ("occurredAfter", "1"),
            ("occurredBefore", "1970-01-01T00:00:00.002Z"),
            ("after", cursor),
            ("properties", "Plan"),
        ]
    )
    assert q.object_type is CONTACT
    assert q.email == "ada@example.com"
    assert q.property_values == (("city", "new york"), ("plan", "pro"))
    assert q.ids == ("a", "b")
    assert (q.newest_first, q.limit, q.occurred_after, q.occurred_before) == (False, 1000, 1, 2)
    assert q.after == Position(5, 6)
    assert q.properties == frozenset({"plan"})


def test_every_problem_names_its_parameter() -> None:
    with pytest.raises(ValidationError) as caught:
        read_event_query(
            [("objectId", "1"), ("limit", "0"), ("sort", "x"), ("property.{propname}", "v")]
        )
    assert [e.in_ for e in caught.value.errors] == [
        "objectType",
        "property.{propname}",
        "sort",
        "limit",
    ]


@pytest.mark.parametrize(
    "position",
    [
        Position(0, 0),
        Position(MIN_DATETIME_MS, 1),
        Position(MAX_DATETIME_MS, 2**63 - 1),
        Position(1_767_225_600_000, 123_456),
    ],
)
def test_cursors_round_trip(position: Position) -> None:
    cursor = encode_cursor(position)
    assert cursor.isascii()
    assert "=" not in cursor
    assert decode_cursor(cursor) == position


def test_a_cursor_outside_the_bounds_is_refused() -> None:
    assert decode_cursor(encode_cursor(Position(MAX_DATETIME_MS + 1, 1))) is None
    assert decode_cursor(encode_cursor(Position(MIN_DATETIME_MS - 1, 1))) is None
    assert decode_cursor(encode_cursor(Position(0, 2**63))) is None
    assert decode_cursor(encode_cursor(Position(0, -1))) is None


def test_shifting_a_position_stays_within_ids() -> None:
    assert Position(7, 5).shifted(1) == Position(7, 6)
    assert Position(7, 0).shifted(-1) == Position(7, 0)
    assert Position(7, 2**63 - 1).shifted(1) == Position(7, 2**63 - 1)


def test_event_names_in_a_portal() -> None:
    assert event_name_in_portal(12, "pe12_viewed") == "viewed"
    assert event_name_in_portal(12, "pe12_pe12_viewed") == "pe12_viewed"
    assert event_name_in_portal(12, "pe1_viewed") is None
    assert event_name_in_portal(1, "pe12_viewed") is None  # not pe1 + "2_viewed"
    assert event_name_in_portal(12, "pe12_") is None
    assert event_name_in_portal(12, "e_visited_page") is None


def _definition(*specs: PropertySpec) -> EventDefinition:
    return EventDefinition(
        id=1,
        portal_id=1,
        name="e",
        label="E",
        description="",
        object_type=CONTACT,
        tracking_type="MANUAL",
        matching_rule=None,
        properties=specs,
        created_at=0,
        updated_at=0,
    )


def _spec(name: str, kind: PropertyType) -> PropertySpec:
    return PropertySpec(
        name=name,
        label=name,
        type=kind,
        description="",
        options=(),
        hubspot_defined=False,
        display_order=0,
        hidden=False,
    )


def test_filter_values_take_their_propertys_form() -> None:
    d = _definition(_spec("price", PropertyType.NUMBER), _spec("note", PropertyType.STRING))
    assert filter_value(d, "price", "1500.00") == "1500"
    assert filter_value(d, "price", "lots") == "lots"  # not a number: compared as sent
    assert filter_value(d, "note", " 1500.00 ") == " 1500.00 "
    assert filter_value(d, "other", "1500.00") == "1500.00"
    assert filter_value(None, "price", "1500.00") == "1500.00"
