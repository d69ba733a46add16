"""Data ▸ Custom events: the list of a portal's event types, with their recent use."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from occur.domain.definitions import EventDefinition
from occur.services import definitions, event_stats
from occur.services.clock import now_ms
from occur.services.definitions import ListQuery
from occur.services.event_stats import EventStats
from occur.ui.web import portal_page, render

# What the list shows for each trackingType: how the event was created.
METHOD_LABELS = {
    "MANUAL": "Send data via API",
    "CUSTOM_SCRIPT": "JavaScript code",
    "CLICKED_ELEMENT": "Visual event: clicked element",
    "VISITED_URL": "Visual event: visited URL",
    "IMPORT": "Import spreadsheet",
}
# The list shows every event type at once: a portal holds at most a few hundred.
MAX_LISTED = 1000
SORTS = ("name", "method", "completions", "last", "created")


@dataclass(frozen=True)
class Row:
    definition: EventDefinition
    method: str
    stats: EventStats


async def event_list(request: Request) -> Response:
    page = await portal_page(request)
    search = request.query_params.get("q", "").strip()[:100]
    sort = request.query_params.get("sort", "created")
    sort = sort if sort in SORTS else "created"
    descending = request.query_params.get("dir", "desc") != "asc"
    query = ListQuery(
        search=search or None,
        limit=MAX_LISTED,
        after_id=None,
        include_properties=False,
        descending=True,
    )
    db = page.ctx.db
    found = await run_in_threadpool(definitions.list_page, db, page.portal_id, query)
    stats = await run_in_threadpool(event_stats.event_list_stats, db, page.portal_id, now_ms())
    rows = [
        Row(d, METHOD_LABELS.get(d.tracking_type, d.tracking_type), stats.get(d.id, _NONE))
        for d in found.definitions
    ]
    rows.sort(key=_SORT_KEYS[sort], reverse=descending)
    return render(
        request,
        "events_list.html",
        {
            "rows": rows,
            "search": search,
            "sort": sort,
            "descending": descending,
            "deleted": request.query_params.get("deleted", "")[:100],
            "total": found.total,
        },
        page=page,
    )


_NONE = EventStats(completions_30d=0, last_completion_ms=None)
_SORT_KEYS = {
    "name": lambda r: r.definition.label.casefold(),
    "method": lambda r: r.method,
    "completions": lambda r: r.stats.completions_30d,
    "last": lambda r: r.stats.last_completion_ms or 0,
    "created": lambda r: r.definition.created_at,
}

routes = [Route("/app/{portal_id:int}/events", event_list, methods=["GET"])]
