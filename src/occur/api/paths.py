"""Path aliases: one handler serves HubSpot's date-versioned and trailing-slash forms.

Rewriting the path before routing keeps every alias in this one table instead of a
route per spelling.
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Receive, Scope, Send

_VERSION = r"\d{4}-\d{2}(?:-beta)?"
_ALIASES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(rf"^/events/event-occurrences/{_VERSION}(?=/|$)"), "/events/v3/events"),
    (re.compile(rf"^/events/custom/{_VERSION}(?=/|$)"), "/events/v3"),
    (re.compile(rf"^/events/{_VERSION}(?=/|$)"), "/events/v3"),
)


def canonical_path(path: str) -> str:
    """The path occur routes on: aliases resolved, trailing slash dropped."""
    for pattern, target in _ALIASES:
        if pattern.match(path):
            path = pattern.sub(target, path, count=1)
            break
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    return path


class CanonicalPaths:
    """ASGI middleware that routes every alias on its canonical path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = canonical_path(scope["path"])
            if path != scope["path"]:
                scope = dict(scope, path=path, raw_path=path.encode())
        await self.app(scope, receive, send)
