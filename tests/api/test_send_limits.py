"""429 RATE_LIMITS: when the writer's queue is full, and with a per-portal send rate."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace

from sqlalchemy import text
from starlette.testclient import TestClient

from occur.app import create_app
from occur.config import Settings
from occur.store.db import Database
from tests.conftest import Tenant
from tests.support.events import define, stored_events
from tests.support.http import expect_error


def eventually(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition never held"
        time.sleep(0.005)


@contextmanager
def store_held(db: Database) -> Iterator[None]:
    """Hold the store so that the writer's next transaction waits (SQLite: the write lock;
    PostgreSQL: inserts into the events table; reads go on)."""
    release = threading.Event()
    held = threading.Event()

    def hold() -> None:
        with db.write() as conn:
            if not db.is_sqlite:
                conn.execute(text("LOCK TABLE events IN EXCLUSIVE MODE"))
            held.set()
            release.wait(20)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(10)
    try:
        yield
    finally:
        release.set()
        holder.join()


def test_a_full_queue_answers_429_with_retry_after(
    settings: Settings, db: Database, tenant: Tenant
) -> None:
    small = replace(settings, ingest_queue_events=1)
    app = create_app(small, db)
    with TestClient(app, raise_server_exceptions=False) as api:
        api.headers.update(tenant.headers)
        define(api, {"label": "X", "name": "x"})
        body = {"eventName": f"pe{tenant.portal_id}_x", "utk": "cookie"}
        writer = app.state.ctx.ingest.writer
        answers: list[int] = []
        assert api.post("/events/v3/send", json=body).status_code == 204  # definition cached

        def post() -> None:
            answers.append(api.post("/events/v3/send", json=body).status_code)

        with store_held(db):
            first = threading.Thread(target=post)
            first.start()
            eventually(lambda: writer.committing == 1)  # taken, and waiting on the store
            second = threading.Thread(target=post)
            second.start()
            eventually(lambda: writer.queued_weight == 1)  # queued behind it: queue full
            r = api.post("/events/v3/send", json=body)
            expect_error(r, 429, "RATE_LIMITS")
            assert r.headers["Retry-After"] == "1"
        first.join()
        second.join()
        assert answers == [204, 204]
        assert len(stored_events(db)) == 3
        assert api.post("/events/v3/send", json=body).status_code == 204


def test_a_per_portal_rate_limit_answers_429(
    settings: Settings, db: Database, tenant: Tenant, other_tenant: Tenant
) -> None:
    limited = replace(settings, send_rate_per_second=2)
    with TestClient(create_app(limited, db), raise_server_exceptions=False) as api:
        for who in (tenant, other_tenant):
            define_for = {"Authorization": f"Bearer {who.token}"}
            r = api.post("/events/v3/event-definitions", json={"label": "X", "name": "x"},
                         headers=define_for)  # fmt: skip
            assert r.status_code == 201

        def send(who: Tenant) -> int:
            body = {"eventName": f"pe{who.portal_id}_x", "utk": "cookie"}
            headers = {"Authorization": f"Bearer {who.token}"}
            r = api.post("/events/v3/send", json=body, headers=headers)
            if r.status_code == 429:
                expect_error(r, 429, "RATE_LIMITS")
                assert int(r.headers["Retry-After"]) >= 1
            return r.status_code

        assert [send(tenant) for _ in range(3)] == [204, 204, 429]
        assert send(other_tenant) == 204  # another portal has its own budget
        time.sleep(0.6)  # two a second: one more is allowed after half a second
        assert send(tenant) == 204
        assert len(stored_events(db)) == 4
