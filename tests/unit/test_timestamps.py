"""Epoch milliseconds inside, ISO-8601 on the wire: both directions, edges included."""

from __future__ import annotations

import pytest

from occur.domain.timestamps import iso_from_ms, ms_from_iso, ms_from_text


@pytest.mark.parametrize(
    ("epoch_ms", "iso"),
    [
        (0, "1970-01-01T00:00:00.000Z"),
        (1_700_000_000_123, "2023-11-14T22:13:20.123Z"),
        (-1, "1969-12-31T23:59:59.999Z"),
        (-62_135_596_800_000, "0001-01-01T00:00:00.000Z"),
        (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
    ],
)
def test_iso_round_trips(epoch_ms: int, iso: str) -> None:
    assert iso_from_ms(epoch_ms) == iso
    assert ms_from_iso(iso) == epoch_ms


def test_every_millisecond_of_a_second_is_exact() -> None:
    base = 1_764_374_400_000
    for ms in range(1000):
        assert iso_from_ms(base + ms).endswith(f".{ms:03d}Z")
        assert ms_from_iso(iso_from_ms(base + ms)) == base + ms


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1700000000123", 1_700_000_000_123),
        (" -5 ", -5),
        ("2023-11-14T22:13:20.123Z", 1_700_000_000_123),
        ("2023-11-14T23:13:20.123+01:00", 1_700_000_000_123),
        ("2023-11-14", 1_699_920_000_000),
        ("²", None),
        ("١٢٣", None),
        ("-", None),
        ("", None),
        ("yesterday", None),
    ],
)
def test_ms_from_text(text: str, expected: int | None) -> None:
    assert ms_from_text(text) == expected
