"""Timestamps: integer epoch milliseconds (UTC) inside, ISO-8601 on the wire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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
    """Epoch milliseconds from either an all-digit epoch-ms string or ISO-8601."""
    stripped = text.strip()
    digits = stripped.removeprefix("-")
    if digits and digits.isascii() and digits.isdigit():
        return int(stripped)
    return ms_from_iso(stripped)
