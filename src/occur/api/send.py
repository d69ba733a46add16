"""/events/v3/send and /events/v3/send/batch: thin handlers over services.ingest."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from occur.api import responses
from occur.api.context import principal
from occur.api.requests import MiB, read_json
from occur.domain.scopes import EVENTS_SEND

BASE = "/events/v3/send"
# DESIGN §3b: a single completion is small; a batch holds up to 500 of them.
SEND_BODY_LIMIT_BYTES = 1 * MiB
BATCH_BODY_LIMIT_BYTES = 16 * MiB


async def send(request: Request) -> Response:
    ctx, who = await principal(request, EVENTS_SEND)
    body = await read_json(request, SEND_BODY_LIMIT_BYTES)
    await ctx.ingest.send_one(who.portal_id, body)
    return responses.no_content()


async def send_batch(request: Request) -> Response:
    ctx, who = await principal(request, EVENTS_SEND)
    body = await read_json(request, BATCH_BODY_LIMIT_BYTES)
    await ctx.ingest.send_batch(who.portal_id, body)
    return responses.no_content()


routes = [
    Route(BASE, send, methods=["POST"]),
    Route(f"{BASE}/batch", send_batch, methods=["POST"]),
]
