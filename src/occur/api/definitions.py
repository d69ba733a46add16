"""/events/v3/event-definitions: thin handlers over services.definitions."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from occur.api import responses, wire
from occur.api.context import principal
from occur.api.requests import query_bool, query_cursor, query_int, read_json
from occur.domain.fields import NUL
from occur.domain.scopes import EVENT_DEFINITIONS
from occur.errors import FieldError, ValidationError
from occur.services import definitions as service

BASE = "/events/v3/event-definitions"
MAX_PAGE = 100
_SORT_ORDERS = {"ASC": False, "ASCENDING": False, "DESC": True, "DESCENDING": True}


async def list_definitions(request: Request) -> Response:
    ctx, who = await principal(request, EVENT_DEFINITIONS)
    include = query_bool(request, "includeProperties", default=False)
    query = service.ListQuery(
        search=_search_string(request),
        limit=query_int(request, "limit", default=MAX_PAGE, minimum=1, maximum=MAX_PAGE),
        after_id=query_cursor(request),
        include_properties=include,
        descending=_sort_order(request),
    )
    page = await run_in_threadpool(service.list_page, ctx.db, who.portal_id, query)
    body: dict[str, object] = {
        "total": page.total,
        "results": [wire.definition(d, include_properties=include) for d in page.definitions],
    }
    if page.next_after is not None:
        after = str(page.next_after)
        link = str(request.url.include_query_params(after=after))
        body["paging"] = {"next": {"after": after, "link": link}}
    return responses.json(body)


async def create_definition(request: Request) -> Response:
    ctx, who = await principal(request, EVENT_DEFINITIONS)
    body = await read_json(request)
    created = await run_in_threadpool(
        lambda: service.create(
            ctx.db, who.portal_id, body, max_definitions=ctx.settings.max_definitions
        )
    )
    return responses.json(wire.definition(created), 201)


async def get_definition(request: Request) -> Response:
    ctx, who = await principal(request, EVENT_DEFINITIONS)
    found = await run_in_threadpool(
        service.get, ctx.db, who.portal_id, request.path_params["event_name"]
    )
    return responses.json(wire.definition(found))


async def update_definition(request: Request) -> Response:
    ctx, who = await principal(request, EVENT_DEFINITIONS)
    body = await read_json(request)
    updated = await run_in_threadpool(
        service.update, ctx.db, who.portal_id, request.path_params["event_name"], body
    )
    return responses.json(wire.definition(updated), 201)


async def delete_definition(request: Request) -> Response:
    ctx, who = await principal(request, EVENT_DEFINITIONS)
    await run_in_threadpool(
        service.delete, ctx.db, who.portal_id, request.path_params["event_name"]
    )
    return responses.no_content()


async def create_property(request: Request) -> Response:
    ctx, who = await principal(request, EVENT_DEFINITIONS)
    body = await read_json(request)
    created = await run_in_threadpool(
        service.add_property, ctx.db, who.portal_id, request.path_params["event_name"], body
    )
    return responses.json(wire.prop(created), 201)


async def update_property(request: Request) -> Response:
    ctx, who = await principal(request, EVENT_DEFINITIONS)
    body = await read_json(request)
    updated = await run_in_threadpool(
        service.update_property,
        ctx.db,
        who.portal_id,
        request.path_params["event_name"],
        request.path_params["property_name"],
        body,
    )
    return responses.json(wire.prop(updated), 201)


async def delete_property(request: Request) -> Response:
    ctx, who = await principal(request, EVENT_DEFINITIONS)
    await run_in_threadpool(
        service.delete_property,
        ctx.db,
        who.portal_id,
        request.path_params["event_name"],
        request.path_params["property_name"],
    )
    return responses.no_content()


def _search_string(request: Request) -> str | None:
    raw = request.query_params.get("searchString") or None
    if raw is not None and NUL in raw:
        # No stored name or label holds one, and PostgreSQL refuses it in a query.
        message = "searchString must not contain the NUL character (U+0000)."
        raise ValidationError(message, errors=[FieldError(message, in_="searchString")])
    return raw


def _sort_order(request: Request) -> bool:
    raw = request.query_params.get("sortOrder")
    if not raw:
        return False
    if raw.upper() not in _SORT_ORDERS:
        message = f"sortOrder must be ASC or DESC; got {raw!r}."
        raise ValidationError(message, errors=[FieldError(message, in_="sortOrder")])
    return _SORT_ORDERS[raw.upper()]


routes = [
    Route(BASE, list_definitions, methods=["GET"]),
    Route(BASE, create_definition, methods=["POST"]),
    Route(BASE + "/{event_name}", get_definition, methods=["GET"]),
    Route(BASE + "/{event_name}", update_definition, methods=["PATCH"]),
    Route(BASE + "/{event_name}", delete_definition, methods=["DELETE"]),
    Route(BASE + "/{event_name}/property", create_property, methods=["POST"]),
    Route(BASE + "/{event_name}/property/{property_name}", update_property, methods=["PATCH"]),
    Route(BASE + "/{event_name}/property/{property_name}", delete_property, methods=["DELETE"]),
]
