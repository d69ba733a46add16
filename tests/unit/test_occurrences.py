"""One completion's properties: folding, coercion to each type, limits, both paths."""

from __future__ import annotations

import math

import pytest

from occur.domain.definitions import EventDefinition
from occur.domain.objects import OBJECT_TYPES
from occur.domain.occurrences import (
    MAX_PROPERTIES_PER_OCCURRENCE,
    InvalidValue,
    coerce_value,
    fold_properties,
    truncate_properties,
    validate_properties,
    value_limit_chars,
)
from occur.domain.properties import DEFAULT_PROPERTIES, Option, PropertySpec, PropertyType
from occur.domain.timestamps import MAX_DATETIME_MS, MIN_DATETIME_MS

S, N, B = PropertyType.STRING, PropertyType.NUMBER, PropertyType.BOOL
DT, D, E = PropertyType.DATETIME, PropertyType.DATE, PropertyType.ENUMERATION
MIDNIGHT_2024_01_15_MS = 1_705_276_800_000


def spec(name: str, ptype: PropertyType = S, options: tuple[str, ...] = ()) -> PropertySpec:
    return PropertySpec(
        name=name,
        label=name,
        type=ptype,
        options=tuple(Option(label=v, value=v, display_order=i) for i, v in enumerate(options)),
    )


def definition(*specs: PropertySpec) -> EventDefinition:
    return EventDefinition(
        id=1,
        portal_id=7,
        name="viewed_car",
        label="Viewed car",
        description="",
        object_type=OBJECT_TYPES[0],
        tracking_type="MANUAL",
        matching_rule=None,
        properties=(*DEFAULT_PROPERTIES, *specs),
        created_at=0,
        updated_at=0,
    )


def rejection(prop: PropertySpec, value: object) -> InvalidValue:
    with pytest.raises(InvalidValue) as caught:
        coerce_value(prop, value)
    return caught.value


# --- fold_properties: HubSpot's duplicates rule ---------------------------------------


def test_fold_lowercases_names_and_keeps_values_untouched() -> None:
    assert fold_properties({"Color": 1.5, "SIZE": None}) == {"color": 1.5, "size": None}


def test_fold_keeps_the_spelling_that_sorts_last() -> None:
    # Code-point order: "COLOR" < "Color" < "color"; the last seen wins.
    assert fold_properties({"color": "a", "Color": "b", "COLOR": "c"}) == {"color": "a"}
    assert fold_properties({"Color": "b", "COLOR": "c"}) == {"color": "b"}


def test_fold_ignores_the_order_names_were_sent_in() -> None:
    # Sorted: "Color" < "cOlor" < "colOR".
    forward = {"cOlor": 1, "colOR": 3, "Color": 2}
    backward = dict(reversed(forward.items()))
    assert fold_properties(forward) == fold_properties(backward) == {"color": 3}


def test_fold_orders_the_result_by_lowercased_name() -> None:
    assert list(fold_properties({"b": 1, "C": 2, "a": 3})) == ["a", "b", "c"]


def test_only_the_first_fifty_sorted_names_may_replace_a_duplicate() -> None:
    # "K" sorts first (upper case), 49 fillers fill the window, "k" is 51st: outside.
    fillers = {f"b{i:02d}": "x" for i in range(49)}
    folded = fold_properties({"K": "upper", **fillers, "k": "lower"})
    assert folded["k"] == "upper"
    assert len(folded) == 50


def test_a_duplicate_just_inside_the_window_replaces() -> None:
    # 48 fillers: "k" is the 50th name in sorted order, inside the window, so it wins.
    fillers = {f"b{i:02d}": "x" for i in range(48)}
    assert fold_properties({"K": "upper", **fillers, "k": "lower"})["k"] == "lower"


def test_names_wholly_past_the_window_are_kept_for_the_count() -> None:
    fillers = {f"b{i:02d}": "x" for i in range(50)}
    folded = fold_properties({**fillers, "zz": "lower", "zZ": "mixed"})
    assert folded["zz"] == "lower"  # "zZ" < "zz": last seen is "zz"
    assert len(folded) == 51


