"""The Analyze tab of one event type: its completions over time, as a chart and a CSV.

Completion counts come from one read transaction, so the chart, the breakdown table and
its "Other" and "(no value)" lines describe the same snapshot and add up.

Unique-record counts cost a distinct set each, several times a completion count, and do
not add up anyway (one person may complete with two values). Their independent
statements run at once, each on its own connection, so that every core works for one
page: SQLite runs a statement on one core, and PostgreSQL's parallel workers gained
less than separate statements do (four unique counts of a breakdown over 200,000
completions: 496 ms one after another, 315 ms at once). Their snapshots are then a few
milliseconds apart, which a count of people cannot show.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy import Connection

from occur.domain.analysis import (
    TOP_VALUES,
    Analysis,
    AnalysisQuery,
    Breakdown,
    Metric,
    Series,
    chart_csv,
    distinct_labels,
    unknown_property,
    value_label,
)
from occur.domain.definitions import EventDefinition
from occur.domain.event_queries import filter_value
from occur.errors import NotFound, ValidationError, collect
from occur.store import analysis as store
from occur.store import definitions as definition_store
from occur.store.analysis import Counted
from occur.store.db import Database
from occur.store.events import VALUE_KEY_CHARS

_T = TypeVar("_T")
_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="occur-analysis")


def analyze(
    db: Database,
    portal_id: int,
    definition_id: int,
    query: AnalysisQuery,
    *,
    rest_later: bool = False,
) -> Analysis:
    """Count one event type's completions as `query` asks.

    A filter or breakdown must name a property the event defines now: the values of a
    property deleted since stay stored but hidden, as on the read API. With
    `rest_later`, a unique breakdown leaves its "Other" and "(no value)" lines uncounted
    (None) for `breakdown_rest`: the page shows without waiting for those two passes."""
    buckets = query.buckets()
    bounds = [b.start_ms for b in buckets] + [buckets[-1].end_ms]
    start_ms, end_ms = bounds[0], bounds[-1]
    with db.read() as conn:
        definition = _definition(conn, portal_id, definition_id)
        counted = _counted(definition, query)
        if not counted.unique:
            if query.breakdown is None:
                counts = store.bucket_counts(conn, counted, bounds)
                line = Series(query.metric.label, None, tuple(counts), sum(counts))
                return Analysis(query, buckets, (line,), sum(counts))
            total = store.range_count(conn, counted, start_ms, end_ms)
            series, breakdown = _completions_by(
                conn, definition, counted, query.breakdown, bounds, total
            )
            return Analysis(query, buckets, series, total, breakdown)
    if query.breakdown is None:
        per_bucket = _start(db, lambda c: store.bucket_counts(c, counted, bounds))
        # one person active in two buckets is one in the range
        people = _start(db, lambda c: store.range_count(c, counted, start_ms, end_ms))
        line = Series(query.metric.label, None, tuple(per_bucket.result()), people.result())
        return Analysis(query, buckets, (line,), people.result())
    return _records_by(db, definition, counted, query, bounds, later=rest_later)


def breakdown_rest(
    db: Database, portal_id: int, definition_id: int, query: AnalysisQuery
) -> tuple[int, int]:
    """The breakdown's "Other" and "(no value)" lines, which `analyze(rest_later=True)`
    left out of a unique breakdown."""
    buckets = query.buckets()
    start_ms, end_ms = buckets[0].start_ms, buckets[-1].end_ms
    name = query.breakdown
    if name is None:
        raise ValidationError("Only a breakdown has Other and (no value) lines.")
    with db.read() as conn:
        counted = _counted(_definition(conn, portal_id, definition_id), query)
    if not counted.unique:  # arithmetic on the counts a full analysis makes anyway
        found = analyze(db, portal_id, definition_id, query).breakdown
        assert found is not None and found.other is not None and found.no_value is not None
        return found.other, found.no_value
    no_value = _start(db, lambda c: _no_value(c, counted, name, start_ms, end_ms))
    if _every_value(db, counted, name) is not None:  # every value is a top one
        return 0, no_value.result()
    other = _start(db, lambda c: _other(c, counted, name, start_ms, end_ms))
    return other.result(), no_value.result()


def result_csv(result: Analysis) -> str:
    """The numbers behind the chart as CSV text (one row per bucket, one column per
    series), safe to open in a spreadsheet."""
    return chart_csv(result)


def _definition(conn: Connection, portal_id: int, definition_id: int) -> EventDefinition:
    name = store.definition_name(conn, portal_id, definition_id)
    found = definition_store.get_definition(conn, portal_id, name) if name is not None else None
    if found is None:
        raise NotFound(f"This portal has no event type with id {definition_id}.")
    return found


def _counted(definition: EventDefinition, query: AnalysisQuery) -> Counted:
    """The query's names checked against the definition, the filter value read as its
    property's type (as `send` stored it: `1500.00` finds a number stored as `1500`)."""
    problems: list[ValidationError] = []
    filters: tuple[tuple[str, str], ...] = ()
    if query.filter is not None:
        name = query.filter.name
        if definition.property_named(name) is None:
            problems.append(unknown_property("filterProperty", name, definition.label))
        else:
            filters = ((name, filter_value(definition, name, query.filter.value)),)
    if query.breakdown is not None and definition.property_named(query.breakdown) is None:
        problems.append(unknown_property("breakdown", query.breakdown, definition.label))
    collect([error for problem in problems for error in problem.errors])
    return Counted(definition.id, query.metric is Metric.UNIQUE, filters)


