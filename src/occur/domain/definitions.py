"""Event definitions: what a valid create or change request is.

Validators take decoded JSON and return frozen drafts, or raise one ValidationError that
lists every problem with its `in` path. Whether a name is taken is the store's to say;
the rules here only need a predicate for it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from occur.domain.fields import FieldReader
from occur.domain.names import derive_name, fold_key, name_problem
from occur.domain.objects import OBJECT_TYPES, ObjectType, find_object_type
from occur.domain.properties import (
    DEFAULT_PROPERTIES,
    MAX_CUSTOM_PROPERTIES,
    MAX_DESCRIPTION_CHARS,
    MAX_PROPERTY_LABEL_CHARS,
    MAX_VALUE_CHARS,
    MULTI_VALUE_SEPARATOR,
    PROPERTY_TYPE_NAMES,
    Option,
    PropertySpec,
    PropertyType,
)
from occur.errors import Conflict, collect

MAX_EVENT_LABEL_CHARS = 100
DUPLICATE_NAME = "DUPLICATE_NAME"
MIN_DISPLAY_ORDER = -1  # HubSpot's "no particular place"
MAX_DISPLAY_ORDER = 2**31 - 1
TRACKING_TYPES = (
    "APP_EVENT",
    "AUTOCAPTURE_EVENT",
    "CLICKED_ELEMENT",
    "COMBO_EVENT",
    "CUSTOM_SCRIPT",
    "CUSTOM_SIGNAL",
    "IMPORT",
    "MANUAL",
    "POLLING",
    "PROPERTY_CHANGE",
    "VISITED_URL",
    "WEBHOOK",
)


@dataclass(frozen=True)
class MatchingRule:
    """customMatchingId.primaryObjectRule: which event property finds the record."""

    event_property_name: str
    target_object_property_name: str


@dataclass(frozen=True)
class EventDefinition:
    """A stored, live event definition with its properties in display order."""

    id: int
    portal_id: int
    name: str
    label: str
    description: str
    object_type: ObjectType
    tracking_type: str
    matching_rule: MatchingRule | None
    properties: tuple[PropertySpec, ...]
    created_at: int
    updated_at: int
    version: int = 1

    @property
    def fully_qualified_name(self) -> str:
        return fully_qualified_name(self.portal_id, self.name)

    @property
    def custom_properties(self) -> tuple[PropertySpec, ...]:
        return tuple(p for p in self.properties if not p.hubspot_defined)

    def property_named(self, name: str) -> PropertySpec | None:
        return self._by_name.get(name)

    @cached_property
    def _by_name(self) -> dict[str, PropertySpec]:
        """Every send looks up each property it carries: a scan of up to 82 specs per
        lookup was 13% of batch-send time (bench/ingest.py profile)."""
        return {p.name: p for p in self.properties}


@dataclass(frozen=True)
class DefinitionDraft:
    """A validated create request; `name` is None when it is to be derived."""

    label: str
    name: str | None
    description: str
    object_type: ObjectType
    properties: tuple[PropertySpec, ...]  # defaults first, then custom
    matching_rule: MatchingRule | None


@dataclass(frozen=True)
class DefinitionChange:
    label: str | None
    description: str | None


@dataclass(frozen=True)
class PropertyChange:
    label: str | None
    description: str | None
    options: tuple[Option, ...] | None


def fully_qualified_name(portal_id: int, name: str) -> str:
    return f"pe{portal_id}_{name}"


def object_type_id(definition_id: int) -> str:
    return f"6-{definition_id}"


def read_definition_create(body: object) -> DefinitionDraft:
    """Validate a POST /event-definitions body (ExternalBehavioralEventTypeDefinitionEgg)."""
    r = FieldReader()
    obj = r.obj(body, "body")
    collect(r.problems)
    assert obj is not None
    label = r.text(
        obj, "label", "label", required=True, max_chars=MAX_EVENT_LABEL_CHARS, allow_empty=False
    )
    name = r.text(obj, "name", "name")
    if name is not None and (problem := name_problem(name)):
        r.add("name", problem, "INVALID_NAME")
        name = None
    description = r.text(obj, "description", "description", max_chars=MAX_DESCRIPTION_CHARS)
    object_type = _read_primary_object(r, obj)
    include_defaults = r.get(obj, "includeDefaultProperties", bool, "includeDefaultProperties")
    raw_props = r.get(obj, "propertyDefinitions", list, "propertyDefinitions")
    defaults = DEFAULT_PROPERTIES if include_defaults is not False else ()
    taken = {fold_key(p.name) for p in defaults}
    custom = _read_property_list(r, raw_props or [], taken)
    properties = (*defaults, *custom)
    matching = _read_matching_rule(r, obj, properties, object_type)
    collect(r.problems)
    assert label is not None and object_type is not None
    return DefinitionDraft(
        label=label,
        name=name,
        description=description or "",
        object_type=object_type,
        properties=properties,
        matching_rule=matching,
    )


def read_definition_change(body: object) -> DefinitionChange:
    """Validate a PATCH body: label and description change; other fields are ignored."""
    r = FieldReader()
    obj = r.obj(body, "body")
    collect(r.problems)
    assert obj is not None
    label = r.text(obj, "label", "label", max_chars=MAX_EVENT_LABEL_CHARS, allow_empty=False)
    description = r.text(obj, "description", "description", max_chars=MAX_DESCRIPTION_CHARS)
    collect(r.problems)
    return DefinitionChange(label=label, description=description)


def read_property_create(body: object, existing: Sequence[PropertySpec]) -> PropertySpec:
    """Validate a POST …/property body against the definition's current properties."""
    r = FieldReader()
    obj = r.obj(body, "body")
    collect(r.problems)
    assert obj is not None
    custom = [p for p in existing if not p.hubspot_defined]
    if len(custom) >= MAX_CUSTOM_PROPERTIES:
        # No field of this body is at fault: the definition is full.
        r.add(
            None,
            f"An event holds at most {MAX_CUSTOM_PROPERTIES} custom properties; "
            "delete one before adding another.",
            "TOO_MANY_PROPERTIES",
        )
    taken = {fold_key(p.name) for p in existing}
    # After the last custom property, even when earlier ones were deleted.
    order = max((p.display_order for p in custom), default=-1) + 1
    spec = _read_property(r, obj, "", taken, display_order=order)
    if [p.code for p in r.problems] == [DUPLICATE_NAME]:
        # The body alone is sound; its name belongs to a property the event already has
        # (DESIGN §3b: an explicit taken name is a conflict, like HubSpot's properties API).
        raise Conflict(r.problems[0].message, errors=r.problems)
    collect(r.problems)
    assert spec is not None
    return spec