# --- coerce_value: types and canonical forms ------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [("abc", "abc"), ("", ""), (True, "true"), (False, "false"), (42, "42"), (1.0, "1")],
)
def test_string_takes_text_and_renders_scalars(value: object, text: str) -> None:
    assert coerce_value(spec("note"), value) == text


@pytest.mark.parametrize(
    ("value", "says"), [(None, "null"), ({"a": 1}, "an object"), ([1], "an array")]
)
@pytest.mark.parametrize("ptype", list(PropertyType))
def test_objects_arrays_and_null_are_refused_for_every_type(
    ptype: PropertyType, value: object, says: str
) -> None:
    problem = rejection(spec("p", ptype, ("a",)), value)
    assert problem.code == "INVALID_TYPE"
    assert says in problem.message


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1, "1"),
        (-7, "-7"),
        (1.0, "1"),
        (1.5, "1.5"),
        (0.1, "0.1"),
        (-0.0, "0"),
        (1e16, "10000000000000000"),
        (1e-7, "0.0000001"),
        (10**20, "100000000000000000000"),
        ("1.50", "1.5"),
        ("1.0", "1"),
        ("100", "100"),
        ("-0", "0"),
        ("0.000", "0"),
        ("1e3", "1000"),
        ("2.5E-2", "0.025"),
        (" 42 ", "42"),
        ("+5", "5"),
        (".5", "0.5"),
        ("5.", "5"),
        ("123456789012345678901234567890.5", "123456789012345678901234567890.5"),
    ],
)
def test_number_canonical_shortest_decimal(value: object, text: str) -> None:
    assert coerce_value(spec("price", N), value) == text


@pytest.mark.parametrize(
    "value",
    [
        True,
        False,
        "abc",
        "",
        "NaN",
        "nan",
        "Infinity",
        "-inf",
        math.nan,
        math.inf,
        "1_000",
        "0x10",
        "1,5",
        "1.2.3",
        "\u0661\u0662",  # Arabic-Indic digits
        "1e999999999",  # must not try to write a billion digits
        "1e300",  # plain form longer than 256 characters
    ],
)
def test_number_refuses_non_numbers(value: object) -> None:
    assert rejection(spec("price", N), value).code == "INVALID_NUMBER"


@pytest.mark.parametrize(
    ("value", "text"),
    [(True, "true"), (False, "false"), ("true", "true"), ("FALSE", "false"), (" True ", "true")],
)
def test_bool_accepts_booleans_and_their_words(value: object, text: str) -> None:
    assert coerce_value(spec("ok", B), value) == text


@pytest.mark.parametrize("value", ["yes", "1", 1, 0, 1.0, "", "t", "truee"])
def test_bool_refuses_anything_else(value: object) -> None:
    assert rejection(spec("ok", B), value).code == "INVALID_BOOLEAN"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "1970-01-01T00:00:00.000Z"),
        (1_700_000_000_123, "2023-11-14T22:13:20.123Z"),
        ("1700000000123", "2023-11-14T22:13:20.123Z"),
        (1.7e12, "2023-11-14T22:13:20.000Z"),
        (-1, "1969-12-31T23:59:59.999Z"),
        ("2023-11-14T22:13:20.123Z", "2023-11-14T22:13:20.123Z"),
        ("2023-11-14T23:13:20.123+01:00", "2023-11-14T22:13:20.123Z"),
        ("2023-11-14T22:13:20", "2023-11-14T22:13:20.000Z"),
        ("2024-01-15", "2024-01-15T00:00:00.000Z"),
        (MIN_DATETIME_MS, "1000-01-01T00:00:00.000Z"),
        (MAX_DATETIME_MS, "9999-12-31T23:59:59.999Z"),
    ],
)
def test_datetime_canonical_iso_utc_with_milliseconds(value: object, text: str) -> None:
    assert coerce_value(spec("seen_at", DT), value) == text


