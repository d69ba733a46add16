"""The CRM object types events attach to, and the properties each one holds."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ValueKind(StrEnum):
    """How a CRM property's string value is compared and normalised."""

    STRING = "string"
    NUMBER = "number"
    DATETIME = "datetime"
    ENUMERATION = "enumeration"


@dataclass(frozen=True)
class ObjectType:
    """One CRM object type: its names on the wire and the properties it accepts."""

    type_id: str  # HubSpot objectTypeId, e.g. "0-1"
    plural: str  # path segment, e.g. "contacts"
    singular: str  # e.g. "contact"
    primary_object: str  # definition primaryObject, e.g. "CONTACT"
    properties: dict[str, ValueKind]
    unique_properties: frozenset[str]
    default_properties: tuple[str, ...]  # returned when the client names none

    def __reduce__(self) -> tuple[object, tuple[str]]:
        """Unpickled as the module's own instance: code compares types by identity
        (`is CONTACT`), and an import's rows are converted in a child process."""
        return (_known, (self.type_id,))


SYSTEM_PROPERTIES = ("createdate", "lastmodifieddate", "hs_object_id")
_SYSTEM_KINDS = {
    "createdate": ValueKind.DATETIME,
    "lastmodifieddate": ValueKind.DATETIME,
    "hs_object_id": ValueKind.NUMBER,
}

CONTACT = ObjectType(
    type_id="0-1",
    plural="contacts",
    singular="contact",
    primary_object="CONTACT",
    properties={
        "email": ValueKind.STRING,
        "firstname": ValueKind.STRING,
        "lastname": ValueKind.STRING,
        "phone": ValueKind.STRING,
        "company": ValueKind.STRING,
        "lifecyclestage": ValueKind.STRING,
        **_SYSTEM_KINDS,
    },
    unique_properties=frozenset({"email", "hs_object_id"}),
    default_properties=("email", "firstname", "lastname", *SYSTEM_PROPERTIES),
)
COMPANY = ObjectType(
    type_id="0-2",
    plural="companies",
    singular="company",
    primary_object="COMPANY",
    properties={"name": ValueKind.STRING, "domain": ValueKind.STRING, **_SYSTEM_KINDS},
    unique_properties=frozenset({"hs_object_id"}),
    default_properties=("name", "domain", *SYSTEM_PROPERTIES),
)
DEAL = ObjectType(
    type_id="0-3",
    plural="deals",
    singular="deal",
    primary_object="DEAL",
    properties={
        "dealname": ValueKind.STRING,
        "amount": ValueKind.NUMBER,
        "dealstage": ValueKind.STRING,
        "pipeline": ValueKind.STRING,
        "closedate": ValueKind.DATETIME,
        **_SYSTEM_KINDS,
    },
    unique_properties=frozenset({"hs_object_id"}),
    default_properties=(
        "dealname",
        "amount",
        "dealstage",
        "pipeline",
        "closedate",
        *SYSTEM_PROPERTIES,
    ),
)
TICKET = ObjectType(
    type_id="0-5",
    plural="tickets",
    singular="ticket",
    primary_object="TICKET",
    properties={
        "subject": ValueKind.STRING,
        "content": ValueKind.STRING,
        "hs_pipeline_stage": ValueKind.STRING,
        **_SYSTEM_KINDS,
    },
    unique_properties=frozenset({"hs_object_id"}),
    default_properties=("subject", "content", "hs_pipeline_stage", *SYSTEM_PROPERTIES),
)

OBJECT_TYPES: tuple[ObjectType, ...] = (CONTACT, COMPANY, DEAL, TICKET)
_BY_KEY = {
    key: t
    for t in OBJECT_TYPES
    for key in (t.type_id, t.plural, t.singular, t.primary_object.lower())
}


def _known(type_id: str) -> ObjectType:
    found = find_object_type(type_id)
    if found is None:
        raise ValueError(f"no object type {type_id!r}")
    return found


def find_object_type(key: str) -> ObjectType | None:
    """Find an object type by id (`0-1`), plural, singular or primary-object name, any case."""
    return _BY_KEY.get(key.strip().lower())


def writable_properties(object_type: ObjectType) -> frozenset[str]:
    """Properties a client may set: all but the ones occur maintains itself."""
    return frozenset(object_type.properties) - frozenset(SYSTEM_PROPERTIES)