def read_property_change(body: object, current: PropertySpec) -> PropertyChange:
    """Validate a PATCH …/property/{name} body: label, description and options change."""
    r = FieldReader()
    obj = r.obj(body, "body")
    collect(r.problems)
    assert obj is not None
    if current.hubspot_defined:
        r.add(
            "propertyName",
            f"{current.name} is defined by HubSpot and cannot be changed.",
            "READ_ONLY",
        )
    label = r.text(obj, "label", "label", max_chars=MAX_PROPERTY_LABEL_CHARS, allow_empty=False)
    description = r.text(obj, "description", "description", max_chars=MAX_DESCRIPTION_CHARS)
    options: tuple[Option, ...] | None = None
    raw_options = r.get(obj, "options", list, "options")
    if raw_options is not None:
        if current.type is not PropertyType.ENUMERATION:
            r.add("options", "Options apply only to enumeration properties.", "INVALID")
        elif not raw_options:
            # Options replace the old ones; an empty list would leave nothing to choose.
            r.add("options", "An enumeration property needs at least one option.", "REQUIRED")
        else:
            options = _read_options(r, raw_options, "options")
    collect(r.problems)
    return PropertyChange(label=label, description=description, options=options)


def _read_primary_object(r: FieldReader, obj: Mapping[str, Any]) -> ObjectType | None:
    raw = r.get(obj, "primaryObject", str, "primaryObject")
    if raw is None:
        return None if r.problems and r.problems[-1].in_ == "primaryObject" else OBJECT_TYPES[0]
    found = find_object_type(raw)
    if found is None:
        allowed = ", ".join(t.primary_object for t in OBJECT_TYPES)
        r.add(
            "primaryObject", f"primaryObject must be one of {allowed}; got {raw!r}.", "INVALID_ENUM"
        )
    return found


def _read_property_list(
    r: FieldReader, raw_props: list[Any], taken: set[str]
) -> tuple[PropertySpec, ...]:
    if len(raw_props) > MAX_CUSTOM_PROPERTIES:
        r.add(
            "propertyDefinitions",
            f"An event holds at most {MAX_CUSTOM_PROPERTIES} custom properties; "
            f"{len(raw_props)} were sent.",
            "TOO_MANY_PROPERTIES",
        )
    specs: list[PropertySpec] = []
    for index, raw in enumerate(raw_props):
        path = f"propertyDefinitions[{index}]"
        obj = r.obj(raw, path)
        if obj is None:
            continue
        spec = _read_property(r, obj, path + ".", taken, display_order=index)
        if spec is not None:
            specs.append(spec)
    return tuple(specs)


