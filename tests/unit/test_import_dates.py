"""Spreadsheet dates: HubSpot's five import formats, time zones with DST, refusals."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from occur.domain.import_dates import (
    COULD_NOT_PARSE_DATE,
    DATE_FORMATS,
    DAY_MONTH_YEAR,
    EPOCH_MILLIS,
    ISO_8601,
    MONTH_DAY_YEAR,
    YEAR_MONTH_DAY,
    CellError,
    parse_date_value,
    parse_datetime_value,
    parse_occurred_at,
)
from occur.domain.timestamps import iso_from_ms

UTC = ZoneInfo("UTC")
PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")


def test_the_formats_are_hubspots_names() -> None:
    assert DATE_FORMATS == (
        "MONTH_DAY_YEAR",
        "DAY_MONTH_YEAR",
        "YEAR_MONTH_DAY",
        "ISO_8601",
        "EPOCH_MILLIS",
    )


@pytest.mark.parametrize(
    ("text", "date_format", "expected"),
    [
        # month first: separators / - ., one or two digits, four- or two-digit years
        ("03/05/2024", MONTH_DAY_YEAR, "2024-03-05T00:00:00.000Z"),
        ("3/5/2024", MONTH_DAY_YEAR, "2024-03-05T00:00:00.000Z"),
        ("3-5-2024", MONTH_DAY_YEAR, "2024-03-05T00:00:00.000Z"),
        ("3.5.2024", MONTH_DAY_YEAR, "2024-03-05T00:00:00.000Z"),
        ("12/31/99", MONTH_DAY_YEAR, "1999-12-31T00:00:00.000Z"),
        ("1/1/00", MONTH_DAY_YEAR, "2000-01-01T00:00:00.000Z"),
        ("1/1/68", MONTH_DAY_YEAR, "2068-01-01T00:00:00.000Z"),
        ("1/1/70", MONTH_DAY_YEAR, "1970-01-01T00:00:00.000Z"),
        # times: H:MM, H:MM:SS, fractions, AM/PM in its spellings, Excel's ", " form
        ("3/5/2024 14:30", MONTH_DAY_YEAR, "2024-03-05T14:30:00.000Z"),
        ("3/5/2024 9:05:07", MONTH_DAY_YEAR, "2024-03-05T09:05:07.000Z"),
        ("3/5/2024 9:05:07.25", MONTH_DAY_YEAR, "2024-03-05T09:05:07.250Z"),
        ("3/5/2024 9:05:07,123456", MONTH_DAY_YEAR, "2024-03-05T09:05:07.123Z"),
        ("3/5/2024 2:30 PM", MONTH_DAY_YEAR, "2024-03-05T14:30:00.000Z"),
        ("3/5/2024 2:30pm", MONTH_DAY_YEAR, "2024-03-05T14:30:00.000Z"),
        ("3/5/2024 12:00 AM", MONTH_DAY_YEAR, "2024-03-05T00:00:00.000Z"),
        ("3/5/2024 12:00 p.m.", MONTH_DAY_YEAR, "2024-03-05T12:00:00.000Z"),
        ("3/5/2024, 2:30:01 PM", MONTH_DAY_YEAR, "2024-03-05T14:30:01.000Z"),
        ("  3/5/2024  ", MONTH_DAY_YEAR, "2024-03-05T00:00:00.000Z"),
        # day first
        ("05/03/2024", DAY_MONTH_YEAR, "2024-03-05T00:00:00.000Z"),
        ("5.3.24 14:30", DAY_MONTH_YEAR, "2024-03-05T14:30:00.000Z"),
        ("31-12-1999 23:59:59", DAY_MONTH_YEAR, "1999-12-31T23:59:59.000Z"),
        # year first
        ("2024/03/05", YEAR_MONTH_DAY, "2024-03-05T00:00:00.000Z"),
        ("2024.3.5 8:00 AM", YEAR_MONTH_DAY, "2024-03-05T08:00:00.000Z"),
        ("24-03-05", YEAR_MONTH_DAY, "2024-03-05T00:00:00.000Z"),
        # ISO-8601: offset or Z → that instant; none → the time zone's wall time
        ("2024-03-05T14:30:00Z", ISO_8601, "2024-03-05T14:30:00.000Z"),
        ("2024-03-05T14:30:00.123z", ISO_8601, "2024-03-05T14:30:00.123Z"),
        ("2024-03-05T16:30:00+02:00", ISO_8601, "2024-03-05T14:30:00.000Z"),
        ("2024-03-05 14:30", ISO_8601, "2024-03-05T14:30:00.000Z"),
        ("2024-03-05", ISO_8601, "2024-03-05T00:00:00.000Z"),
        # epoch milliseconds, also as Excel writes a float
        ("1709649000000", EPOCH_MILLIS, "2024-03-05T14:30:00.000Z"),
        ("1709649000000.0", EPOCH_MILLIS, "2024-03-05T14:30:00.000Z"),
        ("0", EPOCH_MILLIS, "1970-01-01T00:00:00.000Z"),
    ],
)
def test_each_format_reads_its_spellings(text: str, date_format: str, expected: str) -> None:
    assert iso_from_ms(parse_occurred_at(text, date_format, UTC)) == expected


@pytest.mark.parametrize("date_format", DATE_FORMATS)
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-05T14:30:00", "2024-03-05T13:30:00.000Z"),  # as an XLSX date cell reads
        ("2024-03-05T14:30:00.500", "2024-03-05T13:30:00.500Z"),
        ("2024-03-05", "2024-03-04T23:00:00.000Z"),
        ("2024-03-05T14:30:00Z", "2024-03-05T14:30:00.000Z"),
    ],
)
def test_every_format_also_reads_iso_8601(date_format: str, text: str, expected: str) -> None:
    assert iso_from_ms(parse_occurred_at(text, date_format, PARIS)) == expected


@pytest.mark.parametrize(
    ("text", "tz", "expected"),
    [
        # winter and summer offsets of the same zone
        ("01/15/2024 12:00", PARIS, "2024-01-15T11:00:00.000Z"),
        ("07/15/2024 12:00", PARIS, "2024-07-15T10:00:00.000Z"),
        ("07/15/2024 12:00", NEW_YORK, "2024-07-15T16:00:00.000Z"),
        # spring forward: 02:30 does not exist in Paris; fold=0 reads it with the winter
        # offset, i.e. as 03:30 summer time
        ("03/31/2024 02:30", PARIS, "2024-03-31T01:30:00.000Z"),
        ("03/10/2024 2:30 AM", NEW_YORK, "2024-03-10T07:30:00.000Z"),
        # fall back: 02:30 happens twice; fold=0 is the first (summer) one
        ("10/27/2024 02:30", PARIS, "2024-10-27T00:30:00.000Z"),
        ("11/03/2024 1:30 AM", NEW_YORK, "2024-11-03T05:30:00.000Z"),
        # an explicit offset wins over the zone
        ("2024-10-27T02:30:00+01:00", PARIS, "2024-10-27T01:30:00.000Z"),
    ],
)
def test_wall_times_read_in_the_zone_with_dst_resolved_as_fold_0(
    text: str, tz: ZoneInfo, expected: str
) -> None:
    assert iso_from_ms(parse_occurred_at(text, MONTH_DAY_YEAR, tz)) == expected


def test_epoch_millis_ignore_the_zone() -> None:
    assert parse_occurred_at("1709649000000", EPOCH_MILLIS, PARIS) == 1_709_649_000_000


@pytest.mark.parametrize(
    ("text", "date_format"),
    [
        ("", MONTH_DAY_YEAR),
        ("yesterday", MONTH_DAY_YEAR),
        ("13/05/2024", MONTH_DAY_YEAR),  # no month 13
        ("05/13/2024", DAY_MONTH_YEAR),
        ("2/30/2024", MONTH_DAY_YEAR),  # no 30 February
        ("2/29/2023", MONTH_DAY_YEAR),  # not a leap year
        ("3/5/2024 25:00", MONTH_DAY_YEAR),
        ("3/5/2024 9:60", MONTH_DAY_YEAR),
        ("3/5/2024 13:00 PM", MONTH_DAY_YEAR),
        ("3/5/2024 0:30 AM", MONTH_DAY_YEAR),
        ("3/5-2024", MONTH_DAY_YEAR),  # two different separators
        ("3/5/202", MONTH_DAY_YEAR),  # three-digit year
        ("2024/03/05", MONTH_DAY_YEAR),  # year first in a month-first column
        ("3/5/2024", YEAR_MONTH_DAY),
        ("20240305", ISO_8601),  # eight digits are more likely a number
        ("2024-03-05T14:30:00+25:00", ISO_8601),
        ("1709649000000.5", EPOCH_MILLIS),
        ("-1", EPOCH_MILLIS),
        ("1e12", EPOCH_MILLIS),
        ("١٧٠٩٦٤٩٠٠٠٠٠٠", EPOCH_MILLIS),  # other scripts' digits
        ("3/5/2024", "NO_SUCH_FORMAT"),
    ],
)
def test_unreadable_dates_are_refused(text: str, date_format: str) -> None:
    with pytest.raises(CellError) as caught:
        parse_occurred_at(text, date_format, UTC)
    assert caught.value.error_type == COULD_NOT_PARSE_DATE
    assert repr(text) in caught.value.message or "…" in caught.value.message


@pytest.mark.parametrize(
    ("text", "date_format", "tz"),
    [
        ("12/31/1969 23:59:59", MONTH_DAY_YEAR, UTC),
        ("1/1/69", MONTH_DAY_YEAR, UTC),  # a two-digit 69 is 1969
        ("1970-01-01T00:30:00", ISO_8601, PARIS),  # 23:30 UTC the day before
        ("1960-01-01", ISO_8601, UTC),
        ("9999-12-31T23:30:00-05:00", ISO_8601, UTC),  # past the year 9999 in UTC
    ],
)
def test_events_before_1970_or_after_9999_are_refused(
    text: str, date_format: str, tz: ZoneInfo
) -> None:
    with pytest.raises(CellError) as caught:
        parse_occurred_at(text, date_format, tz)
    assert caught.value.error_type == COULD_NOT_PARSE_DATE


def test_a_datetime_property_may_be_before_1970() -> None:
    assert iso_from_ms(parse_datetime_value("7/20/1969 20:17", MONTH_DAY_YEAR, UTC)) == (
        "1969-07-20T20:17:00.000Z"
    )
    with pytest.raises(CellError):
        parse_datetime_value("0999-01-01", ISO_8601, UTC)


@pytest.mark.parametrize(
    ("text", "date_format", "expected"),
    [
        ("05/03/2024", DAY_MONTH_YEAR, "2024-03-05"),
        ("3/5/24", MONTH_DAY_YEAR, "2024-03-05"),
        ("2024.03.05", YEAR_MONTH_DAY, "2024-03-05"),
        ("2024-03-05", DAY_MONTH_YEAR, "2024-03-05"),  # an XLSX date cell
        ("3/5/2024 0:00", MONTH_DAY_YEAR, "2024-03-05"),
        ("1709596800000", EPOCH_MILLIS, "2024-03-05"),
        ("1900-02-28", ISO_8601, "1900-02-28"),
    ],
)
def test_a_date_property_takes_the_calendar_day(text: str, date_format: str, expected: str) -> None:
    assert parse_date_value(text, date_format) == expected


@pytest.mark.parametrize(
    ("text", "date_format"),
    [
        ("3/5/2024 14:30", MONTH_DAY_YEAR),  # a time would be lost
        ("1709649000000", EPOCH_MILLIS),  # not midnight UTC
        ("31/02/2024", DAY_MONTH_YEAR),
        ("soon", ISO_8601),
    ],
)
def test_a_date_property_refuses_times_and_non_dates(text: str, date_format: str) -> None:
    with pytest.raises(CellError):
        parse_date_value(text, date_format)


def test_cell_errors_compare_as_values() -> None:
    first = CellError(error_type="X", message="m")
    assert first == CellError(error_type="X", message="m")
    assert first != CellError(error_type="Y", message="m")
    assert len({first, CellError(error_type="X", message="m")}) == 1
    assert "X" in repr(first)
