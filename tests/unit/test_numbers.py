"""The one canonical number form, shared by CRM values and event properties."""

from __future__ import annotations

import pytest

from occur.domain import crm
from occur.domain.numbers import MAX_PLAIN_DIGITS, plain_decimal


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1.0, "1"),
        ("1.50", "1.5"),
        ("1e3", "1000"),
        ("-0", "0"),
        ("+.5", "0.5"),
        (12, "12"),
        ("1234567890123456789012345678901234.5", "1234567890123456789012345678901234.5"),
    ],
)
def test_plain_decimal(value: int | float | str, expected: str) -> None:
    assert plain_decimal(value) == expected


@pytest.mark.parametrize(
    "value",
    ["", "1_000", "0x10", "\u0661", "²", "nan", "inf", float("nan"), True, f"1e{MAX_PLAIN_DIGITS}"],
)
def test_not_a_plain_decimal(value: object) -> None:
    with pytest.raises(ValueError):
        plain_decimal(value)  # type: ignore[arg-type]


def test_crm_numbers_keep_every_digit_up_to_their_limit() -> None:
    # Decimal's default 28-digit context used to round this while normalising.
    digits = "1234567890123456789012345678901234"
    assert crm.normalise_number(digits + ".000") == digits
    assert crm.normalise_number("9" * (crm.MAX_NUMBER_CHARS + 1)) is None
