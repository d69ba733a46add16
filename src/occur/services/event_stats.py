"""What the custom events list shows beside each event type: completions in the last
30 days and the time of the last completion.

Served by one indexed statement per page view (see store/event_stats.py), so that the
list costs the same whether an event type holds a hundred completions or a million in
its history: only the last 30 days are counted, and the last completion is one index
probe.
"""

from __future__ import annotations

from dataclasses import dataclass

from occur.store import event_stats as store
from occur.store.db import Database

WINDOW_DAYS = 30
_DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class EventStats:
    completions_30d: int  # occurred in [now - 30 days, now]
    last_completion_ms: int | None  # None: no completion at or before now


def event_list_stats(db: Database, portal_id: int, now_ms: int) -> dict[int, EventStats]:
    """Statistics for every live event definition of the portal, by definition id."""
    with db.read() as conn:
        rows = store.definition_stats(
            conn, portal_id, since_ms=now_ms - WINDOW_DAYS * _DAY_MS, until_ms=now_ms
        )
    return {r.definition_id: EventStats(r.completions_in_window, r.latest_ms) for r in rows}
