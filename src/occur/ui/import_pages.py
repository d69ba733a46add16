"""Import spreadsheet: the file step, the mapping step (with its preview and the finish
choices) and the start of the import.

The Create event wizard checks a new event's details and hands them here; an existing
event's "Import" action starts here with `?event=`. Each later step carries the earlier
ones in hidden fields; the uploaded file travels as a ticket signed for this portal and
user (ui/import_upload.py). A new event and the event properties made in the mapping
are created only when the import starts. import.js shows the mapping, preview and
finish parts one at a time, keeps the mapping guide and the preview current as columns
change (POST …/check) and blocks Next until the guide is satisfied; without it the
whole form shows and the server says the same things when it is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from occur.domain.accounts import time_zones
from occur.domain.definitions import EventDefinition
from occur.domain.import_columns import HEADER_LANGUAGES, Target, auto_map, requirements
from occur.domain.import_columns import mapping_problems as column_problems
from occur.domain.import_dates import DATE_FORMATS, guess_date_format
from occur.domain.objects import CONTACT
from occur.domain.properties import DEFAULT_PROPERTIES
from occur.errors import NotFound, OccurError, ValidationError
from occur.services import accounts, definitions, imports, spreadsheets, uploads
from occur.services.imports import ImportRequest, ImportView
from occur.services.spreadsheets import SheetFormat
from occur.services.uploads import StagedFile
from occur.ui import import_upload
from occur.ui.event_pages import TYPE_LABELS
from occur.ui.import_form import (
    CONTACT_PROPERTIES,
    CONTACT_PROPERTY_LABELS,
    DATE_FORMAT_LABELS,
    NEW_PROPERTY,
    NEW_TYPES,
    TARGET_LABELS,
    ImportForm,
    auto_rows,
    creation_body,
    derive_property_name,
    details_problems,
    draft_definition,
    event_choices,
    finish_problems,
    fixed_occurred_at_ms,
    map_url,
    mappings_of,
    new_property_bodies,
    property_problems,
    read_form,
    read_state,
)
from occur.ui.import_preview import PREVIEW_ROWS, PreviewRow, preview_rows
from occur.ui.web import (
    CSRF_FIELD,
    PageError,
    PortalPage,
    check_csrf,
    error_page,
    portal_page,
    redirect,
    render,
)
from occur.ui.web import read_form as read_posted_form

SAMPLE_ROWS = 3


@dataclass(frozen=True)
class Sheet:
    """What the mapping step reads from the staged file."""

    staged: StagedFile
    fmt: SheetFormat
    headers: list[str]
    rows: list[list[str]]  # the first few data rows


# ---- The file step ----


async def file_step(request: Request) -> Response:
    page = await portal_page(request)
    state = read_state(request.query_params)
    existing = await _existing(request, page, state)
    return _file_page(request, page, state, existing, {})


async def file_upload(request: Request) -> Response:
    """POST the file step (multipart): the file streams to disk, then the mapping step."""
    page = await portal_page(request)
    ctx = page.ctx

    def check(fields: dict[str, str]) -> None:
        check_csrf(request, page.viewer, fields.get(CSRF_FIELD, ""))

    try:
        upload = await import_upload.receive(request, ctx.settings.data_dir, check)
    except import_upload.UploadFailed as failed:
        state = read_state(failed.fields)
        existing = await _existing(request, page, state)
        errors = {"file": failed.error.message}
        return _file_page(request, page, state, existing, errors, status=failed.error.status)
    except OccurError as exc:
        state = read_state({})
        return _file_page(request, page, state, None, {"file": exc.message}, status=exc.status)
    state = read_state(upload.fields)
    existing = await _existing(request, page, state)
    if upload.staged is None:
        errors = {"file": "Choose a CSV or Excel (.xlsx) file."}
        return _file_page(request, page, state, existing, errors, status=400)
    try:
        await run_in_threadpool(_read_sheet, upload.staged, None)
    except ValidationError as exc:
        await run_in_threadpool(uploads.discard, ctx.settings.data_dir, upload.staged.id)
        return _file_page(request, page, state, existing, {"file": exc.message}, status=400)
    state.upload = import_upload.ticket(
        ctx.settings.secret_key, page.portal_id, page.viewer.user.id, upload.staged.id
    )
    return redirect(map_url(page.portal_id, state))


def _file_page(
    request: Request,
    page: PortalPage,
    state: ImportForm,
    existing: EventDefinition | None,
    errors: dict[str, str],
    *,
    status: int = 200,
) -> Response:
    return render(
        request,
        "import_file.html",
        {
            "form": state,
            "event": existing,
            "errors": errors,
            "languages": HEADER_LANGUAGES,
            "max_mb": uploads.MAX_UPLOAD_BYTES // (1024 * 1024),
        },
        page=page,
        status=status,
    )


# ---- The mapping step ----


async def map_step(request: Request) -> Response:
    page = await portal_page(request)
    state = read_state(request.query_params)
    existing = await _existing(request, page, state)
    sheet = await _sheet(request, page, state)
    portal = await run_in_threadpool(accounts.portal, page.ctx.db, page.portal_id)
    taken = [p.name for p in (existing.properties if existing else DEFAULT_PROPERTIES)]
    mappings = auto_map(
        sheet.headers,
        state.language,
        object_is_contact=_object_is_contact(state, existing),
        event_properties=event_choices(existing),
    )
    state.columns = auto_rows(mappings, existing is None, taken)
    state.time_zone = portal.time_zone
    state.name = f"{sheet.staged.filename} {datetime.now().strftime('%Y-%m-%d %H:%M')}"[:200]
    occurred = [c.index for c in state.columns if c.target == Target.OCCURRED_AT]
    if occurred:
        samples = [r[occurred[0]] for r in sheet.rows if len(r) > occurred[0]]
        state.date_format = guess_date_format(samples, state.time_zone) or state.date_format
    return await _map_page(request, page, state, existing, sheet, {})


async def map_check(request: Request) -> Response:
    """POST …/new/check (the mapping form): JSON with what the guide still asks for,
    each field's problem, the names derived for new properties, and the preview."""
    page = await portal_page(request)
    posted = await read_posted_form(request, page.viewer)
    values = {k: v for k, v in posted.items() if isinstance(v, str)}
    state = read_state(values)
    existing = await _existing(request, page, state)
    sheet = await _sheet(request, page, state)
    form = read_form(values, sheet.headers)
    names = _derive_names(form, existing)
    checked = _check(page.portal_id, form, existing, sheet, finishing=False)
    answer: dict[str, Any] = {
        "requirements": checked.requirements,
        "problems": checked.problems,
        "names": names,
        "preview": [row.as_json() for row in checked.preview],
    }
    return JSONResponse(answer, headers={"Cache-Control": "no-store"})


