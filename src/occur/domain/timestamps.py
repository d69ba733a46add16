"""Timestamps: integer epoch milliseconds (UTC) inside, ISO-8601 on the wire."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Stored datetimes are compared as text, which needs a four-digit year.
MIN_DATETIME_MS = -30_610_224_000_000  # 1000-01-01T00:00:00.000Z
MAX_DATETIME_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
_EPOCH_MS = re.compile(r"-?[0-9]{1,16}")  # ASCII digits: str.isdigit() takes "²" too


def iso_from_ms(epoch_ms: int) -> str:
    """ISO-8601 UTC with milliseconds and a Z, as HubSpot writes timestamps."""
    moment = _EPOCH + timedelta(milliseconds=epoch_ms)
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T"
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}."
        f"{moment.microsecond // 1000:03d}Z"
    )


def ms_from_iso(text: str) -> int | None:
    """Parse an ISO-8601 date or date-time (naive means UTC); None when it is not one."""
    candidate = text.strip()
    if candidate.endswith(("Z", "z")):
        candidate = candidate[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(candidate)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def ms_from_text(text: str) -> int | None:
    """Epoch milliseconds from epoch-ms digits or ISO-8601, within years 1000 to 9999."""
    stripped = text.strip()
    ms = int(stripped) if _EPOCH_MS.fullmatch(stripped) else ms_from_iso(stripped)
    if ms is None or not MIN_DATETIME_MS <= ms <= MAX_DATETIME_MS:
        return None
    return ms
