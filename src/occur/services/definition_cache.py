"""Event definitions by fully qualified name, cached for the send path.

Every send needs its definition, and reading it (with up to 82 properties) from the
store would cost more than the rest of the request. The cache may be stale; two checks
make the answer exact anyway: the writer compares each definition's version inside the
storing transaction (a change since validation means validate again), and a request
that fails validation is validated once more against fresh definitions before it is
refused (a property added a moment ago must not be reported as unknown).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection

from occur.domain.definitions import EventDefinition
from occur.store import definitions as store
from occur.store.db import Database

# Unknown names are remembered briefly, so a client hammering a typo costs no queries.
MISSING_TTL_SECONDS = 1.0
MAX_MISSING_NAMES = 10_000  # bounds the memory a stream of made-up names can take


class DefinitionCache:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._found: dict[tuple[int, str], EventDefinition] = {}
        self._missing: dict[tuple[int, str], float] = {}

    async def get_many(
        self, portal_id: int, names: Collection[str], *, fresh: bool = False
    ) -> dict[str, EventDefinition]:
        """Definitions by fully qualified name; names the portal does not define are left out."""
        found: dict[str, EventDefinition] = {}
        wanted: list[str] = []
        now = time.monotonic()
        for name in names:
            key = (portal_id, name)
            if not fresh and key in self._found:
                found[name] = self._found[key]
            elif fresh or self._missing.get(key, 0.0) < now:
                wanted.append(name)
        if wanted:
            loaded = await asyncio.to_thread(self._load, portal_id, wanted)
            found.update(loaded)
        return found

    def forget(self, portal_id: int, names: Collection[str]) -> None:
        for name in names:
            self._found.pop((portal_id, name), None)
            self._missing.pop((portal_id, name), None)

    def _load(self, portal_id: int, names: list[str]) -> dict[str, EventDefinition]:
        prefix = f"pe{portal_id}_"
        loaded: dict[str, EventDefinition] = {}
        with self._db.read() as conn:
            for name in names:
                definition = None
                if name.startswith(prefix):
                    definition = store.get_definition(conn, portal_id, name[len(prefix) :])
                key = (portal_id, name)
                if definition is None:
                    self._found.pop(key, None)
                    if len(self._missing) >= MAX_MISSING_NAMES:
                        self._missing.clear()
                    self._missing[key] = time.monotonic() + MISSING_TTL_SECONDS
                else:
                    self._found[key] = loaded[name] = definition
                    self._missing.pop(key, None)
        return loaded
