"""Dates in spreadsheet cells: HubSpot's import date formats, read as epoch milliseconds.

A spreadsheet holds dates as text a person typed (`3/5/24 2:30 PM`), so the importer is
told which order day, month and year come in (HubSpot's `dateFormat`) and which time
zone a wall-clock time is in. ISO-8601 text is accepted whatever format was chosen,
because the XLSX reader renders date cells as ISO-8601 (services/spreadsheets.py) and an
unambiguous date should never be refused for being written too precisely.

`CellError` lives here, the lowest of the import modules, so that date, column and row
rules can all raise it; `occur.domain.import_rows` re-exports it as part of its contract.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

from occur.domain.timestamps import MAX_DATETIME_MS, MIN_DATETIME_MS

MONTH_DAY_YEAR = "MONTH_DAY_YEAR"
DAY_MONTH_YEAR = "DAY_MONTH_YEAR"
YEAR_MONTH_DAY = "YEAR_MONTH_DAY"
ISO_8601 = "ISO_8601"
EPOCH_MILLIS = "EPOCH_MILLIS"
DATE_FORMATS = (MONTH_DAY_YEAR, DAY_MONTH_YEAR, YEAR_MONTH_DAY, ISO_8601, EPOCH_MILLIS)

COULD_NOT_PARSE_DATE = "COULD_NOT_PARSE_DATE"
# Two-digit years as spreadsheets and strptime's %y read them: 00-68 → 2000s, 69-99 → 1900s.
_PIVOT_YEAR = 69
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)
_MS_PER_DAY = 86_400_000
_SHOWN_CHARS = 40

# Day and month of one or two digits, a four- or two-digit year; one separator used twice.
# The time may follow a space, a `T` or ", " (Excel's en-US text form), with an optional
# fraction of a second and AM/PM.
_TIME = (
    r"(?:(?:\s*,\s*|\s+|T)(?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{2})"
    r"(?::(?P<second>[0-9]{2})(?:[.,](?P<fraction>[0-9]{1,9}))?)?"
    r"\s*(?P<meridiem>[AaPp]\.?[Mm]\.?)?)?"
)
_DAY_FIRST = re.compile(
    r"(?P<first>[0-9]{1,2})(?P<sep>[/.\-])(?P<second_part>[0-9]{1,2})(?P=sep)"
    r"(?P<year>[0-9]{4}|[0-9]{2})" + _TIME
)
_YEAR_FIRST = re.compile(
    r"(?P<year>[0-9]{4}|[0-9]{2})(?P<sep>[/.\-])(?P<first>[0-9]{1,2})(?P=sep)"
    r"(?P<second_part>[0-9]{1,2})" + _TIME
)
_EPOCH_MILLIS = re.compile(r"[0-9]{1,16}(?:\.0*)?")
# What `datetime.fromisoformat` is allowed to see: a four-digit year, month and day with
# dashes, then anything. Without this guard it would also take `20240305`, which in a
# spreadsheet is more likely a number than a date.
_ISO_START = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:$|[T ])")


class CellError(ValueError):
    """One cell that cannot be imported: HubSpot's import error type and a sentence why.

    An exception (not a frozen dataclass) because a frozen dataclass exception breaks
    when the interpreter or contextlib sets its `__traceback__`; it still compares by
    value so tests and callers can treat it as data.
    """

    def __init__(self, *, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CellError):
            return NotImplemented
        return (self.error_type, self.message) == (other.error_type, other.message)

    def __hash__(self) -> int:
        return hash((self.error_type, self.message))

    def __repr__(self) -> str:
        return f"CellError(error_type={self.error_type!r}, message={self.message!r})"


def parse_occurred_at(text: str, date_format: str, tz: ZoneInfo) -> int:
    """When an event happened, as epoch ms; CellError(COULD_NOT_PARSE_DATE) when unreadable.

    HubSpot refuses event timestamps before 1970; the upper bound is the last instant a
    four-digit year can write.
    """
    ms = _instant(text, date_format, tz)
    if ms is None:
        raise CellError(error_type=COULD_NOT_PARSE_DATE, message=_unreadable(text, date_format))
    if not 0 <= ms <= MAX_DATETIME_MS:
        raise CellError(
            error_type=COULD_NOT_PARSE_DATE,
            message=f"{_shown(text)} is outside the years 1970 to 9999.",
        )
    return ms


def parse_datetime_value(text: str, date_format: str, tz: ZoneInfo) -> int:
    """A datetime property's value as epoch ms: as parse_occurred_at, but any four-digit
    year counts (a birth date may well be before 1970); None-free: raises CellError."""
    ms = _instant(text, date_format, tz)
    if ms is None or not MIN_DATETIME_MS <= ms <= MAX_DATETIME_MS:
        raise CellError(error_type=COULD_NOT_PARSE_DATE, message=_unreadable(text, date_format))
    return ms


def parse_date_value(text: str, date_format: str) -> str:
    """A date property's value as YYYY-MM-DD: the calendar day written, no time zone.

    A time of day is allowed only at midnight (an XLSX date cell, or `3/5/2024 0:00`):
    a date property holds no time, and silently dropping one would lose what was meant.
    """
    stripped = text.strip()
    day: date | None = None
    if date_format != EPOCH_MILLIS or not _EPOCH_MILLIS.fullmatch(stripped):
        moment = _wall_time(stripped, date_format)
        if moment is not None and moment.time() == datetime.min.time():
            day = moment.date()
    else:
        ms = int(stripped.split(".")[0])
        if ms % _MS_PER_DAY == 0:
            day = (_EPOCH + ms * _ONE_MS).date()
    if day is None or day.year < 1000:
        raise CellError(error_type=COULD_NOT_PARSE_DATE, message=_unreadable(text, date_format))
    return day.isoformat()


def _instant(text: str, date_format: str, tz: ZoneInfo) -> int | None:
    stripped = text.strip()
    if date_format == EPOCH_MILLIS and _EPOCH_MILLIS.fullmatch(stripped):
        return int(stripped.split(".")[0])
    moment = _wall_time(stripped, date_format)
    if moment is None:
        return None
    if moment.tzinfo is None:
        # fold=0, zoneinfo's default: a time skipped by a DST jump reads with the offset
        # before it (02:30 on a spring-forward night becomes 03:30 summer time); a time
        # that happens twice reads as its first occurrence.
        moment = moment.replace(tzinfo=tz, fold=0)
    return (moment - _EPOCH) // _ONE_MS


def _wall_time(text: str, date_format: str) -> datetime | None:
    """The date-time written, naive unless the text carries an offset; None if unreadable."""
    pattern = {
        MONTH_DAY_YEAR: _DAY_FIRST,
        DAY_MONTH_YEAR: _DAY_FIRST,
        YEAR_MONTH_DAY: _YEAR_FIRST,
    }.get(date_format)
    if pattern is not None:
        match = pattern.fullmatch(text)
        if match is not None:
            return _from_parts(match, month_first=date_format != DAY_MONTH_YEAR)
    return _iso(text)


def _from_parts(match: re.Match[str], *, month_first: bool) -> datetime | None:
    first, second = int(match["first"]), int(match["second_part"])
    month, day = (first, second) if month_first else (second, first)
    year = int(match["year"])
    if len(match["year"]) == 2:
        year += 1900 if year >= _PIVOT_YEAR else 2000
    hour = int(match["hour"] or 0)
    meridiem = (match["meridiem"] or "").replace(".", "").upper()
    if meridiem:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem == "PM" else 0)
    fraction = (match["fraction"] or "").ljust(6, "0")[:6]
    try:
        return datetime(
            year,
            month,
            day,
            hour,
            int(match["minute"] or 0),
            int(match["second"] or 0),
            int(fraction),
        )
    except ValueError:
        return None


def _iso(text: str) -> datetime | None:
    if not _ISO_START.match(text):
        return None
    candidate = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        return datetime.fromisoformat(candidate)
    except ValueError:
        return None


def _unreadable(text: str, date_format: str) -> str:
    example = {
        MONTH_DAY_YEAR: "MM/DD/YYYY",
        DAY_MONTH_YEAR: "DD/MM/YYYY",
        YEAR_MONTH_DAY: "YYYY/MM/DD",
        ISO_8601: "ISO-8601 such as 2024-03-05T14:30:00Z",
        EPOCH_MILLIS: "milliseconds since 1970",
    }.get(date_format, date_format)
    return f"{_shown(text)} is not a date in the chosen format ({example})."


def _shown(text: str) -> str:
    quoted = repr(text)
    return quoted if len(quoted) <= _SHOWN_CHARS else quoted[: _SHOWN_CHARS - 1] + "…"


def guess_date_format(samples: Sequence[str], time_zone: str) -> str | None:
    """The format that reads most of the samples (None: none reads any, or no samples).

    Every format also reads ISO-8601 text, so those samples decide nothing: the others
    are counted, ties going to month/day/year, then day/month/year (HubSpot's order).
    """
    texts = [s.strip() for s in samples if s.strip()]
    if not texts or time_zone not in available_timezones():
        return None
    zone = ZoneInfo(time_zone)
    rest = [t for t in texts if not _reads(t, ISO_8601, zone)]
    if not rest:
        return YEAR_MONTH_DAY if all(re.match(r"\d{4}\D", t) for t in texts) else ISO_8601
    candidates = (MONTH_DAY_YEAR, DAY_MONTH_YEAR, YEAR_MONTH_DAY, EPOCH_MILLIS)
    read = {f: sum(_reads(t, f, zone) for t in rest) for f in candidates}
    best = max(candidates, key=lambda f: read[f])  # the first of the best, on a tie
    return best if read[best] else None


def _reads(text: str, date_format: str, zone: ZoneInfo) -> bool:
    try:
        parse_occurred_at(text, date_format, zone)
    except (CellError, ValueError):
        return False
    return True
