"""The writer's side of ingestion: store a group of send requests in one transaction.

Each request (a `SendJob`) is all or nothing. Everything that can reject a request is
checked before anything is written: that its definitions are still the versions it was
validated against, and that every record it names exists (or may be created). Only
requests that passed are then written, so a rejected request leaves nothing behind,
not even the contacts its unknown emails would have created.

A spreadsheet import's chunk (a `SendJob` with an `ImportChunk`) is stored in the same
transaction but leniently: a row naming a record that does not exist becomes a row error
instead of refusing the chunk; the chunk's contact values are upserted first; and the
import's counters and resume point move with the rows, unless the import was canceled
meanwhile, in which case nothing of the chunk is stored.

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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from occur.domain.collection import Visit
from occur.domain.completions import Completion
from occur.domain.crm import CrmObject
from occur.domain.identity import Identity, IdentityKind
from occur.domain.objects import CONTACT, ObjectType, find_object_type
from occur.errors import FieldError
from occur.services.clock import now_ms
from occur.services.visitors import identify_in
from occur.store import crm as crm_store
from occur.store import definitions as definition_store
from occur.store import events as event_store
from occur.store import imports as import_store
from occur.store import tracking as tracking_store
from occur.store import visitors as visitor_store
from occur.store.db import Database, HeldConnection
from occur.store.events import NewEvent
from occur.store.imports import ImportCounters, NewImportError

log = logging.getLogger("occur.ingest")

OBJECT_NOT_FOUND = "OBJECT_NOT_FOUND"
INVALID_OBJECT_ID = "INVALID_OBJECT_ID"  # an import row naming no record (HubSpot's type)
# (object type id, identifier): one record a completion names.
RecordRef = tuple[str, Identity]
# A request that keeps losing races to other processes is answered 503 after this many.
_ATTEMPTS_ALONE = 2


@dataclass(frozen=True)
class ImportChunk:
    """Up to 1,000 rows of a spreadsheet import, beside their job's completions.

    `lines`, `cells` and `contact_values` line up with the job's completions (one per
    row that converted); `errors` are the rows that did not, `rows_with_errors` how many
    rows those are. Once stored the import has read `rows_read` more rows and resumes
    at `next_line`.
    """

    import_id: int
    lines: tuple[int, ...]
    cells: tuple[tuple[str, ...], ...]
    contact_values: tuple[Mapping[str, str], ...]
    errors: tuple[NewImportError, ...]
    rows_read: int
    rows_with_errors: int
    next_line: int
    record_id_column: int | None = None  # where a row's record id is, for its error


@dataclass(frozen=True)
class RevertStep:
    """One transaction of an import's revert (services/import_revert.py): remove up to
    `rows` of the completions the import stored or, once none is left, look at up to
    `rows` of the contacts it created and remove those holding nothing else."""

    import_id: int
    rows: int


@dataclass(frozen=True)
class SendJob:
    portal_id: int
    completions: tuple[Completion, ...]
    received_at: int
    # A tracking-script beacon's visitor, page views and rejections (services/collect.py),
    # stored in the same transaction as its completions.
    visit: Visit | None = None
    # A spreadsheet import's rows (services/import_runner.py).
    chunk: ImportChunk | None = None
    # Or a step of undoing one (it carries no completions).
    revert: RevertStep | None = None


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
    # An import chunk: what it added to the import's counters; `canceled` when the
    # import was no longer processing, so nothing was stored.
    counters: ImportCounters | None = None
    canceled: bool = False
    # A revert step: the completions it removed, and whether the revert is now done;
    # `canceled` when the import was not being reverted, so nothing was removed.
    removed: int = 0
    reverted: bool = False


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
        elif job.chunk is not None:
            results[index] = _store_import(conn, job, job.chunk)
        elif job.revert is not None:
            results[index] = _store_revert(conn, job.portal_id, job.revert)
        else:
            by_portal[job.portal_id].append(index)
    for portal_id, indexes in by_portal.items():
        stored = _store_portal(conn, portal_id, [jobs[i] for i in indexes], create_contacts)
        for index, result in zip(indexes, stored, strict=True):
            results[index] = result
    return [r if r is not None else SendResult() for r in results]


def _store_import(conn: Connection, job: SendJob, chunk: ImportChunk) -> SendResult:
    """One import chunk: rows naming no record become errors, contact values are
    upserted, completions stored (a repeated uuid counted as a duplicate), errors and
    counters recorded, all in the caller's transaction."""
    if import_store.lock_state(conn, chunk.import_id) != import_store.PROCESSING:
        return SendResult(canceled=True)
    now = now_ms()
    portal_id = job.portal_id
    refs = [(c.object_type_id, c.identity) for c in job.completions]
    lookups = _look_up(conn, portal_id, [r for r in refs if r[1].kind is IdentityKind.OBJECT_ID])
    kept: list[int] = []
    errors = list(chunk.errors)
    for i, c in enumerate(job.completions):
        if c.identity.kind is IdentityKind.OBJECT_ID and c.identity.object_id not in (
            lookups.live_ids.get(c.object_type_id, set())
        ):
            singular = _object_type(c.object_type_id).singular
            errors.append(
                NewImportError(
                    line=chunk.lines[i],
                    column_name=c.identity.path,
                    column_index=chunk.record_id_column,
                    value=c.identity.value,
                    error_type=INVALID_OBJECT_ID,
                    message=f"There is no {singular} with record ID {c.identity.value}.",
                    cells=chunk.cells[i],
                )
            )
        else:
            kept.append(i)
    created, updated = _upsert_contacts(conn, job, chunk, kept, lookups, now)
    accepted = replace(job, completions=tuple(job.completions[i] for i in kept))
    rows, counts = _new_events(conn, [accepted], lookups)
    event_store.insert_events(conn, portal_id, rows, received_at=now)
    stored, duplicates = counts[id(accepted)]
    errors.sort(key=lambda e: e.line)  # stable: a row's errors stay in column order
    import_store.insert_errors(conn, chunk.import_id, errors, now)
    counters = ImportCounters(
        rows_read=chunk.rows_read,
        contacts_created=created,
        contacts_updated=updated,
        completions_created=stored,
        duplicates=duplicates,
        rows_with_errors=chunk.rows_with_errors + len(job.completions) - len(kept),
    )
    import_store.advance(conn, chunk.import_id, counters, chunk.next_line, now)
    return SendResult(stored=stored, duplicates=duplicates, counters=counters)


