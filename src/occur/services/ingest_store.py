"""The writer's side of ingestion: store a group of send requests in one transaction.

Each request (a `SendJob`) is all or nothing. Everything that can reject a request is
checked before anything is written: that its definitions are still the versions it was
validated against, and that every record it names exists (or may be created). Only
requests that passed are then written, so a rejected request leaves nothing behind,
not even the contacts its unknown emails would have created.

The whole group is written with set-wise statements (one lookup per kind of identifier,
one executemany per table), which is what makes group commit pay. Should one of those
statements still fail (another process won a race for a uuid, an email or a utk on
PostgreSQL), the transaction is rolled back and the group is stored again with each
request in its own savepoint, so that one request's conflict cannot undo another's.
"""

from __future__ import annotations

import logging
import uuid as uuids
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from occur.domain.collection import Visit
from occur.domain.completions import Completion
from occur.domain.identity import Identity, IdentityKind
from occur.domain.objects import CONTACT, ObjectType, find_object_type
from occur.errors import FieldError
from occur.services.clock import now_ms
from occur.services.visitors import identify_in
from occur.store import crm as crm_store
from occur.store import definitions as definition_store
from occur.store import events as event_store
from occur.store import tracking as tracking_store
from occur.store import visitors as visitor_store
from occur.store.db import Database, HeldConnection
from occur.store.events import NewEvent

log = logging.getLogger("occur.ingest")

OBJECT_NOT_FOUND = "OBJECT_NOT_FOUND"
# (object type id, identifier): one record a completion names.
RecordRef = tuple[str, Identity]
# A request that keeps losing races to other processes is answered 503 after this many.
_ATTEMPTS_ALONE = 2


@dataclass(frozen=True)
class SendJob:
    portal_id: int
    completions: tuple[Completion, ...]
    received_at: int
    # A tracking-script beacon's visitor, page views and rejections (services/collect.py),
    # stored in the same transaction as its completions.
    visit: Visit | None = None


@dataclass(frozen=True)
class SendResult:
    """What became of one request. Empty `problems` and `stale` mean it is committed."""

    problems: tuple[FieldError, ...] = ()
    # Definitions whose version moved since the request was validated: validate again.
    stale: frozenset[int] = frozenset()
    stored: int = 0
    duplicates: int = 0
    # It lost a race with another process every time it was tried: nothing was stored.
    conflicted: bool = False


@dataclass
class _Lookups:
    live_ids: dict[str, set[int]] = field(default_factory=dict)
    contacts: dict[str, int] = field(default_factory=dict)
    visitors: dict[str, visitor_store.Visitor] = field(default_factory=dict)


def store_group(
    writes: HeldConnection, jobs: Sequence[SendJob], *, create_contacts: bool
) -> list[SendResult]:
    """Store every request that can be stored, in one committed transaction."""
    try:
        with writes.write() as conn:
            return _store(conn, jobs, create_contacts)
    except IntegrityError as exc:
        log.info("group of %d lost a race (%s); storing each alone", len(jobs), exc.orig)
    with writes.write() as conn:
        return [_store_alone(conn, job, create_contacts) for job in jobs]


def _store_alone(conn: Connection, job: SendJob, create_contacts: bool) -> SendResult:
    for _ in range(_ATTEMPTS_ALONE):
        try:
            with conn.begin_nested():
                return _store(conn, [job], create_contacts)[0]
        except IntegrityError:
            continue
    return SendResult(conflicted=True)


def _store(conn: Connection, jobs: Sequence[SendJob], create_contacts: bool) -> list[SendResult]:
    live = definition_store.live_versions(
        conn, {c.definition_id for job in jobs for c in job.completions}
    )
    results: list[SendResult | None] = [None] * len(jobs)
    by_portal: dict[int, list[int]] = defaultdict(list)
    for index, job in enumerate(jobs):
        stale = frozenset(
            c.definition_id
            for c in job.completions
            if live.get(c.definition_id) != c.definition_version
        )
        if stale:
            results[index] = SendResult(stale=stale)
        else:
            by_portal[job.portal_id].append(index)
    for portal_id, indexes in by_portal.items():
        stored = _store_portal(conn, portal_id, [jobs[i] for i in indexes], create_contacts)
        for index, result in zip(indexes, stored, strict=True):
            results[index] = result
    return [r if r is not None else SendResult() for r in results]


