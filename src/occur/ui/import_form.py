"""The import wizard's form after the file step: how each column is imported, the event
properties made on the way, and the finish step's choices; what the form checks, and
the request it becomes. Pure functions of the typed values, except for FormData.

Fields (hidden ones carry the earlier steps): `upload` (the signed staged-file ticket),
`language`, `sheet`, `event` (an existing event's name) or `label`, `description`,
`object` (a new event's details); per column i `c-{i}-as` (a Target value),
`c-{i}-contact`, `c-{i}-event` (a property name, or NEW_PROPERTY), `c-{i}-new-label`,
`c-{i}-new-name`, `c-{i}-new-type`; then `name`, `consent`, `date_format`,
`time_zone`, `fixed_occurred_at` (a datetime-local text in the time zone).
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from occur.domain import definitions as rules
from occur.domain.definitions import EventDefinition
from occur.domain.import_columns import HEADER_LANGUAGES, ColumnMapping, PropertyChoice, Target
from occur.domain.import_dates import DATE_FORMATS, CellError, parse_occurred_at
from occur.domain.names import derive_name, fold_key
from occur.domain.objects import CONTACT, SYSTEM_PROPERTIES, find_object_type
from occur.domain.properties import MAX_CUSTOM_PROPERTIES, PropertyType
from occur.errors import ValidationError
from occur.services import definitions
from occur.ui.wizard_form import name_problems

NEW_PROPERTY = "__new__"
MAX_COLUMNS = 500  # a sheet wider than this is refused by the mapping step

TARGET_LABELS = (
    (Target.CONTACT, "Contact property"),
    (Target.EVENT, "Event property"),
    (Target.RECORD_ID, "Record ID"),
    (Target.OCCURRED_AT, "Occurred at"),
    (Target.SKIP, "Don't import"),
)
DATE_FORMAT_LABELS = {
    "MONTH_DAY_YEAR": "Month/day/year, time optional (12/31/2025 17:30)",
    "DAY_MONTH_YEAR": "Day/month/year, time optional (31/12/2025 17:30)",
    "YEAR_MONTH_DAY": "Year/month/day, time optional (2025/12/31 17:30)",
    "ISO_8601": "ISO-8601 (2025-12-31T17:30:00Z)",
    "EPOCH_MILLIS": "Milliseconds since 1970 (1767202200000)",
}
# Types a column can create inline; an enumeration needs its options, on the Properties tab.
NEW_TYPES = (
    PropertyType.STRING,
    PropertyType.NUMBER,
    PropertyType.BOOL,
    PropertyType.DATE,
    PropertyType.DATETIME,
)
CONTACT_PROPERTIES = tuple(p for p in CONTACT.properties if p not in SYSTEM_PROPERTIES)
CONTACT_PROPERTY_LABELS = {
    "email": "Email",
    "firstname": "First name",
    "lastname": "Last name",
    "phone": "Phone number",
    "company": "Company name",
    "lifecyclestage": "Lifecycle stage",
}
LANGUAGE_CODES = tuple(code for code, _ in HEADER_LANGUAGES)


@dataclass
class ColumnRow:
    index: int
    header: str
    target: str = Target.SKIP.value
    contact: str = ""
    event: str = ""
    new_label: str = ""
    new_name: str = ""
    new_type: str = PropertyType.STRING.value

    @property
    def creates_property(self) -> bool:
        return self.target == Target.EVENT and self.event == NEW_PROPERTY


@dataclass
class ImportForm:
    upload: str = ""
    language: str = "en"
    sheet: str = ""
    event: str = ""
    label: str = ""
    description: str = ""
    object: str = CONTACT.primary_object
    columns: list[ColumnRow] = field(default_factory=list)
    name: str = ""
    consent: bool = False
    date_format: str = "YEAR_MONTH_DAY"
    time_zone: str = "UTC"
    fixed_occurred_at: str = ""

    @property
    def new_event(self) -> bool:
        return not self.event

    @property
    def object_is_contact(self) -> bool:
        found = find_object_type(self.object)
        return found is None or found is CONTACT

    def carried(self) -> dict[str, str]:
        """The earlier steps, as the hidden fields and links carry them."""
        if self.event:
            state = {"event": self.event}
        else:
            state = {"label": self.label, "description": self.description, "object": self.object}
        state.update(upload=self.upload, language=self.language, sheet=self.sheet)
        return {k: v for k, v in state.items() if v}


def new_import_url(portal_id: int, label: str, description: str, object_: str) -> str:
    """The file step for a new event with these details."""
    query = urlencode({"label": label, "description": description, "object": object_})
    return f"/app/{portal_id}/imports/new?{query}"


def map_url(portal_id: int, form: ImportForm) -> str:
    return f"/app/{portal_id}/imports/new/map?{urlencode(form.carried())}"


def read_state(values: Mapping[str, str]) -> ImportForm:
    """The carried steps from a query string or form."""
    language = values.get("language", "en")
    return ImportForm(
        upload=values.get("upload", ""),
        language=language if language in LANGUAGE_CODES else "en",
        sheet=values.get("sheet", "")[:200],
        event=values.get("event", "")[:200],
        label=values.get("label", "")[:200],
        description=values.get("description", "")[:2000],
        object=values.get("object", CONTACT.primary_object)[:20],
    )


_COLUMN_FIELD = re.compile(r"c-(\d{1,4})-(as|contact|event|new-label|new-name|new-type)")
_ATTRS = {"as": "target", "new-label": "new_label", "new-name": "new_name", "new-type": "new_type"}


def read_form(values: Mapping[str, str], headers: Sequence[str]) -> ImportForm:
    """The whole form as typed; one row per header column whatever was sent."""
    form = read_state(values)
    form.columns = [ColumnRow(i, h) for i, h in enumerate(headers[:MAX_COLUMNS])]
    for key, value in values.items():
        found = _COLUMN_FIELD.fullmatch(key)
        if found and int(found[1]) < len(form.columns):
            setattr(form.columns[int(found[1])], _ATTRS.get(found[2], found[2]), value.strip())
    for row in form.columns:
        if row.target not in {t.value for t in Target}:
            row.target = Target.SKIP.value
    form.name = values.get("name", "").strip()[:200]
    form.consent = bool(values.get("consent"))
    form.date_format = values.get("date_format", form.date_format)
    form.time_zone = values.get("time_zone", form.time_zone)
    form.fixed_occurred_at = values.get("fixed_occurred_at", "").strip()
    return form


def auto_rows(
    mappings: Sequence[ColumnMapping], new_event: bool, taken: Sequence[str]
) -> list[ColumnRow]:
    """Rows from auto_map. For a new event a column nothing matched is offered as a
    new event property named after its header (as many as an event may hold): the
    import is what defines the event."""
    rows, names = [], list(taken)
    for mapping in mappings:
        row = ColumnRow(mapping.index, mapping.header, mapping.target.value)
        if mapping.target == Target.CONTACT:
            row.contact = mapping.property_name or ""
        elif mapping.target == Target.EVENT:
            row.event = mapping.property_name or ""
        elif (
            mapping.target == Target.SKIP
            and new_event
            and mapping.header.strip()
            and len(names) - len(taken) < MAX_CUSTOM_PROPERTIES
        ):
            row.target, row.event = Target.EVENT.value, NEW_PROPERTY
            row.new_label = mapping.header.strip()[:100]
            row.new_name = derive_property_name(row.new_label, names)
            names.append(row.new_name)
        rows.append(row)
    return rows


def derive_property_name(label: str, taken: Sequence[str]) -> str:
    folded = {fold_key(n) for n in taken}
    return derive_name(label, lambda c: fold_key(c) in folded, fallback="property")


def mappings_of(form: ImportForm) -> list[ColumnMapping]:
    out = []
    for row in form.columns:
        target = Target(row.target)
        prop: str | None = None
        if target == Target.CONTACT:
            prop = row.contact or None
        elif target == Target.EVENT:
            prop = (row.new_name or None) if row.creates_property else (row.event or None)
        out.append(ColumnMapping(row.index, row.header, target, prop))
    return out


def new_property_bodies(form: ImportForm) -> list[tuple[int, dict[str, Any]]]:
    """The event properties the form creates, by column: HubSpot create bodies."""
    return [
        (row.index, {"label": row.new_label, "name": row.new_name, "type": row.new_type})
        for row in form.columns
        if row.creates_property
    ]


def draft_definition(
    portal_id: int, form: ImportForm, existing: EventDefinition | None
) -> EventDefinition:
    """The event the import will write to, as it will be once the form's new properties
    exist: the existing one plus them, or a new one checked by the API's rules (the
    preview and the checks need it before anything is created)."""
    new = [body for _, body in new_property_bodies(form)]
    if existing is not None:
        extra = rules.read_definition_create({"label": "x", "propertyDefinitions": new})
        custom = tuple(p for p in extra.properties if not p.hubspot_defined)
        return _replace_properties(existing, existing.properties + custom)
    draft = rules.read_definition_create(creation_body(form))
    return EventDefinition(
        id=0,
        portal_id=portal_id,
        name=draft.name or "import",
        label=draft.label,
        description=draft.description,
        object_type=draft.object_type,
        tracking_type=definitions.IMPORT,
        matching_rule=draft.matching_rule,
        properties=draft.properties,
        created_at=0,
        updated_at=0,
    )


def _replace_properties(definition: EventDefinition, properties: Any) -> EventDefinition:
    return EventDefinition(
        id=definition.id,
        portal_id=definition.portal_id,
        name=definition.name,
        label=definition.label,
        description=definition.description,
        object_type=definition.object_type,
        tracking_type=definition.tracking_type,
        matching_rule=definition.matching_rule,
        properties=properties,
        created_at=definition.created_at,
        updated_at=definition.updated_at,
        version=definition.version,
    )


def creation_body(form: ImportForm) -> dict[str, Any]:
    return {
        "label": form.label.strip(),
        "description": form.description.strip(),
        "primaryObject": form.object,
        "propertyDefinitions": [body for _, body in new_property_bodies(form)],
    }


def event_choices(definition: EventDefinition | None) -> list[PropertyChoice]:
    if definition is None:
        return []
    return [PropertyChoice(p.name, p.label) for p in definition.custom_properties]


def property_problems(form: ImportForm, existing: EventDefinition | None) -> dict[str, str]:
    """Each new property's label, name and type checked by the API's rules, and its name
    against the event's own properties."""
    rows = [row for row in form.columns if row.creates_property]
    found: dict[str, str] = {}
    held = len(existing.custom_properties) if existing else 0
    if rows and held + len(rows) > MAX_CUSTOM_PROPERTIES:
        found["mapping"] = (
            f"An event holds at most {MAX_CUSTOM_PROPERTIES} custom properties; this one "
            f"has {held}, so at most {max(MAX_CUSTOM_PROPERTIES - held, 0)} new ones fit "
            f"(the mapping makes {len(rows)})."
        )
    names = name_problems([r.new_label for r in rows], [r.new_name for r in rows])
    taken = {fold_key(p.name) for p in existing.properties} if existing else set()
    for row, problem in zip(rows, names, strict=True):
        if not row.new_label:
            found[f"c-{row.index}-new-label"] = "Property label must not be empty."
        if problem is None and fold_key(row.new_name) in taken:
            problem = f"The event already has a property named {row.new_name}."
        if problem is not None:
            found[f"c-{row.index}-new-name"] = problem
        if row.new_type not in NEW_TYPES:
            found[f"c-{row.index}-new-type"] = "Choose one of the types listed."
    return found