def _completions_by(
    conn: Connection,
    definition: EventDefinition,
    counted: Counted,
    name: str,
    bounds: list[int],
    total: int,
) -> tuple[tuple[Series, ...], Breakdown]:
    """The top values of `name` over the range as series, and what the rest amounts to:
    "Other" is every valued completion outside the top, "(no value)" every completion
    without one, both arithmetic on counts of the same snapshot."""
    start_ms, end_ms = bounds[0], bounds[-1]
    found = store.top_values(conn, counted, name, start_ms, end_ms, TOP_VALUES)
    wanted = [value for value, _ in found.top]
    per_value = store.value_bucket_counts(conn, counted, name, wanted, bounds)
    series = _series(definition, name, found.top, per_value)
    valued = found.valued or 0
    other = valued - sum(s.total for s in series)
    return series, Breakdown(name, _label(definition, name), other, total - valued)


def _records_by(
    db: Database,
    definition: EventDefinition,
    counted: Counted,
    query: AnalysisQuery,
    bounds: list[int],
    *,
    later: bool,
) -> Analysis:
    """Unique records by the top values of the breakdown property, the range's total,
    and the records with another value ("Other") or with a completion without one
    ("(no value)"), counted as such since they do not add up.

    Each count is its own statement on its own connection, all at once (_series_of
    says how the top values' series are counted). When the property has never held
    more than TOP_VALUES values (an enumeration's few options), every one of them is a
    top value (_every_series), and nothing is "Other"."""
    name = query.breakdown
    assert name is not None
    start_ms, end_ms = bounds[0], bounds[-1]
    total = _start(db, lambda c: store.range_count(c, counted, start_ms, end_ms))
    no_value = (
        None if later else _start(db, lambda c: _no_value(c, counted, name, start_ms, end_ms))
    )
    every = _every_value(db, counted, name)
    other: Future[int] | None = None
    if every is not None:
        top, per_value = _every_series(db, counted, name, every, bounds)
    else:
        with db.read() as conn:
            top = store.top_values(conn, counted, name, start_ms, end_ms, TOP_VALUES).top
        wanted = [value for value, _ in top]
        if not later:
            other = _start(db, lambda c: _other(c, counted, name, start_ms, end_ms, wanted))
        per_value = _series_of(db, counted, name, wanted, bounds)()
    breakdown = Breakdown(
        name,
        _label(definition, name),
        0 if every is not None else (other.result() if other else None),
        no_value.result() if no_value else None,
    )
    series = _series(definition, name, top, per_value)
    return Analysis(query, query.buckets(), series, int(total.result()), breakdown)