def _store_portal(
    conn: Connection, portal_id: int, jobs: Sequence[SendJob], create_contacts: bool
) -> list[SendResult]:
    _identify_visitors(conn, portal_id, jobs)
    lookups = _look_up(conn, portal_id, _refs(jobs))
    problems = [_record_problems(_refs([job]), lookups, create_contacts) for job in jobs]
    accepted = [job for job, found in zip(jobs, problems, strict=True) if not found]
    now = now_ms()
    _create_records(conn, portal_id, accepted, lookups, now)
    rows, counts = _new_events(conn, accepted, lookups)
    event_store.insert_events(conn, portal_id, rows, received_at=now)
    _store_visits(conn, portal_id, accepted, lookups, now)
    results: list[SendResult] = []
    for job, found in zip(jobs, problems, strict=True):
        if found:
            results.append(SendResult(problems=tuple(found)))
        else:
            stored, duplicates = counts[id(job)]
            results.append(SendResult(stored=stored, duplicates=duplicates))
    return results


def missing_records(
    db: Database, portal_id: int, refs: Sequence[RecordRef], *, create_contacts: bool
) -> list[FieldError]:
    """For a request refused anyway: which of its identifiers name no record, so that the
    one answer lists these problems too. Read only; nothing is created."""
    with db.read() as conn:
        lookups = _look_up(conn, portal_id, refs, lock=False)
        return _record_problems(refs, lookups, create_contacts)


def _refs(jobs: Sequence[SendJob]) -> list[RecordRef]:
    refs = [(c.object_type_id, c.identity) for job in jobs for c in job.completions]
    refs += [(CONTACT.type_id, _visitor(job.visit)) for job in jobs if job.visit is not None]
    return refs


def _visitor(visit: Visit) -> Identity:
    """A beacon's visitor is looked up and created like a utk completion's, even when the
    beacon holds only page views."""
    return Identity(IdentityKind.UTK, visit.utk, "utk")


def _look_up(
    conn: Connection, portal_id: int, refs: Sequence[RecordRef], *, lock: bool = True
) -> _Lookups:
    ids: dict[str, set[int]] = defaultdict(set)
    emails: set[str] = set()
    utks: set[str] = set()
    for object_type_id, identity in refs:
        if identity.kind is IdentityKind.OBJECT_ID:
            ids[object_type_id].add(identity.object_id)
        elif identity.kind is IdentityKind.EMAIL:
            emails.add(identity.value)
        else:
            utks.add(identity.value)
    return _Lookups(
        live_ids={
            type_id: crm_store.live_ids(conn, portal_id, _object_type(type_id), wanted)
            for type_id, wanted in ids.items()
        },
        contacts=crm_store.contact_ids_by_email(conn, portal_id, CONTACT, emails),
        visitors=visitor_store.find_visitors(conn, portal_id, utks, lock=lock),
    )


def _record_problems(
    refs: Sequence[RecordRef], lookups: _Lookups, create_contacts: bool
) -> list[FieldError]:
    problems: list[FieldError] = []
    for object_type_id, identity in refs:
        if identity.kind is IdentityKind.OBJECT_ID:
            if identity.object_id not in lookups.live_ids.get(object_type_id, set()):
                singular = _object_type(object_type_id).singular
                problems.append(
                    FieldError(
                        f"There is no {singular} with id {identity.value}.",
                        in_=identity.path,
                        code=OBJECT_NOT_FOUND,
                    )
                )
        elif identity.kind is IdentityKind.EMAIL and identity.value not in lookups.contacts:
            if not (identity.may_create and create_contacts):
                problems.append(
                    FieldError(
                        f"There is no contact with email {identity.value!r}.",
                        in_=identity.path,
                        code=OBJECT_NOT_FOUND,
                    )
                )
    return problems


