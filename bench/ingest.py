"""Ingestion throughput against its ceilings, on SQLite and on PostgreSQL, in one run.

For each backend (DESIGN §2 and §6, issue 3):
  (a) the HTTP ceiling: a no-op Starlette POST -> 204 served by uvicorn exactly as
      `occur serve` is, driven by the same load generator and request bytes as (b);
  (b) `POST /events/v3/send`, one event per request, to a live `occur serve`: its
      events/s and latency, as a share of (a);
  (c) the storage ceiling: occur's rows for the same events (one `events` row, one
      `event_values` row per property) inserted with plain executemany in 1,000-event
      transactions, with occur's durability settings (latency: per transaction);
  (c') the same rows the way occur's writer inserts them (sqlite3 executemany with
      tuples, PostgreSQL COPY): the tighter storage ceiling, see bench/storage.py;
  (d) `POST /events/v3/send/batch` with 500 events per request: events/s as a share of
      (c), and of (c') on a line of its own (latency: per request).
Targets: (b)/(a) >= 0.6 and (d)/(c) >= 0.6. Ceilings are measured again in every run,
alternating with what they bound, because these machines are shared and noisy: compare
ratios, not absolute rates.

This prints figures and does not judge them. It exits non-zero only when a request
failed or the store does not hold exactly the events that were acknowledged, so that a
broken run is never mistaken for a slow one.

Run with `make bench`, or `python -m bench.ingest --help` from the repository root.
"""

from __future__ import annotations

import argparse
import secrets
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace

from sqlalchemy import func, select

from occur.config import SQLITE_FILE
from occur.store.db import open_database
from occur.store.schema import events

from . import backends, loadgen
from .backends import Backend
from .loadgen import Load, LoadResult, Payload
from .report import Row, table
from .served import CpuMeter, Server
from .storage import EVENTS_PER_TRANSACTION, StorageCeiling
from .tenant import Tenant, create_tokens, populate
from .workload import send_item

SEND = "/events/v3/send"
BATCH_SIZE = 500
# (c) as issue 3 defines it, then (c') the way occur's writer inserts (see bench/storage.py).
STORAGE_WAYS = ("sqlalchemy", "driver")
TARGET_SHARE = 0.6
BACKENDS: dict[str, Callable[[], AbstractContextManager[Backend]]] = {
    "sqlite": backends.sqlite,
    "postgresql": backends.postgresql,
}


@dataclass(frozen=True)
class Options:
    seconds: float
    rounds: int
    warmup_seconds: float
    connections: int
    batch_connections: int
    processes: int
    backends: tuple[str, ...]
    # Part of every uuid sent, so that runs never collide with each other.
    run_id: str = field(default_factory=lambda: secrets.token_hex(4))


@dataclass
class Outcome:
    """What a run found: table rows, where the CPU went, and anything that went wrong."""

    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


class HttpMeasure:
    """One HTTP measure, run in rounds: its load, the answers so far, the CPU they took."""

    def __init__(
        self, key: str, label: str, server: Server, payload: Payload, connections: int
    ) -> None:
        self.key = key
        self.label = label
        self.server = server
        self.payload = payload
        self.connections = connections
        self.meter = CpuMeter(server)
        self.result = LoadResult(payload.events_per_request, processes=0)

    def run_round(self, options: Options, seconds: float, index: int) -> None:
        load = Load(
            host="127.0.0.1",
            port=self.server.port,
            payload=self.payload,
            # Generator processes count from 1 in every round: this keeps uuids apart.
            run_id=f"{options.run_id}{self.key[1]}{index}",
            connections=self.connections,
            seconds=seconds,
            warmup_seconds=options.warmup_seconds,
            processes=options.processes,
        )
        self.result.add_round(loadgen.run(load, self.meter))


