"""The Analyze tab's counts, on SQLite and PostgreSQL.

Occurrences are stored with store.events.insert_events (what the send path's writer
calls) at chosen instants, so each expected number below is worked out by hand from the
seed: bucket edges at local midnights (DST days included), records against anonymous
visitors, filters, the top-10 breakdown with its "Other" and "(no value)" lines, and
values longer than the indexed 200-character prefix.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy import event

from occur.domain.analysis import (
    AnalysisQuery,
    Interval,
    Metric,
    PropertyFilter,
    WeekStart,
    read_analysis_query,
)
from occur.domain.objects import CONTACT
from occur.domain.timestamps import ms_from_iso
from occur.errors import NotFound, ValidationError
from occur.services import access, crm, definitions, visitors
from occur.services.analysis import analyze, result_csv
from occur.store.analysis import value_keys
from occur.store.db import Database
from occur.store.events import NewEvent, insert_events
from occur.store.visitors import insert_visitors

PARIS = "Europe/Paris"
NEW_YORK = "America/New_York"
BODY = {
    "label": "Bought",
    "primaryObject": "CONTACT",
    "propertyDefinitions": [
        {
            "name": "plan",
            "label": "Plan",
            "type": "enumeration",
            "options": [
                {"label": "Pro", "value": "pro"},
                {"label": "Starter", "value": "starter"},
            ],
        },
        {"name": "amount", "label": "Amount", "type": "number"},
        {"name": "source", "label": "Source", "type": "string"},
        {"name": "landing_url", "label": "Landing URL", "type": "string"},
    ],
}
_uuids = itertools.count()


@dataclass
class Seed:
    db: Database
    portal_id: int
    definition_id: int
    contacts: list[int]

    def add(
        self,
        at: str,
        contact: int | None = 0,
        *,
        visitor: int | None = None,
        definition_id: int | None = None,
        **properties: str,
    ) -> None:
        """One completion at an ISO instant, by contacts[contact] (None: anonymous)."""
        occurred_at = ms_from_iso(at)
        assert occurred_at is not None, at
        row = NewEvent(
            definition_id=definition_id or self.definition_id,
            uuid=f"u{next(_uuids)}",
            object_type_id=CONTACT.type_id,
            object_id=self.contacts[contact] if contact is not None else None,
            visitor_id=visitor,
            occurred_at=occurred_at,
            properties=properties,
        )
        with self.db.write() as conn:
            insert_events(conn, self.portal_id, [row], received_at=occurred_at)

    def visitors(self, count: int) -> list[int]:
        with self.db.write() as conn:
            made = insert_visitors(conn, self.portal_id, [f"utk{i}" for i in range(count)], 0)
        return [made[f"utk{i}"].id for i in range(count)]


@pytest.fixture
def seed(db: Database) -> Seed:
    portal, _token = access.create_portal(db, "Acme")
    created = definitions.create(db, portal.id, BODY, max_definitions=500)
    contacts = [
        int(crm.create(db, portal.id, CONTACT, {"properties": {"email": f"c{i}@x.test"}}).record.id)
        for i in range(4)
    ]
    return Seed(db, portal.id, created.id, contacts)


def custom(
    start: str,
    end: str,
    *,
    interval: Interval = Interval.DAY,
    metric: Metric = Metric.TOTAL,
    zone: str = PARIS,
    week_start: WeekStart = WeekStart.SUNDAY,
    filter: PropertyFilter | None = None,
    breakdown: str | None = None,
) -> AnalysisQuery:
    return AnalysisQuery(
        interval=interval,
        metric=metric,
        range="custom",
        start=date.fromisoformat(start),
        end=date.fromisoformat(end),
        time_zone=zone,
        week_start=week_start,
        filter=filter,
        breakdown=breakdown,
    )


def test_day_buckets_follow_local_midnight_across_dst(seed: Seed) -> None:
    # Paris moved from +01:00 to +02:00 on 2024-03-31: that day lasts 23 hours.
    instants = [
        "2024-03-29T23:00:00Z",  # 2024-03-30 00:00 local: the range's first instant
        "2024-03-29T22:59:59.999Z",  # 23:59:59.999 the day before: outside
        "2024-03-30T22:30:00Z",  # 2024-03-30 23:30 local
        "2024-03-30T23:00:00Z",  # 2024-03-31 00:00 local
        "2024-03-31T21:59:59.999Z",  # 2024-03-31 23:59:59.999 local (+02:00)
        "2024-03-31T22:00:00Z",  # 2024-04-01 00:00 local
        "2024-04-02T21:59:59.999Z",  # 2024-04-02 23:59:59.999 local: the last instant
        "2024-04-02T22:00:00Z",  # 2024-04-03 00:00 local: outside
    ]
    for n, at in enumerate(instants):
        seed.add(at, n % 2, source="web")
    window = ("2024-03-30", "2024-04-02")
    result = analyze(seed.db, seed.portal_id, seed.definition_id, custom(*window))
    assert [b.start.isoformat() for b in result.buckets] == [
        "2024-03-30",
        "2024-03-31",
        "2024-04-01",
        "2024-04-02",
    ]
    assert result.series[0].counts == (2, 2, 1, 1)
    assert result.total == 6
    assert result.breakdown is None
    # the same edges for each way of counting: per bucket, grouped, by value, unique
    by_value = analyze(
        seed.db, seed.portal_id, seed.definition_id, custom(*window, breakdown="source")
    )
    assert [(s.value, s.counts) for s in by_value.series] == [("web", (2, 2, 1, 1))]
    unique = analyze(
        seed.db, seed.portal_id, seed.definition_id, custom(*window, metric=Metric.UNIQUE)
    )
    # contact n % 2: day 1 holds completions 0 and 2, day 2 3 and 4, then 5, then 6
    assert (unique.series[0].counts, unique.total) == ((1, 2, 1, 1), 2)
    both = custom(*window, metric=Metric.UNIQUE, breakdown="source")
    result = analyze(seed.db, seed.portal_id, seed.definition_id, both)
    assert [(s.value, s.counts, s.total) for s in result.series] == [("web", (1, 2, 1, 1), 2)]


def test_the_same_instants_in_new_york_and_utc(seed: Seed) -> None:
    # 2024-03-10 is New York's 23-hour day (-05:00 -> -04:00 at 02:00 local).
    for at in ("2024-03-10T04:59:00Z", "2024-03-10T05:00:00Z", "2024-03-11T03:59:00Z"):
        seed.add(at)
    seed.add("2024-03-11T04:00:00Z")
    ny = analyze(
        seed.db,
        seed.portal_id,
        seed.definition_id,
        custom("2024-03-09", "2024-03-11", zone=NEW_YORK),
    )
    assert ny.series[0].counts == (1, 2, 1)
    utc = analyze(
        seed.db, seed.portal_id, seed.definition_id, custom("2024-03-09", "2024-03-11", zone="UTC")
    )
    assert utc.series[0].counts == (0, 2, 2)


def test_weeks_start_on_the_portals_day_and_months_are_clipped(seed: Seed) -> None:
    # 2024-06-02 is a Sunday, 2024-06-03 a Monday (UTC).
    seed.add("2024-06-01T12:00:00Z")
    seed.add("2024-06-02T12:00:00Z")
    seed.add("2024-06-03T12:00:00Z")
    seed.add("2024-06-09T12:00:00Z")
    seed.add("2024-07-01T00:00:00Z")
    sunday = custom("2024-05-31", "2024-06-09", interval=Interval.WEEK, zone="UTC")
    result = analyze(seed.db, seed.portal_id, seed.definition_id, sunday)
    assert [(b.start.isoformat(), b.partial) for b in result.buckets] == [
        ("2024-05-31", True),
        ("2024-06-02", False),
        ("2024-06-09", True),
    ]
    assert result.series[0].counts == (1, 2, 1)
    monday = custom(
        "2024-05-31", "2024-06-09", interval=Interval.WEEK, zone="UTC", week_start=WeekStart.MONDAY
    )
    result = analyze(seed.db, seed.portal_id, seed.definition_id, monday)
    assert [b.start.isoformat() for b in result.buckets] == ["2024-05-31", "2024-06-03"]
    assert result.series[0].counts == (2, 2)
    months = custom("2024-05-15", "2024-07-01", interval=Interval.MONTH, zone="UTC")
    result = analyze(seed.db, seed.portal_id, seed.definition_id, months)
    assert [b.start.isoformat() for b in result.buckets] == [
        "2024-05-15",
        "2024-06-01",
        "2024-07-01",
    ]
    assert result.series[0].counts == (0, 4, 1)


def test_unique_counts_records_and_anonymous_visitors_once(seed: Seed) -> None:
    v1, v2 = seed.visitors(2)
    day1, day2 = "2024-05-01T10:00:00Z", "2024-05-02T10:00:00Z"
    for _ in range(3):
        seed.add(day1, 0)
    seed.add(day2, 0)
    seed.add(day1, 1)
    seed.add(day1, None, visitor=v1)
    seed.add(day2, None, visitor=v1)
    seed.add(day2, None, visitor=v2)
    seed.add(day2, None)  # neither record nor visitor: a completion, nobody to count
    # an identified visitor's completion carries both: it counts as the contact
    seed.add(day2, 1, visitor=v2)
    window = ("2024-05-01", "2024-05-02")
    total = analyze(seed.db, seed.portal_id, seed.definition_id, custom(*window, zone="UTC"))
    assert (total.series[0].counts, total.total) == ((5, 5), 10)
    assert total.series[0].label == "Total completions"
    unique = analyze(
        seed.db,
        seed.portal_id,
        seed.definition_id,
        custom(*window, zone="UTC", metric=Metric.UNIQUE),
    )
    # day 1: c0, c1, v1; day 2: c0, c1, v1, v2; the range: c0, c1, v1, v2
    assert (unique.series[0].counts, unique.total) == ((3, 4), 4)
    assert unique.series[0].label == "Unique records"


def test_an_identified_visitor_counts_once_in_a_unique_breakdown(seed: Seed) -> None:
    """Unique counts by property value read each value row's own copy of its record, so
    identifying a visitor must move that copy too: else the contact counts twice."""
    (visitor,) = seed.visitors(1)
    seed.add("2024-05-01T10:00:00Z", None, visitor=visitor, source="ads")
    seed.add("2024-05-01T11:00:00Z", None, visitor=visitor, source="mail")
    seed.add("2024-05-02T10:00:00Z", 0, source="ads")
    query = custom("2024-05-01", "2024-05-02", metric=Metric.UNIQUE, breakdown="source")

    def counted() -> dict[str, tuple[int, tuple[int, ...]]]:
        result = analyze(seed.db, seed.portal_id, seed.definition_id, query)
        return {s.value or "": (s.total, s.counts) for s in result.series}

    assert counted() == {"ads": (2, (1, 1)), "mail": (1, (1, 0))}
    moved = visitors.identify(seed.db, seed.portal_id, "utk0", "c0@x.test")
    assert moved.occurrences_moved == 2
    assert counted() == {"ads": (1, (1, 1)), "mail": (1, (1, 0))}
    result = analyze(seed.db, seed.portal_id, seed.definition_id, query)
    assert result.total == 1


def test_only_this_event_type_and_portal_count(seed: Seed) -> None:
    other = definitions.create(
        seed.db, seed.portal_id, {**BODY, "label": "Other event"}, max_definitions=500
    )
    seed.add("2024-05-01T10:00:00Z")
    seed.add("2024-05-01T10:00:00Z", definition_id=other.id)
    result = analyze(
        seed.db, seed.portal_id, seed.definition_id, custom("2024-05-01", "2024-05-01")
    )
    assert result.series[0].counts == (1,)
    second, _token = access.create_portal(seed.db, "Globex")
    with pytest.raises(NotFound):
        analyze(seed.db, second.id, seed.definition_id, custom("2024-05-01", "2024-05-01"))
    definitions.delete(seed.db, seed.portal_id, other.name)
    with pytest.raises(NotFound):
        analyze(seed.db, seed.portal_id, other.id, custom("2024-05-01", "2024-05-01"))


def test_a_filter_counts_matching_values_read_as_their_type(seed: Seed) -> None:
    day1, day2 = "2024-05-01T10:00:00Z", "2024-05-02T10:00:00Z"
    seed.add(day1, 0, plan="pro", amount="1500")
    seed.add(day1, 0, plan="pro", amount="20")
    seed.add(day2, 1, plan="pro", amount="1500")
    seed.add(day2, 2, plan="starter", amount="1500")
    seed.add(day2, 3)
    window = ("2024-05-01", "2024-05-02")
    pro = PropertyFilter("plan", "pro")
    result = analyze(seed.db, seed.portal_id, seed.definition_id, custom(*window, filter=pro))
    assert (result.series[0].counts, result.total) == ((2, 1), 3)
    unique = custom(*window, filter=pro, metric=Metric.UNIQUE)
    result = analyze(seed.db, seed.portal_id, seed.definition_id, unique)
    assert (result.series[0].counts, result.total) == ((1, 1), 2)
    # "1500.00" is the number stored as "1500", as the read API finds it
    amount = custom(*window, filter=PropertyFilter("amount", "1500.00"))
    result = analyze(seed.db, seed.portal_id, seed.definition_id, amount)
    assert result.series[0].counts == (1, 2)
    nothing = custom(*window, filter=PropertyFilter("plan", "PRO "))
    assert analyze(seed.db, seed.portal_id, seed.definition_id, nothing).series[0].counts == (0, 0)


def test_breakdown_top_ten_with_other_and_no_value(seed: Seed) -> None:
    # source s0 completes 12 times, s1 11 times ... s11 once: s10 and s11 are "Other";
    # every completion on day 1 except the last of each source, which is on day 2.
    for n in range(12):
        for i in range(12 - n):
            at = "2024-05-02T10:00:00Z" if i == 12 - n - 1 else "2024-05-01T10:00:00Z"
            seed.add(at, i % 4, source=f"s{n}")
    seed.add("2024-05-01T11:00:00Z", 0)
    seed.add("2024-05-02T11:00:00Z", 1, plan="pro")
    window = ("2024-05-01", "2024-05-02")
    result = analyze(
        seed.db, seed.portal_id, seed.definition_id, custom(*window, breakdown="source")
    )
    assert result.total == 78 + 2
    breakdown = result.breakdown
    assert breakdown is not None
    assert [(r.label, r.value, r.total) for r in result.series] == [
        (f"s{n}", f"s{n}", 12 - n) for n in range(10)
    ]
    assert [r.counts for r in result.series] == [(11 - n, 1) for n in range(10)]
    assert (breakdown.property_name, breakdown.property_label) == ("source", "Source")
    assert (breakdown.other, breakdown.no_value) == (2 + 1, 2)

    unique = custom(*window, breakdown="source", metric=Metric.UNIQUE)
    result = analyze(seed.db, seed.portal_id, seed.definition_id, unique)
    breakdown = result.breakdown
    assert breakdown is not None
    # 4 contacts (and nobody else) completed it; s_n by min(12 - n, 4) of them, and on
    # day 2 only by the one that completed it last
    assert result.total == 4
    assert [r.total for r in result.series] == [min(12 - n, 4) for n in range(10)]
    assert [r.counts[1] for r in result.series] == [1] * 10
    assert result.series[9].counts == (2, 1)  # s9: contacts 0 and 1 on day 1, 2 on day 2
    assert (breakdown.other, breakdown.no_value) == (2, 2)  # s10: c0, c1; no value: c0, c1


def test_breakdown_within_a_filter_with_option_labels(seed: Seed) -> None:
    day = "2024-05-01T10:00:00Z"
    seed.add(day, 0, plan="pro", source="ads")
    seed.add(day, 0, plan="pro", source="ads")
    seed.add(day, 1, plan="pro", source="mail")
    seed.add(day, 1, plan="pro")
    seed.add(day, 2, plan="starter", source="ads")
    seed.add(day, 3, plan="gone")  # an option removed since: shown as stored
    seed.add(day, 3, source="ads")
    query = custom("2024-05-01", "2024-05-01", filter=PropertyFilter("source", "ads"))
    result = analyze(seed.db, seed.portal_id, seed.definition_id, _with(query, breakdown="plan"))
    assert result.breakdown is not None
    assert [(r.label, r.value, r.total) for r in result.series] == [
        ("Pro", "pro", 2),
        ("Starter", "starter", 1),
    ]
    assert (result.breakdown.other, result.breakdown.no_value) == (0, 1)
    everything = custom("2024-05-01", "2024-05-01", breakdown="plan", metric=Metric.UNIQUE)
    result = analyze(seed.db, seed.portal_id, seed.definition_id, everything)
    assert result.breakdown is not None
    # equal totals are in value order
    assert [(r.label, r.total) for r in result.series] == [
        ("Pro", 2),
        ("gone", 1),
        ("Starter", 1),
    ]


def test_few_values_are_all_counted_while_ranked(seed: Seed) -> None:
    # plan has held few values, so each is a top value, whose series is counted beside
    # the ranking (SQLite) or with its own range total, which ranks it (PostgreSQL): a
    # value held only outside the range must still not become a line, equal totals are
    # in value order, and a value held only by completions without a record is a line
    # of zeros, as the ranking lists it
    seed.add("2024-04-01T10:00:00Z", 0, plan="gone")
    seed.add("2024-05-01T10:00:00Z", 0, plan="pro")
    seed.add("2024-05-01T12:00:00Z", 1, plan="pro")
    seed.add("2024-05-02T10:00:00Z", 1, plan="starter")
    seed.add("2024-05-02T11:00:00Z", 2)
    with seed.db.read() as conn:
        assert value_keys(conn, seed.definition_id, "plan", 11) == ["gone", "pro", "starter"]
        assert value_keys(conn, seed.definition_id, "plan", 2) == ["gone", "pro"]
        assert value_keys(conn, seed.definition_id, "source", 11) == []
    seed.add("2024-05-02T12:00:00Z", 3, plan="team")
    seed.add("2024-05-01T13:00:00Z", 2, plan="basic")
    seed.add("2024-05-01T14:00:00Z", None, plan="trial")
    query = custom("2024-05-01", "2024-05-02", breakdown="plan", metric=Metric.UNIQUE)
    for later in (False, True):
        result = analyze(seed.db, seed.portal_id, seed.definition_id, query, rest_later=later)
        assert [(r.value, r.counts, r.total) for r in result.series] == [
            ("pro", (2, 0), 2),
            ("basic", (1, 0), 1),
            ("starter", (0, 1), 1),
            ("team", (0, 1), 1),
            ("trial", (0, 0), 0),
        ]
        assert result.total == 4
        assert result.breakdown is not None
        assert result.breakdown.other == 0
        assert result.breakdown.no_value == (None if later else 1)


def test_values_longer_than_the_indexed_prefix_stay_apart(seed: Seed) -> None:
    stem = "https://example.test/" + "p" * 200  # the first 200 characters are shared
    long_a, long_b = stem + "/a", stem + "/b"
    day = "2024-05-01T10:00:00Z"
    for _ in range(3):
        seed.add(day, 0, landing_url=long_a)
    for contact in range(2):
        seed.add(day, contact, landing_url=long_b)
    seed.add(day, 3, landing_url=stem)
    window = ("2024-05-01", "2024-05-01")
    found = analyze(
        seed.db,
        seed.portal_id,
        seed.definition_id,
        custom(*window, filter=PropertyFilter("landing_url", long_b)),
    )
    assert found.series[0].counts == (2,)
    within = custom(*window, filter=PropertyFilter("landing_url", long_b), breakdown="landing_url")
    result = analyze(seed.db, seed.portal_id, seed.definition_id, within)
    assert result.breakdown is not None
    assert [(r.value, r.total, r.counts) for r in result.series] == [(long_b, 2, (2,))]
    result = analyze(
        seed.db, seed.portal_id, seed.definition_id, custom(*window, breakdown="landing_url")
    )
    assert result.breakdown is not None
    assert [(r.value, r.total, r.counts) for r in result.series] == [
        (long_a, 3, (3,)),
        (long_b, 2, (2,)),
        (stem, 1, (1,)),
    ]
    # long_b by all four contacts; nine short values by two each: with long_b they are
    # the top ten records, and long_a (contact 0) and stem (contact 3) are "Other"
    seed.add(day, 2, landing_url=long_b)
    seed.add(day, 3, landing_url=long_b)
    shorts = [f"https://s{i}.test/" for i in range(9)]
    for value in shorts:
        seed.add(day, 1, landing_url=value)
        seed.add(day, 2, landing_url=value)
    unique = custom(*window, breakdown="landing_url", metric=Metric.UNIQUE)
    result = analyze(seed.db, seed.portal_id, seed.definition_id, unique)
    assert result.breakdown is not None
    assert [(r.value, r.total) for r in result.series] == [
        (long_b, 4),
        *((value, 2) for value in shorts),
    ]
    assert (result.breakdown.other, result.breakdown.no_value) == (2, 0)


def test_a_property_the_event_does_not_define_is_a_clear_error(seed: Seed) -> None:
    query = custom(
        "2024-05-01", "2024-05-01", filter=PropertyFilter("colour", "red"), breakdown="size"
    )
    with pytest.raises(ValidationError) as caught:
        analyze(seed.db, seed.portal_id, seed.definition_id, query)
    assert [(e.in_, e.code) for e in caught.value.errors] == [
        ("filterProperty", "INVALID"),
        ("breakdown", "INVALID"),
    ]
    assert "'colour'" in caught.value.errors[0].message


def test_a_query_string_through_to_csv(seed: Seed) -> None:
    seed.add("2024-05-01T10:00:00Z", 0, source='=HYPERLINK("http://evil.test")')
    seed.add("2024-05-01T10:00:00Z", 0, source="-2+3")
    seed.add("2024-05-03T10:00:00Z", 1, source='plain, "quoted"')
    query = read_analysis_query(
        [
            ("range", "custom"),
            ("start", "2024-05-01"),
            ("end", "2024-05-03"),
            ("breakdown", "source"),
        ],
        now_ms=0,
        time_zone="UTC",
    )
    text = result_csv(analyze(seed.db, seed.portal_id, seed.definition_id, query))
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    assert header[0] == "Date"
    assert sorted(header[1:]) == sorted(
        ["'-2+3", '\'=HYPERLINK("http://evil.test")', 'plain, "quoted"']
    )
    column = {label: i for i, label in enumerate(header)}
    assert [r[0] for r in rows[1:]] == ["2024-05-01", "2024-05-02", "2024-05-03"]
    assert [r[column["'-2+3"]] for r in rows[1:]] == ["1", "0", "0"]
    assert [r[column['plain, "quoted"']] for r in rows[1:]] == ["0", "0", "1"]


# SQLite names a full pass over a table or index "SCAN <alias>"; an index range is SEARCH.
_FULL_PASS = re.compile(r"^SCAN (events|event_values|e|v|f|x)\b", re.MULTILINE)


@pytest.mark.parametrize("metric", list(Metric))
@pytest.mark.parametrize("interval", list(Interval))
def test_every_count_is_served_by_index_ranges(
    seed: Seed, metric: Metric, interval: Interval
) -> None:
    """Each statement an analysis runs, explained by the engine on a few hundred analysed
    rows: SQLite must SEARCH events and event_values, never SCAN them; PostgreSQL, with
    sequential scans priced out so that a plan that could use an index does, must not
    scan either table. A count written so that no index could serve it fails here."""
    for n in range(300):
        plan = ("pro", "starter")[n % 2]
        source = f"s{n % 7}" if n % 5 else None
        at = f"2024-05-{1 + n % 28:02d}T{n % 24:02d}:00:00Z"
        seed.add(at, n % 4, plan=plan, **({"source": source} if source else {}))
    with seed.db.write() as conn:
        conn.exec_driver_sql("ANALYZE")
    shapes = [
        {},
        {"filter": PropertyFilter("plan", "pro")},
        {"breakdown": "source"},
        {"filter": PropertyFilter("plan", "pro"), "breakdown": "source"},
    ]
    for shape in shapes:
        query = custom("2024-05-01", "2024-05-31", interval=interval, metric=metric, **shape)
        with _statements(seed.db) as ran:
            result = analyze(seed.db, seed.portal_id, seed.definition_id, query)
        assert result.total > 0
        counting = [(sql, p) for sql, p in ran if "events" in sql or "event_values" in sql]
        assert counting, shape
        for sql, params in counting:
            plan = _explain(seed.db, sql, params)
            where = f"{shape}:\n{sql}\n{plan}"
            if seed.db.is_sqlite:
                assert not _FULL_PASS.search(plan), where
            else:
                assert "Seq Scan on events" not in plan, where
                assert "Seq Scan on event_values" not in plan, where


@contextmanager
def _statements(db: Database) -> Iterator[list[tuple[str, Any]]]:
    ran: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, sql: str, params: Any, _context: Any, _many: bool) -> None:
        ran.append((sql, params))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield ran
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def _explain(db: Database, sql: str, params: Any) -> str:
    with db.read() as conn:
        if db.is_sqlite:
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params).all()
            return "\n".join(str(row[-1]) for row in rows)
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        return "\n".join(str(row[0]) for row in conn.exec_driver_sql("EXPLAIN " + sql, params))


def _with(query: AnalysisQuery, *, breakdown: str) -> AnalysisQuery:
    return AnalysisQuery(
        query.interval,
        query.metric,
        query.range,
        query.start,
        query.end,
        query.time_zone,
        query.week_start,
        query.filter,
        breakdown,
    )
