"""GET /events/v3/events and /events/v3/events/event-types: thin handlers over
services.event_reads. The date-versioned `/events/event-occurrences/{ver}` paths reach
these through api/paths.py."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import URL
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from occur.api import responses
from occur.api.context import AppContext, principal
from occur.domain.access import Principal
from occur.domain.event_cursors import encode_cursor
from occur.domain.event_queries import read_event_query
from occur.domain.scopes import EVENT_DEFINITIONS, EVENTS_SEND
from occur.domain.timestamps import iso_from_ms
from occur.services import event_reads as service
from occur.services.event_reads import EventView

BASE = "/events/v3/events"
# HubSpot's spec names only the generic `oauth` scope for reads; occur lets a token read
# the occurrences it may send or whose definitions it manages, and no CRM-only token.
READ_SCOPES = (EVENTS_SEND, EVENT_DEFINITIONS)


async def list_events(request: Request) -> Response:
    ctx, who = await _reader(request)
    query = read_event_query(request.query_params.multi_items())
    page = await run_in_threadpool(service.read_page, ctx.db, who.portal_id, query)
    body: dict[str, Any] = {"results": [_event(e) for e in page.events]}
    paging: dict[str, Any] = {}
    url = request.url.remove_query_params(["after", "before"])
    if page.next_after is not None:
        after = encode_cursor(page.next_after)
        paging["next"] = {"after": after, "link": _link(url, "after", after)}
    if page.prev_before is not None:
        before = encode_cursor(page.prev_before)
        paging["prev"] = {"before": before, "link": _link(url, "before", before)}
    if paging:
        body["paging"] = paging
    return responses.json(body)


async def list_event_types(request: Request) -> Response:
    ctx, who = await _reader(request)
    names = await run_in_threadpool(service.event_types, ctx.db, who.portal_id)
    return responses.json({"eventTypes": names})


async def _reader(request: Request) -> tuple[AppContext, Principal]:
    ctx, who = await principal(request)
    who.require_any(*READ_SCOPES)
    return ctx, who


def _link(url: URL, name: str, cursor: str) -> str:
    return str(url.include_query_params(**{name: cursor}))


def _event(e: EventView) -> dict[str, Any]:
    return {
        "objectType": e.object_type,
        "objectId": str(e.object_id),
        "eventType": e.event_type,
        "occurredAt": iso_from_ms(e.occurred_at),
        "id": e.id,
        "properties": e.properties,
    }


routes = [
    Route(BASE, list_events, methods=["GET"]),
    Route(BASE + "/event-types", list_event_types, methods=["GET"]),
]
