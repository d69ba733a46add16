"""The tracking script's collector against its ceiling, on SQLite and on PostgreSQL.

For each backend (issue 5):
  (a) the HTTP ceiling: the no-op Starlette POST -> 204 (bench/noop_server.py), served
      as `occur serve` is, driven by the same load generator and request bytes as (b);
  (b) `POST /collect/{portalId}` to a live `occur serve`, one custom event per beacon
      (with the page context and User-Agent the script's beacons carry): events/s as a
      share of (a);
  (c) the same with a page view and nine custom events per beacon, as a page that
      batches its calls sends: events/s (page views not counted), beside (a) for scale;
  (s) for reference, `POST /events/v3/send` with the same event (bench/ingest.py's (b)):
      what the HTTP API's single send gets on the same server in the same run. A
      beacon's event also stores the twelve page-context values, so it writes four
      times the value rows of (s).
The collector's rate limits are turned off for the run (one address, one load
generator). Ceilings are measured again in every run, alternating with what they bound:
compare ratios, not absolute rates.

It exits non-zero only when a request failed or the store does not hold exactly the
events and page views that were acknowledged.

Run with `make bench`, or `python -m bench.collector --help` from the repository root.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys

from sqlalchemy import func, select

from occur.config import SQLITE_FILE
from occur.store.db import open_database
from occur.store.schema import events, page_views

from . import backends
from .backends import Backend
from .ingest import BACKENDS, HttpMeasure, Options, Outcome
from .loadgen import UUID_MARK, Payload
from .report import Row, table
from .served import Server
from .tenant import create_tokens, populate
from .workload import EVENT_NAME, OCCURRED_AT_MS, SENT, send_item

SEND = "/events/v3/send"
EVENTS_PER_BATCHED_BEACON = 9
USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
SITE = "https://shop.example"
PAGE = {
    "url": f"{SITE}/pricing?utm_source=newsletter&utm_campaign=spring",
    "title": "Pricing",
    "referrer": "https://www.google.com/",
    "language": "en-US",
    "screenWidth": 1440,
    "screenHeight": 900,
}
NO_LIMITS = {
    "OCCUR_COLLECT_VISITOR_RATE_PER_SECOND": "0",
    "OCCUR_COLLECT_ADDRESS_RATE_PER_SECOND": "0",
}


def beacon_item(portal_id: int, custom_events: int, *, page_view: bool) -> str:
    """One beacon as JSON text; its event ids are the load generator's mark plus a suffix."""
    found: list[dict[str, object]] = []
    if page_view:
        found.append({"kind": "pageview", "id": f"{UUID_MARK}-p", "at": OCCURRED_AT_MS})
    found += [
        {"kind": "event", "id": f"{UUID_MARK}-{i}", "at": OCCURRED_AT_MS,
         "name": f"pe{portal_id}_{EVENT_NAME}", "properties": SENT}
        for i in range(custom_events)
    ]  # fmt: skip
    body = {"v": 1, "utk": secrets.token_hex(16), "page": PAGE, "events": found}
    return json.dumps(body, separators=(",", ":"))


def _payloads(portal_id: int) -> tuple[Payload, Payload]:
    path = f"/collect/{portal_id}"
    headers = (("Origin", SITE), ("User-Agent", USER_AGENT))
    single = beacon_item(portal_id, 1, page_view=False)
    batched = beacon_item(portal_id, EVENTS_PER_BATCHED_BEACON, page_view=True)
    return (
        Payload(path, "", single, headers=headers),
        # batch=0: the body is the beacon itself; the rate counts its custom events.
        Payload(path, "", batched, headers=headers),
    )


def _options(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench.collector",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--seconds", type=float, default=4.0, help="per measure (4)")
    parser.add_argument("--rounds", type=int, default=2, help="alternations (2)")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds (1)")
    parser.add_argument("--connections", type=int, default=32, help="keep-alive (32)")
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
        batch_connections=args.connections,  # bench/ingest.py's; unused here
        processes=args.processes,
        backends=names,
    )


