"""Which record a completion attaches to, in HubSpot's precedence.

customMatchingId rule > objectId > email > utk (hubspot-facts §3). The first identifier
present wins and the others are not consulted: a completion that names a record
explicitly never silently lands on another one. Email and utk name contacts only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from occur.domain.crm import normalise_email, parse_object_id
from occur.domain.definitions import EventDefinition
from occur.domain.objects import CONTACT
from occur.errors import FieldError

MISSING_IDENTIFIER = "MISSING_IDENTIFIER"
CONTACTS_ONLY = "CONTACTS_ONLY"
INVALID_MATCHING_VALUE = "INVALID_MATCHING_VALUE"
EMAIL = "email"
OBJECT_ID_PROPERTY = "hs_object_id"


class IdentityKind(StrEnum):
    OBJECT_ID = "objectId"
    EMAIL = "email"
    UTK = "utk"


@dataclass(frozen=True, slots=True)
class Identity:
    """One identifier: a record id, a contact email (lowercased) or a visitor's utk.

    `path` is where the identifier was sent, for the error when it names no record.
    `may_create` is true for an email sent as `email` (OCCUR_CREATE_CONTACTS_FROM_EMAIL
    decides); a matching-rule value only finds records, it never makes one.
    """

    kind: IdentityKind
    value: str
    path: str
    may_create: bool = False

    @property
    def object_id(self) -> int:
        return int(self.value)


def choose_identity(
    definition: EventDefinition,
    *,
    object_id: int | None,
    email: str | None,
    utk: str | None,
    values: Mapping[str, str],
    prefix: str,
) -> tuple[Identity | None, list[FieldError]]:
    """The identifier that wins, or the problems that leave none."""
    problems: list[FieldError] = []
    is_contact = definition.object_type is CONTACT
    if not is_contact:
        for name, given in (("email", email), ("utk", utk)):
            if given is not None:
                problems.append(
                    FieldError(
                        message=(
                            f"{name} identifies contacts only; {definition.name} is an event "
                            f"of {definition.object_type.plural}: send objectId."
                        ),
                        in_=f"{prefix}{name}",
                        code=CONTACTS_ONLY,
                    )
                )
    matched = _matching_identity(definition, values, prefix, problems)
    if problems:
        return None, problems
    if matched is not None:
        return matched, []
    if object_id is not None:
        return Identity(IdentityKind.OBJECT_ID, str(object_id), f"{prefix}objectId"), []
    if email is not None:
        return Identity(IdentityKind.EMAIL, email.lower(), f"{prefix}email", may_create=True), []
    if utk is not None:
        return Identity(IdentityKind.UTK, utk, f"{prefix}utk"), []
    accepted = "objectId, email or utk" if is_contact else "objectId"
    if definition.matching_rule is not None:
        accepted = f"properties.{definition.matching_rule.event_property_name}, {accepted}"
    return None, [
        FieldError(
            message=f"A completion of {definition.name} needs a record: send {accepted}.",
            in_=prefix.rstrip(".") or None,
            code=MISSING_IDENTIFIER,
        )
    ]


def _matching_identity(
    definition: EventDefinition,
    values: Mapping[str, str],
    prefix: str,
    problems: list[FieldError],
) -> Identity | None:
    rule = definition.matching_rule
    if rule is None or rule.event_property_name not in values:
        return None
    sent = values[rule.event_property_name]
    path = f"{prefix}properties.{rule.event_property_name}"
    if rule.target_object_property_name == EMAIL:
        email = normalise_email(sent)
        if email is not None:
            return Identity(IdentityKind.EMAIL, email.lower(), path)
    elif rule.target_object_property_name == OBJECT_ID_PROPERTY:
        found = parse_object_id(sent)
        if found is not None:
            return Identity(IdentityKind.OBJECT_ID, str(found), path)
    problems.append(
        FieldError(
            message=(
                f"{rule.event_property_name} finds a record by its "
                f"{rule.target_object_property_name}; {sent[:40]!r} cannot be one."
            ),
            in_=path,
            code=INVALID_MATCHING_VALUE,
        )
    )
    return None
