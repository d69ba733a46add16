"""create_app(settings): routes, middleware, error handlers. No logic lives here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware

from occur.api import (
    collector,
    crm,
    definitions,
    events,
    health,
    imports,
    responses,
    script,
    send,
)
from occur.api.context import AppContext
from occur.api.paths import CanonicalPaths
from occur.config import Settings
from occur.errors import OccurError
from occur.services import imports as import_service
from occur.services.access import Authenticator
from occur.services.accounts import SetupCode
from occur.services.collect import Collector, CollectSettings
from occur.services.import_revert import ImportReverter
from occur.services.import_runner import ImportRunner
from occur.services.ingest import Ingest, IngestSettings
from occur.services.jobs import Chore, Handler, Worker, prune_finished
from occur.store.db import Database, open_database
from occur.ui import routes as ui
from occur.ui.web import PageError


def create_app(
    settings: Settings, db: Database | None = None, setup_code: SetupCode | None = None
) -> Starlette:
    """Build the ASGI app; the caller runs migrations first (see `occur serve`).

    `setup_code` opens first-run sign-up in the web app (printed by `occur serve`)."""
    db = db or open_database(settings.database_url)
    ingest = ingest_for(db, settings)

    worker = job_worker(db, ingest, settings)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        worker.start()
        yield
        worker.stop()  # a running import stops between chunks and resumes at next start
        ingest.close()  # what was accepted into the queue is stored before exit

    app = Starlette(
        routes=[
            *health.routes,
            *definitions.routes,
            *send.routes,
            *collector.routes,
            *script.routes,
            *events.routes,
            *crm.routes,
            *imports.routes,
            *ui.routes,
        ],
        lifespan=lifespan,
        middleware=[Middleware(CanonicalPaths)],
        exception_handlers={
            OccurError: ui.wrap_for_pages(responses.on_occur_error),
            PageError: ui.on_page_error,
            HTTPException: ui.wrap_for_pages(responses.on_http_error),
            Exception: ui.wrap_for_pages(responses.on_unexpected),
        },
    )
    app.state.ctx = AppContext(
        settings=settings,
        db=db,
        authenticator=Authenticator(db),
        ingest=ingest,
        collector=Collector(
            db,
            ingest,
            CollectSettings(
                visitor_rate_per_second=settings.collect_visitor_rate_per_second,
                address_rate_per_second=settings.collect_address_rate_per_second,
            ),
        ),
        setup_code=setup_code,
        worker=worker,
    )
    return app


def ingest_for(db: Database, settings: Settings) -> Ingest:
    """The process's ingestion: definition cache, rate limits and the writer thread."""
    return Ingest(
        db,
        IngestSettings(
            create_contacts_from_email=settings.create_contacts_from_email,
            queue_events=settings.ingest_queue_events,
            send_rate_per_second=settings.send_rate_per_second,
        ),
    )


def job_worker(db: Database, ingest: Ingest, settings: Settings) -> Worker:
    """The worker that runs durable jobs: imports and their reverts (through `ingest`'s
    writer)."""
    runner = ImportRunner(db, ingest, settings.data_dir)
    cleanup = Chore(
        "discard abandoned uploads",
        every_seconds=3600,
        run=lambda: import_service.discard_abandoned_uploads(db, settings),
    )
    prune = Chore("forget finished jobs", every_seconds=3600, run=lambda: prune_finished(db))
    handlers: dict[str, Handler] = {
        import_service.KIND: runner,
        import_service.REVERT_KIND: ImportReverter(db, ingest),
    }
    return Worker(db, handlers, chores=[cleanup, prune])
