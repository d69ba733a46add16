"""A small HTTP/1.1 load generator: keep-alive connections, fixed duration, in its own process.

wrk is not installed on these machines, and a client running inside the bench's own
interpreter would share a GIL (and a core) with whatever else the bench does. So each
generator is a separate process running an asyncio loop (uvloop when present) with N
keep-alive connections, each sending its next request as soon as the previous answer has
been read. Parsing is kept to the status code and Content-Length so that the generator is
cheap; it reports the CPU it used, so a run whose generator saturated a core says so.

Rates count only the answers that arrived inside the measured window (after a warm-up,
before the deadline); answers that arrive after the deadline are still read and their
status checked, so a failing request is never missed.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from array import array
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Protocol

_HEAD_END = b"\r\n\r\n"
_LENGTH = b"\r\ncontent-length:"
# Where the uuid goes in `Payload.item`.
UUID_MARK = "@UUID@"
# A generator process this busy may be what limits the rate, not the server.
SATURATED_CORES = 0.9


@dataclass(frozen=True)
class Payload:
    """What to send: one JSON item with a uuid mark, alone or `batch` times in `inputs`.

    Every item gets a distinct uuid (`{run}-{process}-{counter}`), so that occur stores
    each one instead of skipping it as a retry. An item may hold the mark several times
    (a collector beacon with several events): each gets the same uuid, which the item
    makes distinct with a suffix of its own.
    """

    path: str
    token: str
    item: str
    batch: int = 0  # 0: the body is the item itself; n: {"inputs": [n items]}
    headers: tuple[tuple[str, str], ...] = ()  # sent besides Host, auth and content ones

    @property
    def events_per_request(self) -> int:
        return self.batch or 1


@dataclass(frozen=True)
class Load:
    """Where and how hard: connections are split across generator processes."""

    host: str
    port: int
    payload: Payload
    run_id: str
    connections: int = 32
    seconds: float = 5.0
    warmup_seconds: float = 1.0
    processes: int = 1


@dataclass
class LoadResult:
    """Answers in the window, all statuses seen, and what the generator cost."""

    events_per_request: int
    window_seconds: float = 0.0
    answered: int = 0  # answers inside the measured window
    statuses: Counter[int] = field(default_factory=Counter)
    broken: int = 0  # connections that failed (reset, closed mid-answer)
    latencies: array[float] = field(default_factory=lambda: array("d"))
    generator_cpu_seconds: float = 0.0
    processes: int = 1
    first_failure: str = ""

    @property
    def requests_per_second(self) -> float:
        return self.answered / self.window_seconds if self.window_seconds else 0.0

    @property
    def events_per_second(self) -> float:
        return self.requests_per_second * self.events_per_request

    @property
    def failed(self) -> int:
        bad = sum(n for status, n in self.statuses.items() if not 200 <= status < 300)
        return bad + self.broken

    @property
    def generator_core_share(self) -> float:
        """Cores the generator used over the window (1.0: one core busy throughout)."""
        return self.generator_cpu_seconds / self.window_seconds if self.window_seconds else 0.0

    @property
    def generator_saturated(self) -> bool:
        """Its processes were about as busy as a process can be: the rate may be theirs."""
        return self.generator_core_share / self.processes >= SATURATED_CORES

    @property
    def generator_capacity(self) -> float:
        """Requests per second one generator core can drive at this answer size."""
        cpu = self.generator_cpu_seconds
        return self.answered / cpu if cpu else 0.0

    def percentile_ms(self, fraction: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000

    def add_process(self, other: LoadResult) -> None:
        """Another process's answers over the same window: rates add up."""
        self._add_answers(other)
        self.window_seconds = max(self.window_seconds, other.window_seconds)

    def add_round(self, other: LoadResult) -> None:
        """A later window's answers: the windows add up."""
        self._add_answers(other)
        self.window_seconds += other.window_seconds
        self.processes = other.processes

    def _add_answers(self, other: LoadResult) -> None:
        self.answered += other.answered
        self.statuses.update(other.statuses)
        self.broken += other.broken
        self.latencies.extend(other.latencies)
        self.generator_cpu_seconds += other.generator_cpu_seconds
        self.first_failure = self.first_failure or other.first_failure


class _Requests:
    """Builds request bytes cheaply: a fixed head, the item split around its uuid mark."""

    def __init__(self, load: Load, process_index: int) -> None:
        payload = load.payload
        self._parts = [part.encode() for part in payload.item.split(UUID_MARK)]
        self._batch = payload.batch
        self._uuid_prefix = f"{load.run_id}-{process_index}-".encode()
        self._counter = 0
        self._head = (
            f"POST {payload.path} HTTP/1.1\r\n"
            f"Host: {load.host}:{load.port}\r\n"
            f"Authorization: Bearer {payload.token}\r\n"
            "Content-Type: application/json\r\n"
            + "".join(f"{name}: {value}\r\n" for name, value in payload.headers)
            + "Content-Length: "
        ).encode()

    def _item(self) -> bytes:
        self._counter += 1
        return (b"%s%d" % (self._uuid_prefix, self._counter)).join(self._parts)

    def next(self) -> bytes:
        if self._batch:
            items = b",".join([self._item() for _ in range(self._batch)])
            body = b'{"inputs":[' + items + b"]}"
        else:
            body = self._item()
        return b"%s%d\r\n\r\n%s" % (self._head, len(body), body)