def _store_revert(conn: Connection, portal_id: int, step: RevertStep) -> SendResult:
    """One revert step in the caller's transaction: completions first, then the created
    contacts (each looked at once: its entry is forgotten with the step), then REVERTED.
    A contact is removed only if it holds no completion and no identified visitor, which
    is checked here, in the writer, so a send for it cannot slip in between."""
    if import_store.lock_state(conn, step.import_id) != import_store.REVERTING:
        return SendResult(canceled=True)
    now = now_ms()
    removed = event_store.delete_for_import(conn, portal_id, step.import_id, step.rows)
    if removed:
        import_store.count_removed(conn, step.import_id, removed, now)
        return SendResult(removed=removed)
    created = import_store.created_records(conn, step.import_id, after_id=None, limit=step.rows)
    for object_id in import_store.contacts_holding_nothing(conn, portal_id, created):
        crm_store.delete_object(conn, portal_id, CONTACT, object_id)
    import_store.forget_records(conn, step.import_id, created)
    if len(created) == step.rows:
        return SendResult()
    import_store.set_state(
        conn, step.import_id, import_store.REVERTED, now, from_states=(import_store.REVERTING,)
    )
    return SendResult(reverted=True)


def _upsert_contacts(
    conn: Connection,
    job: SendJob,
    chunk: ImportChunk,
    kept: Sequence[int],
    lookups: _Lookups,
    now: int,
) -> tuple[int, int]:
    """Contacts the rows name by email are found or created, and every contact a row
    names gets that row's non-empty contact values (later rows win). Fills
    `lookups.contacts`; returns (created, updated): updated counts contacts that existed
    before this import and whose values changed."""
    completions = [job.completions[i] for i in kept]
    if not completions or completions[0].object_type_id != CONTACT.type_id:
        return 0, 0
    emails = {c.identity.value for c in completions if c.identity.kind is IdentityKind.EMAIL}
    ids = {c.identity.object_id for c in completions if c.identity.kind is IdentityKind.OBJECT_ID}
    portal_id = job.portal_id
    if not ids and not any(chunk.contact_values[i] for i in kept):
        return _ids_by_email(conn, portal_id, chunk.import_id, completions, lookups, now), 0
    by_email = crm_store.find_by_emails(conn, portal_id, CONTACT, emails, for_update=True)
    by_id = crm_store.find_by_ids(conn, portal_id, CONTACT, ids, for_update=True)
    by_id.update({record.id: record for record in by_email.values()})
    lookups.contacts.update({email: record.id for email, record in by_email.items()})
    merged: dict[str | int, dict[str, str]] = {}  # new contacts by email, others by id
    for i, c in zip(kept, completions, strict=True):
        values = chunk.contact_values[i]
        key: str | int = c.identity.value
        if c.identity.kind is IdentityKind.OBJECT_ID:
            key = c.identity.object_id
        elif c.identity.value in lookups.contacts:
            key = lookups.contacts[c.identity.value]
        if key not in merged:
            merged[key] = _starting_values(key, by_id)
        merged[key].update(values)
    new = [values for key, values in merged.items() if isinstance(key, str)]
    created = crm_store.insert_objects(conn, portal_id, CONTACT, new, now)
    lookups.contacts.update({record.values["email"]: record.id for record in created})
    import_store.add_records(conn, chunk.import_id, [record.id for record in created])
    changed = {
        key: values
        for key, values in merged.items()
        if isinstance(key, int) and values != by_id[key].values
    }
    for object_id, values in changed.items():
        crm_store.update_values(conn, portal_id, CONTACT, object_id, values, now)
    mine = import_store.created_by(conn, chunk.import_id, changed.keys())
    return len(created), len(changed.keys() - mine)


def _ids_by_email(
    conn: Connection,
    portal_id: int,
    import_id: int,
    completions: Sequence[Completion],
    lookups: _Lookups,
    now: int,
) -> int:
    """Rows that set no contact value need each email's contact id only: read from the
    unique email column's index instead of every contact's properties (a fifth of the
    writer's time in bench/import.py), the missing ones created. Returns how many."""
    emails = list(dict.fromkeys(c.identity.value for c in completions))
    found = crm_store.contact_ids_by_email(conn, portal_id, CONTACT, emails)
    lookups.contacts.update(found)
    new = [{"email": email} for email in emails if email not in found]
    created = crm_store.insert_objects(conn, portal_id, CONTACT, new, now)
    lookups.contacts.update({record.values["email"]: record.id for record in created})
    import_store.add_records(conn, import_id, [record.id for record in created])
    return len(created)


def _starting_values(key: str | int, existing: Mapping[int, CrmObject]) -> dict[str, str]:
    if isinstance(key, str):
        return {"email": key}
    return dict(existing[key].values)


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
                    import_id=job.chunk.import_id if job.chunk is not None else None,
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
