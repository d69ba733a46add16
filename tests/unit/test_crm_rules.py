"""CRM domain rules without any store or web layer."""

from __future__ import annotations

import re

import pytest

from occur.domain import crm
from occur.domain.crm import CrmObject, ObjectRef
from occur.domain.crm_inputs import read_batch_create, read_batch_upsert, read_create
from occur.domain.crm_search import Operator, read_search, token_pattern
from occur.domain.fields import FieldReader
from occur.domain.objects import COMPANY, CONTACT, DEAL, ValueKind
from occur.domain.timestamps import MIN_DATETIME_MS, ms_from_text
from occur.errors import ValidationError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1500.00", "1500"),
        ("-0", "0"),
        ("0.10", "0.1"),
        ("1e3", "1000"),
        ("1E-5", "0.00001"),
        ("+.5", "0.5"),
        ("12345678901234567890", "12345678901234567890"),
        ("abc", None),
        ("NaN", None),
        ("inf", None),
        ("1_000", None),
        ("1e41", None),
        ("1e-41", None),
        ("1e99999", None),
        ("١٢", None),  # non-ASCII digits are not numbers on the wire
        ("", None),
    ],
)
def test_normalise_number(text: str, expected: str | None) -> None:
    assert crm.normalise_number(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0),
        ("-1000", -1000),
        ("1700000000000", 1_700_000_000_000),
        ("2024-01-02", 1_704_153_600_000),
        ("2024-01-02T00:00:00+01:00", 1_704_150_000_000),
        ("1000-01-01", MIN_DATETIME_MS),
        ("0999-12-31", None),
        ("253402300800000", None),  # year 10000
        ("²", None),
        ("yesterday", None),
        ("", None),
    ],
)
def test_parse_datetime_ms(text: str, expected: int | None) -> None:
    assert ms_from_text(text) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("x", "x"),
        (True, "true"),
        (False, "false"),
        (7, "7"),
        (2.0, "2"),
        (0.5, "0.5"),
        (None, None),
    ],
)
def test_wire_text(value: object, expected: str | None) -> None:
    r = FieldReader()
    assert crm.wire_text(r, value, "v") == expected
    assert r.problems == []


@pytest.mark.parametrize("value", [[], {}, float("nan"), float("inf")])
def test_wire_text_refuses_other_json(value: object) -> None:
    r = FieldReader()
    assert crm.wire_text(r, value, "v") is None
    assert [p.in_ for p in r.problems] == ["v"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 1),
        (" 42 ", 42),
        ("0", None),
        ("-1", None),
        ("1.0", None),
        ("9" * 20, None),
        ("", None),
    ],
)
def test_parse_object_id(text: str, expected: int | None) -> None:
    assert crm.parse_object_id(text) == expected


def test_object_refs_compare_emails_case_insensitively() -> None:
    assert ObjectRef("email", " Ada@Example.com ").key == "ada@example.com"
    assert ObjectRef("hs_object_id", "12").object_id == 12
    assert ObjectRef("email", "12").object_id is None


def test_apply_sets_and_clears() -> None:
    assert crm.apply({"a": "1", "b": "2"}, {"a": None, "c": "3"}) == {"b": "2", "c": "3"}


def test_selection_keeps_known_names_in_order_or_falls_back_to_defaults() -> None:
    assert crm.selection(CONTACT, []) == CONTACT.default_properties
    assert crm.selection(CONTACT, ["phone", "nosuch", "email", "phone"]) == ("phone", "email")
    assert crm.selection(COMPANY, ["email"]) == ()


def test_view_shows_system_properties_and_nulls_for_unset_selected_ones() -> None:
    record = CrmObject(5, DEAL, {"amount": "3"}, 0, 1000, None)
    assert record.view(["dealname"]).properties == {
        "dealname": None,
        "createdate": "1970-01-01T00:00:00.000Z",
        "lastmodifieddate": "1970-01-01T00:00:01.000Z",
        "hs_object_id": "5",
    }
    assert set(record.view().properties) == {
        "amount",
        "createdate",
        "lastmodifieddate",
        "hs_object_id",
    }


def test_email_key_is_for_contacts_only() -> None:
    assert crm.email_key(CONTACT, {"email": "A@B.co"}) == "a@b.co"
    assert crm.email_key(CONTACT, {}) is None
    assert crm.email_key(COMPANY, {"email": "A@B.co"}) is None


