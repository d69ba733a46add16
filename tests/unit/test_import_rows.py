"""One spreadsheet row → one completion, or every problem of the row with its type."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from occur.domain.definitions import MatchingRule
from occur.domain.identity import Identity, IdentityKind
from occur.domain.import_columns import ColumnMapping, Target
from occur.domain.import_dates import DAY_MONTH_YEAR, ISO_8601, MONTH_DAY_YEAR
from occur.domain.import_rows import (
    COLUMN_TOO_LARGE,
    COULD_NOT_PARSE_DATE,
    COULD_NOT_PARSE_NUMBER,
    FAILED_VALIDATION,
    INCORRECT_NUMBER_OF_COLUMNS,
    INVALID_EMAIL,
    INVALID_ENUMERATION_OPTION,
    INVALID_OBJECT_ID,
    INVALID_PROPERTY_VALUE_FORMAT,
    MISSING_EVENT_TIMESTAMP,
    ImportPlan,
    ImportRow,
    RowError,
    convert_row,
    row_uuid,
)
from occur.domain.objects import DEAL
from occur.domain.properties import Option, PropertySpec, PropertyType
from tests.unit.test_occurrences import definition, spec

T = PropertyType
DEFINITION = replace(
    definition(
        spec("amount", T.NUMBER),
        spec("plan", T.ENUMERATION, ("basic", "pro", "team")),
        spec("trial", T.BOOL),
        spec("renewal_day", T.DATE),
        spec("paid_at", T.DATETIME),
        spec("note", T.STRING),
    ),
    id=42,
    version=3,
)
HEADERS = ["Email", "First name", "Date", "Amount", "Plan", "Trial", "Renewal", "Paid at", "Note"]
MAPPINGS = (
    ColumnMapping(0, "Email", Target.CONTACT, "email"),
    ColumnMapping(1, "First name", Target.CONTACT, "firstname"),
    ColumnMapping(2, "Date", Target.OCCURRED_AT),
    ColumnMapping(3, "Amount", Target.EVENT, "amount"),
    ColumnMapping(4, "Plan", Target.EVENT, "plan"),
    ColumnMapping(5, "Trial", Target.EVENT, "trial"),
    ColumnMapping(6, "Renewal", Target.EVENT, "renewal_day"),
    ColumnMapping(7, "Paid at", Target.EVENT, "paid_at"),
    ColumnMapping(8, "Note", Target.EVENT, "note"),
)
PLAN = ImportPlan(
    definition=DEFINITION,
    mappings=MAPPINGS,
    column_count=len(HEADERS),
    date_format=MONTH_DAY_YEAR,
    time_zone="Europe/Paris",
    fixed_occurred_at=None,
    decimal_comma=False,
)
GOOD = ["Ada@Example.COM", "Ada", "3/5/2024 14:30", "1,234.5", "pro", "yes", "3/31/2024",
        "3/5/2024 9:00", "hello"]  # fmt: skip


def row(cells: list[str], plan: ImportPlan = PLAN, line: int = 2) -> ImportRow:
    result = convert_row(plan, line, cells)
    assert isinstance(result, ImportRow), result
    return result


def errors(cells: list[str], plan: ImportPlan = PLAN) -> list[tuple[str | None, str]]:
    result = convert_row(plan, 7, cells)
    assert isinstance(result, list), result
    assert all(e.line == 7 and e.message for e in result)
    return [(e.column, e.error_type) for e in result]


def with_cell(index: int, value: str) -> list[str]:
    cells = list(GOOD)
    cells[index] = value
    return cells


def test_a_good_row_becomes_a_completion() -> None:
    found = row(GOOD, line=9)
    assert found.line == 9
    assert found.email == "ada@example.com"
    assert found.object_id is None
    assert found.contact_values == {"firstname": "Ada"}
    c = found.completion
    assert (c.definition_id, c.definition_version, c.object_type_id) == (42, 3, "0-1")
    assert c.identity == Identity(IdentityKind.EMAIL, "ada@example.com", "Email", may_create=True)
    assert c.occurred_at == 1_709_645_400_000  # 13:30 UTC
    assert c.values == {
        "amount": "1234.5",
        "plan": "pro",
        "trial": "true",
        "renewal_day": "2024-03-31",
        "paid_at": "2024-03-05T08:00:00.000Z",
        "note": "hello",
    }
    assert c.uuid is not None and len(c.uuid) == 36


def test_empty_cells_set_nothing_and_surrounding_spaces_go() -> None:
    found = row([" ada@example.com ", "", " 3/5/2024 ", "", "", "", "", "", "  hi  "])
    assert found.contact_values == {}
    assert found.completion.values == {"note": "hi"}


# --- every error type ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("index", "value", "error_type"),
    [
        (0, "not-an-email", INVALID_EMAIL),
        (0, "a@b", INVALID_EMAIL),
        (2, "", MISSING_EVENT_TIMESTAMP),
        (2, "   ", MISSING_EVENT_TIMESTAMP),
        (2, "31/12/2024", COULD_NOT_PARSE_DATE),
        (2, "12/31/1969", COULD_NOT_PARSE_DATE),
        (3, "twelve", COULD_NOT_PARSE_NUMBER),
        (3, "1,5", COULD_NOT_PARSE_NUMBER),  # a decimal comma in an English file
        (3, "1.2.3", COULD_NOT_PARSE_NUMBER),
        (4, "gold", INVALID_ENUMERATION_OPTION),
        (4, "pro;gold", INVALID_ENUMERATION_OPTION),
        (5, "maybe", INVALID_PROPERTY_VALUE_FORMAT),
        (6, "someday", INVALID_PROPERTY_VALUE_FORMAT),
        (6, "3/31/2024 10:00", INVALID_PROPERTY_VALUE_FORMAT),
        (7, "noon", INVALID_PROPERTY_VALUE_FORMAT),
        (8, "x" * 257, COLUMN_TOO_LARGE),
        (3, "1" * 257, COLUMN_TOO_LARGE),
        (8, "nul\x00byte", FAILED_VALIDATION),
        (1, "nul\x00byte", FAILED_VALIDATION),
        (1, "x" * 65_537, COLUMN_TOO_LARGE),
    ],
)
def test_each_bad_cell_has_its_error_type(index: int, value: str, error_type: str) -> None:
    assert errors(with_cell(index, value)) == [(HEADERS[index], error_type)]


def test_the_error_keeps_the_value_cut_and_the_reason() -> None:
    result = convert_row(PLAN, 3, with_cell(8, "y" * 3000))
    assert isinstance(result, list)
    assert result[0] == RowError(
        line=3,
        column="Note",
        value="y" * 1024,
        error_type=COLUMN_TOO_LARGE,
        message="note takes values of at most 256 characters; this one has 3000.",
    )


def test_every_failing_cell_of_a_row_is_listed() -> None:
    cells = ["nope", "Ada", "", "x", "gold", "perhaps", "", "", ""]
    assert errors(cells) == [
        ("Email", INVALID_EMAIL),
        ("Date", MISSING_EVENT_TIMESTAMP),
        ("Amount", COULD_NOT_PARSE_NUMBER),
        ("Plan", INVALID_ENUMERATION_OPTION),
        ("Trial", INVALID_PROPERTY_VALUE_FORMAT),
    ]


@pytest.mark.parametrize(
    "cells",
    [
        GOOD[:-1],  # one short
        [*GOOD, "extra"],  # one more, not empty
        [*GOOD, "", "x"],
        [],
    ],
)
def test_a_row_of_another_width_is_refused_whole(cells: list[str]) -> None:
    assert errors(cells) == [(None, INCORRECT_NUMBER_OF_COLUMNS)]


def test_trailing_empty_cells_are_forgiven() -> None:
    assert row([*GOOD, "", "  ", ""]).completion == row(GOOD).completion


def test_a_long_url_is_allowed_up_to_1024_characters() -> None:
    url = "https://example.com/" + "p" * 1004
    plan = replace(
        PLAN,
        mappings=(*MAPPINGS, ColumnMapping(9, "URL", Target.EVENT, "hs_page_url")),
        column_count=10,
    )
    assert row([*GOOD, url], plan).completion.values["hs_page_url"] == url
    assert errors([*GOOD, url + "x"], plan) == [("URL", COLUMN_TOO_LARGE)]


def test_a_property_the_definition_lost_is_a_failed_validation() -> None:
    plan = replace(PLAN, mappings=(*MAPPINGS[:8], ColumnMapping(8, "Note", Target.EVENT, "gone")))
    assert errors(GOOD, plan) == [("Note", FAILED_VALIDATION)]


@pytest.mark.parametrize("zone", ["Mars/Olympus", "Europe", "", "../etc/passwd", "utc "])
def test_an_unknown_time_zone_is_a_failed_validation(zone: str) -> None:
    assert errors(GOOD, replace(PLAN, time_zone=zone)) == [
        ("Date", FAILED_VALIDATION),
        ("Paid at", FAILED_VALIDATION),
    ]


# --- numbers, enumerations, booleans -------------------------------------------------


@pytest.mark.parametrize(
    ("text", "decimal_comma", "stored"),
    [
        ("1234.5", False, "1234.5"),
        ("1,234.5", False, "1234.5"),
        ("1,234,567", False, "1234567"),
        ("1 234.5", False, "1234.5"),
        ("-0.50", False, "-0.5"),
        ("+3", False, "3"),
        ("1e3", False, "1000"),
        ("1 234,5", True, "1234.5"),
        ("1\u00a0234,5", True, "1234.5"),  # no-break space
        ("1\u202f234,5", True, "1234.5"),  # narrow no-break space (French)
        ("1.234,5", True, "1234.5"),
        ("1.234.567", True, "1234567"),
        ("1.234", True, "1234"),  # a grouping dot
        ("1'234,5", True, "1234.5"),  # Swiss
        ("0,25", True, "0.25"),
        (",5", True, "0.5"),
        ("-1,5", True, "-1.5"),
        ("1.5", True, "1.5"),  # an XLSX number cell keeps its dot
        ("1234.5", True, "1234.5"),
        ("12", True, "12"),
    ],
)
def test_numbers_as_spreadsheets_write_them(text: str, decimal_comma: bool, stored: str) -> None:
    plan = replace(PLAN, decimal_comma=decimal_comma)
    assert row(with_cell(3, text), plan).completion.values["amount"] == stored


@pytest.mark.parametrize(
    ("text", "decimal_comma"),
    [
        ("1,5", False),
        ("1,23", False),  # groups are of three digits
        ("1 23", False),
        ("1,234.5", True),
        ("1.23,5", True),
        ("1,2,3", True),
        ("", True),
    ],
)
def test_ambiguous_or_broken_numbers_are_refused(text: str, decimal_comma: bool) -> None:
    plan = replace(PLAN, decimal_comma=decimal_comma)
    result = convert_row(plan, 2, with_cell(3, text or ","))
    assert isinstance(result, list)
    assert [e.error_type for e in result] == [COULD_NOT_PARSE_NUMBER]


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("pro", "pro"),
        ("basic;team", "basic;team"),
        (" basic ; team ", "basic;team"),
        ("team;basic;team", "team;basic"),
        ("basic;;team;", "basic;team"),
        ("PRO", "pro"),  # by label, any case
    ],
)
def test_enumerations_take_semicolon_separated_options(text: str, stored: str) -> None:
    assert row(with_cell(4, text)).completion.values["plan"] == stored


def test_an_option_matches_its_label_too() -> None:
    labelled = PropertySpec(
        name="size",
        label="Size",
        type=T.ENUMERATION,
        options=(Option("Small", "s", 0), Option("Large", "l", 1)),
    )
    plan = replace(
        PLAN,
        definition=replace(DEFINITION, properties=(*DEFINITION.properties, labelled)),
        mappings=(*MAPPINGS, ColumnMapping(9, "Size", Target.EVENT, "size")),
        column_count=10,
    )
    assert row([*GOOD, "small; L"], plan).completion.values["size"] == "s;l"
    assert errors([*GOOD, "medium"], plan) == [("Size", INVALID_ENUMERATION_OPTION)]


@pytest.mark.parametrize(
    ("text", "stored"),
    [("TRUE", "true"), ("no", "false"), ("1", "true"), ("0", "false"), ("Oui", "true"),
     ("nein", "false"), ("Sí", "true"), ("não", "false"), ("vero", "true"), ("nee", "false")],
)  # fmt: skip
def test_booleans_in_the_header_languages(text: str, stored: str) -> None:
    assert row(with_cell(5, text)).completion.values["trial"] == stored


# --- identity ------------------------------------------------------------------------

WITH_ID = replace(
    PLAN,
    mappings=(*MAPPINGS, ColumnMapping(9, "Record ID", Target.RECORD_ID)),
    column_count=10,
)


def test_a_record_id_wins_over_the_email() -> None:
    found = row([*GOOD, " 1234 "], WITH_ID)
    assert found.object_id == 1234
    assert found.email == "ada@example.com"  # still there for the contact's values
    assert found.completion.identity == Identity(IdentityKind.OBJECT_ID, "1234", "Record ID")


def test_the_email_is_used_when_the_record_id_is_empty() -> None:
    found = row([*GOOD, ""], WITH_ID)
    assert found.object_id is None
    assert found.completion.identity.kind is IdentityKind.EMAIL


@pytest.mark.parametrize("bad_id", ["0", "-3", "12a", "1.5", "99999999999999999999"])
def test_a_bad_record_id_is_invalid_object_id(bad_id: str) -> None:
    assert errors([*GOOD, bad_id], WITH_ID) == [("Record ID", INVALID_OBJECT_ID)]


def test_no_identifier_at_all() -> None:
    # the email column is there but empty: the email is what is missing
    assert errors(with_cell(0, "")) == [("Email", INVALID_EMAIL)]
    assert errors([*with_cell(0, ""), ""], WITH_ID) == [("Email", INVALID_EMAIL)]
    # only a record id column, empty
    deal = replace(DEFINITION, object_type=DEAL)
    plan = ImportPlan(
        definition=deal,
        mappings=(
            ColumnMapping(0, "ID", Target.RECORD_ID),
            ColumnMapping(1, "When", Target.OCCURRED_AT),
        ),
        column_count=2,
        date_format=ISO_8601,
        time_zone="UTC",
        fixed_occurred_at=None,
        decimal_comma=False,
    )
    assert errors(["", "2024-03-05"], plan) == [("ID", INVALID_OBJECT_ID)]
    found = row(["77", "2024-03-05"], plan)
    assert found.completion.object_type_id == DEAL.type_id
    assert found.completion.identity == Identity(IdentityKind.OBJECT_ID, "77", "ID")


def test_a_matching_rule_finds_the_record_from_an_event_property() -> None:
    ruled = replace(
        DEFINITION,
        properties=(*DEFINITION.properties, spec("customer_email")),
        matching_rule=MatchingRule("customer_email", "email"),
    )
    plan = replace(
        PLAN,
        definition=ruled,
        mappings=(*MAPPINGS, ColumnMapping(9, "Customer", Target.EVENT, "customer_email")),
        column_count=10,
    )
    found = row([*with_cell(0, ""), "Bob@Example.com"], plan)
    assert found.completion.identity.value == "bob@example.com"
    assert [t for _, t in errors([*GOOD, "not an email"], plan)] == [FAILED_VALIDATION]


# --- occurred at ---------------------------------------------------------------------


def test_a_fixed_time_applies_to_every_row_and_the_column_is_ignored() -> None:
    plan = replace(PLAN, fixed_occurred_at=1_700_000_000_000)
    assert row(with_cell(2, ""), plan).completion.occurred_at == 1_700_000_000_000
    assert row(with_cell(2, "garbage"), plan).completion.occurred_at == 1_700_000_000_000


def test_no_time_at_all_is_a_missing_timestamp() -> None:
    plan = replace(PLAN, mappings=tuple(m for m in MAPPINGS if m.target is not Target.OCCURRED_AT))
    assert errors(GOOD, plan) == [(None, MISSING_EVENT_TIMESTAMP)]


def test_the_date_format_and_zone_apply() -> None:
    plan = replace(PLAN, date_format=DAY_MONTH_YEAR, time_zone="America/New_York")
    cells = with_cell(2, "05/03/2024 09:30")
    cells[6] = "31/03/2024"
    found = row(cells, plan)
    assert found.completion.occurred_at == 1_709_649_000_000  # 14:30 UTC
    assert found.completion.values["renewal_day"] == "2024-03-31"


def test_too_many_properties_for_one_completion() -> None:
    many = [spec(f"p{i}") for i in range(51)]
    plan = ImportPlan(
        definition=definition(*many),
        mappings=(
            ColumnMapping(0, "Email", Target.CONTACT, "email"),
            *(ColumnMapping(i + 1, f"p{i}", Target.EVENT, f"p{i}") for i in range(51)),
        ),
        column_count=52,
        date_format=ISO_8601,
        time_zone="UTC",
        fixed_occurred_at=0,
        decimal_comma=False,
    )
    assert errors(["a@b.co", *["v"] * 51], plan) == [(None, FAILED_VALIDATION)]


# --- uuids ---------------------------------------------------------------------------


def test_the_uuid_depends_on_the_values_not_the_line_or_column_order() -> None:
    first = row(GOOD, line=2).completion.uuid
    assert row(GOOD, line=900).completion.uuid == first
    # the same file with its columns in reverse order
    reversed_plan = replace(
        PLAN,
        mappings=tuple(
            ColumnMapping(len(HEADERS) - 1 - m.index, m.header, m.target, m.property_name)
            for m in MAPPINGS
        ),
    )
    assert row(list(reversed(GOOD)), reversed_plan).completion.uuid == first
    # the same values spelled differently in the cells
    respelled = ["ada@example.com", "Ada", "03/05/2024 14:30:00", "1234.50", "PRO", "TRUE",
                 "03/31/24", "3/5/24 9:00 AM", "hello"]  # fmt: skip
    assert row(respelled).completion.uuid == first


def test_the_uuid_changes_with_what_the_row_says() -> None:
    first = row(GOOD).completion.uuid
    assert row(with_cell(8, "bye")).completion.uuid != first
    assert row(with_cell(2, "3/5/2024 14:31")).completion.uuid != first
    assert row(with_cell(0, "bob@example.com")).completion.uuid != first
    other_event = replace(PLAN, definition=replace(DEFINITION, id=43))
    assert row(GOOD, other_event).completion.uuid != first
    # a contact property does not make another event
    assert row(with_cell(1, "Adeline")).completion.uuid == first


def test_an_added_empty_column_keeps_the_uuid() -> None:
    plan = replace(
        PLAN,
        mappings=(*MAPPINGS, ColumnMapping(9, "Extra", Target.EVENT, "hs_city")),
        column_count=10,
    )
    assert row([*GOOD, ""], plan).completion.uuid == row(GOOD).completion.uuid


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ([("x", "1"), ("y", "2")], [("y", "2"), ("x", "1")], True),
        ([("x", "1")], [("x", "1"), ("y", "")], False),
        ([("x", "1;2")], [("x", "1"), ("x", "2")], False),
        ([("x,y", "1")], [("x", "y,1")], False),  # no ambiguous joining
        ([("a", "b")], [("ab", "")], False),
    ],
)
def test_row_uuid(a: list[tuple[str, str]], b: list[tuple[str, str]], same: bool) -> None:
    assert (row_uuid(1, a) == row_uuid(1, b)) is same
    assert row_uuid(1, a) != row_uuid(2, a)
    assert row_uuid(1, a) == row_uuid(1, list(a))


def test_row_uuid_is_stable_across_releases() -> None:
    # Changing the derivation would import every re-imported file twice.
    assert row_uuid(1, [("identity.email", "a@b.co"), ("occurredAt", "0")]) == row_uuid(
        1, [("occurredAt", "0"), ("identity.email", "a@b.co")]
    )
    assert row_uuid(7, []) == "953b5983-58b8-5c20-b8c1-5e763aeb8304"
    assert row_uuid(7, [("b", "2"), ("a", "1")]) == str(
        uuid.uuid5(uuid.UUID("3b0e4f52-8c1e-5f7a-9d2c-6a4e1b7f0c93"), "7\x00a\x001\x00b\x002")
    )


def test_a_cell_that_is_not_text_is_refused_not_raised() -> None:
    assert errors(with_cell(8, "bad \ud800 half")) == [("Note", FAILED_VALIDATION)]
    assert errors(with_cell(0, "\udc00@example.com")) == [("Email", FAILED_VALIDATION)]
    # in a column nobody imports it does no harm
    plan = replace(PLAN, mappings=MAPPINGS[:8], column_count=9)
    assert isinstance(convert_row(plan, 2, with_cell(8, "\ud800")), ImportRow)


def test_repeated_values_give_the_same_result_and_errors_repeat() -> None:
    plan = replace(PLAN)  # a plan of its own: nothing remembered yet
    first = [row(with_cell(4, text), plan).completion.values["plan"] for text in ("PRO", "pro")]
    again = [row(with_cell(4, text), plan).completion.values["plan"] for text in ("PRO", "pro")]
    assert first == again == ["pro", "pro"]
    assert (
        errors(with_cell(4, "gold"), plan)
        == errors(with_cell(4, "gold"), plan)
        == [("Plan", INVALID_ENUMERATION_OPTION)]
    )
    # what a column remembers is bounded, whatever the number of distinct values
    for n in range(1500):
        row(with_cell(8, f"note {n}"), plan)
    assert all(len(column.memo) <= 1000 for column in plan._columns)
    assert row(with_cell(8, "note 1499"), plan).completion.values["note"] == "note 1499"
