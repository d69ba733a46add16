"""Spreadsheet import: rows per second, the server's peak memory, and what an import
costs the HTTP API's sends while it runs (issue 6).

For each backend, against a live `occur serve`:
  (a) a generated CSV of `--rows` rows (default 1,000,000: email, date, the bench
      event's four properties; one contact per 20 rows) imported through
      `POST /crm/v3/imports` and polled until DONE: rows/s from the import's own
      timestamps, and the server's peak RSS (VmHWM) and, sampled, that of the server and
      the child process converting a big file's rows together; it must stay bounded
      whatever the file size;
  (b) the storage ceiling of the same run (bench/storage.py: the rows an event stores,
      inserted as plainly as the driver allows in 1,000-event transactions): the
      import's rate as a share of it;
  (b') the storage ceiling for rows shaped like the file's, `--rows` of them (moments
      over a year, 50,000 records, random uuids, the same values): what storing those
      rows costs this schema with no import around it. Each index then takes its
      entries all over its width instead of at its end, and the rate falls as the
      tables grow; the import's rate as a share of this is what the import adds;
  (c) single sends at a steady rate (`--send-rate` per second over a few
      connections) while the server is idle, then while a second import of another
      `--rows`-row file runs: p99 latency of each, and their ratio (the issue's target:
      within 2x). That import is canceled once the sends end, its rate being the rows
      it stored until then: the rest of a 1M-row file would measure nothing more;
  (d) the same sends while the first import is reverted (a job through the same
      writer): p99 against idle, and the completions the revert removed meanwhile.
Targets: (a) >= 20,000 rows/s on SQLite, peak RSS under 300 MB; (c) ratio <= 2.

It exits non-zero when the first import does not reach DONE with every row stored, the
second neither DONE nor CANCELED, or a send fails.

Run `python -m bench.import --help` from the repository root.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import random
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import backends
from .backends import Backend
from .loadgen import UUID_MARK
from .served import Server
from .storage import StorageCeiling
from .tenant import create_tokens, populate
from .workload import EVENT_NAME, send_item

BACKENDS = {"sqlite": backends.sqlite, "postgresql": backends.postgresql}
ROWS_PER_CONTACT = 20
DAY_MS = 86_400_000
HEADER = ["Email", "Date", "Plan", "Amount", "Source", "Trial"]
PLANS = ("free", "pro", "enterprise")
SOURCES = ("newsletter", "webinar", "trade show", "partner", "ads")
POLL_SECONDS = 0.5
SETTLE_SECONDS = 3.0
IMPORT_TIMEOUT_SECONDS = 1800


@dataclass
class ImportRun:
    rows: int
    seconds: float
    state: str
    counters: dict[str, int]
    import_id: str = ""

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


@dataclass
class Sends:
    """Single sends at a steady rate: each latency, and every failure."""

    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def p99_ms(self) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000

    def median_ms(self) -> float:
        return statistics.median(self.latencies) * 1000 if self.latencies else float("nan")


def write_csv(path: Path, rows: int, seed: int) -> None:
    """`rows` completions of the bench event over the last year, as a marketer's export."""
    rng = random.Random(seed)
    now = int(time.time() * 1000)
    contacts = max(1, rows // ROWS_PER_CONTACT)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for _ in range(rows):
            at = now - rng.randrange(365 * DAY_MS)
            writer.writerow(
                [
                    f"person{rng.randrange(contacts)}.{seed}@import.example",
                    time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at / 1000)),
                    rng.choice(PLANS),
                    f"{rng.randrange(1, 100_000) / 100}",
                    rng.choice(SOURCES),
                    rng.choice(("true", "false")),
                ]
            )


def import_request(portal_id: int, definition_id: str, name: str) -> dict[str, Any]:
    event_type = f"6-{definition_id}"

    def column(header: str, object_type: str, prop: str | None, kind: str = "") -> dict[str, Any]:
        found: dict[str, Any] = {"columnName": header, "columnObjectTypeId": object_type}
        if prop is not None:
            found["propertyName"] = prop
        if kind:
            found["columnType"] = kind
        return found

    return {
        "name": name,
        "dateFormat": "ISO_8601",
        "files": [
            {
                "fileName": f"{name}.csv",
                "fileFormat": "CSV",
                "fileImportPage": {
                    "hasHeader": True,
                    "columnMappings": [
                        column("Email", "0-1", "email", "HUBSPOT_ALTERNATE_ID"),
                        column("Date", event_type, None, "EVENT_TIMESTAMP"),
                        column("Plan", event_type, "plan"),
                        column("Amount", event_type, "amount"),
                        column("Source", event_type, "source"),
                        column("Trial", event_type, "trial"),
                    ],
                },
            }
        ],
    }


