"""Loading the demo dataset into a portal, for trying occur out, screenshots and page
benchmarks: 8 event types, contacts with companies, and months of completions drawn by
`demo_plan` from the lists in `demo_catalogue`.

Completions are written through the store's bulk insert (`insert_events`) in
transactions of a few thousand rows, not through HTTP: about 100,000 of them load in
seconds on either engine. Contacts and companies go in through the CRM store in
transactions of a thousand.

Loading into a portal that already holds the demo is safe: definitions of the demo's
names are reused (one deleted earlier, whose name stays reserved, is skipped), contacts
are matched by email and companies by domain, and completions whose uuid is stored
already are skipped. A uuid depends on the seed and on the draw, not on the date, so
repeating a seed adds only what a later `now` brings into the window; another seed adds
another batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from occur.domain.crm import EMAIL
from occur.domain.definitions import EventDefinition
from occur.domain.objects import COMPANY, CONTACT
from occur.domain.properties import PropertyType
from occur.domain.timestamps import iso_from_ms
from occur.errors import Conflict, NotFound
from occur.services import definitions
from occur.services.demo_catalogue import DEMO_DEFINITIONS
from occur.services.demo_plan import (
    DemoCompany,
    DemoCompletion,
    DemoContact,
    DemoPlan,
    plan_dataset,
)
from occur.store import access as access_store
from occur.store import crm as crm_store
from occur.store import events as event_store
from occur.store.db import Database
from occur.store.events import NewEvent

DEFAULT_CONTACTS = 3_000
DEFAULT_DAYS = 180
DEFAULT_SEED = 1
EVENTS_PER_TRANSACTION = 5_000
RECORDS_PER_TRANSACTION = 1_000
_T = TypeVar("_T")


@dataclass(frozen=True)
class DemoResult:
    """What a load did, for the command to report."""

    portal_id: int
    definitions_created: tuple[str, ...]
    definitions_reused: tuple[str, ...]
    definitions_skipped: tuple[str, ...]  # names deleted earlier, or used on another object
    companies_created: int
    contacts_created: int
    contacts_matched: int
    completions_stored: int
    completions_already_stored: int
    first_ms: int | None
    last_ms: int | None


def load(
    db: Database,
    portal_id: int,
    *,
    contacts: int = DEFAULT_CONTACTS,
    days: int = DEFAULT_DAYS,
    seed: int = DEFAULT_SEED,
    now_ms: int,
    max_definitions: int,
) -> DemoResult:
    """Fill a portal with the demo dataset (see the module docstring for a second run)."""
    with db.read() as conn:
        if access_store.get_portal(conn, portal_id) is None:
            raise NotFound(f"No portal {portal_id}.")
    plan = plan_dataset(contacts=contacts, days=days, seed=seed, now_ms=now_ms)
    found, created, skipped = _definitions(db, portal_id, max_definitions)
    company_ids, companies_created = _companies(db, portal_id, plan.companies, now_ms)
    contact_ids, contacts_created = _contacts(db, portal_id, plan, now_ms)
    rows = _rows(plan.completions, found, contact_ids, company_ids)
    stored = _store(db, portal_id, rows, check_uuids=len(created) < len(found), now_ms=now_ms)
    return DemoResult(
        portal_id=portal_id,
        definitions_created=created,
        definitions_reused=tuple(n for n in found if n not in created),
        definitions_skipped=skipped,
        companies_created=companies_created,
        contacts_created=contacts_created,
        contacts_matched=len(plan.contacts) - contacts_created,
        completions_stored=stored,
        completions_already_stored=len(rows) - stored,
        first_ms=rows[0].occurred_at if rows else None,
        last_ms=rows[-1].occurred_at if rows else None,
    )


# -- writing ---------------------------------------------------------------------


def _definitions(
    db: Database, portal_id: int, max_definitions: int
) -> tuple[dict[str, EventDefinition], tuple[str, ...], tuple[str, ...]]:
    """The portal's live demo definitions by name, creating missing ones; also the
    names created, and those skipped: reserved by a deleted definition, or held by one
    on another object type (its records could not be the demo's)."""
    found: dict[str, EventDefinition] = {}
    created: list[str] = []
    skipped: list[str] = []
    for body in DEMO_DEFINITIONS:
        name = body["name"]
        try:
            existing = definitions.get(db, portal_id, name)
        except NotFound:
            pass
        else:
            if existing.object_type.primary_object == body.get("primaryObject", "CONTACT"):
                found[name] = existing
            else:
                skipped.append(name)
            continue
        try:
            found[name] = definitions.create(db, portal_id, body, max_definitions=max_definitions)
            created.append(name)
        except Conflict:
            skipped.append(name)
    return found, tuple(created), tuple(skipped)


def _companies(
    db: Database, portal_id: int, companies: Sequence[DemoCompany], now_ms: int
) -> tuple[list[int], int]:
    """Ids of the plan's companies, in plan order: found by domain or created."""
    by_domain: dict[str, int] = {}
    with db.read() as conn:
        after: int | None = None
        while True:
            page = crm_store.list_page(
                conn, portal_id, COMPANY, archived=False, limit=1_000, after_id=after
            )
            for record in page.objects:
                by_domain.setdefault(record.values.get("domain", ""), record.id)
            if page.next_after is None:
                break
            after = page.next_after
    missing = [c for c in companies if c.domain not in by_domain]
    with db.write() as conn:
        values = [{"name": c.name, "domain": c.domain} for c in missing]
        for record in crm_store.insert_objects(conn, portal_id, COMPANY, values, now_ms):
            by_domain[record.values["domain"]] = record.id
    return [by_domain[c.domain] for c in companies], len(missing)


def _contacts(db: Database, portal_id: int, plan: DemoPlan, now_ms: int) -> tuple[list[int], int]:
    """Ids of the plan's contacts, in plan order: found by email or created."""
    by_email: dict[str, int] = {}
    created = 0
    for chunk in _chunks(plan.contacts, RECORDS_PER_TRANSACTION):
        with db.write() as conn:
            emails = [c.email for c in chunk]
            by_email.update(crm_store.contact_ids_by_email(conn, portal_id, CONTACT, emails))
            missing = [c for c in chunk if c.email not in by_email]
            values = [_contact_values(c, plan.companies) for c in missing]
            for record in crm_store.insert_objects(conn, portal_id, CONTACT, values, now_ms):
                by_email[record.values[EMAIL]] = record.id
            created += len(missing)
    return [by_email[c.email] for c in plan.contacts], created


def _contact_values(contact: DemoContact, companies: Sequence[DemoCompany]) -> dict[str, str]:
    values = {
        EMAIL: contact.email,
        "firstname": contact.firstname,
        "lastname": contact.lastname,
        "lifecyclestage": contact.lifecyclestage,
    }
    if contact.company is not None:
        values["company"] = companies[contact.company].name
    return values


def _rows(
    completions: Iterable[DemoCompletion],
    found: Mapping[str, EventDefinition],
    contact_ids: Sequence[int],
    company_ids: Sequence[int],
) -> list[NewEvent]:
    """Store rows for the completions whose definition is live, each keeping only the
    values its definition accepts now (a reused definition may have been edited)."""
    accepts = {name: _acceptance(d) for name, d in found.items()}
    rows: list[NewEvent] = []
    for c in completions:
        definition = found.get(c.event)
        if definition is None:
            continue
        ok = accepts[c.event]
        ids = company_ids if definition.object_type is COMPANY else contact_ids
        rows.append(
            NewEvent(
                definition_id=definition.id,
                uuid=c.uuid,
                object_type_id=definition.object_type.type_id,
                object_id=ids[c.record],
                visitor_id=None,
                occurred_at=c.occurred_at,
                properties={k: v for k, v in c.properties.items() if ok(k, v)},
            )
        )
    return rows


def _acceptance(definition: EventDefinition) -> Callable[[str, str], bool]:
    """A predicate (name, value) → whether the definition takes that value as it stands."""
    demo = next(d for d in DEMO_DEFINITIONS if d["name"] == definition.name)
    kinds = {p["name"]: PropertyType(p["type"]) for p in demo["propertyDefinitions"]}
    specs = {
        p.name: p
        for p in definition.custom_properties
        if p.name in kinds and p.type is kinds[p.name]
    }
    options = {
        name: {o.value for o in spec.options}
        for name, spec in specs.items()
        if spec.type is PropertyType.ENUMERATION
    }

    def accepts(name: str, value: str) -> bool:
        return name in specs and (name not in options or value in options[name])

    return accepts


def _store(
    db: Database, portal_id: int, rows: list[NewEvent], *, check_uuids: bool, now_ms: int
) -> int:
    """Insert in transactions of EVENTS_PER_TRANSACTION; with `check_uuids`, skip the
    completions stored already. Returns how many were stored."""
    stored = 0
    for chunk in _chunks(rows, EVENTS_PER_TRANSACTION):
        with db.write() as conn:
            if check_uuids:
                seen = event_store.existing_uuids(conn, [(r.definition_id, r.uuid) for r in chunk])
                chunk = [r for r in chunk if (r.definition_id, r.uuid) not in seen]
            event_store.insert_events(conn, portal_id, chunk, received_at=now_ms)
        stored += len(chunk)
    return stored


def _chunks(items: Sequence[_T], size: int) -> Iterable[Sequence[_T]]:
    for begin in range(0, len(items), size):
        yield items[begin : begin + size]


def summary(result: DemoResult) -> list[str]:
    """What a load did, in lines a person reads (the command prints them)."""
    lines = [f"Portal {result.portal_id}:"]
    made = ", ".join(result.definitions_created) or "none"
    lines.append(f"  event types created: {made}")
    if result.definitions_reused:
        lines.append(f"  event types reused: {', '.join(result.definitions_reused)}")
    if result.definitions_skipped:
        lines.append(
            "  skipped (the name belongs to a deleted event type, which reserves it, "
            f"or to one on another object): "
            f"{', '.join(result.definitions_skipped)}"
        )
    lines.append(
        f"  contacts: {result.contacts_created:,} created, {result.contacts_matched:,} "
        f"matched by email; companies: {result.companies_created:,} created"
    )
    span = ""
    if result.completions_stored and result.first_ms is not None and result.last_ms is not None:
        span = f" between {iso_from_ms(result.first_ms)} and {iso_from_ms(result.last_ms)}"
    lines.append(f"  completions: {result.completions_stored:,} stored{span}")
    if result.completions_already_stored:
        lines.append(
            f"  {result.completions_already_stored:,} completions were stored by an earlier "
            "run with this seed and were skipped; pass another --seed to add more."
        )
    return lines
