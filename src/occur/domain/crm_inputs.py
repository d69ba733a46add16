"""Request bodies of the CRM objects API: single writes, batches, GDPR delete.

Each reader takes decoded JSON and returns validated values, or raises one
ValidationError listing every problem, with `in` paths such as
`inputs[2].properties.amount`. Batches are all or nothing, so every input is checked
before anything is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from occur.domain.crm import (
    EMAIL,
    INVALID_EMAIL,
    OBJECT_ID,
    Changes,
    ObjectRef,
    normalise_email,
    read_id_property,
    read_id_text,
    read_properties,
)
from occur.domain.fields import FieldReader
from occur.domain.objects import CONTACT, ObjectType
from occur.errors import collect

MAX_BATCH_INPUTS = 100  # HubSpot's limit for every CRM batch endpoint
DUPLICATE_ID = "DUPLICATE_ID"
DUPLICATE_VALUE = "DUPLICATE_VALUE"


@dataclass(frozen=True)
class UpdateInput:
    ref: ObjectRef
    changes: Changes
    path: str  # "inputs[3]", for errors found later (not found, email taken)


@dataclass(frozen=True)
class BatchRead:
    refs: tuple[ObjectRef, ...]
    properties: tuple[str, ...]


def read_create(body: object, object_type: ObjectType) -> Changes:
    """POST /crm/v3/objects/{type}: `{properties, associations?}`."""
    r, obj = _body(body)
    changes = _write_input(r, obj, object_type, "")
    collect(r.problems)
    return changes


def read_update(body: object, object_type: ObjectType) -> Changes:
    """PATCH /crm/v3/objects/{type}/{id}: `{properties}`."""
    r, obj = _body(body)
    changes = _write_input(r, obj, object_type, "")
    collect(r.problems)
    return changes


def read_batch_create(body: object, object_type: ObjectType) -> list[Changes]:
    r, obj = _body(body)
    created: list[Changes] = []
    emails: set[str] = set()
    for path, item in _inputs(r, obj):
        changes = _write_input(r, item, object_type, f"{path}.")
        _unique_email(r, changes, emails, f"{path}.properties.{EMAIL}")
        created.append(changes)
    collect(r.problems)
    return created


def read_batch_update(body: object, object_type: ObjectType) -> list[UpdateInput]:
    r, obj = _body(body)
    updates: list[UpdateInput] = []
    seen: set[tuple[str, str]] = set()
    emails: set[str] = set()
    for path, item in _inputs(r, obj):
        ref = _ref(r, item, object_type, path, seen)
        changes = _write_input(r, item, object_type, f"{path}.")
        _unique_email(r, changes, emails, f"{path}.properties.{EMAIL}")
        if ref is not None:
            updates.append(UpdateInput(ref, changes, path))
    collect(r.problems)
    return updates


def read_batch_upsert(body: object, object_type: ObjectType) -> list[UpdateInput]:
    """Create-or-update by a unique property that a new record can be created with:
    `email` on contacts (occur has no custom unique properties)."""
    r, obj = _body(body)
    upserts: list[UpdateInput] = []
    seen: set[tuple[str, str]] = set()
    for path, item in _inputs(r, obj):
        ref = _ref(r, item, object_type, path, seen)
        changes = _write_input(r, item, object_type, f"{path}.")
        if ref is None:
            continue
        if object_type is not CONTACT or ref.id_property != EMAIL:
            r.add(
                f"{path}.idProperty",
                f'Upsert needs idProperty "email" on contacts; {object_type.plural} have no '
                "unique property a record can be created by.",
                "UNSUPPORTED_ID_PROPERTY",
            )
            continue
        email = normalise_email(ref.value)
        if email is None:
            r.add(f"{path}.id", f"{path}.id is not a valid email address.", INVALID_EMAIL)
            continue
        if EMAIL in changes and (changes[EMAIL] or "").lower() != email.lower():
            r.add(
                f"{path}.properties.{EMAIL}",
                f"{path}.properties.email must equal the email it upserts by, or be left out.",
                "INVALID",
            )
            continue
        # The email is set on the contacts this creates; a found one keeps its own.
        upserts.append(UpdateInput(ObjectRef(EMAIL, email), changes, path))
    collect(r.problems)
    return upserts


def read_batch_read(body: object, object_type: ObjectType) -> BatchRead:
    """`{inputs: [{id}], properties?, idProperty?}`; unknown property names are ignored."""
    r, obj = _body(body)
    id_property = read_id_property(r, obj.get("idProperty"), object_type, "idProperty")
    names = r.get(obj, "properties", list, "properties") or []
    for i, name in enumerate(names):
        if not isinstance(name, str):
            r.add(f"properties[{i}]", f"properties[{i}] must be a string.", "INVALID_TYPE")
    refs: list[ObjectRef] = []
    for path, item in _inputs(r, obj):
        text = read_id_text(r, item, "id", f"{path}.id")
        if text is not None and id_property is not None:
            refs.append(ObjectRef(id_property, text))
    collect(r.problems)
    return BatchRead(tuple(refs), tuple(names))


def read_batch_archive(body: object, object_type: ObjectType) -> list[ObjectRef]:
    r, obj = _body(body)
    refs: list[ObjectRef] = []
    for path, item in _inputs(r, obj):
        text = read_id_text(r, item, "id", f"{path}.id")
        if text is not None:
            refs.append(ObjectRef(OBJECT_ID, text))
    collect(r.problems)
    return refs


def read_gdpr_delete(body: object, object_type: ObjectType) -> ObjectRef:
    """`{objectId, idProperty?}` (PublicGdprDeleteInput)."""
    r, obj = _body(body)
    text = read_id_text(r, obj, "objectId", "objectId")
    id_property = read_id_property(r, obj.get("idProperty"), object_type, "idProperty")
    collect(r.problems)
    assert text is not None and id_property is not None
    return ObjectRef(id_property, text)


def _body(body: object) -> tuple[FieldReader, Mapping[str, Any]]:
    r = FieldReader()
    obj = r.obj(body, "body")
    collect(r.problems)
    assert obj is not None
    return r, obj


def _inputs(r: FieldReader, obj: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    raw = r.get(obj, "inputs", list, "inputs", required=True)
    if raw is None:
        return []
    if not raw:
        r.add("inputs", "inputs must hold at least one input.", "REQUIRED")
    if len(raw) > MAX_BATCH_INPUTS:
        r.add(
            "inputs",
            f"A batch holds at most {MAX_BATCH_INPUTS} inputs; this one has {len(raw)}.",
            "TOO_MANY_INPUTS",
        )
        return []
    found: list[tuple[str, Mapping[str, Any]]] = []
    for i, item in enumerate(raw):
        checked = r.obj(item, f"inputs[{i}]")
        if checked is not None:
            found.append((f"inputs[{i}]", checked))
    return found


def _write_input(
    r: FieldReader, obj: Mapping[str, Any], object_type: ObjectType, prefix: str
) -> Changes:
    raw = r.get(obj, "properties", dict, f"{prefix}properties", required=True)
    associations = r.get(obj, "associations", list, f"{prefix}associations")
    if associations:
        r.add(
            f"{prefix}associations",
            "occur does not store associations yet; send an empty list or leave it out.",
            "UNSUPPORTED",
        )
    if raw is None:
        return {}
    return read_properties(r, raw, object_type, f"{prefix}properties")


def _ref(
    r: FieldReader,
    item: Mapping[str, Any],
    object_type: ObjectType,
    path: str,
    seen: set[tuple[str, str]],
) -> ObjectRef | None:
    id_property = read_id_property(r, item.get("idProperty"), object_type, f"{path}.idProperty")
    text = read_id_text(r, item, "id", f"{path}.id")
    if id_property is None or text is None:
        return None
    ref = ObjectRef(id_property, text)
    if (ref.id_property, ref.key) in seen:
        r.add(f"{path}.id", f"{path}.id names a record an earlier input names.", DUPLICATE_ID)
        return None
    seen.add((ref.id_property, ref.key))
    return ref


def _unique_email(r: FieldReader, changes: Changes, emails: set[str], path: str) -> None:
    email = changes.get(EMAIL)
    if email is None:
        return
    if email.lower() in emails:
        r.add(
            path, f"{path}: another input of this batch has the email {email!r}.", DUPLICATE_VALUE
        )
    emails.add(email.lower())