def _options(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench.ingest",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--seconds", type=float, default=5.0, help="measured seconds per measure (5)"
    )
    parser.add_argument(
        "--rounds", type=int, default=2, help="alternate the measures this many times (2)"
    )
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds (1)")
    parser.add_argument("--connections", type=int, default=32, help="for (a) and (b) (32)")
    parser.add_argument("--batch-connections", type=int, default=8, help="for (d) (8)")
    parser.add_argument("--processes", type=int, default=1, help="load generators (1)")
    parser.add_argument("--backends", default="sqlite,postgresql", help="comma-separated")
    args = parser.parse_args(argv)
    names = tuple(name.strip() for name in args.backends.split(",") if name.strip())
    unknown = [name for name in names if name not in BACKENDS]
    if unknown:
        parser.error(f"unknown backend {unknown[0]!r}; choose from {', '.join(BACKENDS)}")
    return Options(
        seconds=args.seconds,
        rounds=args.rounds,
        warmup_seconds=args.warmup,
        connections=args.connections,
        batch_connections=args.batch_connections,
        processes=args.processes,
        backends=names,
    )


def _payloads(tenant: Tenant) -> tuple[Payload, Payload]:
    item = send_item(tenant.portal_id, tenant.contact_id)
    return (
        Payload(SEND, tenant.send_token, item),
        Payload(f"{SEND}/batch", tenant.send_token, item, batch=BATCH_SIZE),
    )


def _alternate(
    options: Options,
    single: tuple[HttpMeasure, HttpMeasure],
    ceilings: tuple[StorageCeiling, ...],
    batch: HttpMeasure,
) -> None:
    """Each measure beside its ceiling, round after round, so drift hits both alike."""
    seconds = options.seconds / options.rounds
    for index in range(options.rounds):
        for measure in single:
            measure.run_round(options, seconds, index)
        for ceiling in ceilings:
            ceiling.run(seconds)
        batch.run_round(options, seconds, index)


def _measure(backend: Backend, options: Options) -> tuple[list[HttpMeasure], list[StorageCeiling]]:
    """(a) to (d) on this backend, with the no-op server and occur both up (one idle)."""
    tokens = create_tokens(backend.env)
    logs = backend.log_dir
    with (
        Server(["-m", "occur", "serve", "--port"], backend.env, logs / "occur.log") as occur,
        Server(["-m", "bench.noop_server"], backend.env, logs / "noop.log") as noop,
    ):
        single, batch = _payloads(populate(occur.port, tokens))
        conn, batch_conn = options.connections, options.batch_connections
        a = HttpMeasure("(a)", f"no-op POST, {conn} conn", noop, single, conn)
        b = HttpMeasure("(b)", f"send, {conn} conn", occur, single, conn)
        d = HttpMeasure(
            "(d)", f"send/batch x{BATCH_SIZE}, {batch_conn} conn", occur, batch, batch_conn
        )
        ceilings = [StorageCeiling(backend.fresh_database(how), how) for how in STORAGE_WAYS]
        try:
            _alternate(options, (a, b), tuple(ceilings), d)
        finally:
            for ceiling in ceilings:
                ceiling.close()
    return [a, b, d], ceilings


def _load_row(backend: str, measure: HttpMeasure, ceiling: Row | None = None) -> Row:
    result = measure.result
    per_event = ceiling is not None
    return Row(
        backend=backend,
        key=measure.key,
        measure=measure.label,
        rate=result.events_per_second if per_event else result.requests_per_second,
        unit="ev/s" if per_event else "req/s",
        p50_ms=result.percentile_ms(0.50),
        p99_ms=result.percentile_ms(0.99),
        ceiling=ceiling,
        target=TARGET_SHARE if ceiling else None,
    )