@pytest.mark.parametrize(
    "value",
    [
        True,
        "soon",
        "",
        1.5,
        "\u00b2",  # isdigit() says yes, int() says no: must not crash
        MIN_DATETIME_MS - 1,
        MAX_DATETIME_MS + 1,
        10**20,
        "0999-12-31T23:59:59Z",
    ],
)
def test_datetime_refuses_non_instants_and_out_of_range(value: object) -> None:
    assert rejection(spec("seen_at", DT), value).code == "INVALID_DATETIME"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("2024-01-15", "2024-01-15"),
        (" 2024-01-15 ", "2024-01-15"),
        (MIDNIGHT_2024_01_15_MS, "2024-01-15"),
        (str(MIDNIGHT_2024_01_15_MS), "2024-01-15"),
        (float(MIDNIGHT_2024_01_15_MS), "2024-01-15"),
        (0, "1970-01-01"),
        (-86_400_000, "1969-12-31"),
    ],
)
def test_date_takes_iso_dates_and_utc_midnights(value: object, text: str) -> None:
    assert coerce_value(spec("born_on", D), value) == text


@pytest.mark.parametrize(
    "value",
    [
        MIDNIGHT_2024_01_15_MS + 1,
        str(MIDNIGHT_2024_01_15_MS - 1),
        MIDNIGHT_2024_01_15_MS + 0.5,
        "2024-02-30",
        "2024-1-5",
        "2024-01-15T00:00:00Z",
        "15/01/2024",
        "",
        True,
    ],
)
def test_date_refuses_other_forms_and_non_midnights(value: object) -> None:
    assert rejection(spec("born_on", D), value).code == "INVALID_DATE"


DEVICE = spec("device", E, ("PDA", "Smartphone", "1", "true"))


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("PDA", "PDA"),
        ("PDA;Smartphone", "PDA;Smartphone"),
        ("Smartphone;PDA", "Smartphone;PDA"),  # the given order is kept
        ("PDA;Smartphone;PDA", "PDA;Smartphone"),  # each value once
        (1, "1"),
        (True, "true"),
    ],
)
def test_enumeration_takes_options_one_or_several(value: object, text: str) -> None:
    assert coerce_value(DEVICE, value) == text


@pytest.mark.parametrize("value", ["Phone", "pda", "PDA;", ";PDA", "PDA; Smartphone", "", 2])
def test_enumeration_refuses_values_that_are_not_options(value: object) -> None:
    assert rejection(DEVICE, value).code == "INVALID_ENUMERATION_OPTION"


def test_enumeration_names_only_the_values_that_are_not_options() -> None:
    message = rejection(DEVICE, "PDA;Phone").message
    assert "'Phone' is not an option" in message
    assert "'PDA'," in message  # among the options listed, not among the wrong ones


def test_enumeration_without_options_refuses_everything() -> None:
    assert "no options yet" in rejection(spec("language", E), "en").message


# --- coerce_value: lengths ------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "limit"),
    [
        ("note", 256),
        ("hs_page_title", 256),
        ("hs_page_url", 1024),
        ("hs_referrer", 1024),
        ("hs_link_href", 1024),
        ("product_url", 1024),
        ("LinkTarget", 1024),
    ],
)
def test_values_fit_the_limit_and_not_one_character_more(name: str, limit: int) -> None:
    assert value_limit_chars(name) == limit
    assert coerce_value(spec(name), "x" * limit) == "x" * limit
    problem = rejection(spec(name), "x" * (limit + 1))
    assert problem.code == "VALUE_TOO_LONG"
    assert f"at most {limit}" in problem.message


def test_length_is_checked_on_the_value_as_sent_before_its_type() -> None:
    # 257 characters that would be a number: too long, not a bad number.
    assert rejection(spec("price", N), "0" * 256 + "1").code == "VALUE_TOO_LONG"
    assert coerce_value(spec("price", N), "0" * 255 + "1") == "1"


