"""What an event's Analyze tab asks for, the time buckets it counts in, and its CSV.

A chart counts one event type's completions in buckets of local days, weeks or months.
People read dates in their own zone, so every boundary is a local midnight in the
portal's IANA time zone turned into a UTC epoch-ms instant: a day that gains or loses an
hour to daylight saving time is a 25- or 23-hour bucket, and a week or month starts at
the first instant of its first local day. Storage compares those instants against
`occurred_at` directly, so no database needs to know about time zones.

The parameters arrive as a URL query string (the page's form), read with the read API's
parameter reader so that problems come back the same way: one ValidationError listing
each one under its parameter's name.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from occur.domain.event_queries import QueryReader
from occur.domain.names import name_problem
from occur.domain.properties import PropertySpec, PropertyType
from occur.errors import FieldError, ValidationError, collect

DEFAULT_TIME_ZONE = "UTC"
# Presets name the days they cover, today (in the portal's zone) being the last of them.
RANGE_PRESET_DAYS = {"7d": 7, "30d": 30, "90d": 90, "365d": 365}
CUSTOM_RANGE = "custom"
DEFAULT_RANGE = "30d"
# Ten years of daily buckets is the most a chart can plot legibly and the most one
# request may ask the store to count (one index range per bucket).
MAX_RANGE_DAYS = 3_653
FIRST_DATE = date(1000, 1, 1)  # occur stores occurredAt from the year 1000 on
LAST_DATE = date(9998, 12, 31)  # so that the bucket after it is still a date
TOP_VALUES = 10
CSV_DATE_HEADER = "Date"
EMPTY_VALUE_LABEL = "(empty)"
# The breakdown table's last two lines, after the top values (Breakdown.other, .no_value).
OTHER_LABEL = "Other"
NO_VALUE_LABEL = "(no value)"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_Choice = TypeVar("_Choice", bound=StrEnum)


class Interval(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class Metric(StrEnum):
    """What a bucket counts.

    TOTAL counts every completion, anonymous ones included: they happened, and the
    tracking script recorded them.

    UNIQUE counts the people behind them: each record (contact, company, ...) once, and
    each anonymous visitor that is not yet known as a record once too. A marketer asking
    "how many people did this" expects a visitor who has not filled a form yet to count as
    one person, not as none (excluded) nor once per visit. When the visitor is identified
    its completions move to the contact (services/visitors.py), so it keeps counting as
    one. A completion with neither a record nor a visitor (its visitor was deleted)
    cannot be told apart from anyone else's and counts in TOTAL only.
    """

    TOTAL = "total"
    UNIQUE = "unique"

    @property
    def label(self) -> str:
        return "Total completions" if self is Metric.TOTAL else "Unique records"


class WeekStart(StrEnum):
    """A portal setting: the first day of a week bucket."""

    SUNDAY = "SUNDAY"
    MONDAY = "MONDAY"

    @property
    def weekday(self) -> int:
        """As `date.weekday()` numbers days: Monday 0 ... Sunday 6."""
        return 6 if self is WeekStart.SUNDAY else 0


@dataclass(frozen=True)
class PropertyFilter:
    """Count only completions whose `name` holds `value` (as typed; the service reads it
    as the property's type, the way `send` stored it)."""

    name: str
    value: str


@dataclass(frozen=True)
class Bucket:
    """One point of a chart: the local days it covers and the UTC instants between them.

    The first and last bucket of a range may be partial: a week bucket of a range that
    starts on a Wednesday covers Wednesday to the week's end only. `period_start` is the
    first day of the whole day, week or month, for labels such as "Week of ..."."""

    start: date  # first local day counted
    end: date  # last local day counted (inclusive)
    period_start: date
    partial: bool
    start_ms: int  # inclusive
    end_ms: int  # exclusive


@dataclass(frozen=True)
class AnalysisQuery:
    """One validated chart request. `start` and `end` are local dates, both included."""

    interval: Interval
    metric: Metric
    range: str  # a RANGE_PRESET_DAYS key or CUSTOM_RANGE
    start: date
    end: date
    time_zone: str
    week_start: WeekStart
    filter: PropertyFilter | None = None
    breakdown: str | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def buckets(self) -> tuple[Bucket, ...]:
        return buckets(self.start, self.end, self.interval, self.week_start, self.zone)


@dataclass(frozen=True)
class Series:
    """One line of a chart: a count per bucket, and the metric over the whole range.

    `total` is counted over the range itself, not summed from the buckets: for unique
    records a person active in two buckets is one person in the range."""

    label: str
    value: str | None  # the stored property value a breakdown series stands for
    counts: tuple[int, ...]
    total: int


@dataclass(frozen=True)
class Breakdown:
    """What the breakdown table adds to the top values' series.

    `other` counts completions (or records) with a value outside the top ones, `no_value`
    those whose completion holds no value for the property. With unique records the lines
    need not add up to the range's total: one person may have completed with two values.
    For unique records both take a pass over every completion in the range (one of them
    an anti-join), so the page may leave them for a second request
    (services.analysis.breakdown_rest).
    """

    property_name: str
    property_label: str
    # None: not counted yet (the page asks for them once it shows)
    other: int | None
    no_value: int | None


@dataclass(frozen=True)
class Analysis:
    """Everything the Analyze tab shows for one query.

    `series` are the lines to plot: the metric itself, or with a breakdown one line per
    top value, largest total first (equal totals in the database's text order), which are
    also the rows of the breakdown table. `total` is the metric over the whole range.
    A breakdown has no line for the metric itself: the chart does not show one, and
    for unique records it would cost one more pass over every completion."""

    query: AnalysisQuery
    buckets: tuple[Bucket, ...]
    series: tuple[Series, ...]
    total: int
    breakdown: Breakdown | None = None


def read_analysis_query(
    params: Iterable[tuple[str, str]],
    *,
    now_ms: int,
    time_zone: str = DEFAULT_TIME_ZONE,
    week_start: str = WeekStart.SUNDAY,
) -> AnalysisQuery:
    """Validate the Analyze form's query string; one ValidationError lists every problem.

    Parameters: `interval` (day, week, month; default day), `metric` (total, unique;
    default total), `range` (7d, 30d, 90d, 365d, custom; default 30d), `start` and `end`
    (YYYY-MM-DD, both included) for a custom range, `filterProperty` with `filterValue`,
    and `breakdown` (a property name). `start` and `end` alone imply a custom range; with
    a preset they are ignored, so a form that keeps its date fields filled can switch back
    to a preset. The time zone and first day of the week (SUNDAY or MONDAY) are the
    portal's settings, checked too so that a bad one is a clear error, not a crash.
    """
    grouped: dict[str, list[str]] = {}
    for name, value in params:
        grouped.setdefault(name, []).append(value)
    reader = QueryReader(grouped)
    zone = zone_named(time_zone)
    if zone is None:
        reader.add("timeZone", f"The portal's time zone {time_zone!r} is not known.", "INVALID")
    first_day = _week_start(reader, week_start)
    interval = _choice(reader, "interval", Interval, Interval.DAY)
    metric = _choice(reader, "metric", Metric, Metric.TOTAL)
    chosen_range, start, end = _date_range(reader, now_ms, zone or ZoneInfo(DEFAULT_TIME_ZONE))
    query = AnalysisQuery(
        interval=interval,
        metric=metric,
        range=chosen_range,
        start=start,
        end=end,
        time_zone=time_zone,
        week_start=first_day,
        filter=_filter(reader),
        breakdown=_property_name(reader, "breakdown"),
    )
    collect(reader.problems)
    return query


def zone_named(name: str) -> ZoneInfo | None:
    """The IANA time zone of this name, or None when there is no such zone."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        # ValueError: a key that is not a zone name at all, such as a path
        return None


def local_date(epoch_ms: int, zone: ZoneInfo) -> date:
    """The calendar date an instant falls on in `zone`."""
    return (_EPOCH + timedelta(milliseconds=epoch_ms)).astimezone(zone).date()


def local_midnight_ms(day: date, zone: ZoneInfo) -> int:
    """The first instant of a local day, as epoch ms.

    `fold=0` gives the first instant in both DST edge cases: a midnight skipped by a
    spring-forward at 00:00 (America/Havana, formerly America/Sao_Paulo) maps to the
    transition instant, where the day begins at 01:00; a midnight that happens twice maps
    to the earlier one."""
    moment = datetime.combine(day, time(), tzinfo=zone)
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def preset_dates(days: int, today: date) -> tuple[date, date]:
    """The last `days` days, ending with today (included)."""
    return today - timedelta(days=days - 1), today


def period_start(day: date, interval: Interval, week_start: WeekStart) -> date:
    """The first day of the day, week or month that `day` lies in."""
    if interval is Interval.DAY:
        return day
    if interval is Interval.WEEK:
        return day - timedelta(days=(day.weekday() - week_start.weekday) % 7)
    return day.replace(day=1)


def next_period(start: date, interval: Interval) -> date:
    """The first day of the period after the one starting at `start`."""
    if interval is Interval.DAY:
        return start + timedelta(days=1)
    if interval is Interval.WEEK:
        return start + timedelta(days=7)
    if start.month == 12:
        return date(start.year + 1, 1, 1)
    return date(start.year, start.month + 1, 1)


def buckets(
    start: date, end: date, interval: Interval, week_start: WeekStart, zone: ZoneInfo
) -> tuple[Bucket, ...]:
    """Every bucket from `start` to `end` (local dates, included), the first and last
    clipped to the range, each bounded by local midnights."""
    found: list[Bucket] = []
    period = period_start(start, interval, week_start)
    after_end = end + timedelta(days=1)
    low_ms = local_midnight_ms(start, zone)
    while period <= end:
        following = next_period(period, interval)
        first, stop = max(period, start), min(following, after_end)
        high_ms = local_midnight_ms(stop, zone)
        partial = first != period or stop != following
        found.append(Bucket(first, stop - timedelta(days=1), period, partial, low_ms, high_ms))
        period, low_ms = following, high_ms
    return tuple(found)


def value_label(spec: PropertySpec | None, value: str) -> str:
    """How a stored value is shown: an enumeration option by its label, an empty value
    by a placeholder a reader can see."""
    if spec is not None and spec.type is PropertyType.ENUMERATION:
        for option in spec.options:
            if option.value == value:
                return option.label or value
    return value if value != "" else EMPTY_VALUE_LABEL


def distinct_labels(labels: Sequence[str], values: Sequence[str]) -> list[str]:
    """Labels that tell the series apart: a label two values share gets its value added
    (two options may share a label; an option label may equal another raw value)."""
    repeated = {label for label in labels if labels.count(label) > 1}
    return [
        f"{label} ({value})" if label in repeated else label
        for label, value in zip(labels, values, strict=True)
    ]


def spreadsheet_safe(cell: str) -> str:
    """A cell a spreadsheet shows as text: one it would run as a formula gets a `'`."""
    return "'" + cell if cell.startswith(_FORMULA_STARTS) else cell


def chart_csv(analysis: Analysis) -> str:
    """The numbers behind the chart: one row per bucket (its first local day counted,
    ISO), one column per series. Labels come from users (values, option labels), so every
    text cell goes through spreadsheet_safe, and the csv module does the quoting."""
    out = io.StringIO()
    writer = csv.writer(out)
    series = analysis.series
    writer.writerow([CSV_DATE_HEADER, *(spreadsheet_safe(s.label) for s in series)])
    for i, bucket in enumerate(analysis.buckets):
        writer.writerow([bucket.start.isoformat(), *(s.counts[i] for s in series)])
    return out.getvalue()


def unknown_property(parameter: str, name: str, event_label: str) -> ValidationError:
    """The error for a filter or breakdown on a property the event does not define."""
    message = f"{parameter}: the event {event_label!r} has no property named {name!r}."
    return ValidationError(message, errors=[FieldError(message, in_=parameter, code="INVALID")])


def _choice(reader: QueryReader, name: str, kind: type[_Choice], default: _Choice) -> _Choice:
    raw = reader.text(name)
    if raw is None:
        return default
    for member in kind:
        if raw.lower() == member.value.lower():
            return member
    known = ", ".join(m.value for m in kind)
    reader.add(name, f"{name} must be one of {known}; got {raw[:80]!r}.", "INVALID")
    return default


def _week_start(reader: QueryReader, raw: str) -> WeekStart:
    for member in WeekStart:
        if raw.upper() == member.value:
            return member
    reader.add("weekStart", f"The portal's first day of the week {raw!r} is not known.", "INVALID")
    return WeekStart.SUNDAY


def _date_range(reader: QueryReader, now_ms: int, zone: ZoneInfo) -> tuple[str, date, date]:
    """The range asked for, as (range, first day, last day); a preset ends today."""
    today = local_date(now_ms, zone)
    raw = reader.text("range")
    raw_start, raw_end = reader.text("start"), reader.text("end")
    given = raw_start is not None or raw_end is not None
    chosen = (raw or (CUSTOM_RANGE if given else DEFAULT_RANGE)).lower()
    if chosen in RANGE_PRESET_DAYS:
        return (chosen, *preset_dates(RANGE_PRESET_DAYS[chosen], today))
    fallback = (DEFAULT_RANGE, *preset_dates(RANGE_PRESET_DAYS[DEFAULT_RANGE], today))
    if chosen != CUSTOM_RANGE:
        known = ", ".join([*RANGE_PRESET_DAYS, CUSTOM_RANGE])
        reader.add("range", f"range must be one of {known}; got {raw!r}.", "INVALID")
        return fallback
    start, end = _date(reader, "start", raw_start), _date(reader, "end", raw_end)
    if start is None or end is None:
        return fallback
    days = (end - start).days + 1
    if days < 1:
        reader.add("end", f"end ({end}) must not be before start ({start}).", "INVALID")
        return fallback
    if days > MAX_RANGE_DAYS:
        reader.add(
            "end",
            f"A range covers at most {MAX_RANGE_DAYS:,} days (ten years); "
            f"{start} to {end} is {days:,}.",
            "TOO_LONG",
        )
        return fallback
    return CUSTOM_RANGE, start, end


def _date(reader: QueryReader, name: str, raw: str | None) -> date | None:
    if raw is None:
        reader.add(name, f"A custom range needs {name} (YYYY-MM-DD).", "REQUIRED")
        return None
    try:
        day = date.fromisoformat(raw) if _ISO_DATE.fullmatch(raw) else None
    except ValueError:
        day = None
    if day is None or not FIRST_DATE <= day <= LAST_DATE:
        reader.add(
            name,
            f"{name} must be a date written YYYY-MM-DD, from {FIRST_DATE} to {LAST_DATE}; "
            f"got {raw[:80]!r}.",
            "INVALID_DATE",
        )
        return None
    return day


def _property_name(reader: QueryReader, name: str) -> str | None:
    raw = reader.text(name)
    if raw is None:
        return None
    lowered = raw.lower()
    problem = name_problem(lowered)
    if problem is not None:
        reader.add(name, f"{name} does not name an event property: {problem}", "INVALID")
        return None
    return lowered


def _filter(reader: QueryReader) -> PropertyFilter | None:
    name = _property_name(reader, "filterProperty")
    value = reader.one("filterValue")  # as typed: values are compared exactly
    if name is None and value is None:
        return None
    if value is None:
        if name is not None:
            reader.add("filterValue", "filterProperty needs a filterValue.", "REQUIRED")
        return None
    if name is None:
        if not any(p.in_ == "filterProperty" for p in reader.problems):
            reader.add("filterProperty", "filterValue needs a filterProperty.", "REQUIRED")
        return None
    return PropertyFilter(name, value)
