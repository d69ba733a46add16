"""A multipart/form-data body read as it arrives: small text fields kept, the one file
part streamed to disk by services/uploads.py.

Both uploads take the same shape of form: `POST /crm/v3/imports` (HubSpot's
`importRequest` and `files`) and the import wizard's file step (its details, a CSRF
token and `file`). One reader serves both so that the rules that keep an upload
cheap and safe live in one place: a file of 512 MB costs one network chunk of memory,
not 512 MB; every text field and the number of them are bounded, so the fields cannot
be used to fill memory instead; a second file is refused, not buffered; and whatever
refuses the form after its file was staged (a field too large, a body cut short, a
client gone) removes the staged file. The callers differ only in words and limits
(`FormRules`) and in what they check before a byte of the file is written
(`BeforeFile`).

It sits in api/ beside the other HTTP plumbing that ui/ already uses: the layers
contract lets ui/ import api/, and this module imports only services below it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from enum import Enum, auto
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from occur.errors import FieldError, PayloadTooLarge, ValidationError
from occur.services import uploads
from occur.services.uploads import StagedFile

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

# Past this many text fields the rest are dropped unread: no form of ours has half as
# many, and the bound keeps the fields' memory at max_fields * max_field_bytes.
MAX_FIELDS = 50

BeforeFile: TypeAlias = Callable[[Mapping[str, bytes], str | None], bool]
"""Called once with the text fields that came before the file part, and the file's
name (None when the body holds no file; then it is called at the body's end). It
raises to refuse the form before any byte of the file is written, or returns False to
drop the file unstaged (a browser's empty file input sends a part with no filename)."""


@dataclass(frozen=True)
class FormRules:
    """What one caller's form may hold, and the words for a field that is too large."""

    file_field: str
    """The one part that may carry a file; a file in any other part is refused."""
    max_field_bytes: int
    field_too_large: str
    """The 413's message; `{name}` is replaced by the field's name."""
    max_fields: int = MAX_FIELDS


@dataclass(frozen=True)
class Form:
    """The text fields (first of each name wins) and the staged file, if one came."""

    fields: dict[str, bytes]
    staged: StagedFile | None


def boundary_of(content_type: str) -> bytes | None:
    """The boundary of a multipart/form-data Content-Type; None for any other type.
    Callers refuse a None in their own words (the API's 415, the UI's NotAForm)."""
    kind, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    return boundary if kind == b"multipart/form-data" and boundary else None


async def read(
    request: Request,
    boundary: bytes,
    data_dir: Path,
    rules: FormRules,
    before_file: BeforeFile | None = None,
) -> Form:
    """The form of `request`, its file part staged under `data_dir`.

    ValidationError for a body that is not well-formed multipart, is cut short or
    holds a second file or a file in another part; PayloadTooLarge for a text field
    over the limit or, from uploads.stage, a file over it. On any failure nothing
    staged is left behind."""
    return await _Reader(request, boundary, rules, before_file).read(data_dir)


class _File(Enum):
    """Where the reader is with the form's one file part."""

    NONE = auto()  # not begun
    WAITING = auto()  # its headers are read; whether and where to stage it is next
    STAGING = auto()  # its data goes to uploads.stage
    DROPPED = auto()  # before_file declined it: its data is read and dropped


class _Reader:
    """Feeds the body to python-multipart's push parser a chunk at a time. The parser's
    callbacks collect the text fields and queue the file part's data, which the read
    loop hands to uploads.stage as an async iterator that pulls more of the body
    whenever the queue runs dry: the file never waits in memory for the rest of it."""

    def __init__(
        self, request: Request, boundary: bytes, rules: FormRules, before_file: BeforeFile | None
    ) -> None:
        self._stream = request.stream().__aiter__()
        self._parser = MultipartParser(boundary, self._callbacks())
        self._rules = rules
        self._before_file = before_file
        self._fields: dict[str, bytes] = {}
        self._fields_before_file: dict[str, bytes] = {}
        self._name = ""
        self._filename = ""  # the file part's, kept past its end: it is staged later
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._disposition = b""
        self._data = bytearray()
        self._file = _File.NONE
        self._file_chunks: list[bytes] = []
        self._in_file = False
        self._file_ended = False
        self._ended = False  # the closing boundary was read

    async def read(self, data_dir: Path) -> Form:
        staged: StagedFile | None = None
        try:
            while await self._feed():
                if self._file is _File.WAITING:
                    staged = await self._take_file(data_dir)
            if self._file is _File.NONE and self._before_file is not None:
                self._before_file(dict(self._fields), None)
            if not self._ended:
                raise ValidationError(
                    "The multipart body was cut short: it ends before its closing boundary."
                )
            self._parser.finalize()
        except BaseException:
            if staged is not None:
                uploads.discard(data_dir, staged.id)
            raise
        return Form(self._fields, staged)

    async def _take_file(self, data_dir: Path) -> StagedFile | None:
        """Ask before_file, then stage the file part or drop it."""
        before = self._fields_before_file
        if self._before_file is None or self._before_file(before, self._filename):
            self._file = _File.STAGING
            return await uploads.stage(data_dir, self._filename, self._file_data())
        self._file = _File.DROPPED
        self._file_chunks.clear()
        return None

    async def _feed(self) -> bool:
        """Parse the next piece of the body; False at its end."""
        try:
            chunk = await self._stream.__anext__()
        except StopAsyncIteration:
            return False
        if chunk:
            try:
                self._parser.write(chunk)
            except MultipartParseError as exc:
                raise ValidationError(f"The multipart body is malformed: {exc}.") from None
        return True

    async def _file_data(self) -> AsyncIterator[bytes]:
        """The file part's data, as the parser yields it; ends with the part (or with a
        body cut short, which read() then refuses)."""
        while True:
            while self._file_chunks:
                yield self._file_chunks.pop(0)
            if self._file_ended or not await self._feed():
                return

    def _callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field_data,
            "on_header_value": self._header_value_data,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }

    def _part_begin(self) -> None:
        self._name, self._disposition = "", b""
        self._data = bytearray()

    def _header_field_data(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def _header_value_data(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        if bytes(self._header_field).lower() == b"content-disposition":
            self._disposition = bytes(self._header_value)
        self._header_field.clear()
        self._header_value.clear()

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        self._name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        if filename is None:
            return
        field = self._rules.file_field
        if self._name != field or self._file is not _File.NONE:
            raise ValidationError(
                f"Send exactly one file, as the form part named `{field}`.",
                errors=[FieldError("One file only.", in_=field, code="INVALID")],
            )
        self._filename = filename.decode("utf-8", "replace")
        self._fields_before_file = dict(self._fields)
        self._in_file = True
        self._file = _File.WAITING

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            if self._file is not _File.DROPPED:
                self._file_chunks.append(data[start:end])
            return
        self._data += data[start:end]
        if len(self._data) > self._rules.max_field_bytes:
            raise PayloadTooLarge(self._rules.field_too_large.format(name=self._name))

    def _part_end(self) -> None:
        if self._in_file:
            self._in_file = False
            self._file_ended = True
        elif len(self._fields) < self._rules.max_fields:
            self._fields.setdefault(self._name, bytes(self._data))

    def _end(self) -> None:
        self._ended = True