def _read_property(
    r: FieldReader,
    obj: Mapping[str, Any],
    prefix: str,
    taken: set[str],
    *,
    display_order: int,
) -> PropertySpec | None:
    """Read one property; `taken` holds the folded names already used and is extended."""
    before = len(r.problems)
    label = r.text(
        obj,
        "label",
        prefix + "label",
        required=True,
        max_chars=MAX_PROPERTY_LABEL_CHARS,
        allow_empty=False,
    )
    name = r.text(obj, "name", prefix + "name")
    if name is not None:
        if problem := name_problem(name):
            r.add(prefix + "name", problem, "INVALID_NAME")
        elif fold_key(name) in taken:
            r.add(
                prefix + "name",
                f"The event already has a property named {name!r} "
                "(names equal after lowercasing are duplicates).",
                DUPLICATE_NAME,
            )
    elif label is not None:
        name = derive_name(
            label, lambda candidate: fold_key(candidate) in taken, fallback="property"
        )
    description = r.text(
        obj, "description", prefix + "description", max_chars=MAX_DESCRIPTION_CHARS
    )
    ptype = _read_type(r, obj, prefix + "type")
    raw_options = r.get(obj, "options", list, prefix + "options")
    options: tuple[Option, ...] = ()
    if ptype is PropertyType.ENUMERATION:
        if not raw_options:
            r.add(
                prefix + "options", "An enumeration property needs at least one option.", "REQUIRED"
            )
        else:
            options = _read_options(r, raw_options, prefix + "options")
    elif raw_options:
        r.add(prefix + "options", "Options apply only to enumeration properties.", "INVALID")
    if name is not None:
        taken.add(fold_key(name))
    if len(r.problems) > before or name is None or label is None or ptype is None:
        return None
    return PropertySpec(
        name=name,
        label=label,
        type=ptype,
        description=description or "",
        options=options,
        display_order=display_order,
    )


def _read_type(r: FieldReader, obj: Mapping[str, Any], path: str) -> PropertyType | None:
    raw = r.get(obj, "type", str, path, required=True)
    if raw is None:
        return None
    if raw not in PROPERTY_TYPE_NAMES:
        r.add(
            path,
            f"type must be one of {', '.join(PROPERTY_TYPE_NAMES)}; got {raw!r}.",
            "INVALID_ENUM",
        )
        return None
    return PropertyType(raw)


def _read_options(r: FieldReader, raw_options: list[Any], prefix: str) -> tuple[Option, ...]:
    options: list[Option] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_options):
        path = f"{prefix}[{index}]"
        obj = r.obj(raw, path)
        if obj is None:
            continue
        label = r.text(
            obj,
            "label",
            path + ".label",
            required=True,
            allow_empty=False,
            max_chars=MAX_VALUE_CHARS,
        )
        value = r.text(
            obj,
            "value",
            path + ".value",
            required=True,
            allow_empty=False,
            max_chars=MAX_VALUE_CHARS,
        )
        order = r.get(obj, "displayOrder", int, path + ".displayOrder")
        if order is not None and not MIN_DISPLAY_ORDER <= order <= MAX_DISPLAY_ORDER:
            # HubSpot types displayOrder as int32; clients built from its spec break on more.
            r.add(
                path + ".displayOrder",
                f"displayOrder must be between {MIN_DISPLAY_ORDER} and {MAX_DISPLAY_ORDER}.",
                "OUT_OF_RANGE",
            )
            order = None
        hidden = r.get(obj, "hidden", bool, path + ".hidden")
        description = r.text(
            obj, "description", path + ".description", max_chars=MAX_DESCRIPTION_CHARS
        )
        if value is not None:
            if MULTI_VALUE_SEPARATOR in value:
                r.add(
                    path + ".value",
                    f"An option value cannot hold "
                    f"{MULTI_VALUE_SEPARATOR!r}: it separates several values.",
                    "INVALID",
                )
            elif value in seen:
                r.add(
                    path + ".value", f"Option value {value!r} is given twice.", "DUPLICATE_OPTION"
                )
            seen.add(value)
        if label is not None and value is not None:
            options.append(
                Option(
                    label=label,
                    value=value,
                    display_order=index if order is None else order,
                    hidden=bool(hidden),
                    description=description or "",
                )
            )
    return tuple(options)


def _read_matching_rule(
    r: FieldReader,
    obj: Mapping[str, Any],
    properties: Sequence[PropertySpec],
    object_type: ObjectType | None,
) -> MatchingRule | None:
    raw = r.get(obj, "customMatchingId", dict, "customMatchingId")
    if raw is None:
        return None
    base = "customMatchingId.primaryObjectRule"
    rule = r.get(raw, "primaryObjectRule", dict, base, required=True)
    if rule is None:
        return None
    event_prop = r.text(
        rule, "eventPropertyName", base + ".eventPropertyName", required=True, allow_empty=False
    )
    target = r.text(
        rule,
        "targetObjectPropertyName",
        base + ".targetObjectPropertyName",
        required=True,
        allow_empty=False,
    )
    if event_prop is not None and event_prop not in {p.name for p in properties}:
        r.add(
            base + ".eventPropertyName",
            f"{event_prop!r} is not a property of this event.",
            "PROPERTY_DOESNT_EXIST",
        )
        event_prop = None
    if (
        target is not None
        and object_type is not None
        and target not in object_type.unique_properties
    ):
        unique = ", ".join(sorted(object_type.unique_properties))
        r.add(
            base + ".targetObjectPropertyName",
            f"{target!r} is not a unique property of {object_type.plural}; use one of {unique}.",
            "NOT_UNIQUE_PROPERTY",
        )
        target = None
    if event_prop is None or target is None:
        return None
    return MatchingRule(event_property_name=event_prop, target_object_property_name=target)


def derive_definition_name(label: str, is_taken: Callable[[str], bool]) -> str:
    """The name for a definition created without one (DESIGN §3b)."""
    return derive_name(label, is_taken)