def _storage_row(backend: str, key: str, ceiling: StorageCeiling) -> Row:
    measured = ceiling.result
    commits = sorted(measured.commit_seconds)
    return Row(
        backend=backend,
        key=key,
        measure=f"store: {ceiling.label}, {EVENTS_PER_TRANSACTION:,}/tx",
        rate=measured.events_per_second,
        unit="ev/s",
        p50_ms=commits[len(commits) // 2] * 1000,
        p99_ms=commits[min(len(commits) - 1, int(0.99 * len(commits)))] * 1000,
    )


def _note(outcome: Outcome, backend: str, measure: HttpMeasure) -> None:
    """Where the CPU went during one measure, and what failed in it."""
    result, cpu, name = measure.result, measure.meter.share, measure.key
    note = (
        f"{backend} {name}: server {cpu.server_cores:.2f} cores, generator "
        f"{result.generator_core_share:.2f}, machine {cpu.machine_cores:.2f} of {cpu.cores}"
    )
    if result.generator_saturated:
        note += "  GENERATOR SATURATED: the rate may be the generator's, not the server's"
    outcome.notes.append(note)
    if result.failed:
        outcome.failures.append(
            f"{backend} {name}: {result.failed} requests failed "
            f"(statuses {dict(sorted(result.statuses.items()))}, broken connections "
            f"{result.broken}); first: {result.first_failure}"
        )


def _generator_note(backend: str, noop: HttpMeasure) -> str:
    """What the generator alone can drive, from its CPU against the no-op server: shows
    whether (a) is the server's ceiling or the generator's."""
    result = noop.result
    verdict = (
        "SATURATED: (a) may be the generator's limit; try --processes 2"
        if result.generator_saturated
        else "so (a) is the server's limit, not the generator's"
    )
    return (
        f"{backend} load generator alone: ~{result.generator_capacity:,.0f} req/s per core "
        f"against the no-op server; it used {result.generator_core_share:.2f} cores in (a), "
        f"{verdict}"
    )


def _acknowledged_events(*measures: HttpMeasure) -> int:
    """Events answered 2xx, warm-ups and tails included: what the store must now hold."""
    return sum(
        n * m.result.events_per_request
        for m in measures
        for status, n in m.result.statuses.items()
        if 200 <= status < 300
    )


def _stored_events(backend: Backend) -> int:
    url = backend.env.get("OCCUR_DATABASE_URL") or (
        f"sqlite:///{backend.env['OCCUR_DATA_DIR']}/{SQLITE_FILE}"
    )
    db = open_database(url)
    try:
        with db.read() as conn:
            return int(conn.execute(select(func.count()).select_from(events)).scalar_one())
    finally:
        db.dispose()


def _measure_backend(backend: Backend, options: Options, outcome: Outcome) -> None:
    (a, b, d), (plain, driver) = _measure(backend, options)
    name = backend.name
    a_row = _load_row(name, a)
    c_row, c2_row = _storage_row(name, "(c)", plain), _storage_row(name, "(c')", driver)
    d_row = replace(_load_row(name, d, c_row), also=(c2_row,))
    outcome.rows += [a_row, _load_row(name, b, a_row), c_row, c2_row, d_row]
    for measure in (a, b, d):
        _note(outcome, name, measure)
    outcome.notes.append(_generator_note(name, a))
    acknowledged, held = _acknowledged_events(b, d), _stored_events(backend)
    if held != acknowledged:
        outcome.failures.append(f"{name}: {acknowledged:,} events acknowledged, {held:,} stored")


def _print(outcome: Outcome, options: Options) -> None:
    print()
    print(table(outcome.rows))
    print()
    print(
        f"{options.seconds:g} s per measure in {options.rounds} alternating rounds, each HTTP "
        f"round after {options.warmup_seconds:g} s warm-up; {options.processes} load "
        "generator process(es). Latency: per request; for (c) and (c') per transaction."
    )
    print("CPU in the measured windows (cores; the machine's total includes everything):")
    for note in outcome.notes:
        print(f"  {note}")
    for failure in outcome.failures:
        print(f"FAILED {failure}")


def main(argv: list[str] | None = None) -> int:
    options = _options(argv)
    outcome = Outcome()
    for name in options.backends:
        if name == "postgresql" and not backends.postgres_available():
            outcome.notes.append("postgresql: skipped, no server binaries (apt-get install)")
            continue
        print(f"measuring {name} ...", file=sys.stderr, flush=True)
        with BACKENDS[name]() as backend:
            _measure_backend(backend, options, outcome)
    _print(outcome, options)
    return 1 if outcome.failures else 0


if __name__ == "__main__":
    sys.exit(main())
