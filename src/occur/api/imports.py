"""/crm/v3/imports: thin handlers over services.imports (scope crm.import).

POST takes HubSpot's multipart form: `importRequest` (JSON text) and `files` (the
spreadsheet). The body is parsed as it arrives and the file part written straight to
disk by services/uploads.py, so a 512 MB upload costs a chunk of memory, not 512 MB;
past the limit the answer is 413 and the partial file is removed.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from occur.api import responses
from occur.api.context import principal
from occur.api.requests import (
    DEFAULT_BODY_LIMIT_BYTES,
    MiB,
    decode_json,
    query_bool,
    query_int,
)
from occur.domain.objects import CONTACT
from occur.domain.scopes import CRM_IMPORT
from occur.domain.timestamps import iso_from_ms
from occur.errors import FieldError, PayloadTooLarge, UnsupportedMediaType, ValidationError
from occur.services import imports as service
from occur.services import uploads
from occur.services.clock import now_ms
from occur.services.imports import ImportErrorView, ImportView
from occur.services.uploads import StagedFile

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

BASE = "/crm/v3/imports"
REQUEST_FIELD = "importRequest"
FILE_FIELD = "files"
# The form around the file: headers, boundaries and the importRequest JSON.
_FORM_SLACK_BYTES = DEFAULT_BODY_LIMIT_BYTES


async def create(request: Request) -> Response:
    ctx, who = await principal(request, CRM_IMPORT)
    form = await _read_form(request, ctx.settings.data_dir)
    staged = form.staged
    try:
        if staged is None:
            raise _missing(FILE_FIELD, "Attach the spreadsheet as the form's `files` part.")
        if form.import_request is None:
            raise _missing(REQUEST_FIELD, "Send the import's settings as `importRequest` JSON.")
        body = decode_json(form.import_request)
    except BaseException:
        if staged is not None:
            uploads.discard(ctx.settings.data_dir, staged.id)
        raise
    started = await run_in_threadpool(
        service.start_from_api, ctx.db, ctx.settings, ctx.worker, who.portal_id, body, staged
    )
    return responses.json(_import(started))


async def list_imports(request: Request) -> Response:
    ctx, who = await principal(request, CRM_IMPORT)
    limit = query_int(request, "limit", default=10, minimum=1, maximum=service.MAX_PAGE)
    after = request.query_params.get("after")
    found, next_after = await run_in_threadpool(
        service.list_page, ctx.db, who.portal_id, after, limit
    )
    return responses.json(_page([_import(v) for v in found], request, next_after))


async def get_import(request: Request) -> Response:
    ctx, who = await principal(request, CRM_IMPORT)
    found = await run_in_threadpool(
        service.get, ctx.db, who.portal_id, request.path_params["import_id"]
    )
    return responses.json(_import(found))


async def cancel(request: Request) -> Response:
    ctx, who = await principal(request, CRM_IMPORT)
    requested = iso_from_ms(now_ms())
    done = await run_in_threadpool(
        service.cancel, ctx.db, who.portal_id, request.path_params["import_id"]
    )
    return responses.json(
        {
            "status": "CANCELED" if done.state == "CANCELED" else "COMPLETE",
            "requestedAt": requested,
            "startedAt": requested,
            "completedAt": iso_from_ms(done.updated_at),
        }
    )


async def revert(request: Request) -> Response:
    """occur's extension: remove what a finished or canceled import stored."""
    ctx, who = await principal(request, CRM_IMPORT)
    done = await run_in_threadpool(
        service.revert, ctx.db, who.portal_id, request.path_params["import_id"]
    )
    return responses.json(_import(done))


async def list_errors(request: Request) -> Response:
    ctx, who = await principal(request, CRM_IMPORT)
    limit = query_int(request, "limit", default=100, minimum=1, maximum=service.MAX_PAGE)
    with_message = query_bool(request, "includeErrorMessage", default=True)
    with_row = query_bool(request, "includeRowData", default=True)
    import_id = request.path_params["import_id"]
    after = request.query_params.get("after")
    found, next_after = await run_in_threadpool(
        service.errors_page, ctx.db, who.portal_id, import_id, after, limit
    )
    results = [_error(e, with_message=with_message, with_row=with_row) for e in found]
    return responses.json(_page(results, request, next_after))


