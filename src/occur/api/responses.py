"""The one place that renders JSON responses, and the only error renderer."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from occur.errors import MethodNotAllowed, OccurError, RateLimited, RouteNotFound

log = logging.getLogger("occur.api")
_encoder = msgspec.json.Encoder()


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return _encoder.encode(content)


def json(content: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(content, status_code=status)


def no_content() -> Response:
    return Response(status_code=204)


def error_body(exc: OccurError, correlation_id: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "status": "error",
        "message": exc.message,
        "correlationId": correlation_id,
        "category": exc.category,
    }
    if exc.sub_category:
        body["subCategory"] = exc.sub_category
    if exc.context:
        body["context"] = _context(exc.context)
    if exc.errors:
        body["errors"] = [_detail(e) for e in exc.errors]
    return body


def standard_error(exc: OccurError) -> dict[str, Any]:
    """StandardError: one entry of a batch answer's `errors[]` (a 207). Unlike Error it
    has no correlationId (the answer is a success) and always holds context, errors and
    links; its subCategory would be an object, so none is sent."""
    return {
        "status": "error",
        "category": exc.category,
        "message": exc.message,
        "context": _context(exc.context),
        "errors": [_detail(e) for e in exc.errors],
        "links": {},
    }


def _detail(error: Any) -> dict[str, Any]:
    detail: dict[str, Any] = {"message": error.message}
    if error.in_ is not None:
        detail["in"] = error.in_
    if error.code is not None:
        detail["code"] = error.code
    if error.context:
        detail["context"] = _context(error.context)
    return detail


def _context(context: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    return {k: list(v) for k, v in context.items()}


def render_error(exc: OccurError) -> JSONResponse:
    response = JSONResponse(error_body(exc, str(uuid.uuid4())), status_code=exc.status)
    if isinstance(exc, RateLimited):
        response.headers["Retry-After"] = str(exc.retry_after_seconds)
    return response


async def on_occur_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OccurError)
    return render_error(exc)


async def on_http_error(_request: Request, exc: Exception) -> Response:
    """Routing failures (unknown path, wrong method) in HubSpot's error shape."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        return render_error(MethodNotAllowed())
    if exc.status_code == 404:
        return render_error(RouteNotFound())
    error = OccurError(str(exc.detail))
    error.status = exc.status_code
    return render_error(error)


async def on_unexpected(request: Request, exc: Exception) -> Response:
    """Log the traceback; tell the client only that it failed and how to refer to it."""
    correlation_id = str(uuid.uuid4())
    log.exception("unhandled error %s on %s %s", correlation_id, request.method, request.url.path)
    body = error_body(OccurError("An internal error occurred."), correlation_id)
    return JSONResponse(body, status_code=500)
