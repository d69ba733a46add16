"""SIGKILL mid-stream: every 204 survives, no request is half stored, retries are safe.

A 204 from send or send/batch promises that the occurrences are committed durably
(DESIGN §2, group commit). This test holds occur to that with a real process: client
threads stream batches (and single sends that create contacts from new emails) at a
live `occur serve`, the server is killed with SIGKILL while requests are in flight,
restarted on the same store, and the store is read directly:

- every uuid that was acknowledged is stored, with the properties that were sent;
- every request is all or nothing, including the ones whose answer the kill swallowed
  (their events, their property rows and the contact an unknown email creates);
- the restarted server answers, stores new events, and a resent request (acknowledged
  or not) is answered 204 and leaves each uuid stored exactly once.

On SQLite and on PostgreSQL (a fresh, empty database that `occur serve` migrates).
"""

from __future__ import annotations

import itertools
import os
import signal
import threading
import time
import uuid as uuids
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from occur.config import SQLITE_FILE
from occur.store.db import Database, open_database
from occur.store.events import decode_properties
from occur.store.schema import crm_objects, event_values, events
from tests.conftest import skip_or_fail
from tests.e2e.conftest import create_portal, server_env, start_server, stop_server
from tests.support.postgres import PostgresCluster

pytestmark = pytest.mark.e2e

THREADS = 6
# The kill comes once this many events were acknowledged (a few group commits' worth).
ACK_BEFORE_KILL = 12_000
STREAM_DEADLINE_SECONDS = 30
# Every SINGLE_EVERY-th request of a thread is a single send naming a new email.
SINGLE_EVERY = 4
PROPERTIES_PER_EVENT = 2
_databases = itertools.count()


@dataclass(frozen=True)
class Store:
    env: dict[str, str]
    url: str
    log: Path


@dataclass(frozen=True)
class Request:
    """One send or send/batch body as sent; `email` is the new contact a single names."""

    key: str
    path: str
    body: dict[str, Any]
    uuids: tuple[str, ...]
    email: str | None = None


@dataclass
class Stream:
    """What the client threads sent and what became of it, under one lock."""

    acked: list[Request] = field(default_factory=list)
    acked_events: int = 0
    # No answer: the kill cut the connection (in flight) or came before it (refused).
    in_flight: list[Request] = field(default_factory=list)
    refused: list[Request] = field(default_factory=list)
    # Any other answer: a failure of the test, reported at the end.
    unexpected: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    killed: threading.Event = field(default_factory=threading.Event)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(
    request: pytest.FixtureRequest, tmp_path: Path, pg_cluster: PostgresCluster | None
) -> Iterator[Store]:
    """A fresh data dir and, for PostgreSQL, a fresh empty database on the session cluster."""
    data_dir = tmp_path / "data"
    log = tmp_path / "server.log"
    if request.param == "sqlite":
        yield Store(server_env(data_dir), f"sqlite:///{data_dir / SQLITE_FILE}", log)
        return
    if pg_cluster is None:
        skip_or_fail("PostgreSQL server binaries not found (apt-get install postgresql)")
        return
    name = f"crash{os.getpid()}_{next(_databases)}"
    pg_cluster.create_database(name)
    try:
        url = pg_cluster.url(name)
        yield Store(server_env(data_dir, url), url, log)
    finally:
        pg_cluster.drop_database(name)


def _post(client: httpx.Client, base_url: str, request: Request) -> httpx.Response:
    return client.post(base_url + request.path, json=request.body)


def _batch(event_name: str, contact_id: str, key: str, size: int) -> Request:
    ids = tuple(str(uuids.uuid4()) for _ in range(size))
    inputs = [
        {
            "eventName": event_name,
            "objectId": contact_id,
            "uuid": u,
            "occurredAt": 1_700_000_000_000 + i,
            "properties": {"batch": key, "seq": i},
        }
        for i, u in enumerate(ids)
    ]
    return Request(key, "/events/v3/send/batch", {"inputs": inputs}, ids)


def _single(event_name: str, key: str) -> Request:
    email = f"{key}@crash.example"
    u = str(uuids.uuid4())
    body = {
        "eventName": event_name,
        "email": email,
        "uuid": u,
        "properties": {"batch": key, "seq": 0},
    }
    return Request(key, "/events/v3/send", body, (u,), email)


