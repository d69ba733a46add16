"""The tracking script's collector: `POST /collect/{portalId}`, its CORS preflight, and
the image fallback `GET /collect/{portalId}.gif?d=…` (docs/tracking.md).

Public routes (no token), called from customers' pages on other origins: every answer
to an allowed origin carries that origin in `Access-Control-Allow-Origin`, errors
included, so that the script can read why a beacon was refused. The pixel always
answers a 1x1 GIF, whatever happened; its status says what.
"""

from __future__ import annotations

import base64
import binascii

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from occur.api import responses
from occur.api.context import context
from occur.api.requests import MiB, decode_json, read_json
from occur.domain.beacons import read_beacon
from occur.errors import FieldError, NotFound, OccurError, RateLimited, ValidationError

BASE = "/collect/{portal_id:int}"
BODY_LIMIT_BYTES = 1 * MiB
# The pixel's `d`: 16 KiB of JSON, as base64url (4 characters per 3 bytes).
PIXEL_DATA_LIMIT_CHARS = (16 * 1024 * 4 + 2) // 3
MAX_PORTAL_ID = 2**31 - 1  # portals.id is a 32-bit integer on PostgreSQL
PREFLIGHT_MAX_AGE_SECONDS = 86_400
# The smallest transparent 1x1 GIF (GIF89a, one transparent pixel).
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


async def collect(request: Request) -> Response:
    origin = request.headers.get("origin")
    allowed = False
    try:
        _check_address(request)  # first: a flood of made-up portals costs no query
        portal_id = await _check_site(request, origin or request.headers.get("referer"))
        allowed = True
        body = await read_json(request, BODY_LIMIT_BYTES)
        await _store(request, portal_id, body)
    except OccurError as exc:
        return _cors(responses.render_error(exc), origin if allowed else None)
    return _cors(responses.no_content(), origin)


async def preflight(request: Request) -> Response:
    """CORS preflight: only a browser sending JSON as `application/json` needs one (the
    script sends `text/plain`, which does not)."""
    origin = request.headers.get("origin")
    try:
        await _check_site(request, origin)
    except OccurError as exc:
        return responses.render_error(exc)
    response = _cors(Response(status_code=204), origin)
    response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = "Content-Type"
    response.headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE_SECONDS)
    return response


async def pixel(request: Request) -> Response:
    """The same beacon as base64url JSON in `d`, for browsers without fetch."""
    status, retry_after = 200, None
    try:
        _check_address(request)
        portal_id = await _check_site(request, request.headers.get("referer"))
        body = decode_json(_pixel_data(request.query_params.get("d")))
        await _store(request, portal_id, body)
    except OccurError as exc:
        status = exc.status
        if isinstance(exc, RateLimited):
            retry_after = exc.retry_after_seconds
    response = Response(PIXEL, status_code=status, media_type="image/gif")
    response.headers["Cache-Control"] = "no-store"
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


async def _check_site(request: Request, page: str | None) -> int:
    portal_id = _portal_id(request)
    await context(request).collector.check_site(portal_id, page)
    return portal_id


def _check_address(request: Request) -> None:
    """By the client's address (the proxy's X-Forwarded-For under OCCUR_TRUST_PROXY,
    which uvicorn applies before occur sees the request)."""
    if request.client is not None:
        context(request).collector.check_address(request.client.host)


async def _store(request: Request, portal_id: int, body: object) -> None:
    beacon = read_beacon(body)
    agent = request.headers.get("user-agent", "")
    await context(request).collector.collect(portal_id, beacon, agent)


def _portal_id(request: Request) -> int:
    portal_id: int = request.path_params["portal_id"]
    if not 0 < portal_id <= MAX_PORTAL_ID:
        raise NotFound("There is no portal with this id.")
    return portal_id


def _pixel_data(data: str | None) -> bytes:
    if not data:
        raise _bad_pixel("The pixel needs the beacon as base64url JSON in `d`.")
    if len(data) > PIXEL_DATA_LIMIT_CHARS:
        raise _bad_pixel("`d` holds more than 16 KiB; send the beacon by POST instead.")
    try:
        return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    except (binascii.Error, ValueError):
        raise _bad_pixel("`d` is not base64url.") from None


def _bad_pixel(message: str) -> ValidationError:
    return ValidationError(message, errors=[FieldError(message, in_="d", code="INVALID")])


def _cors(response: Response, origin: str | None) -> Response:
    """Let the page read the answer: echo its (allowed) origin; no credentials."""
    response.headers["Vary"] = "Origin"
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
    return response


routes = [
    Route(BASE, collect, methods=["POST"]),
    Route(BASE, preflight, methods=["OPTIONS"]),
    Route(f"{BASE}.gif", pixel, methods=["GET"]),
]
