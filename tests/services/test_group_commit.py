"""The group-commit writer on a real thread: grouping, order, failures, bounds, shutdown.

`store_group` here records what it was handed instead of writing SQL: these tests are
about the writer's contract; the SQL it runs is tested through the API on both stores.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import pytest

from occur.services.group_commit import GroupCommitWriter, Overloaded


class Recorder:
    """A store_group that can be held shut, to let work pile up behind a commit."""

    def __init__(self) -> None:
        self.groups: list[list[int]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()
        self.fail_on: set[int] = set()

    def __call__(self, jobs: Sequence[int]) -> list[str]:
        self.entered.set()
        self.gate.wait(10)
        self.groups.append(list(jobs))
        if self.fail_on & set(jobs):
            raise RuntimeError("disk full")
        return [f"stored {job}" for job in jobs]


async def wait_for(condition: object, seconds: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():  # type: ignore[operator]
        assert loop.time() < deadline, "condition never held"
        await asyncio.sleep(0.005)


def test_each_request_gets_its_own_result() -> None:
    store = Recorder()
    writer: GroupCommitWriter[int, str] = GroupCommitWriter(store, max_queued_weight=100)

    async def main() -> list[str]:
        return list(await asyncio.gather(*(writer.submit(i) for i in range(20))))

    assert asyncio.run(main()) == [f"stored {i}" for i in range(20)]
    assert sorted(job for group in store.groups for job in group) == list(range(20))
    writer.close()


def test_requests_arriving_during_a_commit_share_the_next_one() -> None:
    store = Recorder()
    writer: GroupCommitWriter[int, str] = GroupCommitWriter(store, max_queued_weight=100)

    async def main() -> None:
        store.gate.clear()
        first = asyncio.ensure_future(writer.submit(0))
        await wait_for(store.entered.is_set)  # the writer is inside commit 1
        rest = [asyncio.ensure_future(writer.submit(i)) for i in range(1, 11)]
        await wait_for(lambda: writer.queued_weight == 10)
        store.gate.set()
        await asyncio.gather(first, *rest)

    asyncio.run(main())
    assert store.groups == [[0], list(range(1, 11))]
    assert (writer.groups_committed, writer.largest_group) == (2, 10)
    writer.close()


def test_a_failed_commit_fails_its_group_only() -> None:
    store = Recorder()
    store.fail_on = {1}
    writer: GroupCommitWriter[int, str] = GroupCommitWriter(store, max_queued_weight=100)

    async def main() -> None:
        store.gate.clear()
        first = asyncio.ensure_future(writer.submit(0))
        await wait_for(store.entered.is_set)
        doomed = [asyncio.ensure_future(writer.submit(i)) for i in (1, 2)]
        await wait_for(lambda: writer.queued_weight == 2)
        store.gate.set()
        assert await first == "stored 0"
        for future in doomed:
            with pytest.raises(RuntimeError, match="disk full"):
                await future
        assert await writer.submit(3) == "stored 3"  # the writer lives on

    asyncio.run(main())
    writer.close()


def test_a_full_queue_refuses_instead_of_growing() -> None:
    store = Recorder()
    writer: GroupCommitWriter[int, str] = GroupCommitWriter(store, max_queued_weight=5)

    async def main() -> None:
        store.gate.clear()
        first = asyncio.ensure_future(writer.submit(0, weight=500))  # empty queue: taken
        await wait_for(store.entered.is_set)
        queued = asyncio.ensure_future(writer.submit(1, weight=5))
        await wait_for(lambda: writer.queued_weight == 5)
        with pytest.raises(Overloaded):
            await writer.submit(2, weight=1)
        store.gate.set()
        assert [await first, await queued] == ["stored 0", "stored 1"]
        assert await writer.submit(3, weight=5) == "stored 3"

    asyncio.run(main())
    writer.close()


def test_close_stores_what_was_queued_then_refuses() -> None:
    store = Recorder()
    writer: GroupCommitWriter[int, str] = GroupCommitWriter(store, max_queued_weight=100)

    async def main() -> None:
        store.gate.clear()
        futures = [asyncio.ensure_future(writer.submit(i)) for i in range(3)]
        await wait_for(store.entered.is_set)
        closing = threading.Thread(target=writer.close)
        closing.start()
        store.gate.set()
        assert await asyncio.gather(*futures) == ["stored 0", "stored 1", "stored 2"]
        closing.join(5)
        with pytest.raises(Overloaded):
            await writer.submit(9)

    asyncio.run(main())
    assert sorted(job for group in store.groups for job in group) == [0, 1, 2]


def test_a_request_that_gave_up_does_not_stop_the_writer() -> None:
    store = Recorder()
    writer: GroupCommitWriter[int, str] = GroupCommitWriter(store, max_queued_weight=100)

    async def main() -> None:
        store.gate.clear()
        impatient = asyncio.ensure_future(writer.submit(0))
        await wait_for(store.entered.is_set)
        impatient.cancel()  # the client went away while its commit ran
        store.gate.set()
        assert await writer.submit(1) == "stored 1"

    asyncio.run(main())
    assert store.groups[0] == [0]  # still stored: it was already in the commit
    writer.close()


def test_a_worker_thread_submits_blocking_and_waits_for_room_not_failing() -> None:
    """Imports submit from worker threads: a full queue makes them wait for the next
    group to be taken (requests go ahead of them) instead of raising Overloaded."""
    store = Recorder()
    writer: GroupCommitWriter[int, str] = GroupCommitWriter(store, max_queued_weight=10)
    store.gate.clear()
    results: list[str] = []

    async def requests() -> None:
        first = asyncio.ensure_future(writer.submit(1, weight=1))
        await wait_for(store.entered.is_set)  # 1 is being committed (held at the gate)
        queued = asyncio.ensure_future(writer.submit(2, weight=8))
        await wait_for(lambda: writer.queued_weight == 8)
        blocked = threading.Thread(target=lambda: results.append(writer.submit_blocking(3, 5)))
        blocked.start()
        await asyncio.sleep(0.05)
        assert writer.queued_weight == 8  # 3 waits for room
        store.gate.set()
        await asyncio.gather(first, queued)
        await asyncio.to_thread(blocked.join, 5)

    asyncio.run(requests())
    assert results == ["stored 3"]
    assert store.groups == [[1], [2], [3]]
    writer.close()


def test_a_failed_group_fails_a_blocking_submit_too() -> None:
    store = Recorder()
    store.fail_on = {7}
    writer: GroupCommitWriter[int, str] = GroupCommitWriter(store, max_queued_weight=10)
    with pytest.raises(RuntimeError, match="disk full"):
        writer.submit_blocking(7)
    assert writer.submit_blocking(8) == "stored 8"
    writer.close()
    with pytest.raises(Overloaded):
        writer.submit_blocking(9)


def test_requests_are_committed_ahead_of_background_jobs_queued_with_them() -> None:
    """An import's chunk waiting in the queue never holds up a request queued after it:
    requests form a group of their own first."""
    store = Recorder()
    writer: GroupCommitWriter[int, str] = GroupCommitWriter(store, max_queued_weight=100)
    store.gate.clear()

    async def requests() -> list[str]:
        first = asyncio.ensure_future(writer.submit(1))
        await wait_for(store.entered.is_set)  # 1 is being committed (held at the gate)
        background = writer.submit_background(2, weight=50)
        later = [asyncio.ensure_future(writer.submit(i)) for i in (3, 4)]
        await wait_for(lambda: writer.queued_weight == 52)
        store.gate.set()
        answers = await asyncio.gather(first, *later)
        await asyncio.to_thread(background.result, 5)
        return list(answers)

    assert asyncio.run(requests()) == ["stored 1", "stored 3", "stored 4"]
    assert store.groups == [[1], [3, 4], [2]]
    writer.close()