@dataclass
class _Window:
    start: float
    end: float


def _body_length(head: bytes) -> int:
    at = head.lower().find(_LENGTH)
    if at < 0:
        return 0
    start = at + len(_LENGTH)
    return int(head[start : head.index(b"\r\n", start)])


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bytes]:
    """Send one request and read its answer: (status, body)."""
    writer.write(request)
    head = await reader.readuntil(_HEAD_END)
    length = _body_length(head)
    body = await reader.readexactly(length) if length else b""
    return int(head[9:12]), body


async def _connection(load: Load, requests: _Requests, window: _Window, result: LoadResult) -> None:
    """One keep-alive connection sending back to back until the deadline.

    A connection that breaks is counted and opened again; one that cannot be opened ends.
    """
    reader, writer = await asyncio.open_connection(load.host, load.port)
    try:
        while (sent := time.perf_counter()) < window.end:
            try:
                status, body = await _exchange(reader, writer, requests.next())
            except (OSError, asyncio.IncompleteReadError) as exc:
                result.broken += 1
                result.first_failure = result.first_failure or f"connection: {exc!r}"
                writer.close()
                try:
                    reader, writer = await asyncio.open_connection(load.host, load.port)
                except OSError:
                    return
                continue
            done = time.perf_counter()
            result.statuses[status] += 1
            if not 200 <= status < 300 and not result.first_failure:
                result.first_failure = f"{status}: {body[:300]!r}"
            if window.start <= done <= window.end:
                result.answered += 1
                result.latencies.append(done - sent)
    finally:
        writer.close()


async def _cpu_meter(window: _Window, result: LoadResult) -> None:
    """The generator's own CPU time over the measured window."""
    await asyncio.sleep(window.start - time.perf_counter())
    before = time.process_time()
    await asyncio.sleep(window.end - time.perf_counter())
    result.generator_cpu_seconds = time.process_time() - before


async def _generate(load: Load, process_index: int, connections: int) -> LoadResult:
    requests = _Requests(load, process_index)
    result = LoadResult(load.payload.events_per_request)
    now = time.perf_counter()
    window = _Window(now + load.warmup_seconds, now + load.warmup_seconds + load.seconds)
    result.window_seconds = load.seconds
    await asyncio.gather(
        _cpu_meter(window, result),
        *(_connection(load, requests, window, result) for _ in range(connections)),
    )
    return result


def _event_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def _child(load: Load, process_index: int, connections: int, pipe: Connection) -> None:
    """Generator process: say it is up, wait for the go, run, send the result back."""
    pipe.send("ready")
    pipe.recv()
    with asyncio.Runner(loop_factory=_event_loop) as runner:
        pipe.send(runner.run(_generate(load, process_index, connections)))


def _receive(pipe: Connection, child: BaseProcess) -> object:
    """The child's next message; an error, not a hang, when the child died instead."""
    wait([pipe, child.sentinel])
    if not pipe.poll():
        raise RuntimeError(f"load generator process exited with code {child.exitcode}")
    return pipe.recv()


class WindowMeter(Protocol):
    """Told when the measured window starts and ends (e.g. to read CPU clocks)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


def _spawn(load: Load) -> list[tuple[Connection, BaseProcess]]:
    """One fresh interpreter per generator process, the connections shared out among them."""
    context = multiprocessing.get_context("spawn")
    started: list[tuple[Connection, BaseProcess]] = []
    for index in range(load.processes):
        share = load.connections // load.processes + (index < load.connections % load.processes)
        ours, theirs = context.Pipe()
        process = context.Process(target=_child, args=(load, index, share, theirs), daemon=True)
        process.start()
        started.append((ours, process))
    return started


def run(load: Load, meter: WindowMeter | None = None) -> LoadResult:
    """Drive `load` from `load.processes` fresh processes; their results merged."""
    started = _spawn(load)
    for pipe, process in started:  # spawning takes a while: start together once all are up
        _receive(pipe, process)
    for pipe, _ in started:
        pipe.send("go")
    if meter is not None:
        time.sleep(load.warmup_seconds)
        meter.start()
        time.sleep(load.seconds)
        meter.stop()
    merged = LoadResult(load.payload.events_per_request, processes=len(started))
    for pipe, process in started:
        result = _receive(pipe, process)
        assert isinstance(result, LoadResult)
        merged.add_process(result)
        process.join()
    return merged
