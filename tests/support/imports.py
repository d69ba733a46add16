"""An import started through the service, as the worker finds it: for the tests of the
import job and of the revert job."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from occur.config import Settings
from occur.services import access, definitions, imports, uploads
from occur.services.imports import ImportView
from occur.store.db import Database


def started_import(
    db: Database, settings: Settings, rows: int, contacts: int
) -> tuple[int, ImportView]:
    """(portal id, import) of `rows` rows of the event signed_up over `contacts` emails,
    queued and not yet run."""
    portal, _token = access.create_portal(db, "Acme")
    body = {
        "label": "Signed up",
        "name": "signed_up",
        "propertyDefinitions": [{"name": "plan", "label": "Plan", "type": "string"}],
    }
    definitions.create(db, portal.id, body, max_definitions=5)
    lines = ["Email,Date,Plan"] + [
        f"p{i % contacts}@example.com,2026-03-{i + 1:02d},plan{i}" for i in range(rows)
    ]

    async def chunks() -> AsyncIterator[bytes]:
        yield ("\n".join(lines) + "\n").encode()

    staged = asyncio.run(uploads.stage(settings.data_dir, "in.csv", chunks()))
    request = {"eventName": "signed_up", "dateFormat": "YEAR_MONTH_DAY"}
    return portal.id, imports.start_from_api(db, settings, None, portal.id, request, staged)
