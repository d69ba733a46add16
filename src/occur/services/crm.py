"""CRM record use cases: each opens one transaction and returns what a response shows."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from occur.domain import crm as rules
from occur.domain import crm_inputs as inputs
from occur.domain.crm import EMAIL, OBJECT_ID, Changes, CrmObject, ObjectRef, RecordView
from occur.domain.crm_search import read_search
from occur.domain.objects import CONTACT, ObjectType
from occur.errors import Conflict, FieldError, NotFound
from occur.services.clock import now_ms
from occur.store import crm as store
from occur.store import events as event_store
from occur.store.crm_search import search as search_records
from occur.store.db import Database

CONTACT_EXISTS = "CONTACT_EXISTS"


@dataclass(frozen=True)
class Page:
    results: list[RecordView]
    next_after: str | None
    total: int | None = None  # search only


def create(db: Database, portal_id: int, object_type: ObjectType, body: object) -> RecordView:
    values = rules.apply({}, inputs.read_create(body, object_type))
    with unique_emails(), db.write() as conn:
        ensure_emails_free(conn, portal_id, object_type, [("", values, None)])
        [created] = store.insert_objects(conn, portal_id, object_type, [values], now_ms())
    return created.view()


def get(
    db: Database,
    portal_id: int,
    object_type: ObjectType,
    raw_id: str,
    *,
    id_property: str | None,
    archived: bool,
    properties: Sequence[str],
) -> RecordView:
    ref = rules.object_ref(object_type, raw_id, id_property)
    with db.read() as conn:
        found = one(conn, portal_id, object_type, ref, archived=archived)
    return found.view(rules.selection(object_type, properties))


def list_page(
    db: Database,
    portal_id: int,
    object_type: ObjectType,
    *,
    limit: int,
    after: str | None,
    archived: bool,
    properties: Sequence[str],
) -> Page:
    after_id = rules.read_cursor(after)
    with db.read() as conn:
        page = store.list_page(
            conn, portal_id, object_type, archived=archived, limit=limit, after_id=after_id
        )
    shown = rules.selection(object_type, properties)
    next_after = None if page.next_after is None else str(page.next_after)
    return Page([o.view(shown) for o in page.objects], next_after)


def update(
    db: Database,
    portal_id: int,
    object_type: ObjectType,
    raw_id: str,
    *,
    id_property: str | None,
    body: object,
) -> RecordView:
    ref = rules.object_ref(object_type, raw_id, id_property)
    changes = inputs.read_update(body, object_type)
    with unique_emails(), db.write() as conn:
        current = one(conn, portal_id, object_type, ref, for_update=True)
        [updated] = change(conn, portal_id, [(current, changes, "")], now_ms())
    return updated.view()


def archive(db: Database, portal_id: int, object_type: ObjectType, raw_id: str) -> None:
    """Hide a live record; it stays readable with `archived=true`."""
    ref = ObjectRef(OBJECT_ID, raw_id)
    with db.write() as conn:
        ids = [ref.object_id] if ref.object_id is not None else []
        if store.archive(conn, portal_id, object_type, ids, now_ms()) == 0:
            raise _not_found(object_type, ref)


def search(db: Database, portal_id: int, object_type: ObjectType, body: object) -> Page:
    request = read_search(body, object_type)
    with db.read() as conn:
        found = search_records(conn, portal_id, object_type, request)
    end = request.offset + len(found.objects)
    next_after = str(end) if found.objects and end < found.total else None
    return Page([o.view(request.properties) for o in found.objects], next_after, found.total)


def gdpr_delete(db: Database, portal_id: int, object_type: ObjectType, body: object) -> None:
    """Delete a contact for good, live or archived, with every event attached to it."""
    if object_type is not CONTACT:
        raise NotFound("GDPR delete applies to contacts only.")
    ref = inputs.read_gdpr_delete(body, object_type)
    with db.write() as conn:
        found = one(conn, portal_id, object_type, ref, archived=None, for_update=True)
        event_store.delete_for_object(conn, portal_id, object_type.type_id, found.id)
        store.delete_object(conn, portal_id, object_type, found.id)


def resolve(
    conn: Connection,
    portal_id: int,
    object_type: ObjectType,
    refs: Sequence[ObjectRef],
    *,
    archived: bool | None = False,
    for_update: bool = False,
) -> dict[ObjectRef, CrmObject]:
    """The records these references name; references that name none are left out."""
    ids = [r.object_id for r in refs if r.object_id is not None]
    emails = [r.email for r in refs if r.email is not None]
    by_id = store.find_by_ids(
        conn, portal_id, object_type, ids, archived=archived, for_update=for_update
    )
    by_email = store.find_by_emails(
        conn, portal_id, object_type, emails, archived=archived, for_update=for_update
    )
    found: dict[ObjectRef, CrmObject] = {}
    for ref in refs:
        if ref.id_property == EMAIL:
            record = by_email.get(ref.email or "")
        else:
            record = by_id.get(ref.object_id or 0)
        if record is not None:
            found[ref] = record
    return found


def one(
    conn: Connection,
    portal_id: int,
    object_type: ObjectType,
    ref: ObjectRef,
    *,
    archived: bool | None = False,
    for_update: bool = False,
) -> CrmObject:
    found = resolve(conn, portal_id, object_type, [ref], archived=archived, for_update=for_update)
    if ref not in found:
        raise _not_found(object_type, ref)
    return found[ref]


def change(
    conn: Connection,
    portal_id: int,
    edits: Sequence[tuple[CrmObject, Changes, str]],
    now: int,
) -> list[CrmObject]:
    """Apply each (record, changes, input path) and store the records that changed."""
    merged = [
        (record, rules.apply(record.values, changes), path) for record, changes, path in edits
    ]
    if merged:
        object_type = merged[0][0].object_type
        candidates = [(path, values, record.id) for record, values, path in merged]
        ensure_emails_free(conn, portal_id, object_type, candidates)
    results: list[CrmObject] = []
    for record, values, _path in merged:
        if values == record.values:
            results.append(record)
            continue
        store.update_values(conn, portal_id, record.object_type, record.id, values, now)
        results.append(replace(record, values=values, updated_at=now))
    return results


def ensure_emails_free(
    conn: Connection,
    portal_id: int,
    object_type: ObjectType,
    candidates: Sequence[tuple[str, Mapping[str, str], int | None]],
) -> None:
    """409 naming each (input path, values, own id) whose email another live contact holds."""
    keys = {
        path: key
        for path, values, _own in candidates
        if (key := rules.email_key(object_type, values)) is not None
    }
    holders = store.find_by_emails(conn, portal_id, object_type, set(keys.values()))
    problems = []
    for path, _values, own in candidates:
        holder = holders.get(keys.get(path, ""))
        if holder is not None and holder.id != own:
            problems.append(
                FieldError(
                    f"Contact already exists. Existing ID: {holder.id}",
                    in_=f"{path}properties.{EMAIL}",
                    code=CONTACT_EXISTS,
                    context={"existingId": [str(holder.id)]},
                )
            )
    if problems:
        message = problems[0].message if len(problems) == 1 else None
        raise Conflict(message or f"{len(problems)} contacts already exist.", errors=problems)


@contextmanager
def unique_emails() -> Iterator[None]:
    """Turn a lost race for a unique email (checked, then taken by another request) into
    409. Enter it before the transaction so the rollback has happened when it runs."""
    try:
        yield
    except IntegrityError:
        raise Conflict(
            "Another request stored a contact with this email at the same time.",
            errors=[FieldError("Email taken.", in_=EMAIL, code=CONTACT_EXISTS)],
        ) from None


def _not_found(object_type: ObjectType, ref: ObjectRef) -> NotFound:
    by = "id" if ref.id_property == OBJECT_ID else ref.id_property
    return NotFound(f"No {object_type.singular} with {by} {ref.value!r}.")
