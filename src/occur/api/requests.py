"""Reading request bodies (bounded) and query parameters, with HubSpot-style errors."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.requests import Request

from occur.errors import FieldError, PayloadTooLarge, ValidationError

MiB = 1024 * 1024
DEFAULT_BODY_LIMIT_BYTES = 1 * MiB
MAX_CURSOR_DIGITS = 18  # cursors are row ids, which fit a signed 64-bit integer


async def read_json(request: Request, limit_bytes: int = DEFAULT_BODY_LIMIT_BYTES) -> Any:
    """Decode the JSON body, refusing it once it grows past limit_bytes (413)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit_bytes:
        raise _too_large(limit_bytes)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit_bytes:
            raise _too_large(limit_bytes)
        chunks.append(chunk)
    return decode_json(b"".join(chunks))


def decode_json(raw: bytes) -> Any:
    """Decode a JSON body read some other way (the collector's pixel carries it in its
    query), with the same errors as read_json."""
    if not raw.strip():
        raise ValidationError(
            "The request needs a JSON body.",
            errors=[FieldError("Missing body.", in_="body", code="REQUIRED")],
        )
    try:
        return msgspec.json.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        reason = str(exc)
    except RecursionError:
        reason = "nested too deeply"
    raise ValidationError(
        f"The body is not valid JSON: {reason}.",
        errors=[FieldError(reason, in_="body", code="MALFORMED_JSON")],
    )


def _too_large(limit_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The request body is larger than this route accepts ({limit_bytes} bytes)."
    )


def query_int(request: Request, name: str, *, default: int, minimum: int, maximum: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _bad_param(name, f"{name} must be a whole number; got {raw!r}.") from None
    if not minimum <= value <= maximum:
        raise _bad_param(name, f"{name} must be between {minimum} and {maximum}; got {value}.")
    return value


def query_bool(request: Request, name: str, *, default: bool) -> bool:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise _bad_param(name, f"{name} must be true or false; got {raw!r}.")


def query_list(request: Request, name: str) -> list[str]:
    """A list parameter sent repeated (`a=1&a=2`) or comma-joined (`a=1,2`)."""
    values: list[str] = []
    for raw in request.query_params.getlist(name):
        values.extend(part.strip() for part in raw.split(",") if part.strip())
    return values


def query_cursor(request: Request, name: str = "after") -> int | None:
    """Decode an opaque paging cursor that occur issued (a positive id)."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > MAX_CURSOR_DIGITS:
        raise _bad_param(name, f"{name} is not a paging cursor this server issued: {raw!r}.")
    return int(raw)


def _bad_param(name: str, message: str) -> ValidationError:
    return ValidationError(message, errors=[FieldError(message, in_=name, code="INVALID")])
