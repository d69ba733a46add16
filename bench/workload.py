"""The one event the whole bench sends and stores, so that every measure moves the same rows.

A contact event with four custom properties of four types (plus HubSpot's default `hs_*`
ones defined but not sent), as a real integration would send it: the HTTP measures send
`SENT`, and the storage ceiling writes `STORED`, which is what occur keeps for `SENT`
(values as canonical text, one `event_values` row per property).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from .loadgen import UUID_MARK

EVENT_NAME = "bench_purchase"
DEFINITION: dict[str, Any] = {
    "label": "Bench purchase",
    "name": EVENT_NAME,
    "primaryObject": "CONTACT",
    "propertyDefinitions": [
        {
            "name": "plan",
            "label": "Plan",
            "type": "enumeration",
            "options": [
                {"label": "Free", "value": "free"},
                {"label": "Pro", "value": "pro"},
                {"label": "Enterprise", "value": "enterprise"},
            ],
        },
        {"name": "amount", "label": "Amount", "type": "number"},
        {"name": "source", "label": "Source", "type": "string"},
        {"name": "trial", "label": "Trial", "type": "bool"},
    ],
}
SENT: dict[str, Any] = {"plan": "pro", "amount": 12.5, "source": "newsletter", "trial": True}
STORED: dict[str, str] = {"plan": "pro", "amount": "12.5", "source": "newsletter", "trial": "true"}
# Events are sent as having happened when the bench started (whole milliseconds).
OCCURRED_AT_MS = int(time.time()) * 1000


def occurred_at_iso() -> str:
    moment = datetime.fromtimestamp(OCCURRED_AT_MS / 1000, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def send_item(portal_id: int, contact_id: str) -> str:
    """One send body as JSON text, its uuid left as the load generator's mark."""
    return json.dumps(
        {
            "eventName": f"pe{portal_id}_{EVENT_NAME}",
            "objectId": contact_id,
            "uuid": UUID_MARK,
            "occurredAt": occurred_at_iso(),
            "properties": SENT,
        },
        separators=(",", ":"),
    )
