"""Counting one event type's completions for the Analyze tab, inside the database.

Every count is an aggregate over index ranges; no occurrence row travels to Python.

- Time buckets arrive as one bound parameter (a JSON array on SQLite, two arrays on
  PostgreSQL) read as a table. One parameter, not a VALUES row per bucket: SQLAlchemy
  compiles a statement whose shape changes with the bucket count anew each time, and
  that took 15-25 ms for 365 rows, longer than the count itself.
- A bucket's count is a scalar subquery correlated to the bucket's row, so each bucket is
  one index range on both engines whatever the planner thinks of the bucket list, and
  every bucket gets a row, zero included. Where that measured slower (see
  _groups_faster) one pass is grouped by bucket instead, and empty buckets are zeros.
- Without a property the range is `ix_events_definition_id_occurred_at_id`; with a
  filter or breakdown it is `ix_event_values_lookup` (definition, name, value_key,
  occurred_at, event_id), which answers a count by itself: comparing the full `value`
  (not in the index) is only needed for values of VALUE_KEY_CHARS characters or more,
  since a shorter value equals its `value_key`.
- Unique records are counted as one distinct key per record, store/events.record_key
  (the object id, or minus the visitor id while anonymous): one distinct set per count
  instead of two (55 ms instead of 67 ms over 200,000 rows on SQLite). Without a property
  it is computed from the type index's record columns; with one, event_values holds a
  copy in `ix_event_values_lookup`, so no events row is joined. With the statements run
  at once (services/analysis.py), a unique breakdown over 365 days went from 660 to
  356 ms at the 95th percentile on SQLite, 933 to 572 ms on PostgreSQL (bench/pages.py).

A Counted names the completions counted: one event type, and property values that must
all hold. The first value filter gives the index range; further ones (a long breakdown
value within a filter) are probes of event_values' primary key (event_id, name).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    FromClause,
    Select,
    String,
    and_,
    bindparam,
    case,
    column,
    exists,
    func,
    or_,
    select,
    tuple_,
)
from sqlalchemy.dialects.postgresql import ARRAY

from occur.store.events import VALUE_KEY_CHARS, value_key
from occur.store.schema import event_definitions as defs
from occur.store.schema import event_values, events


@dataclass(frozen=True)
class Counted:
    """Which completions a count covers, names resolved to stored ids and text."""

    definition_id: int
    unique: bool  # distinct records (and anonymous visitors) instead of completions
    filters: tuple[tuple[str, str], ...] = ()  # (property name, stored text), all hold

    def having(self, name: str, value: str) -> Counted:
        return Counted(self.definition_id, self.unique, (*self.filters, (name, value)))


@dataclass(frozen=True)
class ValueTotals:
    """The top values of a property over a range, and (completions only) how many
    completions in the range hold any value for it."""

    top: list[tuple[str, int]]  # (stored text, metric), largest first
    valued: int | None


@dataclass(frozen=True)
class _Rows:
    """The counted completions as a FROM clause, its conditions and its time column.
    `by` is the event_values alias of the breakdown property, when one was asked for;
    `record` each completion's record key, which unique counts count."""

    source: FromClause
    where: list[ColumnElement[bool]]
    at: Any
    event_id: Any
    by: Any = None
    record: Any = None


def definition_name(conn: Connection, portal_id: int, definition_id: int) -> str | None:
    """The short name of a live event type of this portal, or None."""
    query = select(defs.c.name).where(
        defs.c.id == definition_id, defs.c.portal_id == portal_id, defs.c.deleted_at.is_(None)
    )
    return conn.execute(query).scalar_one_or_none()


def bucket_counts(conn: Connection, counted: Counted, bounds: Sequence[int]) -> list[int]:
    """The metric per bucket; `bounds` are the n + 1 instants between n buckets."""
    rows = _rows(counted, None)
    if _groups_faster(conn, counted, by_value=False):
        return _grouped(conn, counted, rows, bounds, None).get(None, [0] * (len(bounds) - 1))
    b, params = _buckets(conn, bounds)
    per_bucket = _metric_of(rows, counted, rows.at >= b.c.lo, rows.at < b.c.hi)
    query = select(b.c.lo, per_bucket.scalar_subquery())
    found: dict[int, int | None] = {lo: count for lo, count in conn.execute(query, params)}
    return [int(found.get(lo) or 0) for lo in bounds[:-1]]


def range_count(conn: Connection, counted: Counted, start_ms: int, end_ms: int) -> int:
    """The metric over [start_ms, end_ms)."""
    rows = _rows(counted, None)
    query = _metric_of(rows, counted, rows.at >= start_ms, rows.at < end_ms)
    return int(conn.execute(query).scalar_one())