def test_read_create_collects_every_problem() -> None:
    with pytest.raises(ValidationError) as caught:
        read_create({"properties": {"foo": 1, "amount": "x", "hs_object_id": "1"}}, DEAL)
    assert {(e.in_, e.code) for e in caught.value.errors} == {
        ("properties.foo", "PROPERTY_DOESNT_EXIST"),
        ("properties.amount", "INVALID_NUMBER"),
        ("properties.hs_object_id", "READ_ONLY_VALUE"),
    }


def test_read_create_normalises_values() -> None:
    body = {"properties": {"amount": 12.0, "closedate": "2024-01-02", "dealname": ""}}
    assert read_create(body, DEAL) == {
        "amount": "12",
        "closedate": "2024-01-02T00:00:00.000Z",
        "dealname": None,
    }


def test_batch_limits() -> None:
    assert len(read_batch_create({"inputs": [{"properties": {}}] * 100}, DEAL)) == 100
    with pytest.raises(ValidationError) as caught:
        read_batch_create({"inputs": [{"properties": {}}] * 101}, DEAL)
    assert [e.code for e in caught.value.errors] == ["TOO_MANY_INPUTS"]


def test_upsert_keeps_the_email_out_of_the_changes_of_found_contacts() -> None:
    [item] = read_batch_upsert(
        {"inputs": [{"id": " A@b.co ", "idProperty": "email", "properties": {"firstname": "A"}}]},
        CONTACT,
    )
    assert item.ref == ObjectRef("email", "A@b.co")
    assert item.changes == {"firstname": "A"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("deal", "% deal %"),
        ("DeAl", "% deal %"),
        ("*@hubspot.com", "% %@hubspot.com %"),
        ("100%", "% 100\\% %"),
        ("a_b", "% a\\_b %"),
        ("a\\b", "% a\\\\b %"),
    ],
)
def test_token_pattern_escapes_like_wildcards(value: str, expected: str) -> None:
    assert token_pattern(value) == expected


def _like(pattern: str, text: str) -> bool:
    """SQL LIKE with `\\` escapes, to check the patterns without a database."""
    regex = ""
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 1
            regex += re.escape(pattern[i])
        elif ch == "%":
            regex += ".*"
        elif ch == "_":
            regex += "."
        else:
            regex += re.escape(ch)
        i += 1
    return re.fullmatch(regex, text, re.DOTALL) is not None


@pytest.mark.parametrize(
    ("value", "text", "expected"),
    [
        ("deal", "Big Deal", True),
        ("deal", "Dealer", False),
        ("dea*", "Big Dealer", True),
        ("*@hubspot.com", "ada@hubspot.com", True),
        ("*@hubspot.com", "ada@hubspot.com.evil", False),
        ("%", "100% sure", False),
        ("100%", "100% sure", True),
        ("a_b", "axb", False),
    ],
)
def test_token_pattern_matches_whole_words(value: str, text: str, expected: bool) -> None:
    assert _like(token_pattern(value), f" {text.lower()} ") is expected


def test_read_search_normalises_filter_values_by_kind() -> None:
    body = {
        "filterGroups": [
            {
                "filters": [
                    {"propertyName": "amount", "operator": "gt", "value": "1e2"},
                    {"propertyName": "closedate", "operator": "LT", "value": "1970-01-02"},
                    {"propertyName": "dealname", "operator": "IN", "values": ["A", 5]},
                    {"propertyName": "pipeline", "operator": "HAS_PROPERTY"},
                ]
            }
        ],
        "sorts": ["-amount", {"propertyName": "closedate"}],
        "after": "20",
    }
    request = read_search(body, DEAL)
    [group] = request.groups
    assert [(f.operator, f.kind, f.values) for f in group] == [
        (Operator.GT, ValueKind.NUMBER, (100.0,)),
        (Operator.LT, ValueKind.DATETIME, (86_400_000,)),
        (Operator.IN, ValueKind.STRING, ("A", "5")),
        (Operator.HAS_PROPERTY, ValueKind.STRING, ()),
    ]
    assert [(s.property_name, s.descending) for s in request.sorts] == [
        ("amount", True),
        ("closedate", False),
    ]
    assert (request.offset, request.limit) == (20, 10)
    assert request.properties == DEAL.default_properties
