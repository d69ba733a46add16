"""The busy portal the page bench serves: issue 4's "1 million events over 30 event
types, the busiest with 200,000 completions", with every page given something to show.

- 30 event types on contacts, each with three custom properties of different types:
  `channel` (an enumeration of 6 options, skewed), `amount` (a number) and `page` (a
  string of 40 skewed values, absent on a tenth of completions). So filters, breakdowns,
  the Activity tab and the timeline's expanded rows all have values to read.
- The busiest type holds a fifth of the completions; the other 29 share the rest in a
  Zipf-like way (as bench/event_stats.py splits them), so the rarest holds a few
  thousand.
- Completions spread over the last 365 days at a rate that doubles across the year (a
  growing product; the last 30 days hold about a tenth), stored in time order as live
  ingestion stores them, so ids grow with time as they do in production.
- Contacts (one per 50 completions: 20,000 at full size) with names drawn from the demo
  catalogue, so a search by last name matches a few hundred of them. Who completed is
  skewed (a few busy contacts, many occasional ones); one heavy contact holds one
  completion in 200 (5,000 at full size), which is what its timeline's counts must read.

Everything goes in through the store's own bulk paths (`crm.insert_objects`,
`events.insert_events` in 10,000-row transactions, COPY on PostgreSQL), not HTTP: a
million sends would take the bench's whole budget and measure ingestion, not pages.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from occur.domain.definitions import EventDefinition
from occur.domain.objects import CONTACT
from occur.domain.occurrences import coerce_value
from occur.services import access, accounts, definitions
from occur.services.demo_catalogue import FIRST_NAMES, LAST_NAMES, SIGNUP_SOURCES
from occur.store import crm as crm_store
from occur.store import migrate
from occur.store.db import Database
from occur.store.events import NewEvent, insert_events

DAY_MS = 86_400_000
DAYS = 365
EVENT_TYPES = 30
EVENTS_PER_TRANSACTION = 10_000
CONTACTS_PER_TRANSACTION = 1_000
TIME_ZONE = "Europe/Paris"  # a zone with daylight saving time: 23- and 25-hour days
PAGES = 40
NO_PAGE_SHARE = 0.1
# A search term: one of the demo's last names, so it matches ~1/60 of the contacts.
SEARCH_TERM = "nakamura"
ENUM = "channel"
NUMBER = "amount"
STRING = "page"
FILTER_OPTION = "referral"  # the filter value the bench asks for: a mid-sized option
USER_EMAIL = "bench@pages.example"
USER_PASSWORD = "bench-pages-password"


@dataclass(frozen=True)
class Scale:
    """The dataset's size, all of it derived from the completion count so that a
    scaled-down try (`--events 100000`) keeps the full one's proportions."""

    events: int = 1_000_000

    @property
    def busiest(self) -> int:
        return self.events // 5

    @property
    def contacts(self) -> int:
        return max(100, self.events // 50)

    @property
    def heavy(self) -> int:
        return max(20, self.events // 200)

    def counts(self) -> list[int]:
        """Completions per event type: the busiest first, then the others' shares of the
        rest, each smaller than the last."""
        weights = [1 / (rank + 1) ** 0.8 for rank in range(EVENT_TYPES - 1)]
        rest = self.events - self.busiest
        shares = [int(rest * w / sum(weights)) for w in weights]
        shares[0] += rest - sum(shares)
        assert max(shares) < self.busiest, "the busiest type must stay the busiest"
        return [self.busiest, *shares]


@dataclass(frozen=True)
class Dataset:
    """What the pages are asked about, and what some of them must then show."""

    portal_id: int
    busiest: EventDefinition
    rarest: EventDefinition
    heavy_contact_id: int
    heavy_count: int  # the heavy contact's completions (its timeline's total)
    heavy_busiest_count: int  # ... of the busiest type (the filtered timeline's total)
    typical_contact_id: int
    typical_count: int
    contacts_seconds: float
    events_seconds: float


def load(db: Database, scale: Scale, seed: int = 4) -> Dataset:
    """Migrate an empty store and fill it; also add the bench's user to the portal."""
    migrate.upgrade(db)
    portal, _token = access.create_portal(db, "Bench pages")
    accounts.update_portal(
        db, portal.id, name="Bench pages", time_zone=TIME_ZONE, week_start="SUNDAY"
    )
    accounts.add_user(db, portal.id, USER_EMAIL, USER_PASSWORD, "admin")
    types = [
        definitions.create(db, portal.id, _definition(n), max_definitions=EVENT_TYPES)
        for n in range(EVENT_TYPES)
    ]
    rng = random.Random(seed)
    now = int(time.time() * 1000)
    began = time.perf_counter()
    contacts = _contacts(db, portal.id, scale.contacts, rng, now)
    contacts_seconds = time.perf_counter() - began
    began = time.perf_counter()
    per_contact, heavy_busiest = _completions(db, portal.id, types, contacts, scale, rng, now)
    events_seconds = time.perf_counter() - began
    heavy = contacts[0]
    typical = _typical(per_contact, heavy)
    return Dataset(
        portal_id=portal.id,
        busiest=types[0],
        rarest=types[-1],
        heavy_contact_id=heavy,
        heavy_count=per_contact[heavy],
        heavy_busiest_count=heavy_busiest,
        typical_contact_id=typical,
        typical_count=per_contact[typical],
        contacts_seconds=contacts_seconds,
        events_seconds=events_seconds,
    )


def _definition(n: int) -> dict[str, Any]:
    return {
        "label": f"Bench event {n + 1:02d}",
        "name": f"bench_event_{n + 1:02d}",
        "primaryObject": "CONTACT",
        "propertyDefinitions": [
            {
                "name": ENUM,
                "label": "Channel",
                "type": "enumeration",
                "options": [{"label": label, "value": value} for label, value, _ in SIGNUP_SOURCES],
            },
            {"name": NUMBER, "label": "Amount", "type": "number"},
            {"name": STRING, "label": "Page", "type": "string"},
        ],
    }


def _contacts(db: Database, portal_id: int, count: int, rng: random.Random, now: int) -> list[int]:
    """Contact ids in creation order; the first is the heavy one."""
    ids: list[int] = []
    for first in range(0, count, CONTACTS_PER_TRANSACTION):
        values = []
        for i in range(first, min(count, first + CONTACTS_PER_TRANSACTION)):
            given, family = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            values.append(
                {
                    "email": f"contact{i}@bench.example",
                    "firstname": given,
                    "lastname": family,
                    "lifecyclestage": rng.choice(("lead", "opportunity", "customer")),
                }
            )
        with db.write() as conn:
            ids += [c.id for c in crm_store.insert_objects(conn, portal_id, CONTACT, values, now)]
    return ids


def _completions(
    db: Database,
    portal_id: int,
    types: Sequence[EventDefinition],
    contacts: Sequence[int],
    scale: Scale,
    rng: random.Random,
    now: int,
) -> tuple[Counter[int], int]:
    """Store every completion; returns the completions per contact id, and how many of
    the busiest type the heavy contact holds."""
    per_contact: Counter[int] = Counter()
    heavy_busiest = 0
    busiest_id = types[0].id
    for rows in _batches(types, contacts, scale, rng, now):
        per_contact.update(r.object_id for r in rows if r.object_id is not None)
        heavy_busiest += sum(
            1 for r in rows if r.object_id == contacts[0] and r.definition_id == busiest_id
        )
        with db.write() as conn:
            insert_events(conn, portal_id, rows, received_at=now)
    return per_contact, heavy_busiest


def _batches(
    types: Sequence[EventDefinition],
    contacts: Sequence[int],
    scale: Scale,
    rng: random.Random,
    now: int,
) -> Iterator[list[NewEvent]]:
    """The completions in time order, one transaction's worth at a time.

    Only the sorted moments and the shuffled type of each completion are held for the
    whole run (two lists of plain ints, ~50 MB at full size); each batch's rows and
    property dicts are built when it is stored, which keeps a million of them from
    needing a gigabyte at once."""
    span = DAYS * DAY_MS
    # Density rising linearly to twice its start: the inverse of its cumulative share.
    moments = sorted(
        now - span + int(span * (math.sqrt(1 + 3 * rng.random()) - 1)) for _ in range(scale.events)
    )
    kinds = [i for i, n in enumerate(scale.counts()) for _ in range(n)]
    rng.shuffle(kinds)
    channels = [value for _, value, _ in SIGNUP_SOURCES]
    channel_weights = list(accumulate(weight for _, _, weight in SIGNUP_SOURCES))
    pages = [f"/docs/guide-{i:02d}" for i in range(PAGES)]
    page_weights = list(accumulate(1 / (i + 1) for i in range(PAGES)))
    amount_spec = next(p for p in types[0].custom_properties if p.name == NUMBER)
    amounts = [coerce_value(amount_spec, n / 4) for n in range(4, 2_000)]  # 1 to 499.75
    heavy_share = scale.heavy / scale.events
    others = len(contacts) - 1
    for first in range(0, scale.events, EVENTS_PER_TRANSACTION):
        rows = []
        for n in range(first, min(scale.events, first + EVENTS_PER_TRANSACTION)):
            properties = {
                ENUM: rng.choices(channels, cum_weights=channel_weights)[0],
                NUMBER: rng.choice(amounts),
            }
            if rng.random() >= NO_PAGE_SHARE:
                properties[STRING] = rng.choices(pages, cum_weights=page_weights)[0]
            if rng.random() < heavy_share:
                contact = contacts[0]
            else:  # skewed: low indexes busier, most contacts occasional
                contact = contacts[1 + int(others * rng.random() ** 1.5)]
            rows.append(
                NewEvent(
                    definition_id=types[kinds[n]].id,
                    uuid=f"bench-page-{n}",
                    object_type_id=CONTACT.type_id,
                    object_id=contact,
                    visitor_id=None,
                    occurred_at=moments[n],
                    properties=properties,
                )
            )
        yield rows


def _typical(per_contact: Counter[int], heavy: int) -> int:
    """The contact holding the median number of completions (the heavy one aside)."""
    ranked = sorted((n, contact) for contact, n in per_contact.items() if contact != heavy)
    return ranked[len(ranked) // 2][1]