def _request(
    port: int, method: str, path: str, token: str, body: bytes | None = None, ctype: str = ""
) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    try:
        headers = {"Authorization": f"Bearer {token}"}
        if ctype:
            headers["Content-Type"] = ctype
        connection.request(method, path, body, headers)
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def start_import(port: int, token: str, request: dict[str, Any], path: Path) -> str:
    """POST the file as multipart form data (the file streamed from disk would be nicer;
    http.client wants the body whole, and a 1M-row CSV is ~70 MB)."""
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="importRequest"\r\n\r\n'
        f"{json.dumps(request)}\r\n"
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
        f'filename="{path.name}"\r\nContent-Type: text/csv\r\n\r\n'
    ).encode()
    body = head + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    status, data = _request(
        port, "POST", "/crm/v3/imports", token, body, f"multipart/form-data; boundary={boundary}"
    )
    if status != 200:
        raise RuntimeError(f"POST /crm/v3/imports: {status} {data[:800]!r}")
    return str(json.loads(data)["id"])


def wait_done(port: int, token: str, import_id: str,
              stop: threading.Event | None = None) -> dict[str, Any]:  # fmt: skip
    """The import once it ended; canceled first when `stop` is set meanwhile."""
    deadline = time.monotonic() + IMPORT_TIMEOUT_SECONDS
    canceled = False
    while time.monotonic() < deadline:
        if stop is not None and stop.is_set() and not canceled:
            _request(port, "POST", f"/crm/v3/imports/{import_id}/cancel", token, b"")
            canceled = True
        status, data = _request(port, "GET", f"/crm/v3/imports/{import_id}", token)
        if status != 200:
            raise RuntimeError(f"GET import {import_id}: {status} {data[:500]!r}")
        found: dict[str, Any] = json.loads(data)
        if found["state"] not in ("STARTED", "PROCESSING", "DEFERRED"):
            return found
        time.sleep(POLL_SECONDS)
    raise RuntimeError(f"import {import_id} still running after {IMPORT_TIMEOUT_SECONDS} s")


def run_import(port: int, token: str, portal_id: int, definition_id: str, path: Path,
               rows: int, stop: threading.Event | None = None) -> ImportRun:  # fmt: skip
    """One import start to end; with `stop`, canceled once it is set (its rate is then
    the rows it stored over the time until then)."""
    began = time.perf_counter()
    import_id = start_import(port, token, import_request(portal_id, definition_id, path.stem), path)
    found = wait_done(port, token, import_id, stop)
    seconds = time.perf_counter() - began
    counters = {k: int(v) for k, v in found.get("metadata", {}).get("counters", {}).items()}
    if found["state"] == "CANCELED":
        rows = counters.get("PROCESSED_ROWS", 0)
    return ImportRun(rows, seconds, str(found["state"]), counters, import_id)


def send_steadily(port: int, body: str, token: str, rate: float, stop: threading.Event,
                  sends: Sends) -> None:  # fmt: skip
    """One connection sending one event every 1/rate seconds until `stop` (an open-loop
    schedule: a slow answer does not lower the rate asked for afterwards)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    interval = 1 / rate
    next_at = time.perf_counter()
    try:
        while not stop.is_set():
            pause = next_at - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            next_at += interval
            began = time.perf_counter()
            try:
                sent = body.replace(UUID_MARK, str(uuid.uuid4()), 1)
                connection.request("POST", "/events/v3/send", sent, headers)
                answer = connection.getresponse()
                answer.read()
            except OSError as exc:
                sends.failures.append(repr(exc))
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            sends.latencies.append(time.perf_counter() - began)
            if answer.status != 204:
                sends.failures.append(f"status {answer.status}")
    finally:
        connection.close()


def measure_sends(port: int, body: str, token: str, rate: float, connections: int,
                  seconds: float) -> Sends:  # fmt: skip
    sends = Sends()
    stop = threading.Event()
    threads = [
        threading.Thread(
            target=send_steadily, args=(port, body, token, rate / connections, stop, sends)
        )
        for _ in range(connections)
    ]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    return sends


def peak_rss_mb(pid: int) -> float:
    return _status_mb(pid, "VmHWM:")


def _status_mb(pid: int, field: str) -> float:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:  # it ended
        return 0.0
    for line in lines:
        if line.startswith(field):
            return int(line.split()[1]) / 1024
    return 0.0


class TreeMemory:
    """The largest resident memory of a process and its children together, sampled:
    a big import's rows are converted in a child process of the server, which ends
    with the import (so its own high-water mark cannot be read afterwards)."""

    def __init__(self, pid: int, every_seconds: float = 0.2) -> None:
        self.peak_mb = 0.0
        self._pid = pid
        self._every = every_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(self._every):
            pids = [self._pid, *_children(self._pid)]
            self.peak_mb = max(self.peak_mb, sum(_status_mb(p, "VmRSS:") for p in pids))


def _children(pid: int) -> list[int]:
    """The process's children, whichever of its threads started them (the converting
    process is started by the worker's thread, not the main one)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:  # the thread ended meanwhile
            continue
    return found


