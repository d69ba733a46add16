"""The worker's revert job: undo a finished import a writer transaction at a time.

A revert of a million-row import removes a million completions, which takes minutes on
SQLite (each removal takes entries out of every index, like the insert that made it).
So it runs as a durable job, not in the request that asked for it, and each step goes
through the ingest writer like an import's chunk: as large as a chunk while the writer
is idle, as small as a busy chunk while sends are flowing, so a send never waits
behind more than one small step. Each step moves the import's `completions_removed`
with the rows it removed, so a revert stopped part way (a shutdown, a crash) resumes
where it was when the job is claimed again.
"""

from __future__ import annotations

import logging

from occur.services import imports
from occur.services.clock import now_ms
from occur.services.group_commit import Overloaded
from occur.services.import_runner import BUSY_CHUNK_ROWS, CHUNK_ROWS, rows_now
from occur.services.ingest import Ingest
from occur.services.ingest_store import RevertStep, SendJob, SendResult
from occur.services.jobs import Interrupted, RunningJob
from occur.store import imports as store
from occur.store.db import Database
from occur.store.jobs import Job

log = logging.getLogger("occur.imports")


class ImportReverter:
    """The handler of `import-revert` jobs (services/jobs.py)."""

    def __init__(
        self,
        db: Database,
        ingest: Ingest,
        *,
        chunk_rows: int = CHUNK_ROWS,
        busy_chunk_rows: int = BUSY_CHUNK_ROWS,
    ) -> None:
        self._db = db
        self._ingest = ingest
        self.chunk_rows = chunk_rows
        self.busy_chunk_rows = min(busy_chunk_rows, chunk_rows)

    def run(self, running: RunningJob) -> None:
        import_id = int(running.job.payload["importId"])
        with self._db.read() as conn:
            record = store.get(conn, import_id)
        if record is None or record.state != store.REVERTING:
            return
        while True:
            running.check()
            rows = rows_now(self._ingest, self.chunk_rows, self.busy_chunk_rows)
            step = SendJob(record.portal_id, (), now_ms(), revert=RevertStep(import_id, rows))
            result = self._submit(step, rows)
            if result.canceled or result.reverted:
                break
        log.info("import %d reverted", import_id)

    def give_up(self, job: Job, reason: str) -> None:
        import_id = int(job.payload["importId"])
        why = (
            f"The revert stopped unexpectedly and was given up: {reason}. "
            "Revert again to finish it."
        )
        imports.fail(self._db, import_id, why, from_states=(store.REVERTING,))

    def _submit(self, step: SendJob, weight: int) -> SendResult:
        try:
            return self._ingest.writer.submit_blocking(step, weight)
        except Overloaded:
            raise Interrupted() from None  # the writer is shutting down