@pytest.mark.parametrize("value", [10**256, 10**5000, 1e300], ids=["1e256", "1e5000", "float1e300"])
def test_huge_numbers_are_too_long_as_text(value: object) -> None:
    assert rejection(spec("note"), value).code == "VALUE_TOO_LONG"


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("ptype", [S, DT, D, E])
def test_non_finite_numbers_are_refused_whatever_the_type(
    ptype: PropertyType, value: float
) -> None:
    # JSON cannot carry them, but Python's json module decodes NaN and Infinity.
    assert rejection(spec("p", ptype, ("nan",)), value).code == "INVALID_NUMBER"


def test_nul_characters_are_refused() -> None:
    assert rejection(spec("note"), "a\x00b").code == "INVALID_CHARACTER"


# --- validate_properties: the strict path ---------------------------------------------

CAR = definition(
    spec("price", N), spec("color", E, ("red", "blue")), spec("sold", B), spec("seen_at", DT)
)


def test_valid_properties_come_back_canonical_by_lowercase_name() -> None:
    values, problems = validate_properties(
        CAR,
        {"Price": "1.50", "color": "blue;red", "SOLD": "True", "hs_page_url": "https://x"},
        "",
    )
    assert problems == []
    assert values == {
        "price": "1.5",
        "color": "blue;red",
        "sold": "true",
        "hs_page_url": "https://x",
    }


def test_no_properties_is_fine() -> None:
    assert validate_properties(CAR, {}, "") == ({}, [])


def test_the_kept_duplicate_is_the_one_validated() -> None:
    # "PRICE" < "price": the lowercase spelling is kept, and its value is not a number.
    values, problems = validate_properties(CAR, {"price": "cheap", "PRICE": "2"}, "")
    assert values == {}
    assert [(p.in_, p.code) for p in problems] == [("properties.price", "INVALID_NUMBER")]
    assert validate_properties(CAR, {"price": "2", "PRICE": "cheap"}, "") == ({"price": "2"}, [])


def test_unknown_names_are_reported_under_the_prefix() -> None:
    values, problems = validate_properties(CAR, {"Nope": 1, "price": 3}, "inputs[2].")
    assert values == {}
    assert [(p.in_, p.code) for p in problems] == [
        ("inputs[2].properties.nope", "PROPERTY_DOESNT_EXIST")
    ]


WIDE = definition(*(spec(f"p{i:02d}") for i in range(MAX_PROPERTIES_PER_OCCURRENCE + 1)))


def test_fifty_properties_are_accepted() -> None:
    raw = {f"p{i:02d}": "v" for i in range(50)}
    values, problems = validate_properties(WIDE, raw, "")
    assert problems == []
    assert len(values) == 50


def test_fifty_one_properties_are_too_many() -> None:
    raw = {f"p{i:02d}": "v" for i in range(51)}
    values, problems = validate_properties(WIDE, raw, "inputs[0].")
    assert values == {}
    assert [(p.in_, p.code) for p in problems] == [("inputs[0].properties", "TOO_MANY_PROPERTIES")]
    assert "51 were sent" in problems[0].message


def test_names_equal_after_lowercasing_count_once() -> None:
    raw = {f"p{i:02d}": "v" for i in range(50)} | {"P00": "w"}
    values, problems = validate_properties(WIDE, raw, "")
    assert problems == []
    assert values["p00"] == "v"  # "P00" < "p00": the lowercase spelling is kept