@dataclass
class RevertRun:
    """The first import's revert over the send window: completions it removed, the time,
    and whether it was taken (200) and under way."""

    removed: int
    seconds: float
    answer: str

    @property
    def rows_per_second(self) -> float:
        return self.removed / self.seconds if self.seconds else 0.0


def revert_during(port: int, token: str, import_id: str, sends: Callable[[], Sends]
                  ) -> tuple[Sends, RevertRun]:  # fmt: skip
    """Ask for the import's revert, run `sends` meanwhile, then read how far it came (the
    rest is left to the server: what matters is the sends, and the revert's pace beside
    them)."""
    began = time.perf_counter()
    status, data = _request(port, "POST", f"/crm/v3/imports/{import_id}/revert", token, b"")
    answer = f"{status} {json.loads(data).get('state')}" if status == 200 else f"{status}"
    during = sends()
    status, data = _request(port, "GET", f"/crm/v3/imports/{import_id}", token)
    seconds = time.perf_counter() - began
    counters = json.loads(data)["metadata"]["counters"] if status == 200 else {}
    return during, RevertRun(int(counters.get("REMOVED_EVENTS", 0)), seconds, answer)


@dataclass
class Outcome:
    backend: str
    alone: ImportRun
    ceiling_rows_per_second: float
    spread_rows_per_second: float
    peak_rss_mb: float
    tree_peak_mb: float
    idle: Sends
    during: Sends
    during_import: ImportRun
    window_seconds: float
    during_revert: Sends
    revert: RevertRun


def _measure(backend: Backend, rows: int, send_rate: float, connections: int,
             seconds: float) -> Outcome:  # fmt: skip
    tokens = create_tokens(backend.env)
    first, second = backend.log_dir / "first.csv", backend.log_dir / "second.csv"
    write_csv(first, rows, seed=1)
    write_csv(second, rows, seed=2)
    with Server(
        ["-m", "occur", "serve", "--port"], backend.env, backend.log_dir / "occur.log"
    ) as server:
        tenant = populate(server.port, tokens)
        _, data = _request(
            server.port, "GET", f"/events/v3/event-definitions/{EVENT_NAME}", tokens.admin
        )
        definition_id = str(json.loads(data)["id"])
        with TreeMemory(server.process.pid) as tree:
            alone = run_import(
                server.port, tokens.admin, tokens.portal_id, definition_id, first, rows
            )
        rss = peak_rss_mb(server.process.pid)
        body = send_item(tenant.portal_id, tenant.contact_id)
        idle = measure_sends(server.port, body, tenant.send_token, send_rate, connections, seconds)
        result: list[ImportRun] = []
        window_over = threading.Event()
        worker = threading.Thread(
            target=lambda: result.append(
                run_import(
                    server.port,
                    tokens.admin,
                    tokens.portal_id,
                    definition_id,
                    second,
                    rows,
                    window_over,
                )
            )
        )
        worker.start()
        time.sleep(SETTLE_SECONDS)  # the upload and the counting pass first
        during = measure_sends(
            server.port, body, tenant.send_token, send_rate, connections, seconds
        )
        window_over.set()  # the rest of the second import would measure nothing more
        worker.join()
        during_revert, revert = revert_during(
            server.port,
            tokens.admin,
            alone.import_id,
            lambda: measure_sends(
                server.port, body, tenant.send_token, send_rate, connections, seconds
            ),
        )
        rss = max(rss, peak_rss_mb(server.process.pid))
        tree_mb = tree.peak_mb
    ceiling = StorageCeiling(backend.fresh_database("ceiling"), "driver")
    try:
        ceiling.run(5.0)
    finally:
        ceiling.close()
    ceiling_rate = ceiling.result.events / ceiling.result.seconds
    spread = StorageCeiling(backend.fresh_database("spread"), "driver", spread=True)
    try:
        spread.fill(rows)
    finally:
        spread.close()
    spread_rate = spread.result.events / spread.result.seconds
    return Outcome(
        backend.name,
        alone,
        ceiling_rate,
        spread_rate,
        rss,
        tree_mb,
        idle,
        during,
        result[0],
        seconds,
        during_revert,
        revert,
    )


