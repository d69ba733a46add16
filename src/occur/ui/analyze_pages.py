"""An event's Analyze tab: completions over time as a Plotly chart, its numbers as a
table and a CSV download, with a filter and a breakdown."""

from __future__ import annotations

import json
from functools import partial
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from occur.domain.analysis import (
    RANGE_PRESET_DAYS,
    Analysis,
    AnalysisQuery,
    Interval,
    Metric,
    read_analysis_query,
)
from occur.domain.definitions import EventDefinition
from occur.errors import OccurError
from occur.services import accounts, analysis
from occur.services.clock import now_ms
from occur.ui.assets import PLOTLY_URL
from occur.ui.event_pages import event_of, event_values
from occur.ui.web import PortalPage, portal_page, render

_INTERVAL_LABELS = {Interval.DAY: "Day", Interval.WEEK: "Week", Interval.MONTH: "Month"}


async def analyze_tab(request: Request) -> Response:
    page = await portal_page(request)
    definition = await event_of(request, page)
    later = request.query_params.get("complete") != "1"
    try:
        query, result = await _analysis(request, page, definition, rest_later=later)
    except OccurError as exc:
        return _page(request, page, definition, None, None, exc, status=400)
    return _page(request, page, definition, query, result, None)


async def analyze_rest(request: Request) -> Response:
    """The "Other" and "(no value)" lines the tab left for later: analyze.js asks for
    them once the page shows (without script, they link to the page counted in full)."""
    page = await portal_page(request)
    definition = await event_of(request, page)
    try:
        query = await _query(request, page)
        other, no_value = await run_in_threadpool(
            analysis.breakdown_rest, page.ctx.db, page.portal_id, definition.id, query
        )
    except OccurError as exc:
        return JSONResponse({"message": exc.message}, status_code=400)
    return JSONResponse(
        {"other": other, "noValue": no_value}, headers={"Cache-Control": "no-store"}
    )


async def analyze_csv(request: Request) -> Response:
    page = await portal_page(request)
    definition = await event_of(request, page)
    try:
        query, result = await _analysis(request, page, definition)
    except OccurError as exc:
        return Response(exc.message, status_code=400, media_type="text/plain")
    filename = f"{definition.name}-{query.interval}-{query.start}-{query.end}.csv"
    return Response(
        analysis.result_csv(result),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


async def _analysis(
    request: Request,
    page: PortalPage,
    definition: EventDefinition,
    *,
    rest_later: bool = False,
) -> tuple[AnalysisQuery, Analysis]:
    query = await _query(request, page)
    result = await run_in_threadpool(
        partial(analysis.analyze, rest_later=rest_later),
        page.ctx.db,
        page.portal_id,
        definition.id,
        query,
    )
    return query, result


async def _query(request: Request, page: PortalPage) -> AnalysisQuery:
    portal = await run_in_threadpool(accounts.portal, page.ctx.db, page.portal_id)
    return read_analysis_query(
        request.query_params.multi_items(),
        now_ms=now_ms(),
        time_zone=portal.time_zone,
        week_start=portal.week_start,
    )


def _page(
    request: Request,
    page: PortalPage,
    definition: EventDefinition,
    query: AnalysisQuery | None,
    result: Analysis | None,
    error: OccurError | None,
    status: int = 200,
) -> Response:
    params = request.query_params
    choices = [(p.name, p.label) for p in definition.custom_properties] + [
        (p.name, p.label) for p in definition.properties if p.hubspot_defined
    ]
    return render(
        request,
        "event_analyze.html",
        {
            **event_values(definition, "analyze"),
            "query": query,
            "result": result,
            "error": error,
            "form": {k: params.get(k, "") for k in _FORM_FIELDS},
            "presets": [(key, f"Last {days} days") for key, days in RANGE_PRESET_DAYS.items()],
            "intervals": [(i.value, label) for i, label in _INTERVAL_LABELS.items()],
            "metrics": [(m.value, m.label) for m in Metric],
            "properties": choices,
            "figure": _figure(result) if result else None,
            "labels": _bucket_labels(result) if result else [],
            "csv_query": str(params),
            "complete_query": _with_complete(request),
            "plotly_url": PLOTLY_URL,
        },
        page=page,
        status=status,
    )


_FORM_FIELDS = ("range", "start", "end", "interval", "metric", "filterProperty", "filterValue",
                "breakdown")  # fmt: skip


def _with_complete(request: Request) -> str:
    """This page's query string asking for every line counted before it shows."""
    items = [(k, v) for k, v in request.query_params.multi_items() if k != "complete"]
    return urlencode([*items, ("complete", "1")])


def _bucket_labels(result: Analysis) -> list[str]:
    return [b.start.isoformat() for b in result.buckets]


def _figure(result: Analysis) -> str:
    """The chart's data for static/analyze.js, as JSON text. It goes into an HTML
    attribute (escaped by the template), never into a script: nothing in it runs."""
    x = _bucket_labels(result)
    return json.dumps(
        {
            "x": x,
            "series": [{"name": s.label, "y": list(s.counts)} for s in result.series],
            "interval": result.query.interval.value,
            "metric": result.query.metric.label,
        }
    )


_E = "/app/{portal_id:int}/events/{name:str}"
routes = [
    Route(_E, analyze_tab, methods=["GET"]),
    Route(f"{_E}/analyze.csv", analyze_csv, methods=["GET"]),
    Route(f"{_E}/analyze/rest", analyze_rest, methods=["GET"]),
]
