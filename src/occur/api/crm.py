"""/crm/v3/objects/{objectType}: thin handlers over services.crm and services.crm_batch.

`{objectType}` is contacts, companies, deals or tickets, or 0-1, 0-2, 0-3, 0-5. Reads
need the type's read or write scope, writes its write scope.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from occur.api import crm_batch, crm_wire, responses
from occur.api.crm_access import access
from occur.api.requests import query_bool, query_int, query_list, read_json
from occur.services import crm as service

BASE = "/crm/v3/objects/{object_type}"
DEFAULT_PAGE = 10
MAX_PAGE = 100


async def list_objects(request: Request) -> Response:
    a = await access(request, write=False)
    limit = query_int(request, "limit", default=DEFAULT_PAGE, minimum=1, maximum=MAX_PAGE)
    archived = query_bool(request, "archived", default=False)
    properties = query_list(request, "properties")
    after = request.query_params.get("after")
    page = await run_in_threadpool(
        lambda: service.list_page(
            a.db,
            a.portal_id,
            a.object_type,
            limit=limit,
            after=after,
            archived=archived,
            properties=properties,
        )
    )
    body: dict[str, object] = {"results": [crm_wire.record(v) for v in page.results]}
    if page.next_after is not None:
        link = str(request.url.include_query_params(after=page.next_after))
        body["paging"] = {"next": {"after": page.next_after, "link": link}}
    return responses.json(body)


async def create_object(request: Request) -> Response:
    a = await access(request, write=True)
    body = await read_json(request)
    created = await run_in_threadpool(service.create, a.db, a.portal_id, a.object_type, body)
    return responses.json(crm_wire.record(created), 201)


async def get_object(request: Request) -> Response:
    a = await access(request, write=False)
    archived = query_bool(request, "archived", default=False)
    properties = query_list(request, "properties")
    id_property = request.query_params.get("idProperty")
    found = await run_in_threadpool(
        lambda: service.get(
            a.db,
            a.portal_id,
            a.object_type,
            request.path_params["object_id"],
            id_property=id_property,
            archived=archived,
            properties=properties,
        )
    )
    return responses.json(crm_wire.record(found))


async def update_object(request: Request) -> Response:
    a = await access(request, write=True)
    body = await read_json(request)
    id_property = request.query_params.get("idProperty")
    updated = await run_in_threadpool(
        lambda: service.update(
            a.db,
            a.portal_id,
            a.object_type,
            request.path_params["object_id"],
            id_property=id_property,
            body=body,
        )
    )
    return responses.json(crm_wire.record(updated))


async def archive_object(request: Request) -> Response:
    a = await access(request, write=True)
    await run_in_threadpool(
        service.archive, a.db, a.portal_id, a.object_type, request.path_params["object_id"]
    )
    return responses.no_content()


async def search(request: Request) -> Response:
    a = await access(request, write=False)
    body = await read_json(request)
    page = await run_in_threadpool(service.search, a.db, a.portal_id, a.object_type, body)
    out: dict[str, object] = {
        "total": page.total,
        "results": [crm_wire.record(v) for v in page.results],
    }
    if page.next_after is not None:
        out["paging"] = {"next": {"after": page.next_after}}
    return responses.json(out)


async def gdpr_delete(request: Request) -> Response:
    a = await access(request, write=True)
    body = await read_json(request)
    await run_in_threadpool(service.gdpr_delete, a.db, a.portal_id, a.object_type, body)
    return responses.no_content()


routes = [
    Route(BASE, list_objects, methods=["GET"]),
    Route(BASE, create_object, methods=["POST"]),
    Route(BASE + "/search", search, methods=["POST"]),
    Route(BASE + "/gdpr-delete", gdpr_delete, methods=["POST"]),
    *crm_batch.routes(BASE),
    Route(BASE + "/{object_id}", get_object, methods=["GET"]),
    Route(BASE + "/{object_id}", update_object, methods=["PATCH"]),
    Route(BASE + "/{object_id}", archive_object, methods=["DELETE"]),
]