def test_every_problem_is_reported_at_once_in_design_order() -> None:
    raw: dict[str, object] = {
        "ghost": 1,
        "Price": "cheap",
        "color": "red;green",
        "sold": None,
        "seen_at": "yesterday",
        "hs_page_title": "t" * 257,
        "hs_page_url": "u" * 1024,  # at its limit: fine
    }
    raw |= {f"extra{i:02d}": "v" for i in range(45)}
    values, problems = validate_properties(CAR, raw, "inputs[1].")
    assert values == {}
    found = [(p.in_, p.code) for p in problems]
    unknown = [
        ("inputs[1].properties." + f"extra{i:02d}", "PROPERTY_DOESNT_EXIST") for i in range(45)
    ]
    assert found == [
        *unknown,
        ("inputs[1].properties.ghost", "PROPERTY_DOESNT_EXIST"),
        ("inputs[1].properties", "TOO_MANY_PROPERTIES"),
        ("inputs[1].properties.color", "INVALID_ENUMERATION_OPTION"),
        ("inputs[1].properties.hs_page_title", "VALUE_TOO_LONG"),
        ("inputs[1].properties.price", "INVALID_NUMBER"),
        ("inputs[1].properties.seen_at", "INVALID_DATETIME"),
        ("inputs[1].properties.sold", "INVALID_TYPE"),
    ]
    assert all(p.message for p in problems)


# --- truncate_properties: the lenient path --------------------------------------------


def test_lenient_renders_scalars_and_drops_what_has_no_text() -> None:
    raw: dict[str, object] = {
        "Flag": True,
        "off": False,
        "n": 2.50,
        "whole": 1.0,
        "s": "x",
        "gone": None,
        "obj": {"a": 1},
        "arr": [1],
        "nan": math.nan,
        "inf": -math.inf,
        "huge": 10**5000,
    }
    assert truncate_properties(raw) == {
        "flag": "true",
        "n": "2.5",
        "off": "false",
        "s": "x",
        "whole": "1",
    }


def test_lenient_keeps_the_same_duplicate_as_the_strict_path() -> None:
    assert truncate_properties({"color": "a", "Color": "b", "COLOR": "c"}) == {"color": "a"}


def test_lenient_keeps_undefined_names() -> None:
    assert truncate_properties({"anything_at_all": "v"}) == {"anything_at_all": "v"}


def test_lenient_cuts_names_to_fifty_characters() -> None:
    assert truncate_properties({"a" * 50: "at", "b" * 51: "past"}) == {
        "a" * 50: "at",
        "b" * 50: "past",
    }


def test_lenient_names_equal_after_cutting_keep_the_one_sorting_last() -> None:
    raw = {"a" * 50 + "z": "last", "a" * 50 + "b": "first"}
    assert truncate_properties(raw) == {"a" * 50: "last"}


@pytest.mark.parametrize(("name", "limit"), [("note", 256), ("hs_page_url", 1024)])
def test_lenient_cuts_values_at_their_limit(name: str, limit: int) -> None:
    assert truncate_properties({name: "x" * limit})[name] == "x" * limit
    assert truncate_properties({name: "x" * (limit + 1)})[name] == "x" * limit


def test_lenient_judges_long_names_by_the_name_it_keeps() -> None:
    kept_url = "a" * 47 + "url"  # 50 characters: still a URL property
    lost_url = "b" * 50 + "_url"  # "_url" is cut off: an ordinary property
    out = truncate_properties({kept_url: "x" * 2000, lost_url: "x" * 2000})
    assert len(out[kept_url]) == 1024
    assert len(out["b" * 50]) == 256


def test_lenient_keeps_the_first_fifty_names_in_ascending_order() -> None:
    raw = {f"p{i:02d}": "v" for i in reversed(range(51))}
    out = truncate_properties(raw)
    assert list(out) == [f"p{i:02d}" for i in range(50)]  # p50 is the one dropped


def test_lenient_dropped_values_do_not_use_up_places() -> None:
    raw: dict[str, object] = {"a_null": None} | {f"p{i:02d}": "v" for i in range(50)}
    assert list(truncate_properties(raw)) == [f"p{i:02d}" for i in range(50)]


def test_lenient_removes_nul_characters() -> None:
    assert truncate_properties({"n\x00ote": "a\x00b", "\x00": "gone"}) == {"note": "ab"}


def test_lenient_orders_by_the_names_it_keeps() -> None:
    # "a\x00z" sorts before "aa" as sent, but is kept as "az", after "aa".
    assert list(truncate_properties({"a\x00z": "1", "aa": "2"})) == ["aa", "az"]
