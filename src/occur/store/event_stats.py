"""Completion statistics per event definition, for the custom events list.

One statement for the whole portal: its live definitions, each with two correlated
subqueries on the `(definition_id, occurred_at, id)` index of events. The count reads
only the index range of the window (index-only; PostgreSQL still visits the table for
entries on pages that no vacuum has marked all-visible yet); the latest completion is
the first entry of that index read backwards from the upper bound, one probe per
definition. A `GROUP BY definition_id` over events would instead read every index entry
of every definition to find each maximum. tests/store/test_event_stats_plans.py holds
both engines to this plan; bench/event_stats.py times it on a million completions.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import BigInteger, Connection, bindparam, func, select

from occur.store.schema import event_definitions as defs
from occur.store.schema import events

_e = events.alias("e")
_SINCE = bindparam("since", type_=BigInteger)
_UNTIL = bindparam("until", type_=BigInteger)
_IN_WINDOW = (
    select(func.count())
    .select_from(_e)
    .where(_e.c.definition_id == defs.c.id, _e.c.occurred_at >= _SINCE, _e.c.occurred_at <= _UNTIL)
    .scalar_subquery()
)
_LATEST = (
    select(_e.c.occurred_at)
    .where(_e.c.definition_id == defs.c.id, _e.c.occurred_at <= _UNTIL)
    .order_by(_e.c.occurred_at.desc())
    .limit(1)
    .scalar_subquery()
)
# Built once: the list page runs it on every view.
STATS = (
    select(defs.c.id, _IN_WINDOW.label("in_window"), _LATEST.label("latest"))
    .where(defs.c.portal_id == bindparam("portal"), defs.c.deleted_at.is_(None))
    .order_by(defs.c.id)
)


@dataclass(frozen=True, slots=True)
class DefinitionStats:
    definition_id: int
    completions_in_window: int  # occurred in [since, until]
    latest_ms: int | None  # the last completion at or before `until`


def definition_stats(
    conn: Connection, portal_id: int, *, since_ms: int, until_ms: int
) -> list[DefinitionStats]:
    """Every live definition of the portal with its completions in [since, until] and
    its latest completion up to `until` (later ones, sent with a future occurredAt,
    have not happened yet)."""
    params = {"portal": portal_id, "since": since_ms, "until": until_ms}
    return [
        DefinitionStats(
            definition_id=definition_id,
            completions_in_window=int(in_window),
            latest_ms=None if latest is None else int(latest),
        )
        for definition_id, in_window, latest in conn.execute(STATS, params)
    ]
