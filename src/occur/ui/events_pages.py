"""Data ▸ Custom events: the list of a portal's event types."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from occur.services import definitions
from occur.services.definitions import ListQuery
from occur.ui.web import portal_page, render

# What the list shows for each trackingType: how the event was created.
METHOD_LABELS = {
    "MANUAL": "Send data via API",
    "CUSTOM_SCRIPT": "JavaScript code",
    "CLICKED_ELEMENT": "Visual event: clicked element",
    "VISITED_URL": "Visual event: visited URL",
    "IMPORT": "Import spreadsheet",
}


async def event_list(request: Request) -> Response:
    page = await portal_page(request)
    search = request.query_params.get("q", "").strip()[:100]
    query = ListQuery(
        search=search or None,
        limit=500,
        after_id=None,
        include_properties=False,
        descending=True,
    )
    found = await run_in_threadpool(definitions.list_page, page.ctx.db, page.portal_id, query)
    return render(
        request,
        "events_list.html",
        {"definitions": found.definitions, "search": search, "methods": METHOD_LABELS},
        page=page,
    )


routes = [Route("/app/{portal_id:int}/events", event_list, methods=["GET"])]
