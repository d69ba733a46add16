"""/crm/v3/imports: thin handlers over services.imports (scope crm.import).

POST takes HubSpot's multipart form: `importRequest` (JSON text) and `files` (the
spreadsheet). The body is parsed as it arrives (api/multipart_form.py) and the file part
written straight to disk by services/uploads.py, so a 512 MB upload costs a chunk of
memory, not 512 MB; past the limit the answer is 413 and the partial file is removed.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from occur.api import multipart_form, responses
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
        import_request = form.fields.get(REQUEST_FIELD)
        if import_request is None:
            raise _missing(REQUEST_FIELD, "Send the import's settings as `importRequest` JSON.")
        body = decode_json(import_request)
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
    """occur's extension: start removing what a finished import stored (a job does it;
    the import reads `PROCESSING` with `reverting: true` until it is `REVERTED`)."""
    ctx, who = await principal(request, CRM_IMPORT)
    started = await run_in_threadpool(
        service.revert, ctx.db, ctx.worker, who.portal_id, request.path_params["import_id"]
    )
    return responses.json(_import(started))


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
    reverting = v.state == service.REVERTING
    return {
        "id": str(v.id),
        # HubSpot's state enum has no value for a revert under way, and typed clients
        # refuse values outside it: such an import reads PROCESSING, with `reverting`.
        "state": "PROCESSING" if reverting else v.state,
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
                # occur's, once a revert has begun: the completions it removed so far.
                **(
                    {"REMOVED_EVENTS": v.completions_removed}
                    if v.state in (service.REVERTING, service.REVERTED)
                    else {}
                ),
            },
            "fileIds": [],
            "objectLists": [],
        },
        # occur's additions: the event, progress (of the revert while reverting) and
        # why a failed import failed.
        "eventName": v.definition_name,
        "progress": round(v.progress, 4),
        "reverting": reverting,
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

_FORM_RULES = multipart_form.FormRules(
    file_field=FILE_FIELD,
    max_field_bytes=DEFAULT_BODY_LIMIT_BYTES,
    field_too_large="The form field {name!r} is larger than 1 MiB.",
)


async def _read_form(request: Request, data_dir: Path) -> multipart_form.Form:
    """The form read by api/multipart_form.py: text fields kept (up to 1 MiB each), the
    one `files` part staged, any other file part refused. A Content-Length that already
    says the body is too large is refused before a byte is read."""
    boundary = multipart_form.boundary_of(request.headers.get("content-type", ""))
    if boundary is None:
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
    return await multipart_form.read(request, boundary, data_dir, _FORM_RULES)


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
