"""Internal names: the `^[a-z][a-z0-9_]{0,49}$` rule and names derived from labels."""

from __future__ import annotations

import pytest

from occur.domain.names import (
    MAX_NAME_CHARS,
    derive_name,
    fold_key,
    name_problem,
    takes_long_values,
)


def never_taken(_candidate: str) -> bool:
    return False


@pytest.mark.parametrize("name", ["a", "a" * 50, "viewed_car", "a1", "a_", "x_1_y_2", "z9"])
def test_valid_names_have_no_problem(name: str) -> None:
    assert name_problem(name) is None


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("", "empty"),
        ("a" * 51, "at most 50"),
        ("Viewed", "start with a lowercase letter"),
        ("viewedCar", "only lowercase"),
        ("1abc", "start with a lowercase letter"),
        ("_abc", "start with a lowercase letter"),
        ("ab-c", "only lowercase"),
        ("ab c", "only lowercase"),
        ("café", "only lowercase"),
        ("éa", "start with a lowercase letter"),
        ("ab.c", "only lowercase"),
        # `$` alone would match before a trailing newline and let this through.
        ("abc\n", "only lowercase"),
        ("abc\x00", "only lowercase"),
    ],
)
def test_invalid_names_say_why(name: str, says: str) -> None:
    problem = name_problem(name)
    assert problem is not None
    assert says in problem


def test_fold_key_makes_case_variants_equal() -> None:
    assert fold_key("Color") == fold_key("color") == fold_key("COLOR")
    assert fold_key("color") != fold_key("colour")


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("Viewed Car", "viewed_car"),
        ("Viewed   Car!!", "viewed_car"),
        ("  Signed-up (trial) ", "signed_up_trial"),
        ("Ça été Ünïcödé", "ca_ete_unicode"),
        ("2024 Sale", "n_2024_sale"),
        ("ALL CAPS", "all_caps"),
        ("日本語", "event"),
        ("!!!", "event"),
    ],
)
def test_derive_name_folds_lowercases_and_joins(label: str, expected: str) -> None:
    derived = derive_name(label, never_taken)
    assert derived == expected
    assert name_problem(derived) is None


def test_derive_name_uses_the_fallback_when_nothing_is_left() -> None:
    assert derive_name("日本語", never_taken, fallback="property") == "property"


def test_derive_name_cuts_to_50_without_a_trailing_underscore() -> None:
    label = "a" * 49 + " b" + "c" * 20
    derived = derive_name(label, never_taken)
    assert len(derived) <= MAX_NAME_CHARS
    assert derived == "a" * 49
    assert derive_name("x" * 80, never_taken) == "x" * 50


def test_derive_name_adds_2_then_3_while_taken() -> None:
    taken = {"viewed_car", "viewed_car_2"}
    assert derive_name("Viewed Car", taken.__contains__) == "viewed_car_3"
    assert derive_name("Viewed Car", {"viewed_car"}.__contains__) == "viewed_car_2"


def test_derive_name_suffix_keeps_a_full_length_name_within_50() -> None:
    base = "y" * 50
    derived = derive_name("Y" * 60, {base}.__contains__)
    assert derived == "y" * 48 + "_2"
    assert name_problem(derived) is None


@pytest.mark.parametrize(
    ("name", "long"),
    [
        ("hs_page_url", True),
        ("hs_referrer", True),
        ("hs_link_href", True),
        ("Landing_URL", True),
        ("hs_page_title", False),
        ("plan", False),
    ],
)
def test_url_referrer_and_link_properties_take_long_values(name: str, long: bool) -> None:
    assert takes_long_values(name) is long
