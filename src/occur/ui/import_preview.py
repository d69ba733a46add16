"""The mapping step's preview: the first rows of the file as the import would store
them, converted by the import's own row rules (domain/import_rows.py), problems and all."""

from __future__ import annotations

import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from occur.domain.definitions import EventDefinition
from occur.domain.import_columns import ColumnMapping
from occur.domain.import_rows import ImportPlan, convert_row

PREVIEW_ROWS = 5


@dataclass(frozen=True)
class PreviewRow:
    line: int
    identity: str
    occurred_at: str
    event_values: tuple[tuple[str, str], ...]
    contact_values: tuple[tuple[str, str], ...]
    problems: tuple[str, ...]

    def as_json(self) -> dict[str, object]:
        return {
            "line": self.line,
            "identity": self.identity,
            "occurredAt": self.occurred_at,
            "eventValues": [list(pair) for pair in self.event_values],
            "contactValues": [list(pair) for pair in self.contact_values],
            "problems": list(self.problems),
        }


def preview_rows(
    definition: EventDefinition,
    mappings: Sequence[ColumnMapping],
    column_count: int,
    rows: Sequence[Sequence[str]],
    *,
    date_format: str,
    time_zone: str,
    fixed_occurred_at: int | None,
    decimal_comma: bool,
) -> list[PreviewRow]:
    zone = time_zone if time_zone in zoneinfo.available_timezones() else "UTC"
    plan = ImportPlan(
        definition=definition,
        mappings=tuple(mappings),
        column_count=column_count,
        date_format=date_format,
        time_zone=zone,
        fixed_occurred_at=fixed_occurred_at,
        decimal_comma=decimal_comma,
    )
    shown = []
    for offset, cells in enumerate(rows[:PREVIEW_ROWS]):
        line = offset + 2  # the header is line 1
        converted = convert_row(plan, line, list(cells))
        if isinstance(converted, list):
            problems = tuple(
                f"{e.column}: {e.message}" if e.column else e.message for e in converted
            )
            shown.append(PreviewRow(line, "", "", (), (), problems))
            continue
        identity = (
            f"Record ID {converted.object_id}"
            if converted.object_id is not None
            else (converted.email or "")
        )
        completion = converted.completion
        shown.append(
            PreviewRow(
                line,
                identity,
                _when(completion.occurred_at, zone),
                tuple(sorted(completion.values.items())),
                tuple(sorted(converted.contact_values.items())),
                (),
            )
        )
    return shown


def _when(ms: int | None, zone: str) -> str:
    if ms is None:
        return ""
    moment = datetime.fromtimestamp(ms / 1000, UTC).astimezone(zoneinfo.ZoneInfo(zone))
    return moment.strftime("%Y-%m-%d %H:%M:%S %Z")
