"""Token check on every API request: cached and uncached, against a bare SHA-256 baseline.

Run with `make bench`. Prints operations per second and the ratio to the baseline measured
in the same run (these machines are shared and noisy: compare ratios, not absolutes).
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from occur.services import access
from occur.store import migrate
from occur.store.db import open_database

ROUNDS = 20_000


def rate(action: Callable[[], object], rounds: int = ROUNDS) -> float:
    start = time.perf_counter()
    for _ in range(rounds):
        action()
    return rounds / (time.perf_counter() - start)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(f"sqlite:///{Path(tmp) / 'bench.sqlite'}")
        migrate.upgrade(db)
        _, token = access.create_portal(db, "bench")
        header = f"Bearer {token.secret}"
        baseline = rate(lambda: hashlib.sha256(token.secret.encode()).hexdigest())
        cached_auth = access.Authenticator(db)
        cached_auth.authenticate(header)
        cached = rate(lambda: cached_auth.cached(header))
        uncached_auth = access.Authenticator(db, cache_seconds=0)
        uncached = rate(lambda: uncached_auth.authenticate(header), ROUNDS // 10)
        db.dispose()
    print(f"baseline sha256          {baseline:>12,.0f}/s  1.00x")
    print(f"token check, cached      {cached:>12,.0f}/s  {cached / baseline:.2f}x")
    print(f"token check, store read  {uncached:>12,.0f}/s  {uncached / baseline:.2f}x")


if __name__ == "__main__":
    main()
