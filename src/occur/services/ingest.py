"""Sending event completions (HTTP API, strict): validate, hand to the writer, await it.

A request is answered only after the writer has committed it (DESIGN §2), so a 204
means stored durably. Validation runs here, on the request's own task; identity lookups
and writes run on the writer thread, inside the transaction that stores the rows.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from occur.domain import completions as rules
from occur.domain.completions import Completion, CompletionInput, Prepared
from occur.domain.definitions import EventDefinition
from occur.domain.fields import FieldReader
from occur.domain.rate_limits import TokenBuckets, retry_after_seconds
from occur.errors import FieldError, RateLimited, Unavailable, collect
from occur.services.clock import now_ms
from occur.services.definition_cache import DefinitionCache
from occur.services.group_commit import GroupCommitWriter, Overloaded
from occur.services.ingest_store import SendJob, SendResult, missing_records, store_group
from occur.store.db import Database, HeldConnection

# Where input `index` sits in the body: "" for a single send, "inputs[3]." in a batch.
_Prefix = Callable[[int], str]
# One input as read: the completion (None when unreadable) and the problems reading it.
_Read = tuple[CompletionInput | None, list[FieldError]]
# A request whose definitions keep changing under it is validated at most this often.
_MAX_VALIDATIONS = 3


@dataclass(frozen=True)
class IngestSettings:
    create_contacts_from_email: bool = True
    queue_events: int = 50_000
    send_rate_per_second: float = 0  # 0: no per-portal limit


@dataclass(frozen=True)
class Receipt:
    """What a committed request stored; repeated uuids are counted, not stored."""

    stored: int
    duplicates: int


class Ingest:
    """One per process: the definition cache, the rate limits and the writer thread."""

    def __init__(self, db: Database, settings: IngestSettings) -> None:
        self._db = db
        self._settings = settings
        self.definitions = DefinitionCache(db)
        self._writes = HeldConnection(db)  # used by the writer thread only
        self.writer: GroupCommitWriter[SendJob, SendResult] = GroupCommitWriter(
            lambda jobs: store_group(
                self._writes, jobs, create_contacts=settings.create_contacts_from_email
            ),
            max_queued_weight=settings.queue_events,
        )
        rate = settings.send_rate_per_second
        self._limits = TokenBuckets(rate) if rate > 0 else None

    async def send_one(self, portal_id: int, body: object) -> Receipt:
        """POST /events/v3/send: one completion, paths relative to the body."""
        return await self._send(portal_id, [body], lambda _i: "")

    async def send_batch(self, portal_id: int, body: object) -> Receipt:
        """POST /events/v3/send/batch: 1 to 500 completions, all or nothing."""
        inputs = rules.read_batch(body)
        return await self._send(portal_id, inputs, lambda i: f"inputs[{i}].")

    async def collect(self, build: Callable[[bool], Awaitable[SendJob]]) -> Receipt:
        """Store one tracking-script beacon (services/collect.py) through the same writer,
        so that the collector's 204 also means committed.

        `build(fresh)` makes the job from definitions, read fresh from the store when
        `fresh`: a job built on a definition that changed meanwhile is built again.
        """
        return await self._store_built(build)

    def close(self) -> None:
        """Store what is queued and stop the writer (server shutdown)."""
        self.writer.close()
        self._writes.close()

    async def _send(self, portal_id: int, raw: Sequence[object], prefix: _Prefix) -> Receipt:
        self._check_rate(portal_id)
        read = [_read(item, prefix(i)) for i, item in enumerate(raw)]
        received_at = now_ms()

        async def build(fresh: bool) -> SendJob:
            completions = await self._prepare(portal_id, read, prefix, fresh)
            return SendJob(portal_id, tuple(completions), received_at)

        return await self._store_built(build)

    async def _store_built(self, build: Callable[[bool], Awaitable[SendJob]]) -> Receipt:
        """Build the job, store it, and build it again from fresh definitions while the
        writer finds one it was validated against has changed since."""
        fresh = False
        for _ in range(_MAX_VALIDATIONS):
            job = await build(fresh)
            result = await self._store(job, max(1, len(job.completions)))
            if not result.stale:
                break
            fresh = True
        else:
            raise Unavailable("The event definitions changed while storing; retry the request.")
        if result.problems:
            collect(result.problems)
        if result.conflicted:
            raise Unavailable("Another request stored the same records at the same time; retry.")
        return Receipt(result.stored, result.duplicates)

    async def _prepare(
        self, portal_id: int, read: Sequence[_Read], prefix: _Prefix, fresh: bool
    ) -> list[Completion]:
        """Completions checked against definitions, or one 400 listing every problem.

        A refused request is checked once more against definitions read fresh from the
        store first (the cache may predate a property added a moment ago), and its
        identifiers are looked up, so that unknown records are reported in the same answer.
        """
        names = {item.event_name for item, _ in read if item is not None}
        definitions = await self.definitions.get_many(portal_id, names, fresh=fresh)
        checked = _check(definitions, read, prefix)
        if _refused(checked) and not fresh:
            definitions = await self.definitions.get_many(portal_id, names, fresh=True)
            checked = _check(definitions, read, prefix)
        if not _refused(checked):
            return [p.completion for p in checked if p.completion is not None]
        refs = [
            (definitions[item.event_name].object_type.type_id, p.identity)
            for (item, _), p in zip(read, checked, strict=True)
            if item is not None and p.identity is not None
        ]
        missing = await asyncio.to_thread(
            missing_records,
            self._db,
            portal_id,
            refs,
            create_contacts=self._settings.create_contacts_from_email,
        )
        by_path = {problem.in_: problem for problem in missing}
        problems: list[FieldError] = []
        for p in checked:
            problems.extend(p.problems)
            if p.identity is not None and p.identity.path in by_path:
                problems.append(by_path[p.identity.path])
        collect(problems)
        raise AssertionError("a refused request has problems")

    async def _store(self, job: SendJob, weight: int) -> SendResult:
        try:
            return await self.writer.submit(job, weight)
        except Overloaded:
            raise RateLimited(
                "occur is storing as fast as it can and its queue is full; retry shortly.",
                retry_after_seconds=1,
            ) from None

    def _check_rate(self, portal_id: int) -> None:
        if self._limits is None:
            return
        wait = self._limits.take(portal_id, time.monotonic())
        if wait > 0:
            raise RateLimited(
                f"This portal may send {self._limits.rate:g} requests a second.",
                retry_after_seconds=retry_after_seconds(wait),
            )


def _read(raw: object, prefix: str) -> _Read:
    reader = FieldReader()
    return rules.read_completion(reader, raw, prefix), reader.problems


def _check(
    definitions: dict[str, EventDefinition], read: Sequence[_Read], prefix: _Prefix
) -> list[Prepared]:
    """One Prepared per input, in input order, its reading problems first."""
    checked: list[Prepared] = []
    for index, (item, read_problems) in enumerate(read):
        if item is None:
            checked.append(Prepared(None, None, list(read_problems)))
            continue
        definition = definitions.get(item.event_name)
        if definition is None:
            unknown = rules.unknown_event(item.event_name, prefix(index))
            checked.append(Prepared(None, None, [*read_problems, unknown]))
            continue
        prepared = rules.prepare(definition, item, prefix(index))
        prepared.problems[:0] = read_problems
        checked.append(prepared)
    return checked


def _refused(checked: Sequence[Prepared]) -> bool:
    return any(p.problems or p.completion is None for p in checked)
