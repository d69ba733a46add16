"""The demo dataset, loaded into real stores (SQLite and PostgreSQL) and read back.

Small sizes keep each load under a second; the shape tests draw a larger plan without
a store, since drawing is pure.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from occur.domain.definitions import EventDefinition
from occur.domain.objects import COMPANY, CONTACT
from occur.domain.occurrences import coerce_value
from occur.domain.properties import PropertyType
from occur.errors import NotFound
from occur.services import access, definitions, demo
from occur.services.demo_catalogue import COMPANY_EVENT, DEMO_DEFINITIONS
from occur.services.demo_plan import DAY_MS, HOUR_MS, plan_dataset
from occur.store.db import Database
from occur.store.events import decode_properties
from occur.store.schema import crm_objects, events

NOW = 1_767_225_600_000 + 13 * HOUR_MS + 1_234  # 2026-01-01T13:00:01.234Z, a Thursday
SIZE = {"contacts": 300, "days": 90, "now_ms": NOW}
NAMES = [body["name"] for body in DEMO_DEFINITIONS]


@dataclass(frozen=True)
class Stored:
    """One stored completion, as the tests compare them."""

    event: str
    uuid: str
    object_type_id: str
    object_id: int
    occurred_at: int
    properties: dict[str, str]


def _portal(db: Database, name: str = "Demo") -> int:
    return access.create_portal(db, name)[0].id


def _load(db: Database, portal_id: int, seed: int = 5, **size: int) -> demo.DemoResult:
    return demo.load(db, portal_id, seed=seed, max_definitions=50, **{**SIZE, **size})


def _definitions(db: Database, portal_id: int) -> dict[int, EventDefinition]:
    page = definitions.list_page(
        db,
        portal_id,
        definitions.ListQuery(
            search=None, limit=100, after_id=None, include_properties=True, descending=False
        ),
    )
    return {d.id: d for d in page.definitions}


def _stored(db: Database, portal_id: int) -> list[Stored]:
    names = {i: d.name for i, d in _definitions(db, portal_id).items()}
    with db.read() as conn:
        rows = conn.execute(
            select(events).where(events.c.portal_id == portal_id).order_by(events.c.id)
        ).all()
    return [
        Stored(
            names[r.definition_id],
            r.uuid,
            r.object_type_id,
            r.object_id,
            r.occurred_at,
            decode_properties(r.properties),
        )
        for r in rows
    ]


def _records(db: Database, portal_id: int, type_id: str) -> dict[int, dict[str, str]]:
    query = select(crm_objects.c.id, crm_objects.c.properties).where(
        crm_objects.c.portal_id == portal_id,
        crm_objects.c.object_type_id == type_id,
        crm_objects.c.archived.is_(False),
    )
    with db.read() as conn:
        return {r.id: dict(r.properties) for r in conn.execute(query)}


def test_a_load_is_consistent_with_its_definitions_and_records(db: Database) -> None:
    portal_id = _portal(db)
    result = _load(db, portal_id)
    assert result.definitions_created == tuple(NAMES)
    assert result.definitions_reused == result.definitions_skipped == ()

    found = {d.name: d for d in _definitions(db, portal_id).values()}
    assert set(found) == set(NAMES)
    assert found[COMPANY_EVENT].object_type is COMPANY
    for name in NAMES:
        if name != COMPANY_EVENT:
            assert found[name].object_type is CONTACT
    kinds = {p.type for d in found.values() for p in d.custom_properties}
    assert kinds == set(PropertyType)  # every property type is represented

    contacts = _records(db, portal_id, CONTACT.type_id)
    companies = _records(db, portal_id, COMPANY.type_id)
    assert len(contacts) == result.contacts_created == 300
    assert len(companies) == result.companies_created == 25
    emails = [values["email"] for values in contacts.values()]
    assert len(set(emails)) == len(emails)
    assert all(e.endswith(".example") and e == e.lower() for e in emails)
    company_names = {values["name"] for values in companies.values()}
    assert {v["company"] for v in contacts.values() if "company" in v} <= company_names

    stored = _stored(db, portal_id)
    assert len(stored) == result.completions_stored > 3_000
    assert result.completions_already_stored == 0
    assert len({(s.event, s.uuid) for s in stored}) == len(stored)
    for s in stored:
        assert NOW - 90 * DAY_MS <= s.occurred_at < NOW
        definition = found[s.event]
        owners = companies if definition.object_type is COMPANY else contacts
        assert s.object_type_id == definition.object_type.type_id
        assert s.object_id in owners
        for name, value in s.properties.items():
            spec = definition.property_named(name)
            assert spec is not None and not spec.hubspot_defined, (s.event, name)
            # Canonical and valid: what a send through the API would have stored.
            assert coerce_value(spec, value) == value, (s.event, name, value)
    enumerated = {
        (s.event, name, value)
        for s in stored
        for name, value in s.properties.items()
        if name in {"plan", "billing_period", "feature", "currency", "category", "priority"}
    }
    assert len(enumerated) > 20  # the options are used, not one value each


def test_the_funnel_narrows_and_each_step_follows_the_one_before(db: Database) -> None:
    portal_id = _portal(db)
    _load(db, portal_id)
    stored = _stored(db, portal_id)
    counts = Counter(s.event for s in stored)
    assert counts["viewed_pricing_page"] > counts["started_trial"] > counts["clicked_buy_button"]
    assert counts["clicked_buy_button"] > 0
    first: dict[str, dict[int, int]] = defaultdict(dict)
    for s in stored:
        by_record = first[s.event]
        by_record[s.object_id] = min(by_record.get(s.object_id, s.occurred_at), s.occurred_at)
    for contact, trial in first["started_trial"].items():
        assert first["viewed_pricing_page"][contact] < trial
    for contact, bought in first["clicked_buy_button"].items():
        assert first["started_trial"][contact] < bought
    stages = {i: v["lifecyclestage"] for i, v in _records(db, portal_id, CONTACT.type_id).items()}
    assert {stages[c] for c in first["clicked_buy_button"]} == {"customer"}
    assert {stages[c] for c in first["started_trial"]} <= {"customer", "opportunity"}


def test_one_seed_always_gives_the_same_data(db: Database) -> None:
    one, two, other = _portal(db, "One"), _portal(db, "Two"), _portal(db, "Other")
    _load(db, one, seed=11)
    _load(db, two, seed=11)
    _load(db, other, seed=12)

    def comparable(portal_id: int) -> list[tuple[object, ...]]:
        emails = {i: v["email"] for i, v in _records(db, portal_id, CONTACT.type_id).items()}
        domains = {i: v["domain"] for i, v in _records(db, portal_id, COMPANY.type_id).items()}
        return sorted(
            (
                s.event,
                s.uuid,
                s.occurred_at,
                emails.get(s.object_id) or domains[s.object_id],
                sorted(s.properties.items()),
            )
            for s in _stored(db, portal_id)
        )

    assert comparable(one) == comparable(two)
    assert comparable(one) != comparable(other)


def test_a_second_load_of_a_seed_adds_nothing_and_another_seed_adds_more(db: Database) -> None:
    portal_id = _portal(db)
    first = _load(db, portal_id)
    again = _load(db, portal_id)
    assert again.definitions_created == ()
    assert again.definitions_reused == tuple(NAMES)
    assert again.contacts_created == again.companies_created == 0
    assert again.contacts_matched == 300
    assert again.completions_stored == 0
    assert again.completions_already_stored == first.completions_stored
    assert len(_stored(db, portal_id)) == first.completions_stored
    # A day later the window has moved: the same seed adds only a little.
    later = _load(db, portal_id, now_ms=NOW + DAY_MS)
    assert 0 < later.completions_stored < first.completions_stored * 0.05
    more = _load(db, portal_id, seed=6)
    assert more.completions_stored > 3_000
    assert more.contacts_created > 250
    stored = _stored(db, portal_id)
    assert (
        len(stored) == first.completions_stored + later.completions_stored + more.completions_stored
    )
    assert len(_definitions(db, portal_id)) == len(NAMES)


def test_a_reused_definition_keeps_only_the_values_it_accepts(db: Database) -> None:
    portal_id = _portal(db)
    definitions.create(
        db,
        portal_id,
        {
            "name": "viewed_pricing_page",
            "label": "Pricing page view",
            "propertyDefinitions": [
                {
                    "name": "plan",
                    "label": "Plan",
                    "type": "enumeration",
                    "options": [{"label": "Starter", "value": "starter"}],
                },
                {"name": "billing_period", "label": "Billing", "type": "string"},
            ],
        },
        max_definitions=50,
    )
    result = _load(db, portal_id)
    assert result.definitions_reused == ("viewed_pricing_page",)
    views = [s for s in _stored(db, portal_id) if s.event == "viewed_pricing_page"]
    assert views
    assert {s.properties.get("plan") for s in views} == {"starter", None}
    assert all("billing_period" not in s.properties for s in views)  # another type now


def test_a_deleted_or_foreign_definition_is_skipped(db: Database) -> None:
    portal_id = _portal(db)
    definitions.create(db, portal_id, {"name": "used_feature", "label": "x"}, max_definitions=50)
    definitions.delete(db, portal_id, "used_feature")
    definitions.create(
        db,
        portal_id,
        {"name": "attended_webinar", "label": "y", "primaryObject": "DEAL"},
        max_definitions=50,
    )
    result = _load(db, portal_id)
    assert set(result.definitions_skipped) == {"used_feature", "attended_webinar"}
    events_stored = {s.event for s in _stored(db, portal_id)}
    assert "used_feature" not in events_stored
    assert "attended_webinar" not in events_stored
    assert "viewed_pricing_page" in events_stored


def test_an_unknown_portal_is_refused(db: Database) -> None:
    with pytest.raises(NotFound):
        _load(db, 999)
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(crm_objects)).scalar_one() == 0


def test_traffic_has_weekly_and_daily_seasonality_and_grows() -> None:
    plan = plan_dataset(contacts=1_500, days=140, seed=2, now_ms=NOW)
    moments = [c.occurred_at for c in plan.completions]
    assert len(moments) > 30_000
    weekday = Counter((m // DAY_MS + 3) % 7 for m in moments)  # Monday is 0
    assert min(weekday[d] for d in range(5)) > 2 * max(weekday[5], weekday[6])
    hour = Counter(m % DAY_MS // HOUR_MS for m in moments)
    assert min(hour[h] for h in range(9, 17)) > 3 * max(hour[h] for h in range(0, 5))
    start = NOW - 140 * DAY_MS
    month = Counter((m - start) // (28 * DAY_MS) for m in moments)
    assert month[4] > 1.4 * month[0]  # the last four weeks against the first
    assert all(start <= m < NOW for m in moments)


def test_the_same_arguments_draw_the_same_plan() -> None:
    one = plan_dataset(contacts=200, days=30, seed=9, now_ms=NOW)
    assert one == plan_dataset(contacts=200, days=30, seed=9, now_ms=NOW)
    assert one != plan_dataset(contacts=200, days=30, seed=10, now_ms=NOW)
    with pytest.raises(ValueError):
        plan_dataset(contacts=0, days=30, seed=9, now_ms=NOW)
