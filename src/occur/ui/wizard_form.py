"""The Create event wizard's form: what was typed, the HubSpot create body it makes,
and the API's errors mapped back to the fields they are about.

Fields: `method`, `label`, `description`, `object`, `code`, `code_event_name`; one row
per custom property as `p-{i}-label|name|type|description`, its options as
`p-{i}-o-{j}-label|value`. Row indices need not be consecutive (wizard.js numbers a new
row after the highest one); the form is shown again numbered 0, 1, 2 … and the error
keys use those numbers. Pure functions of the typed values, except for FormData.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData

from occur.domain import definitions as rules
from occur.domain.names import derive_name, fold_key
from occur.domain.objects import CONTACT
from occur.domain.properties import DEFAULT_PROPERTIES, PropertyType
from occur.errors import FieldError, ValidationError
from occur.ui.visual_rules import FIELD_OF_PATH, RULE_FIELDS, rule_json
from occur.ui.web import text_field

# More rows than this are not read at all: the domain refuses more than 50 anyway.
MAX_FORM_ROWS = 200

STEPS = (
    ("method", "Method"),
    ("details", "Details"),
    ("properties", "Properties"),
    ("code", "Code"),
    ("visual", "What to track"),
)
# The visual step's fields, in the order shown.
VISUAL_FIELDS = ("visual_kind", "selector", "page_url", "url_op", "url_param", "url_value")
STEP_ORDER = {key: index for index, (key, _) in enumerate(STEPS)}


# The form as typed. Mutable on purpose: the no-JavaScript add/remove buttons edit it
# before it is shown again.


@dataclass
class OptionRow:
    label: str = ""
    value: str = ""

    @property
    def blank(self) -> bool:
        return not (self.label.strip() or self.value.strip())


@dataclass
class PropertyRow:
    label: str = ""
    name: str = ""
    type: str = PropertyType.STRING.value
    description: str = ""
    options: list[OptionRow] = field(default_factory=list)

    @property
    def blank(self) -> bool:
        """Nothing typed: skipped, so that a spare empty row never blocks creation."""
        typed = self.label.strip() or self.name.strip() or self.description.strip()
        return not typed and all(o.blank for o in self.options)


@dataclass
class WizardForm:
    method: str = "api"
    label: str = ""
    description: str = ""
    object: str = CONTACT.primary_object
    properties: list[PropertyRow] = field(default_factory=list)
    code: str = ""
    # The event name wizard.js predicted and wrote into the code block.
    code_event_name: str = ""
    # Visual events: CLICKED_ELEMENT or VISITED_URL, the selector, the page to pick on,
    # and the URL rule (url_op "" = every page, for clicks).
    visual_kind: str = "CLICKED_ELEMENT"
    selector: str = ""
    page_url: str = ""
    url_op: str = ""
    url_param: str = ""
    url_value: str = ""

    def tracking_rule(self) -> dict[str, Any]:
        """The visual rule as the definitions service reads it."""
        fields = {key: getattr(self, key) for key in RULE_FIELDS}
        return rule_json(self.visual_kind, fields)


_ROW_FIELD = re.compile(r"p-(\d{1,4})-(label|name|type|description)")
_OPTION_FIELD = re.compile(r"p-(\d{1,4})-o-(\d{1,4})-(label|value)")


def read_wizard(form: FormData) -> WizardForm:
    """The typed form; property rows and option rows in the order of their indices
    (wizard.js numbers new rows after the highest index, so gaps are normal)."""
    wizard = WizardForm(
        method=text_field(form, "method"),
        label=text_field(form, "label"),
        description=text_field(form, "description"),
        object=text_field(form, "object"),
        code=text_field(form, "code"),
        code_event_name=text_field(form, "code_event_name"),
    )
    for key in VISUAL_FIELDS:
        setattr(wizard, key, text_field(form, key))
    if wizard.visual_kind not in ("CLICKED_ELEMENT", "VISITED_URL"):
        wizard.visual_kind = "CLICKED_ELEMENT"
    rows: dict[int, PropertyRow] = {}
    options: dict[int, dict[int, OptionRow]] = {}
    for key, value in form.multi_items():
        if not isinstance(value, str):
            continue
        if found := _ROW_FIELD.fullmatch(key):
            row = rows.setdefault(int(found[1]), PropertyRow())
            setattr(row, found[2], value)
        elif found := _OPTION_FIELD.fullmatch(key):
            rows.setdefault(int(found[1]), PropertyRow())
            option = options.setdefault(int(found[1]), {}).setdefault(int(found[2]), OptionRow())
            setattr(option, found[3], value)
    for index in sorted(rows)[:MAX_FORM_ROWS]:
        row = rows[index]
        row.options = [o for _, o in sorted(options.get(index, {}).items())][:MAX_FORM_ROWS]
        wizard.properties.append(row)
    return wizard


def apply_action(wizard: WizardForm, action: str) -> bool:
    """Add or remove a row as a no-JavaScript button asked; False for any other action."""
    verb, _, where = action.partition(":")
    at = [int(part) for part in where.split(":") if part.isdigit()]
    rows = wizard.properties
    if verb == "add-property" and len(rows) < MAX_FORM_ROWS:
        rows.append(PropertyRow(options=[OptionRow()]))
    elif verb == "remove-property" and len(at) == 1 and at[0] < len(rows):
        del rows[at[0]]
    elif verb == "add-option" and len(at) == 1 and at[0] < len(rows):
        rows[at[0]].options.append(OptionRow())
    elif verb == "remove-option" and len(at) == 2 and at[0] < len(rows):
        if at[1] < len(rows[at[0]].options):
            del rows[at[0]].options[at[1]]
    else:
        return False
    return True


@dataclass(frozen=True)
class Submission:
    """HubSpot's create body, and where each of its properties came from in the form:
    `rows[i]` is the form row of propertyDefinitions[i], `options[i][k]` the form option
    row of its options[k] (blank rows are not sent, so the indices differ)."""

    body: dict[str, Any]
    rows: tuple[int, ...]
    options: tuple[tuple[int, ...], ...]


def submission(wizard: WizardForm) -> Submission:
    rows: list[int] = []
    option_rows: list[tuple[int, ...]] = []
    properties: list[dict[str, Any]] = []
    for index, row in enumerate(wizard.properties):
        if row.blank:
            continue
        prop: dict[str, Any] = {
            "label": row.label.strip(),
            "type": row.type,
            "description": row.description.strip(),
        }
        if row.name.strip():  # empty: derived from the label, as the API does
            prop["name"] = row.name.strip()
        kept: tuple[int, ...] = ()
        if row.type == PropertyType.ENUMERATION:
            kept = tuple(j for j, option in enumerate(row.options) if not option.blank)
            prop["options"] = [
                {
                    "label": row.options[j].label.strip(),
                    "value": row.options[j].value.strip(),
                    "displayOrder": order,
                }
                for order, j in enumerate(kept)
            ]
        rows.append(index)
        option_rows.append(kept)
        properties.append(prop)
    body = {
        "label": wizard.label.strip(),
        "description": wizard.description.strip(),
        "primaryObject": wizard.object,
        "propertyDefinitions": properties,
    }
    return Submission(body, tuple(rows), tuple(option_rows))


_TOP_FIELDS = {
    "label": "label",
    # The event's own name is derived from its label; it clashes only in a race.
    "name": "label",
    "description": "description",
    "primaryObject": "object",
    "propertyDefinitions": "properties",
    "code": "code",
    "trackingRule": "visual_kind",
    **FIELD_OF_PATH,
}
_PROPERTY_PATH = re.compile(r"propertyDefinitions\[(\d+)\](?:\.(\w+)(?:\[(\d+)\](?:\.(\w+))?)?)?")
_ROW_ATTRS = ("label", "name", "type", "description")


def form_key(path: str | None, sent: Submission) -> str:
    """The form field an API error path points at ("" for the form as a whole)."""
    if path is None:
        return ""
    if path in _TOP_FIELDS:
        return _TOP_FIELDS[path]
    found = _PROPERTY_PATH.fullmatch(path)
    if found is None or int(found[1]) >= len(sent.rows):
        return "properties" if path.startswith("propertyDefinitions") else ""
    index, attr, option, option_attr = int(found[1]), found[2], found[3], found[4]
    row = sent.rows[index]
    if attr in _ROW_ATTRS:
        return f"p-{row}-{attr}"
    kept = sent.options[index]
    if attr == "options" and option is not None and option_attr in ("label", "value"):
        if int(option) < len(kept):
            return f"p-{row}-o-{kept[int(option)]}-{option_attr}"
    return f"p-{row}-options" if attr == "options" else f"p-{row}-label"


_FIELD_NAMES = {
    "method": "Method",
    "label": "Event label",
    "description": "Description",
    "object": "Associated object",
    "properties": "Properties",
    "code": "Code",
    "visual_kind": "What to track",
    "selector": "Element",
    "page_url": "Page to pick on",
    "url_op": "Pages",
    "url_param": "Query parameter",
    "url_value": "URL",
}
_ROW_FIELD_NAMES = {
    "label": "Property label",
    "name": "Internal name",
    "type": "Type",
    "description": "Property description",
    "options": "Options",
}
_OPTION_FIELD_NAMES = {"label": "Option label", "value": "Option value"}


def field_name(key: str) -> str:
    """What the form calls a field, for messages and the error summary."""
    if not key.startswith("p-"):
        return _FIELD_NAMES.get(key, "")
    last = key.rsplit("-", 1)[-1]
    if "-o-" in key:
        return _OPTION_FIELD_NAMES[last]
    return _ROW_FIELD_NAMES[last]


def step_of(key: str) -> str | None:
    if key.startswith("p-") or key == "properties":
        return "properties"
    if key in ("label", "description", "object"):
        return "details"
    if key in VISUAL_FIELDS:
        return "visual"
    return key if key in STEP_ORDER else None


def form_errors(problems: Sequence[FieldError], sent: Submission) -> dict[str, str]:
    """Each problem beside its field, the first one per field. Messages that start with
    the API's path ("propertyDefinitions[0].label must…") start with the form's name for
    that field instead."""
    found: dict[str, str] = {}
    for problem in problems:
        key = form_key(problem.in_, sent)
        message = problem.message
        if problem.in_ and key and message.startswith(problem.in_):
            message = field_name(key) + message[len(problem.in_) :]
        found.setdefault(key, message)
    return found


def first_step(errors: dict[str, str]) -> str | None:
    """The step that holds the first problem in the order the steps are shown."""
    steps = [step for key in errors if (step := step_of(key)) is not None]
    return min(steps, key=STEP_ORDER.__getitem__, default=None)


def name_problems(labels: Sequence[str], names: Sequence[str]) -> list[str | None]:
    """What is wrong with each row's internal name, by the API's own rules.

    The rows go through the very validator the API uses, in the order the form would
    send them (a duplicate is the later row), with a blank name left out as the form
    leaves it out; only the problems with names are kept.
    """
    properties: list[dict[str, Any]] = []
    for label, name in zip(labels, names, strict=True):
        prop: dict[str, Any] = {"label": label.strip(), "type": PropertyType.STRING.value}
        if name.strip():
            prop["name"] = name.strip()
        properties.append(prop)
    try:
        rules.read_definition_create({"label": "x", "propertyDefinitions": properties})
    except ValidationError as exc:
        problems: dict[str | None, str] = {}
        for problem in exc.errors:
            problems.setdefault(problem.in_, problem.message)
        return [problems.get(f"propertyDefinitions[{i}].name") for i in range(len(names))]
    return [None] * len(names)


def derive_property_name(label: str, others: Sequence[str]) -> str:
    """The name a label gives, free of the default properties and the other rows."""
    taken = {fold_key(p.name) for p in DEFAULT_PROPERTIES} | {fold_key(n) for n in others}
    return derive_name(label.strip(), lambda c: fold_key(c) in taken, fallback="property")


def summary_line(key: str, message: str) -> str:
    """A problem as the list above the form names it: with its field, said once."""
    name = field_name(key)
    return message if not name or message.startswith(name) else f"{name}: {message}"
