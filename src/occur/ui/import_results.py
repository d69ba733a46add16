"""Data ▸ Imports: the list of a portal's imports and one import's page (its progress
bar, results, errors and error file; Cancel while it runs, Revert once it is done).

The progress bar reads a small JSON route that import.js polls, so a reload shows the
import where it is: nothing about a running import lives in the browser.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from functools import partial
from typing import IO, Any

from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from occur.domain.definitions import fully_qualified_name
from occur.errors import NotFound, OccurError
from occur.services import imports
from occur.services.imports import ImportView
from occur.ui.web import (
    PageError,
    PortalPage,
    error_page,
    portal_page,
    read_form,
    redirect,
    render,
)

_REVERT_STATES = frozenset({"REVERTING", "REVERTED"})
LIST_PAGE_SIZE = 50
ERRORS_PAGE_SIZE = 100
IMPORTING = frozenset({"STARTED", "PROCESSING"})
# States whose page follows the work on the server (progress polled, reloaded at the end).
RUNNING = IMPORTING | {imports.REVERTING}
STATE_LABELS = {
    "STARTED": "Waiting to start",
    "PROCESSING": "Importing",
    "DONE": "Done",
    "FAILED": "Failed",
    "CANCELED": "Canceled",
    "REVERTING": "Reverting",
    "REVERTED": "Reverted",
}
# The results, in the order the page shows them: (counter key, what the page calls it).
COUNTERS = (
    ("rowsRead", "Rows read"),
    ("contactsCreated", "Contacts created"),
    ("contactsUpdated", "Contacts updated"),
    ("completionsCreated", "Completions created"),
    ("rowsWithErrors", "Rows with errors"),
)
# Shown once a revert has begun.
REMOVED = ("completionsRemoved", "Completions removed")
ERROR_TYPE_TEXT = {
    "INCORRECT_NUMBER_OF_COLUMNS": "The row has a different number of cells than the header.",
    "INVALID_EMAIL": "Not an email address.",
    "INVALID_OBJECT_ID": "No such record.",
    "COULD_NOT_PARSE_DATE": "Not a date in the chosen format.",
    "MISSING_EVENT_TIMESTAMP": "No time given.",
    "INVALID_ENUMERATION_OPTION": "Not one of the property's options.",
    "COULD_NOT_PARSE_NUMBER": "Not a number.",
    "INVALID_PROPERTY_VALUE_FORMAT": "Not a value of the property's type.",
    "COLUMN_TOO_LARGE": "The value is too long.",
    "FAILED_VALIDATION": "The value was refused.",
}


def counters(view: ImportView) -> dict[str, int]:
    found = {
        "rowsRead": view.rows_read,
        "contactsCreated": view.contacts_created,
        "contactsUpdated": view.contacts_updated,
        "completionsCreated": view.completions_created,
        "rowsWithErrors": view.rows_with_errors,
    }
    if view.state in _REVERT_STATES:
        found["completionsRemoved"] = view.completions_removed
    return found


def revert_warning(view: ImportView) -> str:
    """What Revert removes, said before it happens."""
    return (
        f"Revert the import “{view.name}”? This removes the "
        f"{view.completions_created:,} completions of “{view.definition_name}” it created "
        f"and the {view.contacts_created:,} contacts it created that have no other "
        "activity. Contacts it updated keep their new values. This cannot be undone."
    )


async def import_list(request: Request) -> Response:
    page = await portal_page(request)
    after = request.query_params.get("after") or None
    views, next_after = await run_in_threadpool(
        imports.list_page, page.ctx.db, page.portal_id, after, LIST_PAGE_SIZE
    )
    return render(
        request,
        "import_list.html",
        {
            "imports": views,
            "next_after": next_after,
            "states": STATE_LABELS,
            "fqn": partial(fully_qualified_name, page.portal_id),
        },
        page=page,
    )


async def import_page(request: Request) -> Response:
    page = await portal_page(request)
    view = await _view(request, page)
    after = request.query_params.get("after") or None
    errors, next_after = await run_in_threadpool(
        imports.errors_page, page.ctx.db, page.portal_id, view.id, after, ERRORS_PAGE_SIZE
    )
    base = _base(page, view.id)
    values_now = counters(view)
    shown = [(key, label) for key, label in (*COUNTERS, REMOVED) if key in values_now]
    values: dict[str, Any] = {
        "view": view,
        "base": base,
        "running": view.state in RUNNING,
        "importing": view.state in IMPORTING,
        "revertible": view.state in imports.REVERTIBLE,
        "states": STATE_LABELS,
        "counters": [(key, label, values_now[key]) for key, label in shown],
        "errors": errors,
        "next_after": next_after,
        "error_types": ERROR_TYPE_TEXT,
        "revert_warning": revert_warning(view),
        "event_fqn": fully_qualified_name(page.portal_id, view.definition_name),
        "notice": request.query_params.get("done", "")[:20],
    }
    return render(request, "import_detail.html", values, page=page)


async def import_progress(request: Request) -> Response:
    """GET …/progress: JSON that the progress bar polls."""
    page = await portal_page(request)
    view = await _view(request, page)
    answer = {
        "state": view.state,
        "progress": view.progress,
        "finished": view.state not in RUNNING,
        "counters": counters(view),
    }
    return JSONResponse(answer, headers={"Cache-Control": "no-store"})


async def import_cancel(request: Request) -> Response:
    return await _act(request, _cancel, "canceled")


async def import_revert(request: Request) -> Response:
    return await _act(request, _revert, "reverting")


def _cancel(page: PortalPage, import_id: int) -> ImportView:
    return imports.cancel(page.ctx.db, page.portal_id, import_id)


def _revert(page: PortalPage, import_id: int) -> ImportView:
    return imports.revert(page.ctx.db, page.ctx.worker, page.portal_id, import_id)


async def _act(
    request: Request, action: Callable[[PortalPage, int], ImportView], done: str
) -> Response:
    page = await portal_page(request)
    await read_form(request, page.viewer)
    view = await _view(request, page)
    try:
        await run_in_threadpool(action, page, view.id)
    except NotFound:
        return error_page(request, 404, "Not found", "There is no such import.")
    except OccurError as exc:
        return render(
            request,
            "error.html",
            {"title": "Not possible now", "message": exc.message},
            status=exc.status,
            page=page,
        )
    return redirect(f"{_base(page, view.id)}?done={done}")


async def error_file(request: Request) -> Response:
    """GET …/errors.csv: the failing rows as they were in the file, plus why."""
    page = await portal_page(request)
    view = await _view(request, page)
    out = await run_in_threadpool(_error_file, page, view.id)
    filename = f"import-{view.id}-errors.csv"
    return StreamingResponse(
        iterate_in_threadpool(_chunks(out)),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _error_file(page: PortalPage, import_id: int) -> IO[bytes]:
    """Written to a temporary file first: an import may have many failing rows."""
    out = tempfile.TemporaryFile()  # closed by _chunks
    text = open(out.fileno(), "w", encoding="utf-8", newline="", closefd=False)
    with text:
        imports.error_file(page.ctx.db, page.ctx.settings, page.portal_id, import_id, text)
    out.seek(0)
    return out


def _chunks(out: IO[bytes]) -> Iterator[bytes]:
    with out:
        while chunk := out.read(64 * 1024):
            yield chunk


async def _view(request: Request, page: PortalPage) -> ImportView:
    """The import in the path, of this portal only: another portal's is not found."""
    try:
        return await run_in_threadpool(
            imports.get, page.ctx.db, page.portal_id, request.path_params["import_id"]
        )
    except NotFound:
        raise PageError(error_page(request, 404, "Not found", "There is no such import.")) from None


def _base(page: PortalPage, import_id: int) -> str:
    return f"/app/{page.portal_id}/imports/{import_id}"


_I = "/app/{portal_id:int}/imports"
routes = [
    Route(_I, import_list, methods=["GET"]),
    Route(f"{_I}/{{import_id:int}}", import_page, methods=["GET"]),
    Route(f"{_I}/{{import_id:int}}/progress", import_progress, methods=["GET"]),
    Route(f"{_I}/{{import_id:int}}/errors.csv", error_file, methods=["GET"]),
    Route(f"{_I}/{{import_id:int}}/cancel", import_cancel, methods=["POST"]),
    Route(f"{_I}/{{import_id:int}}/revert", import_revert, methods=["POST"]),
]