def top_values(
    conn: Connection, counted: Counted, name: str, start_ms: int, end_ms: int, limit: int
) -> ValueTotals:
    """The `limit` values of `name` with the largest metric in the range, largest first
    (equal ones in the database's text order).

    Grouping by `value_key` alone reads the index only. It is exact when no top group is
    a cut-off key: a value's count is at most its key's, so a value under a key outside
    the top cannot beat those inside it (ties aside). When a top key is cut off, the
    groups are counted again by full value, which reads the rows of long values only on
    SQLite (the row is fetched when `value` is read) and every row on PostgreSQL.
    For completions, a window sum over the same groups says how many completions hold
    any value, so "Other" and "(no value)" need no further pass.
    """
    rows = _rows(counted, name)
    v = rows.by
    metric = _metric(counted, rows).label("n")
    columns: list[Any] = [metric, v.c.value_key.label("key")]
    if not counted.unique:
        columns.append(func.sum(_metric(counted, rows)).over().label("valued"))
    in_range = (rows.at >= start_ms, rows.at < end_ms)
    keys: list[Any] = [v.c.value_key]
    found = conn.execute(_ranked(rows, columns, in_range, keys, limit)).all()
    top = [(row.key, int(row.n)) for row in found]
    if any(len(key) >= VALUE_KEY_CHARS for key, _ in top):
        full = case((func.length(v.c.value_key) >= VALUE_KEY_CHARS, v.c.value))
        columns.append(full.label("full"))
        keys.append(full)
        found = conn.execute(_ranked(rows, columns, in_range, keys, limit)).all()
        top = [(row.full or row.key, int(row.n)) for row in found]
    if counted.unique:
        return ValueTotals(top, None)
    return ValueTotals(top, int(found[0].valued) if found else 0)


def value_keys(conn: Connection, definition_id: int, name: str, limit: int) -> list[str]:
    """Up to `limit` distinct value keys `name` has ever held for this event type, in
    key order, whatever the range.

    A loose index scan: each step seeks `ix_event_values_lookup` to the next key above
    the last, so a property of six values costs six seeks, not a pass over its 200,000
    rows. It tells whether a breakdown's values are few enough that all of them are the
    top ones, which lets their series be counted while they are being ranked."""
    v = event_values.alias("k")
    own = (v.c.definition_id == definition_id, v.c.name == name)
    first = select(func.min(v.c.value_key).label("key")).where(*own)
    keys = first.cte("keys", recursive=True)
    step = select(func.min(v.c.value_key)).where(*own, v.c.value_key > keys.c.key)
    keys = keys.union_all(select(step.scalar_subquery()).where(keys.c.key.is_not(None)))
    query = select(keys.c.key).where(keys.c.key.is_not(None)).limit(limit)
    return [row.key for row in conn.execute(query)]


def _ranked(
    rows: _Rows, columns: list[Any], in_range: tuple[Any, ...], keys: list[Any], limit: int
) -> Select[Any]:
    """Groups of `keys`, the `limit` largest by the first column, ties in key order."""
    return (
        select(*columns)
        .select_from(rows.source)
        .where(*rows.where, *in_range)
        .group_by(*keys)
        .order_by(columns[0].desc(), *keys)
        .limit(limit)
    )


def value_bucket_counts(
    conn: Connection, counted: Counted, name: str, wanted: Sequence[str], bounds: Sequence[int]
) -> dict[str, list[int]]:
    """The metric per bucket for each wanted value of `name`.

    Either one grouped pass (see _groups_faster) or, over one index, a scalar subquery
    per (bucket, value): one column per value, each its own index range. A value of
    VALUE_KEY_CHARS characters or more (rare: URLs) needs its full text compared, so it
    is counted as one more filter."""
    found: dict[str, list[int]] = {v: [0] * (len(bounds) - 1) for v in wanted}
    short = sorted({v for v in wanted if len(v) < VALUE_KEY_CHARS})
    rows = _rows(counted, name)
    v = rows.by
    if short and _groups_faster(conn, counted, by_value=True):
        grouped = _grouped(conn, counted, rows, bounds, v.c.value_key, v.c.value_key.in_(short))
        found.update(grouped)
    elif short:
        b, params = _buckets(conn, bounds)
        in_bucket = (rows.at >= b.c.lo, rows.at < b.c.hi)
        per_value = [
            _metric_of(rows, counted, *in_bucket, v.c.value_key == key).scalar_subquery()
            for key in short
        ]
        position = {lo: i for i, lo in enumerate(bounds[:-1])}
        for lo, *counts in conn.execute(select(b.c.lo, *per_value), params):
            for key, count in zip(short, counts, strict=True):
                found[key][position[lo]] = int(count or 0)
    for value in wanted:
        if len(value) >= VALUE_KEY_CHARS:
            found[value] = bucket_counts(conn, counted.having(name, value), bounds)
    return found


