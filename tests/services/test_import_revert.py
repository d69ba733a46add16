"""The revert job on both stores: it removes an import's completions, then the contacts
it created that hold nothing else, a writer transaction at a time; a stop or a crash
resumes without counting twice; a contact given a completion meanwhile is kept; a
revert given up fails the import, which can be reverted again."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from occur.config import Settings
from occur.services import imports
from occur.services.import_revert import ImportReverter
from occur.services.import_runner import ImportRunner
from occur.services.imports import ImportView
from occur.services.ingest import Ingest, IngestSettings
from occur.services.ingest_store import SendJob, SendResult
from occur.services.jobs import Interrupted, RunningJob
from occur.store import jobs as job_store
from occur.store.db import Database
from occur.store.schema import event_values, jobs
from tests.support.events import count, counts
from tests.support.imports import started_import

ROWS = 9  # over 4 contacts, all created by the import
CONTACTS = 4


@dataclass
class Rig:
    db: Database
    portal_id: int
    ingest: Ingest
    reverter: ImportReverter
    view: ImportView
    steps: int = 0

    def claim(self) -> job_store.Job:
        with self.db.write() as conn:
            job = job_store.claim(conn, "test", [imports.REVERT_KIND], 10**13, 60_000)
        assert job is not None
        return job

    def run(self, stopping: threading.Event | None = None) -> None:
        self.reverter.run(RunningJob(self.claim(), stopping or threading.Event()))

    def state(self) -> ImportView:
        return imports.get(self.db, self.portal_id, self.view.id)

    def release(self) -> None:
        with self.db.write() as conn:
            conn.execute(jobs.update().values(state="queued", locked_by=None))

    def around_steps(self, hook: Callable[[int, Callable[[], SendResult]], SendResult]) -> None:
        """Run `hook(step number, store)` around each step's hand-over to the writer."""
        submit = self.ingest.writer.submit_blocking

        def wrapped(job: SendJob, weight: int = 1) -> SendResult:
            self.steps += 1
            return hook(self.steps, lambda: submit(job, weight))

        self.ingest.writer.submit_blocking = wrapped  # type: ignore[method-assign]


@pytest.fixture
def rig(db: Database, settings: Settings) -> Iterator[Rig]:
    """A finished import of ROWS rows, its revert asked for (REVERTING, job queued)."""
    portal_id, view = started_import(db, settings, ROWS, CONTACTS)
    ingest = Ingest(db, IngestSettings())
    with db.write() as conn:
        job = job_store.claim(conn, "test", [imports.KIND], 10**13, 60_000)
    assert job is not None
    ImportRunner(db, ingest, settings.data_dir).run(RunningJob(job, threading.Event()))
    assert imports.get(db, portal_id, view.id).completions_created == ROWS
    reverting = imports.revert(db, None, portal_id, view.id)
    assert (reverting.state, reverting.progress) == ("REVERTING", 0)
    reverter = ImportReverter(db, ingest, chunk_rows=2, busy_chunk_rows=1)
    yield Rig(db, portal_id, ingest, reverter, view)
    ingest.close()


def test_a_revert_removes_completions_then_the_contacts_a_step_at_a_time(rig: Rig) -> None:
    assert counts(rig.db)["crm_objects"] == CONTACTS
    rig.around_steps(lambda _n, store: store())
    rig.run()
    done = rig.state()
    assert (done.state, done.completions_removed, done.progress) == ("REVERTED", ROWS, 1)
    assert done.completions_created == ROWS  # what the import did stays told
    assert counts(rig.db) == {"events": 0, "event_values": 0, "crm_objects": 0, "visitors": 0}
    # 2 rows a step: 5 steps of completions, one that finds none left and looks at two
    # contacts, one at the last two, one that finds no contact left and ends it.
    assert rig.steps == 5 + 3


def test_a_stop_between_steps_resumes_without_counting_twice(rig: Rig) -> None:
    stopping = threading.Event()

    def stop_after_two(number: int, store: Callable[[], SendResult]) -> SendResult:
        result = store()
        if number == 2:
            stopping.set()
        return result

    rig.around_steps(stop_after_two)
    with pytest.raises(Interrupted):
        rig.run(stopping)
    half = rig.state()
    assert (half.state, half.completions_removed) == ("REVERTING", 4)
    assert counts(rig.db)["events"] == ROWS - 4
    assert 0 < half.progress < 1
    rig.release()
    rig.run()
    done = rig.state()
    assert (done.state, done.completions_removed) == ("REVERTED", ROWS)
    assert counts(rig.db)["events"] == 0


def test_a_crash_after_a_step_commits_does_not_count_it_twice(rig: Rig) -> None:
    def crash_after_third(number: int, store: Callable[[], SendResult]) -> SendResult:
        result = store()
        if number == 3:
            raise RuntimeError("killed before hearing back")
        return result

    rig.around_steps(crash_after_third)
    with pytest.raises(RuntimeError):
        rig.run()
    assert rig.state().completions_removed == 6
    rig.release()
    rig.run()
    assert rig.state().completions_removed == ROWS
    assert count(rig.db, event_values) == 0


def test_a_contact_given_a_completion_during_the_revert_is_kept(rig: Rig) -> None:
    def send_after_first(number: int, store: Callable[[], SendResult]) -> SendResult:
        result = store()
        if number == 1:
            body = {"eventName": f"pe{rig.portal_id}_signed_up", "email": "p3@example.com"}
            receipt = asyncio.run(rig.ingest.send_one(rig.portal_id, body))
            assert receipt.stored == 1, receipt
        return result

    rig.around_steps(send_after_first)
    rig.run()
    assert rig.state().state == "REVERTED"
    left = counts(rig.db)
    assert (left["events"], left["crm_objects"]) == (1, 1)  # the send's, and p3


def test_a_revert_given_up_fails_the_import_which_can_be_reverted_again(rig: Rig) -> None:
    job = rig.claim()
    rig.reverter.give_up(job, "RuntimeError: again and again")
    failed = rig.state()
    assert failed.state == "FAILED"
    assert failed.reason is not None and "again and again" in failed.reason
    assert "Revert again" in failed.reason
    assert imports.revert(rig.db, None, rig.portal_id, rig.view.id).state == "REVERTING"
    rig.run()
    assert rig.state().state == "REVERTED"
    assert counts(rig.db)["events"] == 0


def test_steps_are_small_while_sends_are_flowing(rig: Rig) -> None:
    rig.ingest.writer.last_request_at = time.monotonic() + 3600  # a send "just now"
    rig.around_steps(lambda _n, store: store())
    rig.run()
    # One row a step: 9 completions; then the contacts one at a time, the first looked
    # at by the step that found no completion left; then the look that finds none.
    assert rig.steps == ROWS + CONTACTS + 1
    assert rig.state().state == "REVERTED"
