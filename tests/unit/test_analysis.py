"""Analyze-tab rules without a database: buckets at local midnights, ranges, parameters, CSV.

Expected instants are written as ISO-8601 with the zone's offset spelled out, so each
one can be checked against a calendar rather than against the code under test.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from occur.domain.analysis import (
    MAX_RANGE_DAYS,
    Analysis,
    AnalysisQuery,
    Bucket,
    Interval,
    Metric,
    PropertyFilter,
    Series,
    WeekStart,
    buckets,
    chart_csv,
    distinct_labels,
    local_date,
    local_midnight_ms,
    read_analysis_query,
    spreadsheet_safe,
    value_label,
    zone_named,
)
from occur.domain.properties import Option, PropertySpec, PropertyType
from occur.domain.timestamps import ms_from_iso
from occur.errors import ValidationError

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
UTC = ZoneInfo("UTC")
HOUR_MS = 3_600_000


def ms(text: str) -> int:
    found = ms_from_iso(text)
    assert found is not None, text
    return found


def spans(found: tuple[Bucket, ...]) -> list[tuple[str, str, bool]]:
    return [(b.start.isoformat(), b.end.isoformat(), b.partial) for b in found]


def hours(found: tuple[Bucket, ...]) -> list[float]:
    return [(b.end_ms - b.start_ms) / HOUR_MS for b in found]


def query(
    params: list[tuple[str, str]], now: str = "2024-03-10T23:30:00Z", **kw: str
) -> AnalysisQuery:
    return read_analysis_query(params, now_ms=ms(now), **kw)


def problems(params: list[tuple[str, str]], **kw: str) -> list[tuple[str | None, str | None]]:
    with pytest.raises(ValidationError) as caught:
        query(params, **kw)
    return [(e.in_, e.code) for e in caught.value.errors]


# Buckets


def test_paris_days_around_both_dst_changes() -> None:
    spring = buckets(date(2024, 3, 30), date(2024, 4, 1), Interval.DAY, WeekStart.SUNDAY, PARIS)
    assert [b.start_ms for b in spring] == [
        ms("2024-03-30T00:00:00+01:00"),
        ms("2024-03-31T00:00:00+01:00"),
        ms("2024-04-01T00:00:00+02:00"),
    ]
    assert spring[-1].end_ms == ms("2024-04-02T00:00:00+02:00")
    assert hours(spring) == [24, 23, 24]
    autumn = buckets(date(2024, 10, 26), date(2024, 10, 28), Interval.DAY, WeekStart.SUNDAY, PARIS)
    assert autumn[1].start_ms == ms("2024-10-27T00:00:00+02:00")
    assert autumn[1].end_ms == ms("2024-10-28T00:00:00+01:00")
    assert hours(autumn) == [24, 25, 24]


def test_new_york_days_around_both_dst_changes() -> None:
    march = buckets(date(2024, 3, 10), date(2024, 3, 10), Interval.DAY, WeekStart.SUNDAY, NEW_YORK)
    assert (march[0].start_ms, march[0].end_ms) == (
        ms("2024-03-10T05:00:00Z"),
        ms("2024-03-11T04:00:00Z"),
    )
    november = buckets(
        date(2024, 11, 3), date(2024, 11, 3), Interval.DAY, WeekStart.SUNDAY, NEW_YORK
    )
    assert hours(march) + hours(november) == [23, 25]


def test_a_midnight_that_dst_skips_starts_the_day_at_one() -> None:
    # Havana springs forward at 00:00: 2023-03-12 runs from 01:00 (-04:00), 23 hours.
    havana = ZoneInfo("America/Havana")
    assert local_midnight_ms(date(2023, 3, 12), havana) == ms("2023-03-12T01:00:00-04:00")
    found = buckets(date(2023, 3, 11), date(2023, 3, 12), Interval.DAY, WeekStart.SUNDAY, havana)
    assert hours(found) == [24, 23]


def test_buckets_are_contiguous_and_cover_the_range_exactly() -> None:
    found = buckets(date(2024, 1, 1), date(2024, 12, 31), Interval.DAY, WeekStart.SUNDAY, PARIS)
    assert len(found) == 366
    assert all(a.end_ms == b.start_ms for a, b in pairwise(found))
    assert found[0].start_ms == ms("2024-01-01T00:00:00+01:00")
    assert found[-1].end_ms == ms("2025-01-01T00:00:00+01:00")


def test_weeks_start_on_sunday_or_monday_and_are_clipped_to_the_range() -> None:
    # 2024-05-29 is a Wednesday, 2024-06-02 a Sunday.
    first, last = date(2024, 5, 29), date(2024, 6, 12)
    sunday = buckets(first, last, Interval.WEEK, WeekStart.SUNDAY, UTC)
    assert spans(sunday) == [
        ("2024-05-29", "2024-06-01", True),
        ("2024-06-02", "2024-06-08", False),
        ("2024-06-09", "2024-06-12", True),
    ]
    assert [b.period_start.isoformat() for b in sunday] == [
        "2024-05-26",
        "2024-06-02",
        "2024-06-09",
    ]
    monday = buckets(first, last, Interval.WEEK, WeekStart.MONDAY, UTC)
    assert spans(monday) == [
        ("2024-05-29", "2024-06-02", True),
        ("2024-06-03", "2024-06-09", False),
        ("2024-06-10", "2024-06-12", True),
    ]
    assert monday[0].start_ms == ms("2024-05-29T00:00:00Z")
    assert monday[0].end_ms == ms("2024-06-03T00:00:00Z")


def test_a_range_inside_one_week_is_one_partial_bucket() -> None:
    found = buckets(date(2024, 6, 4), date(2024, 6, 5), Interval.WEEK, WeekStart.MONDAY, UTC)
    assert spans(found) == [("2024-06-04", "2024-06-05", True)]
    assert hours(found) == [48]


def test_a_week_with_a_dst_change_is_an_hour_short() -> None:
    found = buckets(date(2024, 3, 25), date(2024, 4, 7), Interval.WEEK, WeekStart.MONDAY, PARIS)
    assert spans(found) == [
        ("2024-03-25", "2024-03-31", False),
        ("2024-04-01", "2024-04-07", False),
    ]
    assert hours(found) == [167, 168]


def test_months_are_calendar_months_in_the_zone() -> None:
    found = buckets(date(2023, 12, 15), date(2024, 3, 10), Interval.MONTH, WeekStart.SUNDAY, PARIS)
    assert spans(found) == [
        ("2023-12-15", "2023-12-31", True),
        ("2024-01-01", "2024-01-31", False),
        ("2024-02-01", "2024-02-29", False),
        ("2024-03-01", "2024-03-10", True),
    ]
    assert found[1].start_ms == ms("2024-01-01T00:00:00+01:00")
    assert found[0].period_start == date(2023, 12, 1)
    march = buckets(date(2024, 3, 1), date(2024, 3, 31), Interval.MONTH, WeekStart.SUNDAY, PARIS)
    assert hours(march) == [31 * 24 - 1]


def test_local_date_of_an_instant() -> None:
    at = ms("2024-03-10T23:30:00Z")
    assert local_date(at, UTC) == date(2024, 3, 10)
    assert local_date(at, PARIS) == date(2024, 3, 11)
    assert local_date(at, ZoneInfo("America/Los_Angeles")) == date(2024, 3, 10)


# Presets and parameters


def test_defaults_are_thirty_days_by_day_ending_today() -> None:
    q = query([])
    assert (q.interval, q.metric, q.range) == (Interval.DAY, Metric.TOTAL, "30d")
    assert (q.start, q.end) == (date(2024, 2, 10), date(2024, 3, 10))
    assert (q.time_zone, q.week_start, q.filter, q.breakdown) == (
        "UTC",
        WeekStart.SUNDAY,
        None,
        None,
    )
    assert len(q.buckets()) == 30


@pytest.mark.parametrize(
    ("preset", "start"),
    [
        ("7d", date(2024, 3, 5)),
        ("30d", date(2024, 2, 11)),
        ("90d", date(2023, 12, 13)),
        ("365d", date(2023, 3, 13)),
    ],
)
def test_presets_end_today_in_the_portals_zone(preset: str, start: date) -> None:
    # 23:30 UTC on 2024-03-10 is already 2024-03-11 in Paris
    q = query([("range", preset)], time_zone="Europe/Paris")
    assert (q.start, q.end) == (start, date(2024, 3, 11))
    assert (q.end - q.start).days + 1 == int(preset[:-1])
    assert len(q.buckets()) == int(preset[:-1])


def test_a_full_custom_query() -> None:
    q = query(
        [
            ("interval", "WEEK"),
            ("metric", "Unique"),
            ("range", "custom"),
            ("start", "2024-01-01"),
            ("end", "2024-01-31"),
            ("filterProperty", "Plan"),
            ("filterValue", " Pro "),
            ("breakdown", "source"),
        ],
        time_zone="America/New_York",
        week_start="monday",
    )
    assert (q.interval, q.metric, q.range) == (Interval.WEEK, Metric.UNIQUE, "custom")
    assert (q.start, q.end) == (date(2024, 1, 1), date(2024, 1, 31))
    assert (q.time_zone, q.week_start) == ("America/New_York", WeekStart.MONDAY)
    assert q.filter == PropertyFilter("plan", " Pro ")  # values are compared as typed
    assert q.breakdown == "source"
    assert [b.start.isoformat() for b in q.buckets()] == [
        "2024-01-01",
        "2024-01-08",
        "2024-01-15",
        "2024-01-22",
        "2024-01-29",
    ]


def test_start_and_end_alone_mean_custom_and_a_preset_ignores_them() -> None:
    q = query([("start", "2024-01-01"), ("end", "2024-01-01")])
    assert (q.range, q.start, q.end) == ("custom", date(2024, 1, 1), date(2024, 1, 1))
    q = query([("range", "7d"), ("start", "2020-01-01"), ("end", "2020-01-02")])
    assert (q.range, q.start, q.end) == ("7d", date(2024, 3, 4), date(2024, 3, 10))
    # an empty field is an absent one, as a form sends it
    assert query([("range", ""), ("start", ""), ("metric", "")]).range == "30d"


def test_every_problem_is_named_by_its_parameter() -> None:
    assert problems(
        [
            ("interval", "hour"),
            ("metric", "sum"),
            ("range", "14d"),
            ("filterValue", "pro"),
            ("breakdown", "9lives"),
        ]
    ) == [
        ("interval", "INVALID"),
        ("metric", "INVALID"),
        ("range", "INVALID"),
        ("filterProperty", "REQUIRED"),
        ("breakdown", "INVALID"),
    ]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ([("range", "custom")], [("start", "REQUIRED"), ("end", "REQUIRED")]),
        ([("start", "2024-01-01")], [("end", "REQUIRED")]),
        ([("start", "2024-02-30"), ("end", "2024-03-01")], [("start", "INVALID_DATE")]),
        (
            [("start", "20240101"), ("end", "2024-1-5")],
            [("start", "INVALID_DATE"), ("end", "INVALID_DATE")],
        ),
        ([("start", "0999-12-31"), ("end", "2024-01-01")], [("start", "INVALID_DATE")]),
        ([("start", "2024-01-02"), ("end", "2024-01-01")], [("end", "INVALID")]),
        ([("start", "2012-01-01"), ("end", "2022-01-01")], [("end", "TOO_LONG")]),
        ([("filterProperty", "plan")], [("filterValue", "REQUIRED")]),
        ([("filterProperty", "a-b"), ("filterValue", "x")], [("filterProperty", "INVALID")]),
        ([("metric", "total"), ("metric", "unique")], [("metric", "INVALID")]),
        ([("breakdown", "plan\x00")], [("breakdown", "INVALID")]),
    ],
)
def test_parameter_problems(params: list[tuple[str, str]], expected: list[tuple[str, str]]) -> None:
    assert problems(params) == expected


def test_the_longest_range_is_ten_years() -> None:
    q = query([("start", "2012-01-01"), ("end", "2021-12-31")])  # three leap days
    assert (q.end - q.start).days + 1 == MAX_RANGE_DAYS


def test_a_portal_setting_that_is_not_valid_is_a_clear_error() -> None:
    assert problems([], time_zone="Mars/Olympus") == [("timeZone", "INVALID")]
    assert problems([], time_zone="../../etc/passwd") == [("timeZone", "INVALID")]
    assert problems([], week_start="FRIDAY") == [("weekStart", "INVALID")]
    assert zone_named("Europe/Paris") == PARIS
    assert zone_named("") is None


# Labels and CSV


def test_values_are_shown_by_their_option_label() -> None:
    plan = PropertySpec(
        "plan", "Plan", PropertyType.ENUMERATION, options=(Option("Pro plan", "pro", 0),)
    )
    assert value_label(plan, "pro") == "Pro plan"
    assert value_label(plan, "gone") == "gone"
    assert value_label(None, "") == "(empty)"
    assert distinct_labels(["Pro", "Pro", "x"], ["pro", "PRO", "x"]) == [
        "Pro (pro)",
        "Pro (PRO)",
        "x",
    ]


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+33 1 23", "'+33 1 23"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("a=b", "a=b"),
        ("'quoted", "'quoted"),
        ("", ""),
    ],
)
def test_cells_a_spreadsheet_would_run_are_prefixed(cell: str, safe: str) -> None:
    assert spreadsheet_safe(cell) == safe


def test_chart_csv_has_a_row_per_bucket_and_a_column_per_series() -> None:
    q = query([("range", "custom"), ("start", "2024-03-09"), ("end", "2024-03-11")])
    found = q.buckets()
    series = (
        Series('=HYPERLINK("http://x.test","go")', "v1", (1, 0, 2), 3),
        Series('plain, "quoted"\nline', "v2", (0, 5, 0), 5),
    )
    text = chart_csv(Analysis(q, found, series, 8))
    assert text.startswith('Date,"\'=HYPERLINK(""http://x.test"",""go"")",')
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [
        ["Date", '\'=HYPERLINK("http://x.test","go")', 'plain, "quoted"\nline'],
        ["2024-03-09", "1", "0"],
        ["2024-03-10", "0", "5"],
        ["2024-03-11", "2", "0"],
    ]


def test_chart_csv_of_the_metric_alone() -> None:
    q = query([("range", "7d"), ("interval", "week"), ("metric", "unique")])
    found = q.buckets()
    line = Series(q.metric.label, None, tuple(range(len(found))), 9)
    rows = list(csv.reader(io.StringIO(chart_csv(Analysis(q, found, (line,), 9)))))
    assert rows == [["Date", "Unique records"], ["2024-03-04", "0"], ["2024-03-10", "1"]]
