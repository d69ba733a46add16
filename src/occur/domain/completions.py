"""One event completion sent over the HTTP API: reading it, and what it attaches to.

`read_completion` reads the wire shape (`BehavioralEventHttpCompletionRequest`) and
collects every structural problem; `prepare` checks it against its definition (property
rules from occurrences.py, identity precedence from identity.py). Whether the record an
identifier names exists is the store's to say: the writer looks it up inside the
transaction that stores the completion.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from occur.domain.crm import normalise_email, parse_object_id
from occur.domain.definitions import EventDefinition
from occur.domain.fields import FieldReader, json_type_name
from occur.domain.identity import Identity, choose_identity
from occur.domain.occurrences import validate_properties
from occur.domain.timestamps import ms_from_text
from occur.errors import FieldError, collect

MAX_BATCH_INPUTS = 500
MAX_UUID_CHARS = 100
MAX_UTK_CHARS = 100
MAX_EVENT_NAME_CHARS = 200

INVALID_EMAIL = "INVALID_EMAIL"
INVALID_OBJECT_ID = "INVALID_OBJECT_ID"
INVALID_OCCURRED_AT = "INVALID_OCCURRED_AT"
MISSING_EVENT_DEFINITION = "MISSING_EVENT_DEFINITION"
TOO_MANY_INPUTS = "TOO_MANY_INPUTS"


@dataclass(frozen=True, slots=True)
class CompletionInput:
    """A completion as sent, structurally valid; `occurred_at` None means "when received"."""

    event_name: str
    object_id: int | None
    email: str | None
    utk: str | None
    uuid: str | None
    occurred_at: int | None
    properties: Mapping[str, object]
    # False when objectId, email or utk had a problem (already reported): the rest is
    # still checked, so that one answer lists every problem, but no identity is chosen.
    identifiers_ok: bool = True


@dataclass(frozen=True, slots=True)
class Completion:
    """A completion checked against its definition, ready for the writer.

    `values` are canonical texts keyed by property name; `identity` is the one
    identifier HubSpot's precedence chose; `uuid` None means one is to be generated.
    """

    definition_id: int
    definition_version: int
    object_type_id: str
    identity: Identity
    uuid: str | None
    occurred_at: int | None
    values: dict[str, str]


def read_batch(body: object) -> list[object]:
    """The `inputs` of a batch body: 1 to 500 of them, each read by read_completion."""
    r = FieldReader()
    obj = r.obj(body, "body")
    inputs = r.get(obj, "inputs", list, "inputs", required=True) if obj is not None else None
    if inputs is not None and not inputs:
        r.add("inputs", "inputs must hold at least one completion.", "REQUIRED")
    elif inputs is not None and len(inputs) > MAX_BATCH_INPUTS:
        r.add(
            "inputs",
            f"A batch holds at most {MAX_BATCH_INPUTS} inputs; this one has {len(inputs)}.",
            TOO_MANY_INPUTS,
        )
    collect(r.problems)
    assert inputs is not None
    return list(inputs)


def read_completion(r: FieldReader, raw: object, prefix: str) -> CompletionInput | None:
    """The completion in `raw`, with every problem recorded on `r`; None when it has no
    usable eventName or properties (nothing more can be checked then)."""
    obj = r.obj(raw, prefix.rstrip(".") or "body")
    if obj is None:
        return None
    event_name = r.text(
        obj,
        "eventName",
        f"{prefix}eventName",
        required=True,
        allow_empty=False,
        max_chars=MAX_EVENT_NAME_CHARS,
    )
    before = len(r.problems)
    object_id = _object_id(r, obj, prefix)
    email = _email(r, obj, prefix)
    utk = r.text(obj, "utk", f"{prefix}utk", max_chars=MAX_UTK_CHARS, allow_empty=False)
    identifiers_ok = len(r.problems) == before
    uuid = r.text(obj, "uuid", f"{prefix}uuid", max_chars=MAX_UUID_CHARS, allow_empty=False)
    occurred_at = _occurred_at(r, obj, prefix)
    properties = _properties(r, obj, prefix)
    if event_name is None or properties is None:
        return None
    return CompletionInput(
        event_name=event_name.strip(),
        object_id=object_id,
        email=email,
        utk=utk.strip() if utk else None,
        uuid=uuid,
        occurred_at=occurred_at,
        properties=properties,
        identifiers_ok=identifiers_ok,
    )


@dataclass(frozen=True, slots=True)
class Prepared:
    """A completion checked against its definition: ready (`completion`), or its problems.

    `identity` is kept even when other problems refuse the completion, so that the answer
    can also say whether the record it names exists.
    """

    completion: Completion | None
    identity: Identity | None
    problems: list[FieldError]


def prepare(definition: EventDefinition, completion: CompletionInput, prefix: str) -> Prepared:
    """Check one completion against its definition: properties, then identity."""
    values, problems = validate_properties(definition, completion.properties, prefix)
    identity: Identity | None = None
    # A matching rule reads a property value: with bad properties, which identifier wins
    # is unknown, so none is chosen (the property problems are reported).
    rule_unreadable = bool(problems) and definition.matching_rule is not None
    if completion.identifiers_ok and not rule_unreadable:
        identity, identity_problems = choose_identity(
            definition,
            object_id=completion.object_id,
            email=completion.email,
            utk=completion.utk,
            values=values,
            prefix=prefix,
        )
        problems.extend(identity_problems)
    if problems or identity is None:
        return Prepared(None, identity, problems)
    ready = Completion(
        definition_id=definition.id,
        definition_version=definition.version,
        object_type_id=definition.object_type.type_id,
        identity=identity,
        uuid=completion.uuid,
        occurred_at=completion.occurred_at,
        values=values,
    )
    return Prepared(ready, identity, [])


def unknown_event(event_name: str, prefix: str) -> FieldError:
    """The same answer for a name no portal defines and one another portal defines."""
    return FieldError(
        message=f"There is no event definition named {event_name!r} in this portal.",
        in_=f"{prefix}eventName",
        code=MISSING_EVENT_DEFINITION,
    )


def _object_id(r: FieldReader, obj: Mapping[str, Any], prefix: str) -> int | None:
    path = f"{prefix}objectId"
    raw = obj.get("objectId")
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        r.add(path, f"{path} must be a string, not {json_type_name(raw)}.", "INVALID_TYPE")
        return None
    found = parse_object_id(str(raw))
    if found is None:
        r.add(path, f"{path} must be a record id (a positive whole number).", INVALID_OBJECT_ID)
    return found


def _email(r: FieldReader, obj: Mapping[str, Any], prefix: str) -> str | None:
    path = f"{prefix}email"
    text = r.text(obj, "email", path)
    if text is None:
        return None
    email = normalise_email(text)
    if email is None:
        r.add(path, f"{path} is not an email address.", INVALID_EMAIL)
    return email


def _occurred_at(r: FieldReader, obj: Mapping[str, Any], prefix: str) -> int | None:
    path = f"{prefix}occurredAt"
    raw = obj.get("occurredAt")
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        r.add(
            path,
            f"{path} must be an ISO-8601 date-time or epoch milliseconds, "
            f"not {json_type_name(raw)}.",
            "INVALID_TYPE",
        )
        return None
    ms = ms_from_text(str(raw))
    if ms is None:
        r.add(
            path,
            f"{path} must be an ISO-8601 date-time or epoch milliseconds within the years "
            f"1000 to 9999; got {str(raw)[:40]!r}.",
            INVALID_OCCURRED_AT,
        )
    return ms


def _properties(r: FieldReader, obj: Mapping[str, Any], prefix: str) -> Mapping[str, object] | None:
    """A missing or null `properties` is an empty one: the spec marks it required, but
    HubSpot's own examples omit it for events that carry no properties."""
    raw = obj.get("properties")
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        path = f"{prefix}properties"
        r.add(path, f"{path} must be an object, not {json_type_name(raw)}.", "INVALID_TYPE")
        return None
    return raw