def _every_series(
    db: Database, counted: Counted, name: str, every: list[str], bounds: list[int]
) -> tuple[list[tuple[str, int]], dict[str, list[int]]]:
    """The series of every value `name` has held, and those held in the range ranked as
    top_values ranks them: by unique records over the range, equal ones in the
    database's text order, which is `every`'s (store.value_keys).

    On PostgreSQL one statement per value counts both its series and its range total
    (store.value_lines), so no ranking statement runs: the ranking's distinct count of
    every row (81 ms) cost more than the range totals add to the six series (2-5 ms
    each). A unique breakdown of 200,000 completions by 6 values over 365 days, old and
    new interleaved on 2 busy cores: 310 -> 255 ms at the median and 351 -> 295 ms at
    the 95th percentile, then 238 -> 202 and 283 -> 226 ms. A single statement for
    every value, grouped by value and bucket and by value alone, was slower than
    before (329 ms against 300 at the median): one core sorts what six statements
    sorted on two. SQLite ranks beside its one series statement."""
    if db.is_sqlite:
        start_ms, end_ms = bounds[0], bounds[-1]
        ranked = _start(
            db, lambda c: store.top_values(c, counted, name, start_ms, end_ms, TOP_VALUES)
        )
        per_value = _series_of(db, counted, name, every, bounds)()
        return ranked.result().top, per_value

    def lines_of(value: str) -> Callable[[Connection], tuple[list[int], int] | None]:
        return lambda conn: store.value_lines(conn, counted, name, value, bounds)

    started = [(value, _start(db, lines_of(value))) for value in every]
    held = [(value, found) for value, line in started if (found := line.result()) is not None]
    # a stable sort: equal totals keep every's order
    top = sorted(((value, whole) for value, (_, whole) in held), key=lambda line: -line[1])
    return top, {value: counts for value, (counts, _) in held}


def _every_value(db: Database, counted: Counted, name: str) -> list[str] | None:
    """Every value `name` ever held for this event type, when there are at most
    TOP_VALUES of them and each is short enough that its key is the value itself."""
    with db.read() as conn:
        keys = store.value_keys(conn, counted.definition_id, name, TOP_VALUES + 1)
    if len(keys) > TOP_VALUES or any(len(key) >= VALUE_KEY_CHARS for key in keys):
        return None
    return keys


def _series_of(
    db: Database, counted: Counted, name: str, wanted: list[str], bounds: list[int]
) -> Callable[[], dict[str, list[int]]]:
    """Start counting each wanted value's unique records per bucket; the call returned
    waits for them. On PostgreSQL, a statement per value, all at once: one grouped pass
    sorts every value's rows together (365 days: 224 ms in one pass, 128 ms as ten
    statements at once). SQLite counts a value per bucket by index ranges, which ten
    statements at once did no faster (101 ms in one, 155 ms as ten), so there it stays
    one statement."""
    if db.is_sqlite:
        one = _start(db, lambda c: store.value_bucket_counts(c, counted, name, wanted, bounds))
        return one.result

    def series_of(value: str) -> Callable[[Connection], list[int]]:
        return lambda conn: store.value_bucket_counts(conn, counted, name, [value], bounds)[value]

    lines = [_start(db, series_of(value)) for value in wanted]
    return lambda: {value: line.result() for value, line in zip(wanted, lines, strict=True)}


def _other(
    conn: Connection,
    counted: Counted,
    name: str,
    start_ms: int,
    end_ms: int,
    shown: list[str] | None = None,
) -> int:
    """Records with a value outside the top ones (found again when not given)."""
    if shown is None:
        found = store.top_values(conn, counted, name, start_ms, end_ms, TOP_VALUES)
        shown = [value for value, _ in found.top]
    if len(shown) < TOP_VALUES:  # fewer values than that: there is no other one
        return 0
    return store.other_count(conn, counted, name, shown, start_ms, end_ms)


def _series(
    definition: EventDefinition,
    name: str,
    top: list[tuple[str, int]],
    per_value: dict[str, list[int]],
) -> tuple[Series, ...]:
    spec = definition.property_named(name)
    wanted = [value for value, _ in top]
    labels = distinct_labels([value_label(spec, v) for v in wanted], wanted)
    return tuple(
        Series(label, value, tuple(per_value[value]), count)
        for label, (value, count) in zip(labels, top, strict=True)
    )


def _label(definition: EventDefinition, name: str) -> str:
    spec = definition.property_named(name)
    return spec.label if spec is not None else name


def _start(db: Database, count: Callable[[Connection], _T]) -> Future[_T]:
    """Run one count on its own connection, beside the others (module docstring)."""

    def alone() -> _T:
        with db.read() as conn:
            return count(conn)

    return _POOL.submit(alone)


def _no_value(conn: Connection, counted: Counted, name: str, start_ms: int, end_ms: int) -> int:
    """Unique records with a completion lacking the property. Counting them is an
    anti-join over every completion in the range (0.1 s on SQLite, 0.5 s on PostgreSQL
    for 200,000, bench/pages.py), so it is skipped when two index counts show that every
    completion holds a value, as for a property always sent."""
    plain = Counted(counted.definition_id, False, counted.filters)
    completions = store.range_count(conn, plain, start_ms, end_ms)
    if store.valued_count(conn, counted, name, start_ms, end_ms) == completions:
        return 0
    return store.no_value_count(conn, counted, name, start_ms, end_ms)