def value_lines(
    conn: Connection, counted: Counted, name: str, value: str, bounds: Sequence[int]
) -> tuple[list[int], int] | None:
    """One short value's metric per bucket and over the whole range, in one pass
    (PostgreSQL only: GROUPING SETS), or None when no completion in the range holds it.

    The range's figure is what top_values ranks the value by, so the values of a
    property with few of them are ranked without a ranking statement, which counted
    every row's record distinct per value (81 ms over 200,000 completions), while the
    range's grouping set adds 2-5 ms to each value's series (services/analysis.py)."""
    assert len(value) < VALUE_KEY_CHARS, "a short value: its key is the value itself"
    rows = _rows(counted, name)
    bucket = func.width_bucket(rows.at, _thresholds(bounds))
    query = (
        select(func.grouping(bucket), bucket, _metric(counted, rows))
        .select_from(rows.source)
        .where(*rows.where, rows.by.c.value_key == value)
        .where(rows.at >= bounds[0], rows.at < bounds[-1])
        .group_by(func.grouping_sets(tuple_(bucket), tuple_()))
    )
    counts = [0] * (len(bounds) - 1)
    whole, held = 0, False
    for over_range, at, metric in conn.execute(query):
        if over_range:  # the () set: one row, even when no completion holds the value
            whole = int(metric)
        else:  # width_bucket counts from 1
            counts[int(at) - 1], held = int(metric), True
    return (counts, whole) if held else None


def other_count(
    conn: Connection,
    counted: Counted,
    name: str,
    shown: Sequence[str],
    start_ms: int,
    end_ms: int,
) -> int:
    """The metric over completions in the range whose value of `name` is not `shown`."""
    rows = _rows(counted, name)
    v = rows.by
    short = [s for s in shown if len(s) < VALUE_KEY_CHARS]
    long = [s for s in shown if len(s) >= VALUE_KEY_CHARS]
    outside: list[ColumnElement[bool]] = []
    if short:
        outside.append(v.c.value_key.not_in(short))
    if long:
        keys = sorted({value_key(s) for s in long})
        outside.append(or_(v.c.value_key.not_in(keys), v.c.value.not_in(long)))
    query = _metric_of(rows, counted, rows.at >= start_ms, rows.at < end_ms, *outside)
    return int(conn.execute(query).scalar_one())


def valued_count(conn: Connection, counted: Counted, name: str, start_ms: int, end_ms: int) -> int:
    """Completions in the range that hold a value for `name` (whatever the metric):
    compared with the range's completions, it says whether any lack one."""
    plain = Counted(counted.definition_id, False, counted.filters)
    rows = _rows(plain, name)
    query = _metric_of(rows, plain, rows.at >= start_ms, rows.at < end_ms)
    return int(conn.execute(query).scalar_one())


def no_value_count(
    conn: Connection, counted: Counted, name: str, start_ms: int, end_ms: int
) -> int:
    """The metric over completions in the range that hold no value for `name`."""
    rows = _rows(counted, None)
    x = event_values.alias("x")
    holds = exists().where(x.c.event_id == rows.event_id, x.c.name == name)
    query = _metric_of(rows, counted, rows.at >= start_ms, rows.at < end_ms, ~holds)
    return int(conn.execute(query).scalar_one())


def _groups_faster(conn: Connection, counted: Counted, *, by_value: bool) -> bool:
    """Whether one grouped pass beats a subquery per bucket (medians over 200,000
    completions in 365 daily buckets, bench/analysis.py's data).

    Within a filter, a series per value would read the filter's range once per value
    (PostgreSQL 420 ms against 60 ms grouped; SQLite 344 ms against 56 ms). On PostgreSQL
    a unique count per bucket sorts its rows anyway, so one hashed pass wins (80 ms
    against 160 ms per bucket; 240 ms against 810 ms for a series per value). Otherwise a
    subquery per bucket (and value) is faster, as it groups nothing: PostgreSQL 19 ms
    against 45 ms for the counts per day, 32 ms against 44 ms per value; on SQLite the
    grouped pass is a join sorted to group (85 ms against 27 ms per value)."""
    if by_value and counted.filters:
        return True
    return conn.dialect.name == "postgresql" and counted.unique


