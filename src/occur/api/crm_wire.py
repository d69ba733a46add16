"""CRM records → HubSpot's JSON shapes (SimplePublicObject and the batch envelopes)."""

from __future__ import annotations

from typing import Any

from occur.domain.crm import RecordView
from occur.domain.timestamps import iso_from_ms


def record(view: RecordView) -> dict[str, Any]:
    """SimplePublicObject: property values are strings (null when unset but asked for)."""
    found = view.record
    body: dict[str, Any] = {
        "id": str(found.id),
        "properties": view.properties,
        "createdAt": iso_from_ms(found.created_at),
        "updatedAt": iso_from_ms(found.updated_at),
        "archived": found.archived,
    }
    if found.archived_at is not None:
        body["archivedAt"] = iso_from_ms(found.archived_at)
    return body


def batch(results: list[dict[str, Any]], started_ms: int, completed_ms: int) -> dict[str, Any]:
    """BatchResponseSimplePublicObject: every batch occur answers is COMPLETE."""
    return {
        "status": "COMPLETE",
        "results": results,
        "startedAt": iso_from_ms(started_ms),
        "completedAt": iso_from_ms(completed_ms),
    }