async def start_import(request: Request) -> Response:
    """POST the mapping form: check everything, create what the import needs, start it."""
    page = await portal_page(request)
    posted = await read_posted_form(request, page.viewer)
    values = {k: v for k, v in posted.items() if isinstance(v, str)}
    state = read_state(values)
    started = await _started(page, state)
    if started is not None:  # Finish sent again: the import it started, not a 404
        return redirect(f"/app/{page.portal_id}/imports/{started.id}")
    existing = await _existing(request, page, state)
    sheet = await _sheet(request, page, state)
    form = read_form(values, sheet.headers)
    _derive_names(form, existing)
    checked = _check(page.portal_id, form, existing, sheet, finishing=True)
    errors = dict(checked.problems)
    if checked.requirements:
        errors.setdefault("mapping", checked.requirements[0])
    if errors:
        return await _map_page(request, page, form, existing, sheet, errors, status=400)
    try:
        view = await run_in_threadpool(_start, page, form, existing, sheet.staged)
    except OccurError as exc:
        errors = {"": exc.message, **{f"api-{i}": e.message for i, e in enumerate(exc.errors)}}
        return await _map_page(request, page, form, existing, sheet, errors, status=400)
    return redirect(f"/app/{page.portal_id}/imports/{view.id}")


def _start(
    page: PortalPage, form: ImportForm, existing: EventDefinition | None, staged: StagedFile
) -> ImportView:
    """The form as the one use case that creates the event (or its new properties) and
    starts the import."""
    ctx = page.ctx
    request = ImportRequest(
        name=form.name,
        definition_name=existing.name if existing is not None else "",
        mappings=tuple(mappings_of(form)),
        date_format=form.date_format,
        time_zone=form.time_zone,
        fixed_occurred_at=fixed_occurred_at_ms(form),
        header_language=form.language,
        sheet=form.sheet or None,
    )
    changes = imports.EventChanges(
        new_event=creation_body(form) if existing is None else None,
        new_properties=[body for _, body in new_property_bodies(form)],
        draft=draft_definition(page.portal_id, form, existing),
    )
    return imports.start_with_event(
        ctx.db,
        ctx.settings,
        ctx.worker,
        page.portal_id,
        request,
        staged,
        changes,
        "CRM_UI",
        page.viewer.user.id,
    )