def _check(outcome: Outcome, rows: int) -> list[str]:
    problems: list[str] = []
    if outcome.alone.state != "DONE":
        problems.append(f"{outcome.backend}: import alone ended {outcome.alone.state}")
    if outcome.during_import.state not in ("DONE", "CANCELED"):
        problems.append(
            f"{outcome.backend}: import during sends ended {outcome.during_import.state}"
        )
    if outcome.during_import.seconds < SETTLE_SECONDS + outcome.window_seconds:
        problems.append(f"{outcome.backend}: the import ended before the send window did")
    if outcome.revert.answer != "200 PROCESSING" or not outcome.revert.removed:
        problems.append(f"{outcome.backend}: the revert was not under way: {outcome.revert}")
    for label, sends in (
        ("idle", outcome.idle),
        ("during import", outcome.during),
        ("during revert", outcome.during_revert),
    ):
        if sends.failures:
            problems.append(f"{outcome.backend}: sends {label} failed: {sends.failures[:3]}")
    return problems


def _print(outcomes: Sequence[Outcome]) -> None:
    rows: list[tuple[str, str, str, str]] = []
    for o in outcomes:
        share = o.alone.rows_per_second / o.ceiling_rows_per_second
        spread_share = o.alone.rows_per_second / o.spread_rows_per_second
        ratio = o.during.p99_ms() / o.idle.p99_ms()
        idle = f"median {o.idle.median_ms():.1f}, {len(o.idle.latencies)} sends"
        during = (
            f"median {o.during.median_ms():.1f}, {len(o.during.latencies)} sends; "
            f"the import {o.during_import.rows_per_second:,.0f} rows/s"
        )
        rows += [
            (o.backend, "(b) storage ceiling", f"{o.ceiling_rows_per_second:,.0f} events/s", "-"),
            (
                o.backend,
                "(b') storage ceiling, rows shaped like the file's",
                f"{o.spread_rows_per_second:,.0f} events/s ({o.alone.rows:,} events)",
                "-",
            ),
            (
                o.backend,
                "(a) import alone",
                f"{o.alone.rows_per_second:,.0f} rows/s ({o.alone.seconds:.1f} s)",
                f"**{share:.2f}** of (b), **{spread_share:.2f}** of (b')",
            ),
            (o.backend, "(a) server peak RSS", f"{o.peak_rss_mb:.0f} MB", "-"),
            (
                o.backend,
                "(a) server and its converting process, peak RSS together (sampled)",
                f"{o.tree_peak_mb:.0f} MB",
                "-",
            ),
            (o.backend, "(c) send p99 idle", f"{o.idle.p99_ms():.1f} ms ({idle})", "-"),
            (
                o.backend,
                "(c) send p99 during an import",
                f"{o.during.p99_ms():.1f} ms ({during})",
                f"**{ratio:.2f}** of idle",
            ),
            (
                o.backend,
                "(d) send p99 during the first import's revert",
                f"{o.during_revert.p99_ms():.1f} ms (median {o.during_revert.median_ms():.1f}; "
                f"the revert {o.revert.rows_per_second:,.0f} completions/s)",
                f"**{o.during_revert.p99_ms() / o.idle.p99_ms():.2f}** of idle",
            ),
            (o.backend, "(a) counters", json.dumps(o.alone.counters), "-"),
        ]
    print()
    print("| backend | measure | figure | ratio |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default="sqlite,postgresql", help="comma-separated")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows per file")
    parser.add_argument("--send-rate", type=float, default=50.0, help="sends per second")
    parser.add_argument("--connections", type=int, default=4, help="send connections")
    parser.add_argument("--seconds", type=float, default=10.0, help="send window each")
    options = parser.parse_args(argv)
    outcomes: list[Outcome] = []
    for name in options.backends.split(","):
        if name not in BACKENDS:
            parser.error(f"unknown backend {name!r}")
        if name == "postgresql" and not backends.postgres_available():
            print("postgresql: skipped, no server binaries (apt-get install postgresql)")
            continue
        with BACKENDS[name]() as backend:
            outcome = _measure(
                backend, options.rows, options.send_rate, options.connections, options.seconds
            )
            outcomes.append(outcome)
            print(f"{name}: done", flush=True)
    _print(outcomes)
    problems = [p for o in outcomes for p in _check(o, options.rows)]
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