def finish_problems(form: ImportForm) -> dict[str, str]:
    found: dict[str, str] = {}
    if not form.name:
        found["name"] = "Name the import, so that you can find it in the list."
    if not form.consent:
        found["consent"] = (
            "Confirm that the contacts expect to hear from you and that the file holds "
            "no purchased list."
        )
    if form.date_format not in DATE_FORMATS:
        found["date_format"] = "Choose a date format."
    if form.time_zone not in zoneinfo.available_timezones():
        found["time_zone"] = "Choose a time zone from the list."
    elif form.fixed_occurred_at and fixed_occurred_at_ms(form) is None:
        found["fixed_occurred_at"] = "Give a date and time, like 2025-12-31T17:30."
    return found


def fixed_occurred_at_ms(form: ImportForm) -> int | None:
    """The finish step's fixed occurred-at in epoch ms; None when absent or unreadable."""
    if not form.fixed_occurred_at or form.time_zone not in zoneinfo.available_timezones():
        return None
    try:
        return parse_occurred_at(
            form.fixed_occurred_at, "ISO_8601", zoneinfo.ZoneInfo(form.time_zone)
        )
    except (CellError, ValueError):
        return None


def details_problems(form: ImportForm) -> str | None:
    """A new event's details as the API judges them (the wizard checked them already;
    the hidden fields could have been edited since)."""
    if not form.new_event:
        return None
    try:
        rules.read_definition_create({**creation_body(form), "propertyDefinitions": []})
    except ValidationError as exc:
        return exc.errors[0].message if exc.errors else exc.message
    return None
