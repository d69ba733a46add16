"""What every handler needs, built once per app and kept on `app.state.ctx`."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from occur.config import Settings
from occur.domain.access import Principal
from occur.services.access import Authenticator
from occur.services.ingest import Ingest
from occur.store.db import Database


@dataclass(frozen=True)
class AppContext:
    settings: Settings
    db: Database
    authenticator: Authenticator
    ingest: Ingest


def context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


async def principal(request: Request, *scopes: str) -> tuple[AppContext, Principal]:
    """Authenticate the request and check it holds every scope named."""
    ctx = context(request)
    header = request.headers.get("authorization")
    found = ctx.authenticator.cached(header)
    if found is None:
        found = await run_in_threadpool(ctx.authenticator.authenticate, header)
    found.require(*scopes)
    return ctx, found
