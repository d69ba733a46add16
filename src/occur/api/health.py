"""GET /healthz: 200 once the store answers, 503 while it does not."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from occur.api import responses
from occur.api.context import context


async def healthz(request: Request) -> Response:
    if await run_in_threadpool(context(request).db.ping):
        return responses.json({"status": "ok"})
    return responses.json({"status": "unavailable", "message": "The store does not answer."}, 503)


routes = [Route("/healthz", healthz, methods=["GET"])]