def _grouped(
    conn: Connection,
    counted: Counted,
    rows: _Rows,
    bounds: Sequence[int],
    key: Any,
    *conditions: ColumnElement[bool],
) -> dict[Any, list[int]]:
    """The metric per bucket (and `key`, if given) in one grouped pass over the range.

    PostgreSQL finds each row's bucket with width_bucket over the sorted bounds; SQLite
    joins the bucket table to the rows' index ranges."""
    keys = [key] if key is not None else []
    metric = _metric(counted, rows)
    found: dict[Any, list[int]] = {}
    if conn.dialect.name == "postgresql":
        bucket = func.width_bucket(rows.at, _thresholds(bounds))
        query = (
            select(bucket, *keys, metric)
            .select_from(rows.source)
            .where(*rows.where, *conditions, rows.at >= bounds[0], rows.at < bounds[-1])
            .group_by(bucket, *keys)
        )
        result = conn.execute(query).all()
        positions = [int(row[0]) - 1 for row in result]  # width_bucket counts from 1
    else:
        b, params = _buckets(conn, bounds)
        query = (
            select(b.c.lo, *keys, metric)
            .select_from(b.join(rows.source, and_(rows.at >= b.c.lo, rows.at < b.c.hi)))
            .where(*rows.where, *conditions)
            .group_by(b.c.lo, *keys)
        )
        result = conn.execute(query, params).all()
        position = {lo: i for i, lo in enumerate(bounds[:-1])}
        positions = [position[row[0]] for row in result]
    for at, row in zip(positions, result, strict=True):
        found.setdefault(row[1] if keys else None, [0] * (len(bounds) - 1))[at] = int(row[-1])
    return found


def _thresholds(bounds: Sequence[int]) -> Any:
    """The sorted bounds as one PostgreSQL array, for width_bucket."""
    return bindparam("bucket_bounds", list(bounds), type_=ARRAY(BigInteger))


def _buckets(conn: Connection, bounds: Sequence[int]) -> tuple[Any, dict[str, Any]]:
    """The buckets as a table of (lo, hi), and the parameters that fill it."""
    lows, highs = list(bounds[:-1]), list(bounds[1:])
    if conn.dialect.name == "postgresql":
        pairs = func.unnest(
            bindparam("bucket_lows", type_=ARRAY(BigInteger)),
            bindparam("bucket_highs", type_=ARRAY(BigInteger)),
        )
        table = pairs.table_valued(column("lo", BigInteger), column("hi", BigInteger))
        return table.render_derived(name="b"), {"bucket_lows": lows, "bucket_highs": highs}
    # lo is read straight from json_each; hi, used only to bound index ranges, is looked
    # up by position. Extracting lo from a [lo, hi] pair instead cost a JSON parse per
    # grouped row: 85 ms instead of 45 ms for a breakdown's series over 365 days.
    each = func.json_each(bindparam("bucket_lows", type_=String)).table_valued("key", "value")
    path = func.printf("$[%d]", each.c.key)
    high = func.json_extract(bindparam("bucket_highs", type_=String), path)
    buckets = select(each.c.value.label("lo"), high.label("hi")).cte("b")
    return buckets, {"bucket_lows": json.dumps(lows), "bucket_highs": json.dumps(highs)}


def _rows(counted: Counted, by: str | None) -> _Rows:
    """The counted completions, entered through the narrowest index range: the first
    value filter's, else the breakdown property's, else the event type's. The breakdown
    property is joined by event_values' primary key when a filter leads."""
    d = counted.definition_id
    if counted.filters:
        (name, value), *others = counted.filters
        f = event_values.alias("f")
        where = [f.c.definition_id == d, *_value_is(f, name, value)]
        for extra_name, extra_value in others:
            x = event_values.alias()
            where.append(
                exists().where(x.c.event_id == f.c.event_id, *_value_is(x, extra_name, extra_value))
            )
        if by is None:
            return _Rows(f, where, f.c.occurred_at, f.c.event_id, record=f.c.record_key)
        v = event_values.alias("v")
        joined = f.join(v, and_(v.c.event_id == f.c.event_id, v.c.name == by))
        return _Rows(joined, where, f.c.occurred_at, f.c.event_id, v, f.c.record_key)
    if by is not None:
        v = event_values.alias("v")
        where = [v.c.definition_id == d, v.c.name == by]
        return _Rows(v, where, v.c.occurred_at, v.c.event_id, v, v.c.record_key)
    e = events.alias("e")
    record = func.coalesce(e.c.object_id, -e.c.visitor_id)
    return _Rows(e, [e.c.definition_id == d], e.c.occurred_at, e.c.id, record=record)


def _value_is(alias: Any, name: str, value: str) -> list[ColumnElement[bool]]:
    """`name` holds `value`: the index columns, and the full text when it can differ."""
    where = [alias.c.name == name, alias.c.value_key == value_key(value)]
    if len(value) >= VALUE_KEY_CHARS:
        where.append(alias.c.value == value)
    return where


def _metric(counted: Counted, rows: _Rows) -> ColumnElement[int]:
    if not counted.unique:
        return func.count()
    return func.count(rows.record.distinct())


def _metric_of(rows: _Rows, counted: Counted, *conditions: ColumnElement[bool]) -> Select[Any]:
    return select(_metric(counted, rows)).select_from(rows.source).where(*rows.where, *conditions)
