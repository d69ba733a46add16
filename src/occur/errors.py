"""One exception hierarchy for every failure a client can be told about.

Each class carries the HTTP status and HubSpot category; its docstring is the default
message. Only `api/responses.py` turns these into JSON, so the error shape lives in one
place. Domain code raises them too: this module imports nothing but the standard library.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldError:
    """One problem with one field, rendered as an entry of `errors[]`."""

    message: str
    in_: str | None = None
    code: str | None = None
    context: Mapping[str, Sequence[str]] = field(default_factory=dict)


class OccurError(Exception):
    """An unexpected error occurred."""

    status = 500
    category = "INTERNAL_ERROR"

    def __init__(
        self,
        message: str | None = None,
        *,
        errors: Sequence[FieldError] = (),
        sub_category: str | None = None,
        context: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.message = message or (self.__doc__ or "").strip()
        self.errors = tuple(errors)
        self.sub_category = sub_category
        self.context = dict(context or {})
        super().__init__(self.message)


class ValidationError(OccurError):
    """Invalid input."""

    status = 400
    category = "VALIDATION_ERROR"


class InvalidAuthentication(OccurError):
    """Authentication credentials not found or invalid. Send `Authorization: Bearer <token>`."""

    status = 401
    category = "INVALID_AUTHENTICATION"


class MissingScopes(OccurError):
    """This access token does not have the scopes this request needs."""

    status = 403
    category = "MISSING_SCOPES"


class OriginNotAllowed(OccurError):
    """This site is not on the portal's allowed domains (Settings, Tracking code)."""

    status = 403
    category = "FORBIDDEN"


class NotFound(OccurError):
    """The requested object was not found."""

    status = 404
    category = "OBJECT_NOT_FOUND"


class RouteNotFound(OccurError):
    """No such route."""

    status = 404
    category = "OBJECT_NOT_FOUND"


class MethodNotAllowed(OccurError):
    """This method is not allowed on this route."""

    status = 405
    category = "VALIDATION_ERROR"


class Conflict(OccurError):
    """The request conflicts with an existing object."""

    status = 409
    category = "CONFLICT"


class PayloadTooLarge(OccurError):
    """The request body is larger than this route accepts."""

    status = 413
    category = "VALIDATION_ERROR"


class UnsupportedMediaType(OccurError):
    """Send the body as JSON with `Content-Type: application/json`."""

    status = 415
    category = "VALIDATION_ERROR"


class RateLimited(OccurError):
    """Too many requests; retry after the number of seconds in the Retry-After header."""

    status = 429
    category = "RATE_LIMITS"

    def __init__(self, message: str | None = None, *, retry_after_seconds: int = 1) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class Unavailable(OccurError):
    """The service cannot store this now; nothing was stored. Retry the request."""

    status = 503
    category = "SERVICE_UNAVAILABLE"


def collect(problems: Sequence[FieldError], message: str | None = None) -> None:
    """Raise one ValidationError holding every problem found, if there is any."""
    if problems:
        raise ValidationError(message or _summary(problems), errors=problems)


def _summary(problems: Sequence[FieldError]) -> str:
    if len(problems) == 1:
        return problems[0].message
    return (
        f"{len(problems)} problems with the request: "
        + "; ".join(p.message for p in problems[:5])
        + ("; …" if len(problems) > 5 else "")
    )
