"""Where occur stores during the bench: a fresh SQLite data dir, or a fresh PostgreSQL database.

PostgreSQL comes from the test suite's throwaway cluster (tests/support/postgres.py), with
one change: the suite turns fsync and synchronous_commit off for speed, while a bench of
durable ingestion must pay for durable commits, as a user's server does.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.postgres import PostgresCluster, find_pg_bin

# What PostgreSQL's defaults already are; spelled out against the suite's fast settings.
DURABLE = "-c fsync=on -c synchronous_commit=on -c full_page_writes=on"


@dataclass(frozen=True)
class Backend:
    """Environment for `occur serve` and the CLI, and fresh stores for the ceilings."""

    name: str
    env: dict[str, str]
    fresh_database: Callable[[str], str]  # a name -> the URL of a new, empty database
    log_dir: Path


class DurablePostgresCluster(PostgresCluster):
    """The suite's cluster, started with PostgreSQL's durable defaults restored."""

    def start(self) -> None:
        super().start()
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 {DURABLE}"
        log = str(self.dir / "log")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-w", "-l", log, "restart")


def _env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCCUR_")}
    env.update(OCCUR_DATA_DIR=str(data_dir), OCCUR_SECRET_KEY="bench")
    if database_url:
        env["OCCUR_DATABASE_URL"] = database_url
    return env


@contextmanager
def sqlite() -> Iterator[Backend]:
    with tempfile.TemporaryDirectory(prefix="occur-bench-") as tmp:
        root = Path(tmp)
        yield Backend(
            "sqlite",
            _env(root / "data", None),
            lambda name: f"sqlite:///{root / 'storage' / name}.sqlite",
            root,
        )


def postgres_available() -> bool:
    return find_pg_bin() is not None


@contextmanager
def postgresql() -> Iterator[Backend]:
    bin_dir = find_pg_bin()
    assert bin_dir is not None
    cluster = DurablePostgresCluster(bin_dir)
    try:
        cluster.start()
        cluster.create_database("bench_occur")

        def fresh_database(name: str) -> str:
            cluster.create_database(f"bench_{name}")
            return cluster.url(f"bench_{name}")

        with tempfile.TemporaryDirectory(prefix="occur-bench-") as tmp:
            root = Path(tmp)
            yield Backend(
                "postgresql",
                _env(root / "data", cluster.url("bench_occur")),
                fresh_database,
                root,
            )
    finally:
        cluster.stop()
