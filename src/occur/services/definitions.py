"""Event-definition use cases: each opens one transaction and returns domain values."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from occur.domain import code_blocks, url_rules
from occur.domain import definitions as rules
from occur.domain.definitions import EventDefinition, fully_qualified_name
from occur.domain.names import name_problem
from occur.domain.properties import PropertySpec
from occur.domain.url_rules import TrackingRule
from occur.errors import Conflict, FieldError, NotFound, ValidationError
from occur.services.clock import now_ms
from occur.store import definitions as store
from occur.store import events as event_store
from occur.store.db import Database
from occur.store.definitions import DefinitionPage

MANUAL = "MANUAL"
CUSTOM_SCRIPT = "CUSTOM_SCRIPT"
IMPORT = "IMPORT"  # an event created by a spreadsheet import
# A code block runs on every page of the site: kept well below what a script file may hold.
MAX_CODE_CHARS = 64 * 1024


@dataclass(frozen=True)
class ListQuery:
    search: str | None
    limit: int
    after_id: int | None
    include_properties: bool
    descending: bool


def create(
    db: Database,
    portal_id: int,
    body: object,
    *,
    max_definitions: int,
    tracking_type: str = MANUAL,
    code: str | None = None,
    tracking_rule: object | None = None,
) -> EventDefinition:
    """A new definition from a HubSpot-shaped body. The web app also passes how the
    event was created and, for JavaScript-code events, their code block, for visual
    events their rule (decoded JSON, see domain/url_rules.py)."""
    draft = rules.read_definition_create(body)
    if code is not None:
        _check_code(code)
    rule = None
    if tracking_rule is not None:
        rule = url_rules.encode_rule(url_rules.read_rule(tracking_rule, tracking_type))
    try:
        with db.write() as conn:
            store.lock_portal(conn, portal_id)
            if store.count_live(conn, portal_id) >= max_definitions:
                raise ValidationError(
                    f"This portal already holds the most event definitions it may "
                    f"({max_definitions}). Delete one first.",
                    errors=[FieldError("Too many event definitions.", code="LIMIT_EXCEEDED")],
                    sub_category="LIMIT_EXCEEDED",
                )
            name = _choose_name(conn, portal_id, draft)
            store.insert_definition(
                conn,
                portal_id=portal_id,
                name=name,
                label=draft.label,
                description=draft.description,
                object_type_id=draft.object_type.type_id,
                tracking_type=tracking_type,
                matching_rule=draft.matching_rule,
                properties=draft.properties,
                now_ms=now_ms(),
                code=code,
                tracking_rule=rule,
            )
            created = store.get_definition(conn, portal_id, name)
    except IntegrityError:
        # The portal lock queues creates; this is the unique index's last word if not.
        raise _name_conflict(draft.name or draft.label) from None
    assert created is not None
    return created


def code(db: Database, portal_id: int, name: str) -> str | None:
    """A JavaScript-code event's code block (None for other events)."""
    with db.read() as conn:
        return store.get_code(conn, _live(conn, portal_id, name).id)


def set_code(db: Database, portal_id: int, name: str, code: str) -> None:
    """Replace a JavaScript-code event's block (admins only: the web app checks)."""
    _check_code(code)
    with db.write() as conn:
        definition = _live(conn, portal_id, name)
        if definition.tracking_type != CUSTOM_SCRIPT:
            raise ValidationError(
                "Only JavaScript-code events carry code.",
                errors=[FieldError("This event is not a JavaScript-code event.", in_="code")],
            )
        store.set_code(conn, definition.id, code, now_ms())


def _check_code(code: str) -> None:
    """Refuse a block the tracking script could not carry: one that does not parse would
    stop the whole script on every page of the site (domain/code_blocks.py)."""
    if len(code) > MAX_CODE_CHARS:
        raise ValidationError(
            f"A code block holds at most {MAX_CODE_CHARS:,} characters; this has {len(code):,}.",
            errors=[FieldError("The code is too long.", in_="code")],
        )
    problem = code_blocks.syntax_problem(code)
    if problem is not None:
        raise ValidationError(
            f"The code is not valid JavaScript. {problem.message}.",
            errors=[FieldError(f"Not valid JavaScript. {problem.message}.", in_="code")],
        )


def tracking_rule(db: Database, portal_id: int, name: str) -> TrackingRule | None:
    """A visual event's selector and URL rule (None for other events, or none set)."""
    with db.read() as conn:
        definition = _live(conn, portal_id, name)
        return url_rules.decode_rule(
            store.get_tracking_rule(conn, definition.id), definition.tracking_type
        )


def set_tracking_rule(db: Database, portal_id: int, name: str, raw: object) -> TrackingRule:
    """Replace a visual event's rule from decoded JSON (the wizard and details page)."""
    with db.write() as conn:
        definition = _live(conn, portal_id, name, for_update=True)
        rule = url_rules.read_rule(raw, definition.tracking_type)
        store.set_tracking_rule(conn, definition.id, url_rules.encode_rule(rule), now_ms())
    return rule