def _stream(
    stream: Stream, number: int, base_url: str, token: str, event_name: str, contact_id: str
) -> None:
    """Send until the server dies; record each request's fate."""
    headers = {"Authorization": f"Bearer {token}"}
    sizes = itertools.cycle([50, 120, 200, 75, 160])
    with httpx.Client(headers=headers, timeout=20) as client:
        for n in itertools.count():
            key = f"t{number}-r{n}"
            if n % SINGLE_EVERY == SINGLE_EVERY - 1:
                request = _single(event_name, key)
            else:
                request = _batch(event_name, contact_id, key, next(sizes))
            try:
                r = _post(client, base_url, request)
            except httpx.ConnectError:
                with stream.lock:
                    stream.refused.append(request)
                return
            except httpx.TransportError as exc:
                with stream.lock:
                    stream.in_flight.append(request)
                    if not stream.killed.is_set():
                        stream.unexpected.append(f"{key}: {exc!r} before the kill")
                return
            with stream.lock:
                if r.status_code == 204:
                    stream.acked.append(request)
                    stream.acked_events += len(request.uuids)
                else:
                    stream.unexpected.append(f"{key}: {r.status_code} {r.text[:300]}")
                    return
            if stream.killed.is_set():
                return


def _set_up(base_url: str, token: str, portal_id: int) -> tuple[str, str]:
    """A definition with two properties and a contact; returns (eventName, contact id)."""
    headers = {"Authorization": f"Bearer {token}"}
    definition = {
        "label": "Crash test",
        "name": "crash_test",
        "primaryObject": "CONTACT",
        "propertyDefinitions": [
            {"name": "batch", "label": "Batch", "type": "string"},
            {"name": "seq", "label": "Seq", "type": "number"},
        ],
    }
    r = httpx.post(
        base_url + "/events/v3/event-definitions", json=definition, headers=headers, timeout=10
    )
    assert r.status_code == 201, r.text
    assert r.json()["fullyQualifiedName"] == f"pe{portal_id}_crash_test"
    contact = {"properties": {"email": "streamer@crash.example"}}
    r = httpx.post(base_url + "/crm/v3/objects/contacts", json=contact, headers=headers, timeout=10)
    assert r.status_code == 201, r.text
    return f"pe{portal_id}_crash_test", str(r.json()["id"])


@dataclass(frozen=True)
class Row:
    object_id: int | None
    properties: dict[str, str]


def _stored(db: Database) -> tuple[dict[str, Row], int, int]:
    """(uuid → row, events rows, event_values rows) for every stored occurrence."""
    with db.read() as conn:
        rows = conn.execute(select(events.c.uuid, events.c.object_id, events.c.properties)).all()
        values = conn.execute(select(func.count()).select_from(event_values)).scalar_one()
    by_uuid = {r.uuid: Row(r.object_id, decode_properties(r.properties)) for r in rows}
    return by_uuid, len(rows), int(values)


def _contacts(db: Database, portal_id: int) -> dict[str, int]:
    """Contact id by (lowercased) email."""
    with db.read() as conn:
        rows = conn.execute(
            select(crm_objects.c.email, crm_objects.c.id).where(
                crm_objects.c.portal_id == portal_id, crm_objects.c.object_type_id == "0-1"
            )
        ).all()
    return {r.email: int(r.id) for r in rows if r.email is not None}


def _all_or_nothing(request: Request, stored: dict[str, Row]) -> bool:
    """True when the request is stored whole; fails when it is stored in part."""
    present = [u in stored for u in request.uuids]
    assert all(present) or not any(present), (
        f"{request.key}: {sum(present)} of {len(present)} occurrences stored"
    )
    return all(present)


def _check_rows(
    request: Request, stored: dict[str, Row], contacts: dict[str, int], contact: str
) -> None:
    """The stored rows of a request carry what was sent, on the record it named."""
    for seq, u in enumerate(request.uuids):
        row = stored[u]
        assert row.properties == {"batch": request.key, "seq": str(seq)}, (request.key, row)
        expected = contacts[request.email] if request.email else int(contact)
        assert row.object_id == expected, (request.key, row.object_id, expected)