@dataclass(frozen=True)
class Checked:
    requirements: list[str]
    problems: dict[str, str]
    preview: list[PreviewRow]


def _check(
    portal_id: int,
    form: ImportForm,
    existing: EventDefinition | None,
    sheet: Sheet,
    *,
    finishing: bool,
) -> Checked:
    """The guide's needs, every field's problem and the preview, for the form as typed
    (the finish step's fields only once the form is sent)."""
    problems = property_problems(form, existing)
    details = details_problems(form)
    if details:
        problems[""] = f"The event's details need fixing first (go back): {details}"
    definition = None
    if not problems:
        try:
            definition = draft_definition(portal_id, form, existing)
        except ValidationError as exc:
            problems[""] = exc.errors[0].message if exc.errors else exc.message
    mappings = mappings_of(form)
    object_is_contact = _object_is_contact(form, existing)
    choices = event_choices(definition or existing)
    for problem in column_problems(
        mappings, object_is_contact=object_is_contact, event_properties=choices
    ):
        problems.setdefault(_column_key(form, problem.in_), problem.message)
    fixed = fixed_occurred_at_ms(form)
    if form.fixed_occurred_at and fixed is None:
        problems["fixed_occurred_at"] = "Give a date and time, like 2025-12-31T17:30."
    needs = requirements(
        mappings, object_is_contact=object_is_contact, fixed_occurred_at=fixed is not None
    )
    if finishing:
        problems.update(finish_problems(form))
    preview: list[PreviewRow] = []
    if definition is not None:
        preview = preview_rows(
            definition,
            mappings,
            len(sheet.headers),
            sheet.rows,
            date_format=form.date_format if form.date_format in DATE_FORMATS else "ISO_8601",
            time_zone=form.time_zone,
            fixed_occurred_at=fixed,
            decimal_comma=spreadsheets.decimal_comma(sheet.fmt, form.language),
        )
    return Checked(needs, problems, preview)


def _object_is_contact(form: ImportForm, existing: EventDefinition | None) -> bool:
    if existing is not None:
        return existing.object_type is CONTACT
    return form.object_is_contact


def _column_key(form: ImportForm, path: str | None) -> str:
    """The field a mapping problem is about (`columnMappings[i]` is column i, as every
    column is mapped in order): its property's select, else its Import as."""
    digits = "".join(ch for ch in path or "" if ch.isdigit())
    if not digits or int(digits) >= len(form.columns):
        return "mapping"
    row = form.columns[int(digits)]
    if row.target == Target.CONTACT:
        return f"c-{row.index}-contact"
    if row.target == Target.EVENT:
        return f"c-{row.index}-new-name" if row.creates_property else f"c-{row.index}-event"
    return f"c-{row.index}-as"


def _derive_names(form: ImportForm, existing: EventDefinition | None) -> dict[str, str]:
    """Fill in the blank names of new properties from their labels, as the wizard does."""
    taken = [p.name for p in (existing.properties if existing else DEFAULT_PROPERTIES)]
    taken += [r.new_name for r in form.columns if r.creates_property and r.new_name]
    derived = {}
    for row in form.columns:
        if row.creates_property and not row.new_name and row.new_label:
            row.new_name = derive_property_name(row.new_label, taken)
            taken.append(row.new_name)
            derived[f"c-{row.index}-new-name"] = row.new_name
    return derived


