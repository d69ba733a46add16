"""/crm/v3/objects/{objectType}/batch/*: thin handlers over services.crm_batch."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from occur.api import crm_wire, responses
from occur.api.crm_access import access
from occur.api.requests import query_bool, read_json
from occur.errors import NotFound
from occur.services import crm_batch as service
from occur.services.clock import now_ms


async def create(request: Request) -> Response:
    a = await access(request, write=True)
    body = await read_json(request)
    started = now_ms()
    created = await run_in_threadpool(service.create_many, a.db, a.portal_id, a.object_type, body)
    results = [crm_wire.record(v) for v in created]
    return responses.json(crm_wire.batch(results, started, now_ms()), 201)


async def read(request: Request) -> Response:
    """200 when every id named a record; 207 with an OBJECT_NOT_FOUND error naming the
    ids that did not, as HubSpot answers."""
    a = await access(request, write=False)
    archived = query_bool(request, "archived", default=False)
    body = await read_json(request)
    started = now_ms()
    found = await run_in_threadpool(
        lambda: service.read_many(a.db, a.portal_id, a.object_type, body, archived=archived)
    )
    out = crm_wire.batch([crm_wire.record(v) for v in found.results], started, now_ms())
    if not found.missing:
        return responses.json(out)
    missing = NotFound(
        f"Could not get some {a.object_type.primary_object} objects, they may be deleted "
        "or not exist. Check that ids are valid.",
        context={"ids": found.missing},
    )
    out["numErrors"] = 1
    out["errors"] = [responses.standard_error(missing)]
    return responses.json(out, 207)


async def update(request: Request) -> Response:
    a = await access(request, write=True)
    body = await read_json(request)
    started = now_ms()
    updated = await run_in_threadpool(service.update_many, a.db, a.portal_id, a.object_type, body)
    results = [crm_wire.record(v) for v in updated]
    return responses.json(crm_wire.batch(results, started, now_ms()))


async def upsert(request: Request) -> Response:
    a = await access(request, write=True)
    body = await read_json(request)
    started = now_ms()
    upserted = await run_in_threadpool(service.upsert_many, a.db, a.portal_id, a.object_type, body)
    results = [{**crm_wire.record(u.view), "new": u.new} for u in upserted]
    return responses.json(crm_wire.batch(results, started, now_ms()))


async def archive(request: Request) -> Response:
    a = await access(request, write=True)
    body = await read_json(request)
    await run_in_threadpool(service.archive_many, a.db, a.portal_id, a.object_type, body)
    return responses.no_content()


def routes(base: str) -> list[Route]:
    return [
        Route(base + "/batch/create", create, methods=["POST"]),
        Route(base + "/batch/read", read, methods=["POST"]),
        Route(base + "/batch/update", update, methods=["POST"]),
        Route(base + "/batch/upsert", upsert, methods=["POST"]),
        Route(base + "/batch/archive", archive, methods=["POST"]),
    ]
