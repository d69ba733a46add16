"""The import job on both stores: chunks commit with their counters, a stop or a crash
resumes without loss or duplicates, cancel stops between chunks, a definition that
changes or goes away mid-import."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass

import pytest

from occur.config import Settings
from occur.services import definitions, imports, uploads
from occur.services.import_runner import ImportRunner
from occur.services.imports import ImportView
from occur.services.ingest import Ingest, IngestSettings
from occur.services.ingest_store import SendJob, SendResult
from occur.services.jobs import Interrupted, RunningJob
from occur.store import imports as import_store
from occur.store import jobs as job_store
from occur.store.db import Database
from occur.store.schema import jobs
from tests.support.events import stored_events
from tests.support.imports import started_import

ROWS = 9  # lines 2..10, chunks of 2: five chunks


@dataclass
class Rig:
    db: Database
    settings: Settings
    portal_id: int
    ingest: Ingest
    runner: ImportRunner
    view: ImportView

    def run(self) -> None:
        with self.db.write() as conn:
            job = job_store.claim(conn, "test", [imports.KIND], 10**13, 60_000)
        assert job is not None
        self.runner.run(RunningJob(job, threading.Event()))

    def state(self) -> ImportView:
        return imports.get(self.db, self.portal_id, self.view.id)

    def release(self) -> None:
        with self.db.write() as conn:
            conn.execute(jobs.update().values(state="queued", locked_by=None))

    def around_chunks(self, hook: Callable[[int, Callable[[], SendResult]], SendResult]) -> None:
        """Run `hook(chunk number, store)` around each chunk's hand-over to the writer;
        `store()` returns once the chunk is committed."""
        writer = self.ingest.writer
        submit = writer.submit_background
        calls = iter(range(1, 1000))

        def wrapped(job: SendJob, weight: int = 1) -> Future[SendResult]:
            done: Future[SendResult] = Future()
            done.set_result(hook(next(calls), lambda: submit(job, weight).result()))
            return done

        writer.submit_background = wrapped  # type: ignore[method-assign]


@pytest.fixture(params=["on the worker thread", "in a child process"])
def rig(db: Database, settings: Settings, request: pytest.FixtureRequest) -> Iterator[Rig]:
    """An import of ROWS rows, ready to run; its rows converted where the parameter says
    (a big file's are converted in a child process, a small one's on the worker)."""
    portal_id, view = started_import(db, settings, ROWS, contacts=4)
    ingest = Ingest(db, IngestSettings())
    child_from_rows = 0 if request.param == "in a child process" else 10**9
    runner = ImportRunner(
        db, ingest, settings.data_dir, chunk_rows=2, child_from_rows=child_from_rows
    )
    yield Rig(db, settings, portal_id, ingest, runner, view)
    ingest.close()


def _staged_files(settings: Settings) -> list[str]:
    folder = settings.data_dir / uploads.IMPORTS_DIR
    return [p.name for p in folder.iterdir()] if folder.exists() else []


def test_an_import_stores_every_row_a_chunk_at_a_time(rig: Rig) -> None:
    rig.run()
    done = rig.state()
    assert done.state == "DONE"
    assert (done.rows_read, done.completions_created, done.contacts_created) == (ROWS, ROWS, 4)
    assert done.progress == 1
    assert len(stored_events(rig.db)) == ROWS
    assert rig.ingest.writer.groups_committed == 5
    assert _staged_files(rig.settings) == []  # a finished import's file is removed


def test_a_stop_between_chunks_resumes_where_the_last_commit_ended(rig: Rig) -> None:
    stopping = threading.Event()

    def stop_after_two(number: int, store: Callable[[], SendResult]) -> SendResult:
        result = store()
        if number == 2:
            stopping.set()
        return result

    rig.around_chunks(stop_after_two)
    with rig.db.write() as conn:
        job = job_store.claim(conn, "test", [imports.KIND], 10**13, 60_000)
    assert job is not None
    with pytest.raises(Interrupted):
        rig.runner.run(RunningJob(job, stopping))
    half = rig.state()
    assert (half.state, half.rows_read, half.completions_created) == ("PROCESSING", 4, 4)
    assert len(stored_events(rig.db)) == 4
    rig.release()
    rig.run()
    done = rig.state()
    assert (done.state, done.rows_read, done.completions_created, done.duplicates) == (
        "DONE",
        ROWS,
        ROWS,
        0,
    )
    assert len(stored_events(rig.db)) == ROWS


def test_a_crash_before_a_chunk_commits_loses_nothing_acknowledged(rig: Rig) -> None:
    def crash_on_third(number: int, store: Callable[[], SendResult]) -> SendResult:
        if number == 3:
            raise RuntimeError("the power went out")
        return store()

    rig.around_chunks(crash_on_third)
    with pytest.raises(RuntimeError):
        rig.run()
    assert rig.state().rows_read == 4
    rig.release()
    rig.run()
    done = rig.state()
    assert (done.state, done.rows_read, done.completions_created, done.duplicates) == (
        "DONE",
        ROWS,
        ROWS,
        0,
    )


def test_a_crash_after_a_chunk_commits_does_not_store_it_twice(rig: Rig) -> None:
    def crash_after_third(number: int, store: Callable[[], SendResult]) -> SendResult:
        result = store()
        if number == 3:
            raise RuntimeError("killed before hearing back")
        return result

    rig.around_chunks(crash_after_third)
    with pytest.raises(RuntimeError):
        rig.run()
    assert rig.state().rows_read == 6  # the third chunk was committed, counters with it
    rig.release()
    rig.run()
    done = rig.state()
    assert (done.rows_read, done.completions_created, done.duplicates) == (ROWS, ROWS, 0)
    assert len(stored_events(rig.db)) == ROWS


def test_cancel_stops_between_chunks(rig: Rig) -> None:
    def cancel_after_first(number: int, store: Callable[[], SendResult]) -> SendResult:
        result = store()
        if number == 1:
            imports.cancel(rig.db, rig.portal_id, rig.view.id)
        return result

    rig.around_chunks(cancel_after_first)
    rig.run()
    canceled = rig.state()
    assert (canceled.state, canceled.rows_read, canceled.completions_created) == (
        "CANCELED",
        2,
        2,
    )
    assert len(stored_events(rig.db)) == 2
    assert _staged_files(rig.settings) == []


def test_a_property_added_mid_import_is_picked_up(rig: Rig) -> None:
    def add_property(number: int, store: Callable[[], SendResult]) -> SendResult:
        if number == 2:
            body = {"name": "extra", "label": "Extra", "type": "string"}
            definitions.add_property(rig.db, rig.portal_id, "signed_up", body)
        return store()

    rig.around_chunks(add_property)
    rig.run()
    done = rig.state()
    assert (done.state, done.completions_created) == ("DONE", ROWS)


def test_an_event_deleted_mid_import_fails_it_with_the_reason(rig: Rig) -> None:
    def delete_event(number: int, store: Callable[[], SendResult]) -> SendResult:
        if number == 2:
            definitions.delete(rig.db, rig.portal_id, "signed_up")
        return store()

    rig.around_chunks(delete_event)
    rig.run()
    failed = rig.state()
    assert failed.state == "FAILED"
    assert failed.reason is not None and "deleted" in failed.reason
    assert failed.rows_read == 2
    assert _staged_files(rig.settings) == []


def test_a_job_given_up_fails_its_import(rig: Rig) -> None:
    with rig.db.read() as conn:
        job = job_store.find_by_key(conn, f"{imports.KIND}:{rig.view.id}")
    assert job is not None
    rig.runner.give_up(job, "RuntimeError: again and again")
    failed = rig.state()
    assert failed.state == "FAILED"
    assert failed.reason is not None and "again and again" in failed.reason


def test_abandoned_uploads_are_discarded_but_not_an_unfinished_imports(rig: Rig) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"Email,Date\n"

    abandoned = asyncio.run(uploads.stage(rig.settings.data_dir, "left.csv", chunks()))
    old = 0  # mtime 1970: every staged file looks long abandoned
    for staged_id in _staged_files(rig.settings):
        os.utime(rig.settings.data_dir / uploads.IMPORTS_DIR / staged_id, (old, old))
    assert imports.discard_abandoned_uploads(rig.db, rig.settings) == 1
    kept = _staged_files(rig.settings)
    with rig.db.read() as conn:
        record = import_store.get(conn, rig.view.id)
    assert record is not None
    assert sorted(kept) == [record.staged_id, record.staged_id + ".name"]
    assert abandoned.id != record.staged_id
    rig.run()  # the import still finds its file
    assert rig.state().state == "DONE"


def test_chunks_are_small_while_sends_are_flowing(rig: Rig) -> None:
    rig.runner.chunk_rows, rig.runner.busy_chunk_rows = 4, 1
    rig.ingest.writer.last_request_at = time.monotonic() + 3600  # a send "just now"
    rig.run()
    assert rig.ingest.writer.groups_committed == ROWS  # one row per chunk
    assert rig.state().completions_created == ROWS


def test_starts_of_one_uploaded_file_run_one_at_a_time() -> None:
    """Three Finishes of one file at once: never two inside together, and the lock is
    forgotten with its last user (a third must not find a fresh lock meanwhile)."""
    inside: list[int] = []
    most = 0
    guard = threading.Lock()

    def start() -> None:
        nonlocal most
        with imports._starting("staged-1"):
            with guard:
                inside.append(1)
                most = max(most, len(inside))
            time.sleep(0.05)
            with guard:
                inside.pop()

    threads = [threading.Thread(target=start) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most == 1
    assert imports._STARTING == {}
