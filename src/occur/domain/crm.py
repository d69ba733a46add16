"""CRM records: what a client may write into one, how values are stored, what reads show.

Values are strings on the wire, as HubSpot's are. A client may send JSON numbers and
booleans too; they are turned into strings, then normalised by the property's kind:
numbers to plain decimal form, datetimes to ISO-8601 UTC with milliseconds (so stored
dates compare as text), emails trimmed. An empty string or null clears a property.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from occur.domain.fields import NUL, FieldReader, json_type_name
from occur.domain.numbers import plain_decimal
from occur.domain.objects import CONTACT, SYSTEM_PROPERTIES, ObjectType, ValueKind
from occur.domain.timestamps import iso_from_ms, ms_from_text
from occur.errors import FieldError, ValidationError, collect

OBJECT_ID = "hs_object_id"
EMAIL = "email"
MAX_VALUE_CHARS = 65_536  # HubSpot's limit for a text property value
MAX_EMAIL_CHARS = 254
MAX_NUMBER_CHARS = 40  # plain decimal form; keeps every stored number a finite double
MAX_OBJECT_ID = 2**63 - 1

PROPERTY_DOESNT_EXIST = "PROPERTY_DOESNT_EXIST"
READ_ONLY_VALUE = "READ_ONLY_VALUE"
INVALID_EMAIL = "INVALID_EMAIL"
INVALID_NUMBER = "INVALID_NUMBER"
INVALID_DATE = "INVALID_DATE"

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_OBJECT_ID = re.compile(r"^[0-9]{1,19}$")


@dataclass(frozen=True)
class CrmObject:
    """One stored record. `values` holds what clients set; system properties are columns."""

    id: int
    object_type: ObjectType
    values: Mapping[str, str]
    created_at: int
    updated_at: int
    archived_at: int | None

    @property
    def archived(self) -> bool:
        return self.archived_at is not None

    def value(self, name: str) -> str | None:
        if name == OBJECT_ID:
            return str(self.id)
        if name == "createdate":
            return iso_from_ms(self.created_at)
        if name == "lastmodifieddate":
            return iso_from_ms(self.updated_at)
        return self.values.get(name)

    def view(self, selection: Sequence[str] | None = None) -> RecordView:
        """The record as a response shows it: the selected properties (unset ones as
        null) plus the system ones, or, with no selection, every value it holds."""
        names = (*self.values, *SYSTEM_PROPERTIES) if selection is None else selection
        shown = {name: self.value(name) for name in sorted(set(names) | set(SYSTEM_PROPERTIES))}
        return RecordView(self, shown)


@dataclass(frozen=True)
class RecordView:
    record: CrmObject
    properties: dict[str, str | None]


@dataclass(frozen=True)
class ObjectRef:
    """How a client names a record: by id, or by a unique property (contacts: email)."""

    id_property: str
    value: str

    @property
    def object_id(self) -> int | None:
        return parse_object_id(self.value) if self.id_property == OBJECT_ID else None

    @property
    def email(self) -> str | None:
        """The lowercased email this names; None when no contact could hold it."""
        if self.id_property != EMAIL:
            return None
        email = normalise_email(self.value)
        return email.lower() if email is not None and NUL not in email else None

    @property
    def key(self) -> str:
        """The value compared with stored ones: emails compare case-insensitively."""
        return self.value.strip().lower() if self.id_property == EMAIL else self.value.strip()


Changes = dict[str, str | None]  # property → new value; None clears it


def parse_object_id(text: str) -> int | None:
    """A record id from the wire; None when it cannot name any record."""
    stripped = text.strip()
    if not _OBJECT_ID.match(stripped):
        return None
    value = int(stripped)
    return value if 0 < value <= MAX_OBJECT_ID else None


def email_key(object_type: ObjectType, values: Mapping[str, str]) -> str | None:
    """What the unique email column holds for these values (contacts only)."""
    if object_type is not CONTACT:
        return None
    email = values.get(EMAIL)
    return email.lower() if email else None


def apply(current: Mapping[str, str], changes: Mapping[str, str | None]) -> dict[str, str]:
    merged = dict(current)
    for name, value in changes.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    return merged


def selection(object_type: ObjectType, requested: Sequence[str]) -> tuple[str, ...]:
    """Properties a read returns: the known ones asked for (others are ignored, as
    HubSpot ignores them), or the type's defaults when none are asked for."""
    if not requested:
        return object_type.default_properties
    return tuple(dict.fromkeys(n for n in requested if n in object_type.properties))