def test_sigkill_mid_stream_loses_no_acknowledged_event(store: Store) -> None:
    started = time.monotonic()
    process, base_url = start_server(store.env, store.log)
    try:
        portal_id, token = create_portal(store.env, "Crash")
        event_name, contact = _set_up(base_url, token, portal_id)

        stream = Stream()
        threads = [
            threading.Thread(
                target=_stream, args=(stream, n, base_url, token, event_name, contact), daemon=True
            )
            for n in range(THREADS)
        ]
        for thread in threads:
            thread.start()
        streaming = time.monotonic()
        deadline = streaming + STREAM_DEADLINE_SECONDS
        while True:
            with stream.lock:
                enough = stream.acked_events >= ACK_BEFORE_KILL
                failed = list(stream.unexpected)
                if enough and not failed:
                    # Under the lock: no thread records an answer between this check and
                    # the kill, so everything recorded after it belongs to the kill.
                    assert process.poll() is None, store.log.read_text()
                    stream.killed.set()
                    os.kill(process.pid, signal.SIGKILL)
                    streamed_seconds = time.monotonic() - streaming
                    break
            assert not failed, failed
            assert time.monotonic() < deadline, f"only {stream.acked_events} events acknowledged"
            time.sleep(0.005)
        process.wait(timeout=10)
        assert process.returncode == -signal.SIGKILL
        for thread in threads:
            thread.join(timeout=30)
            assert not thread.is_alive()
    finally:
        stop_server(process)
    assert not stream.unexpected, stream.unexpected
    # The kill cut requests off mid-flight, not only between them.
    assert stream.in_flight, "no request was in flight when the server was killed"

    process, base_url = start_server(store.env, store.log)
    db = open_database(store.url)
    try:
        stored, event_rows, value_rows = _stored(db)
        contacts = _contacts(db, portal_id)
        acked_uuids = {u for request in stream.acked for u in request.uuids}
        sent = [*stream.acked, *stream.in_flight, *stream.refused]
        sent_uuids = {u for request in sent for u in request.uuids}
        in_flight_stored = [r for r in stream.in_flight if _all_or_nothing(r, stored)]
        print(
            f"\n[{store.url.split(':')[0]}] acknowledged {len(acked_uuids)} events in "
            f"{len(stream.acked)} requests over {streamed_seconds:.1f} s; stored {len(stored)}; "
            f"in flight at the kill: "
            f"{len(stream.in_flight)} requests ({len(in_flight_stored)} stored whole, "
            f"{len(stream.in_flight) - len(in_flight_stored)} not at all); "
            f"refused after it: {len(stream.refused)}"
        )

        lost = acked_uuids - stored.keys()
        assert not lost, f"{len(lost)} of {len(acked_uuids)} acknowledged events were lost"
        assert not stored.keys() - sent_uuids, "stored events that nobody sent"
        assert event_rows == len(stored)  # each uuid once
        assert value_rows == PROPERTIES_PER_EVENT * event_rows  # property rows with their event
        for request in sent:
            if _all_or_nothing(request, stored):
                _check_rows(request, stored, contacts, contact)
            elif request.email is not None:
                # A refused request leaves nothing behind, not even its new contact.
                assert request.email not in contacts, request.key
        for request in stream.refused:
            assert not any(u in stored for u in request.uuids), request.key

        # Retries are safe: resent requests are 204 and nothing is stored twice.
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(headers=headers, timeout=20) as client:
            retried = [*stream.acked[:3], *stream.in_flight]
            retried += [r for r in stream.acked if r.email][:2]
            for request in retried:
                r = _post(client, base_url, request)
                assert r.status_code == 204, (request.key, r.status_code, r.text)
            fresh = [
                _batch(event_name, contact, "after-restart-batch", 150),
                _single(event_name, "after-restart-single"),
            ]
            for request in fresh:
                r = _post(client, base_url, request)
                assert r.status_code == 204, (request.key, r.status_code, r.text)

        again, event_rows, value_rows = _stored(db)
        contacts = _contacts(db, portal_id)
        newly = {u for r in [*stream.in_flight, *fresh] for u in r.uuids} - stored.keys()
        assert again.keys() == stored.keys() | newly
        assert event_rows == len(again) == len(stored) + len(newly)
        assert value_rows == PROPERTIES_PER_EVENT * event_rows
        for request in [*retried, *fresh]:
            assert _all_or_nothing(request, again), request.key
            _check_rows(request, again, contacts, contact)
        print(
            f"[{store.url.split(':')[0]}] after restart: {len(retried)} requests resent, "
            f"{len(newly)} newly stored, {event_rows} events in the store; "
            f"{time.monotonic() - started:.1f} s"
        )
    finally:
        db.dispose()
        stop_server(process)
