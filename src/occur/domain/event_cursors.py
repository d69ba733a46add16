"""Paging cursors for occurrence reads: opaque text naming a position in their order.

Reads page by keyset on (occurredAt, internal id): a cursor names a position in that
order, not an offset, so occurrences that arrive between two page requests neither repeat
a row nor push one that was already there onto the next page. The cursor is base64url of
the position and a checksum: a client cannot read meaning into it, and an altered one is
refused instead of silently paging from somewhere else.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from occur.domain.timestamps import MAX_DATETIME_MS, MIN_DATETIME_MS

_VERSION = "1"
_TEXT = re.compile(r"1\.(?P<at>-?[0-9]{1,16})\.(?P<id>[0-9]{1,19})\.[0-9a-f]{12}")
_PERSON = b"occur.events"
_MAX_CHARS = 120
_MAX_EVENT_ID = 2**63 - 1


@dataclass(frozen=True, slots=True)
class Position:
    """Where an occurrence sits in the (occurredAt, id) order that cursors page through."""

    occurred_at: int
    event_id: int

    def shifted(self, by: int) -> Position:
        """The position `by` ids along at the same time. No stored id lies between two
        consecutive ids, so "past (t, i - 1)" reads the row at (t, i) too: how a page
        with no rows links to the rows at its own cursor."""
        return Position(self.occurred_at, min(max(self.event_id + by, 0), _MAX_EVENT_ID))


def encode_cursor(position: Position) -> str:
    """An opaque cursor for `after`/`before`: base64url of the position and a checksum."""
    payload = f"{_VERSION}.{position.occurred_at}.{position.event_id}"
    text = f"{payload}.{_checksum(payload)}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Position | None:
    """The position a cursor this server issued names; None for anything else."""
    if not cursor.isascii() or len(cursor) > _MAX_CHARS:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        return None
    found = _TEXT.fullmatch(text)
    if found is None:
        return None
    position = Position(int(found.group("at")), int(found.group("id")))
    in_range = MIN_DATETIME_MS <= position.occurred_at <= MAX_DATETIME_MS
    if not in_range or not 0 <= position.event_id <= _MAX_EVENT_ID:
        return None
    # Issuing it again checks the checksum and the exact spelling (padding, alphabet).
    return position if encode_cursor(position) == cursor else None


def _checksum(payload: str) -> str:
    digest = hashlib.blake2b(payload.encode(), digest_size=6, person=_PERSON)
    return digest.hexdigest()
