"""CRM batch use cases. All or nothing: every input is checked, then all are written in
one transaction, or none is (400 invalid input, 404 unknown record, 409 email taken)."""

from __future__ import annotations

from dataclasses import dataclass

from occur.domain import crm as rules
from occur.domain import crm_inputs as inputs
from occur.domain.crm import EMAIL, CrmObject, RecordView
from occur.domain.crm_inputs import DUPLICATE_ID, UpdateInput
from occur.domain.objects import ObjectType
from occur.errors import FieldError, NotFound, ValidationError
from occur.services.clock import now_ms
from occur.services.crm import change, ensure_emails_free, resolve, unique_emails
from occur.store import crm as store
from occur.store.db import Database


@dataclass(frozen=True)
class ReadResult:
    results: list[RecordView]
    missing: list[str]  # ids (or emails) that named no record


@dataclass(frozen=True)
class Upserted:
    view: RecordView
    new: bool


def create_many(
    db: Database, portal_id: int, object_type: ObjectType, body: object
) -> list[RecordView]:
    values = [rules.apply({}, c) for c in inputs.read_batch_create(body, object_type)]
    candidates = [(f"inputs[{i}].", v, None) for i, v in enumerate(values)]
    with unique_emails(), db.write() as conn:
        ensure_emails_free(conn, portal_id, object_type, candidates)
        created = store.insert_objects(conn, portal_id, object_type, values, now_ms())
    return [c.view() for c in created]


def read_many(
    db: Database, portal_id: int, object_type: ObjectType, body: object, *, archived: bool
) -> ReadResult:
    request = inputs.read_batch_read(body, object_type)
    with db.read() as conn:
        found = resolve(conn, portal_id, object_type, request.refs, archived=archived)
    shown = rules.selection(object_type, request.properties)
    results: dict[int, RecordView] = {}
    missing: list[str] = []
    for ref in request.refs:
        record = found.get(ref)
        if record is None:
            missing.append(ref.value)
        elif record.id not in results:
            results[record.id] = record.view(shown)
    return ReadResult(list(results.values()), missing)


def update_many(
    db: Database, portal_id: int, object_type: ObjectType, body: object
) -> list[RecordView]:
    updates = inputs.read_batch_update(body, object_type)
    with unique_emails(), db.write() as conn:
        refs = [u.ref for u in updates]
        found = resolve(conn, portal_id, object_type, refs, for_update=True)
        records = _existing(object_type, updates, found)
        edits = [
            (record, u.changes, f"{u.path}.") for u, record in zip(updates, records, strict=True)
        ]
        updated = change(conn, portal_id, edits, now_ms())
    return [u.view() for u in updated]


def upsert_many(
    db: Database, portal_id: int, object_type: ObjectType, body: object
) -> list[Upserted]:
    """Update the contacts whose email exists, create the others."""
    upserts = inputs.read_batch_upsert(body, object_type)
    now = now_ms()
    with unique_emails(), db.write() as conn:
        refs = [u.ref for u in upserts]
        found = resolve(conn, portal_id, object_type, refs, for_update=True)
        edits = [(found[u.ref], u.changes, f"{u.path}.") for u in upserts if u.ref in found]
        updated = iter(change(conn, portal_id, edits, now))
        fresh = [
            rules.apply({}, {EMAIL: u.ref.value, **u.changes})
            for u in upserts
            if u.ref not in found
        ]
        created = iter(store.insert_objects(conn, portal_id, object_type, fresh, now))
        results = [
            Upserted(next(updated).view(), False)
            if u.ref in found
            else Upserted(next(created).view(), True)
            for u in upserts
        ]
    return results


def archive_many(db: Database, portal_id: int, object_type: ObjectType, body: object) -> None:
    """Archive the live records named; ids that name none are skipped, as HubSpot does."""
    refs = inputs.read_batch_archive(body, object_type)
    ids = {r.object_id for r in refs if r.object_id is not None}
    with db.write() as conn:
        store.archive(conn, portal_id, object_type, ids, now_ms())


def _existing(
    object_type: ObjectType, updates: list[UpdateInput], found: dict[rules.ObjectRef, CrmObject]
) -> list[CrmObject]:
    """The record of each input; 404 naming every input that names none, 400 when two
    inputs name one record (by id and by email)."""
    missing = [
        FieldError(
            f"No {object_type.singular} with {u.ref.id_property} {u.ref.value!r}.",
            in_=f"{u.path}.id",
            code="OBJECT_NOT_FOUND",
        )
        for u in updates
        if u.ref not in found
    ]
    if missing:
        raise NotFound(
            f"{len(missing)} of the inputs name no {object_type.singular}; nothing was changed.",
            errors=missing,
        )
    seen: set[int] = set()
    twice: list[FieldError] = []
    for u in updates:
        record_id = found[u.ref].id
        if record_id in seen:
            message = f"{u.path}.id names record {record_id}, which an earlier input names."
            twice.append(FieldError(message, in_=f"{u.path}.id", code=DUPLICATE_ID))
        seen.add(record_id)
    if twice:
        raise ValidationError(twice[0].message, errors=twice)
    return [found[u.ref] for u in updates]