async def error_file(request: Request) -> Response:
    """occur's extension: the failing rows as a CSV to fix and import again."""
    ctx, who = await principal(request, CRM_IMPORT)
    import_id = request.path_params["import_id"]
    found = await run_in_threadpool(service.get, ctx.db, who.portal_id, import_id)

    def write() -> IO[bytes]:
        out = tempfile.TemporaryFile()  # an import may fail many rows: not in memory
        with open(out.fileno(), "w", encoding="utf-8", newline="", closefd=False) as text:
            service.error_file(ctx.db, ctx.settings, who.portal_id, found.id, text)
        out.seek(0)
        return out

    out = await run_in_threadpool(write)
    return StreamingResponse(
        iterate_in_threadpool(_chunks(out)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="import-{found.id}-errors.csv"'},
    )


# --- wire shapes ---------------------------------------------------------------------


def _import(v: ImportView) -> dict[str, Any]:
    """PublicImportResponse; the counters are documented in docs/api.md."""
    mapped = sorted(
        {CONTACT.type_id, v.object_type_id} if _maps_contacts(v) else {v.object_type_id}
    )
    return {
        "id": str(v.id),
        "state": v.state,
        "importName": v.name,
        "importSource": v.source,
        "createdAt": iso_from_ms(v.created_at),
        "updatedAt": iso_from_ms(v.updated_at),
        "optOutImport": False,
        "mappedObjectTypeIds": mapped,
        "importRequestJson": v.request,
        "metadata": {
            "counters": {
                "TOTAL_ROWS": v.total_rows,
                "PROCESSED_ROWS": v.rows_read,
                "CREATED_OBJECTS": v.contacts_created,
                "UPDATED_OBJECTS": v.contacts_updated,
                "CREATED_EVENTS": v.completions_created,
                "DUPLICATE_EVENTS": v.duplicates,
                "ROWS_WITH_ERRORS": v.rows_with_errors,
            },
            "fileIds": [],
            "objectLists": [],
        },
        # occur's additions: the event, progress and why a failed import failed.
        "eventName": v.definition_name,
        "progress": round(v.progress, 4),
        **({"reason": v.reason} if v.reason else {}),
    }


def _maps_contacts(v: ImportView) -> bool:
    files = v.request.get("files") or [{}]
    page = files[0].get("fileImportPage", {}) if isinstance(files[0], dict) else {}
    return any(
        m.get("columnObjectTypeId") == CONTACT.type_id for m in page.get("columnMappings", [])
    )


def _error(e: ImportErrorView, *, with_message: bool, with_row: bool) -> dict[str, Any]:
    """PublicImportError."""
    out: dict[str, Any] = {
        "id": str(e.id),
        "createdAt": e.created_at,
        "errorType": e.error_type,
        "sourceData": {
            "lineNumber": e.line,
            "rowData": e.cells if with_row else [],
            "additionalRowData": [],
            "containsEncryptedProperties": False,
            "fileId": 0,
        },
    }
    if with_message:
        out["errorMessage"] = e.message
    if e.value is not None:
        out["invalidValue"] = e.value
        out["invalidValueToDisplay"] = e.value
    if e.column_index is not None:
        out["knownColumnNumber"] = e.column_index
    if e.column_name is not None:
        out["extraContext"] = e.column_name
    return out


def _page(
    results: list[dict[str, Any]], request: Request, next_after: str | None
) -> dict[str, Any]:
    body: dict[str, Any] = {"results": results}
    if next_after is not None:
        link = str(request.url.include_query_params(after=next_after))
        body["paging"] = {"next": {"after": next_after, "link": link}}
    return body


def _chunks(out: IO[bytes]) -> Iterator[bytes]:
    with out:
        while chunk := out.read(64 * 1024):
            yield chunk


def _missing(name: str, message: str) -> ValidationError:
    return ValidationError(message, errors=[FieldError(message, in_=name, code="REQUIRED")])


# --- the multipart form, streamed ----------------------------------------------------


@dataclass
class _Form:
    import_request: bytes | None = None
    staged: StagedFile | None = None


async def _read_form(request: Request, data_dir: Path) -> _Form:
    """Text fields kept (up to 1 MiB each), the one `files` part streamed to
    uploads.stage, any other file part refused."""
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise UnsupportedMediaType(
            "Send the import as multipart/form-data with an importRequest and a files part."
        )
    declared = request.headers.get("content-length")
    limit = uploads.MAX_UPLOAD_BYTES + _FORM_SLACK_BYTES
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(
            f"A spreadsheet to import may be at most {uploads.MAX_UPLOAD_BYTES // MiB} MB; "
            "split it into smaller files."
        )
    return await _FormReader(request, boundary).read(data_dir)


class _FormReader:
    """Feeds the body to python-multipart's push parser a chunk at a time; its callbacks
    collect text fields and queue the file part's data for uploads.stage."""

    def __init__(self, request: Request, boundary: bytes) -> None:
        self._stream = request.stream().__aiter__()
        self._parser = MultipartParser(boundary, self._callbacks())
        self._name = ""
        self._filename: str | None = None
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._disposition = b""
        self._data = bytearray()
        self._fields: dict[str, bytes] = {}
        self._file_chunks: list[bytes] = []
        self._in_file = False
        self._file_waiting = False  # a file part's headers are read; its data is next
        self._file_ended = False
        self._files_seen = 0

    async def read(self, data_dir: Path) -> _Form:
        """The form, its file staged; whatever goes wrong after staging removes the file."""
        form = _Form()
        try:
            await self._read(form, data_dir)
        except BaseException:
            if form.staged is not None:
                uploads.discard(data_dir, form.staged.id)
            raise
        form.import_request = self._fields.get(REQUEST_FIELD)
        return form

    async def _read(self, form: _Form, data_dir: Path) -> None:
        more = True
        while more:
            more = await self._feed()
            if self._file_waiting:
                self._file_waiting = False
                name = self._filename or "upload"
                form.staged = await uploads.stage(data_dir, name, self._file_data())
        try:
            self._parser.finalize()
        except Exception as exc:
            raise ValidationError(f"The multipart body is malformed: {exc}.") from None

    async def _feed(self) -> bool:
        """Parse the next piece of the body; False at its end."""
        try:
            chunk = await self._stream.__anext__()
        except StopAsyncIteration:
            return False
        if chunk:
            self._parser.write(chunk)
        return True

    async def _file_data(self) -> AsyncIterator[bytes]:
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
        }

    def _part_begin(self) -> None:
        self._name, self._filename, self._disposition = "", None, b""
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
        self._files_seen += 1
        if self._name != FILE_FIELD or self._files_seen > 1:
            raise ValidationError(
                "Send exactly one file, as the form part named `files`.",
                errors=[FieldError("One file only.", in_=FILE_FIELD, code="INVALID")],
            )
        self._filename = filename.decode("utf-8", "replace")
        self._in_file = self._file_waiting = True

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            self._file_chunks.append(data[start:end])
            return
        self._data += data[start:end]
        if len(self._data) > DEFAULT_BODY_LIMIT_BYTES:
            raise PayloadTooLarge(f"The form field {self._name!r} is larger than 1 MiB.")

    def _part_end(self) -> None:
        if self._in_file:
            self._in_file = False
            self._file_ended = True
        else:
            self._fields.setdefault(self._name, bytes(self._data))


_ID = "{import_id:int}"
routes = [
    Route(BASE, create, methods=["POST"]),
    Route(BASE, list_imports, methods=["GET"]),
    Route(f"{BASE}/{_ID}", get_import, methods=["GET"]),
    Route(f"{BASE}/{_ID}/cancel", cancel, methods=["POST"]),
    Route(f"{BASE}/{_ID}/revert", revert, methods=["POST"]),
    Route(f"{BASE}/{_ID}/errors", list_errors, methods=["GET"]),
    Route(f"{BASE}/{_ID}/errors.csv", error_file, methods=["GET"]),
]