async def _map_page(
    request: Request,
    page: PortalPage,
    form: ImportForm,
    existing: EventDefinition | None,
    sheet: Sheet,
    errors: dict[str, str],
    *,
    status: int = 200,
) -> Response:
    checked = await run_in_threadpool(
        _check, page.portal_id, form, existing, sheet, finishing=False
    )
    for key, message in checked.problems.items():
        errors.setdefault(key, message)
    samples = [
        [row[i] if i < len(row) else "" for row in sheet.rows[:SAMPLE_ROWS]]
        for i in range(len(sheet.headers))
    ]
    event_props = list(existing.custom_properties) if existing else []
    contacts = _object_is_contact(form, existing)
    return render(
        request,
        "import_map.html",
        {
            "form": form,
            "event": existing,
            "sheet": sheet,
            "samples": samples,
            "errors": errors,
            "needs": checked.requirements,
            "preview": checked.preview,
            "preview_limit": PREVIEW_ROWS,
            "targets": [t for t in TARGET_LABELS if contacts or t[0] != Target.CONTACT],
            "contact_properties": [
                (name, CONTACT_PROPERTY_LABELS.get(name, name)) for name in CONTACT_PROPERTIES
            ],
            "event_properties": event_props,
            "new_property": NEW_PROPERTY,
            "new_types": [(t.value, TYPE_LABELS[t]) for t in NEW_TYPES],
            "date_formats": [(f, DATE_FORMAT_LABELS.get(f, f)) for f in DATE_FORMATS],
            "time_zones": time_zones(),
            "languages": HEADER_LANGUAGES,
            "open_step": _open_step(errors),
        },
        page=page,
        status=status,
    )


_FINISH_FIELDS = ("name", "consent", "date_format", "time_zone")


def _open_step(errors: dict[str, str]) -> str:
    if any(key.startswith("c-") or key in ("mapping", "fixed_occurred_at") for key in errors):
        return "mapping"
    if any(key in _FINISH_FIELDS for key in errors):
        return "finish"
    return ""


# ---- What every step needs ----


async def _existing(
    request: Request, page: PortalPage, state: ImportForm
) -> EventDefinition | None:
    """The event imported into, when it exists already (else the not-found page)."""
    if not state.event:
        return None
    try:
        return await run_in_threadpool(definitions.get, page.ctx.db, page.portal_id, state.event)
    except NotFound:
        raise PageError(error_page(request, 404, "Not found", "There is no such event.")) from None


async def _started(page: PortalPage, state: ImportForm) -> ImportView | None:
    staged_id = import_upload.staged_id_of(
        page.ctx.settings.secret_key, page.portal_id, page.viewer.user.id, state.upload
    )
    if staged_id is None:
        return None
    return await run_in_threadpool(imports.started_from, page.ctx.db, page.portal_id, staged_id)


async def _sheet(request: Request, page: PortalPage, state: ImportForm) -> Sheet:
    """The staged file the ticket names, read for the mapping step."""
    settings = page.ctx.settings
    staged_id = import_upload.staged_id_of(
        settings.secret_key, page.portal_id, page.viewer.user.id, state.upload
    )
    try:
        if staged_id is None:
            raise NotFound()
        staged = await run_in_threadpool(uploads.find, settings.data_dir, staged_id)
        return await run_in_threadpool(_read_sheet, staged, state.sheet or None)
    except NotFound:
        back = f"/app/{page.portal_id}/imports/new"
        raise PageError(
            render(
                request,
                "error.html",
                {
                    "title": "Choose the file again",
                    "message": "This upload is gone: it was used already, or it belongs "
                    f"to another session. Start again at {back}.",
                },
                status=404,
                page=page,
            )
        ) from None
    except ValidationError as exc:
        raise PageError(
            render(
                request,
                "error.html",
                {"title": "This file cannot be read", "message": exc.message},
                status=400,
                page=page,
            )
        ) from None


def _read_sheet(staged: StagedFile, sheet_name: str | None) -> Sheet:
    fmt = spreadsheets.detect(staged.path, staged.filename, sheet_name)
    headers = spreadsheets.header(staged.path, fmt)
    rows = spreadsheets.preview(staged.path, fmt, max(PREVIEW_ROWS, SAMPLE_ROWS))
    return Sheet(staged, fmt, headers, rows)


_P = "/app/{portal_id:int}/imports/new"
routes = [
    Route(_P, file_step, methods=["GET"]),
    Route(_P, file_upload, methods=["POST"]),
    Route(f"{_P}/map", map_step, methods=["GET"]),
    Route(f"{_P}/map", start_import, methods=["POST"]),
    Route(f"{_P}/check", map_check, methods=["POST"]),
]
