"""The file step's upload: a multipart form read as it arrives, its file part streamed
to disk by services/uploads.py (never held in memory, never spooled twice), and the
ticket that carries the staged file through the later steps.

The form's text fields come before its file input, so the CSRF token is checked before
a byte of the file is written. The ticket is the staged file's id signed with the
portal and the user: a ticket is useless in another portal or to another person, and a
page never reads a path or a bare id from the browser.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from occur.errors import OccurError, PayloadTooLarge, ValidationError
from occur.services import uploads
from occur.services.uploads import StagedFile

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

# Text fields of the file step are short; more than this is not a form of ours.
MAX_FIELD_BYTES = 64 * 1024
MAX_FIELDS = 50


class NotAForm(ValidationError):
    """This is not the file step's form."""


class UploadFailed(Exception):
    """The file could not be staged (too large, cut off): why, and the form's fields."""

    def __init__(self, error: OccurError, fields: dict[str, str]) -> None:
        super().__init__(error.message)
        self.error = error
        self.fields = fields


@dataclass
class _Part:
    name: str = ""
    filename: str | None = None
    data: bytearray = field(default_factory=bytearray)


@dataclass
class _Reading:
    """What the parser callbacks have seen so far."""

    fields: dict[str, str] = field(default_factory=dict)
    part: _Part = field(default_factory=_Part)
    header_field: bytearray = field(default_factory=bytearray)
    header_value: bytearray = field(default_factory=bytearray)
    headers: dict[bytes, bytes] = field(default_factory=dict)
    file_chunks: list[bytes] = field(default_factory=list)
    in_file: bool = False
    file_started: bool = False
    file_ended: bool = False


@dataclass(frozen=True)
class Upload:
    """The form's text fields and the staged file (None when no file was chosen)."""

    fields: dict[str, str]
    staged: StagedFile | None


async def receive(
    request: Request,
    data_dir: Path,
    check_fields: Callable[[dict[str, str]], None],
) -> Upload:
    """Read the multipart body: text fields up to the first file part, `check_fields`
    on them (it raises to refuse), then the file streamed to `uploads.stage`."""
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise NotAForm()
    seen = _Reading()
    parser = MultipartParser(boundary, _callbacks(seen))
    stream = request.stream().__aiter__()

    async def feed() -> bool:
        """Parse the next piece of the body; False at its end."""
        try:
            chunk = await stream.__anext__()
        except StopAsyncIteration:
            return False
        if chunk:
            parser.write(chunk)
        return True

    while not seen.file_started and await feed():
        pass
    check_fields(dict(seen.fields))
    staged = None
    if seen.file_started and seen.part.filename:
        staged = await _stage(data_dir, seen, seen.part.filename, feed)
    while await feed():  # the rest of the body: fields after the file, if any
        pass
    parser.finalize()
    return Upload(seen.fields, staged)


async def _stage(
    data_dir: Path, seen: _Reading, filename: str, feed: Callable[[], Awaitable[bool]]
) -> StagedFile:
    """The file part, handed to uploads.stage as the parser yields it."""

    async def file_chunks() -> AsyncIterator[bytes]:
        while True:
            while seen.file_chunks:
                yield seen.file_chunks.pop(0)
            if seen.file_ended or not await feed():
                return

    try:
        return await uploads.stage(data_dir, filename, file_chunks())
    except OccurError as exc:
        raise UploadFailed(exc, dict(seen.fields)) from exc


def _callbacks(seen: _Reading) -> MultipartCallbacks:
    def on_part_begin() -> None:
        seen.part = _Part()
        seen.headers = {}

    def on_header_field(data: bytes, start: int, end: int) -> None:
        seen.header_field += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        seen.header_value += data[start:end]

    def on_header_end() -> None:
        seen.headers[bytes(seen.header_field).lower()] = bytes(seen.header_value)
        seen.header_field.clear()
        seen.header_value.clear()

    return {
        "on_part_begin": on_part_begin,
        "on_header_field": on_header_field,
        "on_header_value": on_header_value,
        "on_header_end": on_header_end,
        "on_headers_finished": partial(_headers_finished, seen),
        "on_part_data": partial(_part_data, seen),
        "on_part_end": partial(_part_end, seen),
    }


def _headers_finished(seen: _Reading) -> None:
    _, params = parse_options_header(seen.headers.get(b"content-disposition", b""))
    seen.part.name = params.get(b"name", b"").decode("utf-8", "replace")
    filename = params.get(b"filename")
    if filename is not None:
        seen.part.filename = filename.decode("utf-8", "replace")
        seen.in_file = True
        seen.file_started = True


def _part_data(seen: _Reading, data: bytes, start: int, end: int) -> None:
    if seen.in_file:
        seen.file_chunks.append(data[start:end])
        return
    seen.part.data += data[start:end]
    if len(seen.part.data) > MAX_FIELD_BYTES:
        raise PayloadTooLarge("A field of this form is too large.")


def _part_end(seen: _Reading) -> None:
    if seen.in_file:
        seen.in_file = False
        seen.file_ended = True
    elif len(seen.fields) < MAX_FIELDS:
        seen.fields.setdefault(seen.part.name, seen.part.data.decode("utf-8", "replace"))


def ticket(secret_key: str, portal_id: int, user_id: int, staged_id: str) -> str:
    """The staged file's id, signed for this portal and user."""
    return f"{staged_id}.{_mac(secret_key, portal_id, user_id, staged_id)}"


def staged_id_of(secret_key: str, portal_id: int, user_id: int, sent: str) -> str | None:
    """The staged file's id in a ticket, or None for a ticket that is not this
    portal's and user's (or not a ticket at all)."""
    staged_id, _, mac = sent.rpartition(".")
    if not staged_id or not hmac.compare_digest(
        mac, _mac(secret_key, portal_id, user_id, staged_id)
    ):
        return None
    return staged_id


def _mac(secret_key: str, portal_id: int, user_id: int, staged_id: str) -> str:
    message = f"upload|{portal_id}|{user_id}|{staged_id}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()[:32]