def _measure(backend: Backend, options: Options) -> tuple[HttpMeasure, ...]:
    tokens = create_tokens(backend.env)
    env = {**backend.env, **NO_LIMITS}
    logs = backend.log_dir
    with (
        Server(["-m", "occur", "serve", "--port"], env, logs / "occur.log") as occur,
        Server(["-m", "bench.noop_server"], env, logs / "noop.log") as noop,
    ):
        tenant = populate(occur.port, tokens)
        single, batched = _payloads(tokens.portal_id)
        send = Payload(SEND, tenant.send_token, send_item(tenant.portal_id, tenant.contact_id))
        conn = options.connections
        a = HttpMeasure("(a)", f"no-op POST, {conn} conn", noop, single, conn)
        b = HttpMeasure("(b)", f"collect, 1 event/beacon, {conn} conn", occur, single, conn)
        label = f"collect, {EVENTS_PER_BATCHED_BEACON} events+view/beacon, {conn} conn"
        c = HttpMeasure("(c)", label, occur, batched, conn)
        s = HttpMeasure("(s)", f"send (HTTP API), 1 event, {conn} conn", occur, send, conn)
        seconds = options.seconds / options.rounds
        for index in range(options.rounds):
            for measure in (a, b, c, s):
                measure.run_round(options, seconds, index)
    return a, b, c, s


def _row(backend: str, measure: HttpMeasure, per_beacon: int, ceiling: Row | None) -> Row:
    result = measure.result
    return Row(
        backend=backend,
        key=measure.key,
        measure=measure.label,
        rate=result.requests_per_second * per_beacon,
        unit="ev/s" if ceiling else "req/s",
        p50_ms=result.percentile_ms(0.50),
        p99_ms=result.percentile_ms(0.99),
        ceiling=ceiling,
    )


def _stored(backend: Backend) -> tuple[int, int]:
    url = backend.env.get("OCCUR_DATABASE_URL") or (
        f"sqlite:///{backend.env['OCCUR_DATA_DIR']}/{SQLITE_FILE}"
    )
    db = open_database(url)
    try:
        with db.read() as conn:
            held = conn.execute(select(func.count()).select_from(events)).scalar_one()
            views = conn.execute(select(func.count()).select_from(page_views)).scalar_one()
            return int(held), int(views)
    finally:
        db.dispose()


def _acknowledged(measure: HttpMeasure) -> int:
    return sum(n for status, n in measure.result.statuses.items() if 200 <= status < 300)


def _measure_backend(backend: Backend, options: Options, outcome: Outcome) -> None:
    a, b, c, s = _measure(backend, options)
    name = backend.name
    a_row = _row(name, a, 1, None)
    outcome.rows += [
        a_row,
        _row(name, b, 1, a_row),
        _row(name, c, EVENTS_PER_BATCHED_BEACON, a_row),
        _row(name, s, 1, a_row),
    ]
    for measure in (a, b, c, s):
        result, cpu = measure.result, measure.meter.share
        outcome.notes.append(
            f"{name} {measure.key}: server {cpu.server_cores:.2f} cores, generator "
            f"{result.generator_core_share:.2f}, machine {cpu.machine_cores:.2f} of {cpu.cores}"
            + ("  GENERATOR SATURATED" if result.generator_saturated else "")
        )
        if result.failed:
            outcome.failures.append(
                f"{name} {measure.key}: {result.failed} requests failed (statuses "
                f"{dict(sorted(result.statuses.items()))}); first: {result.first_failure}"
            )
    beacons_b, beacons_c = _acknowledged(b), _acknowledged(c)
    expected = (beacons_b + beacons_c * EVENTS_PER_BATCHED_BEACON + _acknowledged(s), beacons_c)
    held = _stored(backend)
    if held != expected:
        outcome.failures.append(
            f"{name}: acknowledged {expected[0]:,} events and {expected[1]:,} page views, "
            f"the store holds {held[0]:,} and {held[1]:,}"
        )


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
    print()
    print(table(outcome.rows))
    print()
    print(
        f"{options.seconds:g} s per measure in {options.rounds} alternating rounds, each after "
        f"{options.warmup_seconds:g} s warm-up. (b) and (c) count custom events; ratio: "
        "events/s over the no-op requests/s of (a)."
    )
    for note in outcome.notes:
        print(f"  {note}")
    for failure in outcome.failures:
        print(f"FAILED {failure}")
    return 1 if outcome.failures else 0


if __name__ == "__main__":
    sys.exit(main())
