"""What the page after creation prints: examples that send the new event exactly as
printed against this server (curl, and Python with hubspot-api-client), and the
starter code block of a JavaScript-code event (wizard.js builds the same one)."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass

from occur.domain.definitions import EventDefinition
from occur.domain.objects import CONTACT, ObjectType
from occur.domain.properties import PropertySpec, PropertyType
from occur.services import crm
from occur.store.db import Database

TOKEN_PLACEHOLDER = "YOUR_ACCESS_TOKEN"
EXAMPLE_EMAIL = "ada@example.com"
RECORD_PLACEHOLDER = "RECORD_ID"
# One example value per type, used by the printed examples and (through a data attribute)
# by wizard.js when it prefills a code block: the two must print the same thing.
EXAMPLE_VALUES = {
    PropertyType.STRING: "example text",
    PropertyType.NUMBER: "42",
    PropertyType.DATETIME: "2025-01-15T09:30:00.000Z",
    PropertyType.DATE: "2025-01-15",
    PropertyType.BOOL: "true",
}


@dataclass(frozen=True)
class Recipient:
    """Who the examples' completion is for: `field` is the send body's key."""

    field: str
    value: str
    note: str


def example_value(spec: PropertySpec) -> str:
    if spec.type is PropertyType.ENUMERATION:
        return spec.options[0].value if spec.options else ""
    return EXAMPLE_VALUES[spec.type]


def recipient(
    db: Database, portal_id: int, object_type: ObjectType, *, create_contacts: bool
) -> Recipient:
    """An identifier the examples can use as printed: a new contact's email where a
    send may create the contact (OCCUR_CREATE_CONTACTS_FROM_EMAIL), else the portal's
    first record of the event's type, else a placeholder the note explains."""
    if object_type is CONTACT and create_contacts:
        return Recipient(
            "email", EXAMPLE_EMAIL, "Sending with an email creates the contact if it is new."
        )
    found = crm.list_page(
        db,
        portal_id,
        object_type,
        limit=1,
        after=None,
        archived=False,
        properties=[],
    )
    if found.results:
        record_id = str(found.results[0].record.id)
        return Recipient(
            "objectId",
            record_id,
            f"{record_id} is the id of one of your {object_type.plural}; "
            "send the id of the record the event happened to.",
        )
    return Recipient(
        "objectId",
        RECORD_PLACEHOLDER,
        f"There are no {object_type.plural} yet: create one, then replace "
        f"{RECORD_PLACEHOLDER} with its id.",
    )


def curl_example(base_url: str, definition: EventDefinition, to: Recipient) -> str:
    body = {
        "eventName": definition.fully_qualified_name,
        to.field: to.value,
        "properties": {p.name: example_value(p) for p in definition.custom_properties},
    }
    return (
        f"curl -X POST {shlex.quote(base_url + '/events/v3/send')} \\\n"
        f"  -H 'Authorization: Bearer {TOKEN_PLACEHOLDER}' \\\n"
        "  -H 'Content-Type: application/json' \\\n"
        f"  -d {shlex.quote(json.dumps(body, indent=2))}"
    )


def _py(text: str) -> str:
    """A Python string literal: JSON's escapes are all valid Python escapes."""
    return json.dumps(text, ensure_ascii=False)


def python_example(base_url: str, definition: EventDefinition, to: Recipient) -> str:
    """The send through hubspot-api-client (v12), as tests/e2e/test_sdk_events.py calls it."""
    keyword = "email" if to.field == "email" else "object_id"
    properties = "".join(
        f"            {_py(p.name)}: {_py(example_value(p))},\n"
        for p in definition.custom_properties
    )
    return (
        "from hubspot import HubSpot\n"
        "from hubspot.events.send import BehavioralEventHttpCompletionRequest\n"
        "\n"
        f"client = HubSpot(access_token={_py(TOKEN_PLACEHOLDER)}, host={_py(base_url)})\n"
        "client.events.send.basic_api.send(\n"
        "    behavioral_event_http_completion_request=BehavioralEventHttpCompletionRequest(\n"
        f"        event_name={_py(definition.fully_qualified_name)},\n"
        f"        {keyword}={_py(to.value)},\n"
        "        properties={\n"
        f"{properties}"
        "        },\n"
        "    )\n"
        ")\n"
    )


_JS_ESCAPES = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "<": "\\x3c"}


def js_string(text: str) -> str:
    """A single-quoted JavaScript literal (wizard.js has the same function). `<` is
    escaped so that the block stays inert if it is ever placed inside a <script>."""
    out = []
    for char in text:
        if char in _JS_ESCAPES:
            out.append(_JS_ESCAPES[char])
        elif ord(char) < 0x20 or char in "\u2028\u2029":
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return "'" + "".join(out) + "'"


def tracking_code(definition: EventDefinition) -> str:
    """The starter code block: the event and every custom property with an example."""
    pairs = [f"    {p.name}: {js_string(example_value(p))}" for p in definition.custom_properties]
    lines = [
        "var _hsq = window._hsq = window._hsq || [];",
        "_hsq.push(['trackCustomBehavioralEvent', {",
        f"  name: {js_string(definition.fully_qualified_name)},",
        "  properties: {",
        *([",\n".join(pairs)] if pairs else []),
        "  }",
        "}]);",
    ]
    return "\n".join(lines) + "\n"