def _create_records(
    conn: Connection,
    portal_id: int,
    accepted: Sequence[SendJob],
    lookups: _Lookups,
    now: int,
) -> None:
    """Contacts for unknown emails and visitors for unknown utks, once each."""
    emails: set[str] = set()
    utks = {job.visit.utk for job in accepted if job.visit is not None}
    utks -= lookups.visitors.keys()
    for job in accepted:
        for c in job.completions:
            if c.identity.kind is IdentityKind.EMAIL and c.identity.value not in lookups.contacts:
                emails.add(c.identity.value)
            elif c.identity.kind is IdentityKind.UTK and c.identity.value not in lookups.visitors:
                utks.add(c.identity.value)
    created = crm_store.insert_objects(
        conn, portal_id, CONTACT, [{"email": email} for email in sorted(emails)], now
    )
    lookups.contacts.update({record.values["email"]: record.id for record in created})
    lookups.visitors.update(visitor_store.insert_visitors(conn, portal_id, utks, now))


def _identify_visitors(conn: Connection, portal_id: int, jobs: Sequence[SendJob]) -> None:
    """Beacons' identify, before anything is looked up, so that their completions land on
    the contact. In the writer's transaction: on SQLite a second writer would wait for
    this busy one's lock, and the beacon's 204 then covers its identify too."""
    now = now_ms()
    for job in jobs:
        if job.visit is not None and job.visit.email is not None:
            identify_in(conn, portal_id, job.visit.utk, job.visit.email, now)


def _store_visits(
    conn: Connection, portal_id: int, accepted: Sequence[SendJob], lookups: _Lookups, now: int
) -> None:
    """Beacons' page views (a repeated uuid is skipped) and rejection counts."""
    visits = [job.visit for job in accepted if job.visit is not None]
    for visit in visits:
        visitor_id = lookups.visitors[visit.utk].id
        tracking_store.insert_page_views(conn, portal_id, visitor_id, visit.page_views, now)
    rejections = [rejection for visit in visits for rejection in visit.rejections]
    tracking_store.count_rejections(conn, portal_id, rejections, now)


def _new_events(
    conn: Connection, accepted: Sequence[SendJob], lookups: _Lookups
) -> tuple[list[NewEvent], dict[int, tuple[int, int]]]:
    """The rows to insert, with repeated uuids left out (the first one stored wins)."""
    sent = {
        (c.definition_id, c.uuid) for job in accepted for c in job.completions if c.uuid is not None
    }
    seen = event_store.existing_uuids(conn, sent)
    rows: list[NewEvent] = []
    counts: dict[int, tuple[int, int]] = {}
    for job in accepted:
        stored = duplicates = 0
        for c in job.completions:
            if c.uuid is not None:
                key = (c.definition_id, c.uuid)
                if key in seen:
                    duplicates += 1
                    continue
                seen.add(key)
            object_id, visitor_id = _record_of(c, lookups)
            rows.append(
                NewEvent(
                    definition_id=c.definition_id,
                    uuid=c.uuid or str(uuids.uuid4()),
                    object_type_id=c.object_type_id,
                    object_id=object_id,
                    visitor_id=visitor_id,
                    occurred_at=c.occurred_at if c.occurred_at is not None else job.received_at,
                    properties=c.values,
                )
            )
            stored += 1
        counts[id(job)] = (stored, duplicates)
    return rows, counts


def _record_of(c: Completion, lookups: _Lookups) -> tuple[int | None, int | None]:
    """(object id, visitor id): a visitor's occurrence is the contact's once identified."""
    kind, value = c.identity.kind, c.identity.value
    if kind is IdentityKind.OBJECT_ID:
        return int(value), None
    if kind is IdentityKind.EMAIL:
        return lookups.contacts[value], None
    visitor = lookups.visitors[value]
    return visitor.contact_id, visitor.id


def _object_type(type_id: str) -> ObjectType:
    found = find_object_type(type_id)
    assert found is not None, type_id
    return found