def read_id_property(r: FieldReader, raw: object, object_type: ObjectType, path: str) -> str | None:
    """The unique property a reference uses; hs_object_id when none is named."""
    if raw is None or raw == "":
        return OBJECT_ID
    if not isinstance(raw, str):
        r.add(path, f"{path} must be a string, not {json_type_name(raw)}.", "INVALID_TYPE")
        return None
    if raw not in object_type.properties:
        r.add(
            path, f"Property {raw!r} does not exist on {object_type.plural}.", PROPERTY_DOESNT_EXIST
        )
        return None
    if raw not in object_type.unique_properties:
        allowed = ", ".join(sorted(object_type.unique_properties))
        r.add(path, f"{path} must be a unique property ({allowed}); {raw!r} is not.", "NOT_UNIQUE")
        return None
    return raw


def object_ref(object_type: ObjectType, raw_id: str, id_property: str | None) -> ObjectRef:
    """A path id plus the `idProperty` query parameter; 400 for an unusable idProperty."""
    r = FieldReader()
    chosen = read_id_property(r, id_property, object_type, "idProperty")
    collect(r.problems)
    assert chosen is not None
    return ObjectRef(chosen, raw_id)


def read_id_text(r: FieldReader, obj: Mapping[str, Any], key: str, path: str) -> str | None:
    """An id field: a string, or a whole number (some clients send ids as numbers)."""
    value = obj.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return r.text(obj, key, path, required=True, allow_empty=False, max_chars=MAX_EMAIL_CHARS)


def read_properties(r: FieldReader, raw: object, object_type: ObjectType, path: str) -> Changes:
    """A `properties` object of a write: every name must be a writable standard property."""
    obj = r.obj(raw, path)
    changes: Changes = {}
    for name, value in (obj or {}).items():
        where = f"{path}.{name}"
        kind = object_type.properties.get(name)
        if kind is None:
            r.add(
                where,
                f"Property {name!r} does not exist on {object_type.plural}.",
                PROPERTY_DOESNT_EXIST,
            )
        elif name in SYSTEM_PROPERTIES:
            r.add(where, f"{name} is maintained by occur and cannot be set.", READ_ONLY_VALUE)
        else:
            ok, normalised = _normalise(r, name, kind, value, where)
            if ok:
                changes[name] = normalised
    return changes


def _normalise(
    r: FieldReader, name: str, kind: ValueKind, value: object, where: str
) -> tuple[bool, str | None]:
    text = wire_text(r, value, where)
    if text is None:
        return value is None, None
    if text == "":
        return True, None
    if NUL in text:
        r.add(where, f"{where} must not contain the NUL character (U+0000).", "INVALID")
        return False, None
    if len(text) > MAX_VALUE_CHARS:
        r.add(where, f"{where} must be at most {MAX_VALUE_CHARS} characters.", "TOO_LONG")
        return False, None
    if name == EMAIL:
        email = normalise_email(text)
        if email is None:
            r.add(where, f"{where} is not a valid email address: {text!r}.", INVALID_EMAIL)
        return email is not None, email
    if kind is ValueKind.NUMBER:
        number = normalise_number(text)
        if number is None:
            r.add(where, f"{where} must be a number; got {text!r}.", INVALID_NUMBER)
        return number is not None, number
    if kind is ValueKind.DATETIME:
        ms = ms_from_text(text)
        if ms is None:
            r.add(where, _date_message(where, text), INVALID_DATE)
            return False, None
        return True, iso_from_ms(ms)
    return True, text


def wire_text(r: FieldReader, value: object, where: str) -> str | None:
    """A JSON string, number or boolean as HubSpot's string form; None (and a problem
    recorded, unless it was null) for anything else."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    if value is not None:
        r.add(
            where,
            f"{where} must be a string, number or boolean, not {json_type_name(value)}.",
            "INVALID_TYPE",
        )
    return None


def normalise_email(text: str) -> str | None:
    """The email trimmed, or None when it does not look like an email address."""
    email = text.strip()
    if len(email) > MAX_EMAIL_CHARS or not _EMAIL.match(email):
        return None
    return email


def normalise_number(text: str) -> str | None:
    """Plain decimal form (`1500.00` → `1500`), or None when it is not a usable number."""
    try:
        plain = plain_decimal(text.strip())
    except ValueError:
        return None
    return plain if len(plain) <= MAX_NUMBER_CHARS else None


def _date_message(where: str, text: str) -> str:
    return (
        f"{where} must be a date: epoch milliseconds or ISO-8601 "
        f"(years 1000 to 9999); got {text!r}."
    )


def read_cursor(raw: str | None) -> int | None:
    """The `after` cursor of a list page (the last id it showed); 400 when it is not one."""
    if raw is None or raw == "":
        return None
    cursor = parse_object_id(raw)
    if cursor is None:
        message = f"after is not a paging cursor this server issued: {raw!r}."
        raise ValidationError(message, errors=[FieldError(message, in_="after", code="INVALID")])
    return cursor
