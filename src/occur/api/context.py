"""What every handler needs, built once per app and kept on `app.state.ctx`."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from occur.config import Settings
from occur.domain.access import Principal
from occur.domain.rate_limits import FailureLimiter
from occur.services.access import Authenticator
from occur.services.accounts import SetupCode
from occur.services.collect import Collector
from occur.services.ingest import Ingest
from occur.services.jobs import Worker
from occur.services.tracking_script import ScriptCache
from occur.store.db import Database


@dataclass(frozen=True)
class AppContext:
    settings: Settings
    db: Database
    authenticator: Authenticator
    ingest: Ingest
    collector: Collector  # the tracking script's collector, on top of `ingest`
    # Runs durable jobs (imports) in this process; wake() it after queueing one.
    worker: Worker | None = None
    # Printed by `occur serve` while no user exists; None: first-run sign-up is closed.
    setup_code: SetupCode | None = None
    # Per address: 10 wrong passwords in 15 minutes, then wait (an online guessing cap).
    sign_in_failures: FailureLimiter = field(
        default_factory=lambda: FailureLimiter(max_failures=10, window_seconds=900)
    )
    # Each portal's assembled tracking script, rebuilt when what it carries changes.
    tracking_scripts: ScriptCache = field(default_factory=ScriptCache)


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