def get(db: Database, portal_id: int, name: str) -> EventDefinition:
    with db.read() as conn:
        return _live(conn, portal_id, name)


def list_page(db: Database, portal_id: int, query: ListQuery) -> DefinitionPage:
    with db.read() as conn:
        return store.list_definitions(
            conn,
            portal_id,
            search=query.search,
            limit=query.limit,
            after_id=query.after_id,
            include_properties=query.include_properties,
            descending=query.descending,
        )


def update(db: Database, portal_id: int, name: str, body: object) -> EventDefinition:
    change = rules.read_definition_change(body)
    with db.write() as conn:
        current = _live(conn, portal_id, name, for_update=True)
        store.update_definition(
            conn, current.id, label=change.label, description=change.description, now_ms=now_ms()
        )
        updated = store.get_definition(conn, portal_id, current.name)
    assert updated is not None
    return updated


def delete(db: Database, portal_id: int, name: str) -> None:
    """Delete a definition and, irrecoverably, every occurrence of it."""
    with db.write() as conn:
        current = _live(conn, portal_id, name, for_update=True)
        event_store.delete_for_definition(conn, portal_id, current.id)
        store.mark_deleted(conn, current.id, now_ms())


def add_property(db: Database, portal_id: int, name: str, body: object) -> PropertySpec:
    with db.write() as conn:
        current = _live(conn, portal_id, name, for_update=True)
        spec = rules.read_property_create(body, current.properties)
        store.insert_property(conn, current.id, spec, now_ms())
    return spec


def update_property(
    db: Database, portal_id: int, name: str, property_name: str, body: object
) -> PropertySpec:
    with db.write() as conn:
        current = _live(conn, portal_id, name, for_update=True)
        spec = _property(current, property_name)
        change = rules.read_property_change(body, spec)
        store.update_property(
            conn,
            current.id,
            spec.name,
            label=change.label,
            description=change.description,
            options=change.options,
            now_ms=now_ms(),
        )
        updated = store.get_definition(conn, portal_id, current.name)
    assert updated is not None
    return _property(updated, property_name)


def delete_property(db: Database, portal_id: int, name: str, property_name: str) -> None:
    with db.write() as conn:
        current = _live(conn, portal_id, name, for_update=True)
        spec = _property(current, property_name)
        if spec.hubspot_defined:
            raise ValidationError(
                f"{spec.name} is defined by HubSpot and cannot be deleted.",
                errors=[FieldError("Read-only property.", in_="propertyName", code="READ_ONLY")],
            )
        rule = current.matching_rule
        if rule is not None and rule.event_property_name == spec.name:
            raise ValidationError(
                f"{spec.name} is this event's customMatchingId property and cannot be deleted.",
                errors=[FieldError("Property in use.", in_="propertyName", code="IN_USE")],
            )
        store.delete_property(conn, current.id, spec.name, now_ms())


def _live(
    conn: Connection, portal_id: int, name: str, *, for_update: bool = False
) -> EventDefinition:
    """The live definition by short name, or by its fully qualified name.

    `for_update` locks it for the rest of a write transaction (see the store).
    """
    for candidate in _short_names(portal_id, name):
        found = store.get_definition(conn, portal_id, candidate, for_update=for_update)
        if found is not None:
            return found
    raise NotFound(f"No event definition named {name!r}.")


def _short_names(portal_id: int, name: str) -> list[str]:
    """The short names a path segment may mean: itself, or what follows `pe{portal}_`.

    A name that breaks the naming rule cannot exist, so it is never looked up; that
    also keeps a NUL character, which PostgreSQL refuses in text, away from the store.
    """
    prefix = fully_qualified_name(portal_id, "")
    candidates = [name]
    if name.startswith(prefix):
        candidates.append(name[len(prefix) :])
    return [c for c in candidates if name_problem(c) is None]


def _property(definition: EventDefinition, property_name: str) -> PropertySpec:
    spec = definition.property_named(property_name)
    if spec is None:
        raise NotFound(f"Event {definition.name!r} has no property named {property_name!r}.")
    return spec


def _choose_name(conn: Connection, portal_id: int, draft: rules.DefinitionDraft) -> str:
    if draft.name is not None:
        if store.name_taken(conn, portal_id, draft.name):
            raise _name_conflict(draft.name)
        return draft.name
    return rules.derive_definition_name(
        draft.label, lambda candidate: store.name_taken(conn, portal_id, candidate)
    )


def _name_conflict(name: str) -> Conflict:
    return Conflict(
        f"An event named {name!r} exists or existed in this portal; "
        "names of deleted events are never reused.",
        errors=[FieldError("Name already used.", in_="name", code=rules.DUPLICATE_NAME)],
    )
