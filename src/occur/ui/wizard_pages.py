"""Custom events ▸ Create event: the wizard, its name checker, and the page that shows
how to send the new event.

One <form> holds every step (method, details, properties, code) as fieldsets; wizard.js
shows them one at a time. Without it the whole form shows and still works: adding and
removing rows are submit buttons that the server answers by re-rendering the form. The
POST builds HubSpot's create body and calls the same service as the API, so the web app
accepts exactly what the API accepts, and each of the API's field errors is mapped back
to the input it came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from occur.domain import definitions as rules
from occur.domain import url_rules
from occur.domain.definitions import EventDefinition, fully_qualified_name
from occur.domain.objects import OBJECT_TYPES
from occur.domain.properties import DEFAULT_PROPERTIES, MAX_CUSTOM_PROPERTIES, PropertyType
from occur.errors import NotFound, OccurError
from occur.services import definitions, picker
from occur.ui import wizard_examples
from occur.ui.event_pages import TYPE_LABELS
from occur.ui.events_pages import METHOD_LABELS
from occur.ui.import_form import new_import_url
from occur.ui.visual_rules import URL_OP_CHOICES
from occur.ui.web import (
    PageError,
    PortalPage,
    error_page,
    portal_page,
    read_form,
    redirect,
    render,
    text_field,
)
from occur.ui.wizard_form import (
    STEP_ORDER,
    STEPS,
    OptionRow,
    PropertyRow,
    Submission,
    WizardForm,
    apply_action,
    derive_property_name,
    first_step,
    form_errors,
    name_problems,
    read_wizard,
    step_of,
    submission,
    summary_line,
)

# The checker validates a whole form's names in one request; a little above the most a
# definition may hold, so that the "too many" case still gets its names checked.
MAX_CHECKED_NAMES = MAX_CUSTOM_PROPERTIES + 10


@dataclass(frozen=True)
class Method:
    """One way to create an event. Later features switch theirs on with `available`
    and name the steps that follow the method step (each a fieldset in wizard.html)."""

    key: str
    label: str
    description: str
    tracking_type: str
    available: bool
    admin_only: bool = False
    unavailable_reason: str = ""
    steps: tuple[str, ...] = ("details", "properties")
    # What the last step's button does: most methods create the event there.
    submit_label: str = "Create event"


METHODS: tuple[Method, ...] = (
    Method(
        "api",
        "Send data via API",
        "Your servers or tools send completions with an access token.",
        definitions.MANUAL,
        available=True,
    ),
    Method(
        "javascript",
        "JavaScript code",
        "A code block that the tracking script runs on your website's pages.",
        definitions.CUSTOM_SCRIPT,
        available=True,
        admin_only=True,
        steps=("details", "properties", "code"),
    ),
    Method(
        "visual",
        "Visual event",
        "Point at a button or a page on your website; no code needed.",
        url_rules.CLICKED_ELEMENT,  # or VISITED_URL, as the visual step says
        available=True,
        steps=("details", "properties", "visual"),
    ),
    Method(
        "import",
        "Import spreadsheet",
        "Upload completions that happened elsewhere from a CSV or Excel file.",
        definitions.IMPORT,
        available=True,
        # The file, mapping and finish steps are pages of their own (ui/import_pages.py):
        # the wizard checks the details, then hands them to the file step.
        steps=("details",),
        submit_label="Next: choose the file",
    ),
)
ADMINS_ONLY_REASON = "Only admins manage code blocks."


@dataclass(frozen=True)
class MethodChoice:
    method: Method
    disabled_reason: str | None


def method_choices(is_admin: bool) -> list[MethodChoice]:
    """Every method, each with why this viewer cannot pick it (None: they can)."""
    choices = []
    for method in METHODS:
        reason = None
        if not method.available:
            reason = method.unavailable_reason
        elif method.admin_only and not is_admin:
            reason = ADMINS_ONLY_REASON
        choices.append(MethodChoice(method, reason))
    return choices


def predicted_event_name(page: PortalPage, label: str) -> str:
    """The name creation will most likely derive for this label. Deleted events' names
    are taken too but not visible here; the POST fixes a code block up if it differs."""

    def live(candidate: str) -> bool:
        try:
            definitions.get(page.ctx.db, page.portal_id, candidate)
        except NotFound:
            return False
        return True

    return rules.derive_definition_name(label.strip(), live)


async def check_names(request: Request) -> Response:
    """GET …/new/check-names?label=L&name=N… (one pair per row, in form order)
    [&derive=i…] [&event_label=…]: JSON with every row's name (rows named by `derive`
    get theirs from their label), each name's problem or null, and the event's
    predicted name. Side-effect free, so a GET without a CSRF token."""
    page = await portal_page(request)
    params = request.query_params
    labels = params.getlist("label")[:MAX_CHECKED_NAMES]
    names = [n.strip() for n in params.getlist("name")[:MAX_CHECKED_NAMES]]
    labels += [""] * (len(names) - len(labels))
    names += [""] * (len(labels) - len(names))
    wanted = {int(d) for d in params.getlist("derive") if d.isdigit() and int(d) < len(names)}
    for at in sorted(wanted):
        others = names[:at] + names[at + 1 :]
        names[at] = derive_property_name(labels[at], others) if labels[at].strip() else ""
    answer: dict[str, Any] = {"names": names, "problems": name_problems(labels, names)}
    if "event_label" in params:
        answer["eventName"] = await run_in_threadpool(
            predicted_event_name, page, params["event_label"][:200]
        )
    return JSONResponse(answer, headers={"Cache-Control": "no-store"})


async def new_event(request: Request) -> Response:
    page = await portal_page(request)
    query = request.query_params
    wizard = WizardForm(method=query.get("method", "api"))
    choice = _choice(page, wizard.method)
    if choice is None or choice.disabled_reason:
        wizard.method = "api"
    # Back from the import's file step: the details as they were typed.
    wizard.label = query.get("label", "")[:200]
    wizard.description = query.get("description", "")[:2000]
    wizard.object = query.get("object", wizard.object)[:20]
    return _wizard_page(request, page, wizard, {}, open_step="details" if wizard.label else None)


async def create_event(request: Request) -> Response:
    page = await portal_page(request)
    form = await read_form(request, page.viewer)
    wizard = read_wizard(form)
    if apply_action(wizard, text_field(form, "action")):
        return _wizard_page(request, page, wizard, {}, open_step="properties")
    choice = _choice(page, wizard.method)
    if choice is None or (choice.disabled_reason and not choice.method.admin_only):
        reason = choice.disabled_reason if choice else "Choose how the event is sent."
        return _wizard_page(request, page, wizard, {"method": reason or ""}, status=400)
    method = choice.method
    if method.admin_only and not page.is_admin:
        # Code runs on the portal's website: a member must not be able to post it.
        raise PageError(
            render(
                request,
                "error.html",
                {"title": "Admins only", "message": ADMINS_ONLY_REASON},
                status=403,
                page=page,
            )
        )
    sent = submission(wizard)
    if method.key == "import":
        return _to_import(request, page, wizard, sent)
    code = wizard.code if "code" in method.steps and wizard.code.strip() else None
    tracking_type, rule = method.tracking_type, None
    if "visual" in method.steps:
        tracking_type, rule = wizard.visual_kind, wizard.tracking_rule()
    try:
        created = await run_in_threadpool(
            partial(
                definitions.create,
                max_definitions=page.ctx.settings.max_definitions,
                tracking_type=tracking_type,
                code=code,
                tracking_rule=rule,
            ),
            page.ctx.db,
            page.portal_id,
            sent.body,
        )
    except OccurError as exc:
        errors = form_errors(exc.errors, sent) or {"": exc.message}
        return _wizard_page(request, page, wizard, errors, status=400)
    if "code" in method.steps:
        await _settle_code(page, created, code, wizard.code_event_name)
    return redirect(done_url(created))


def _to_import(
    request: Request, page: PortalPage, wizard: WizardForm, sent: Submission
) -> Response:
    """An imported event is created when its import starts: here its details are only
    checked (by the API's own rules), then carried to the file step."""
    details = {**sent.body, "propertyDefinitions": []}
    try:
        rules.read_definition_create(details)
    except OccurError as exc:
        errors = form_errors(exc.errors, sent) or {"": exc.message}
        return _wizard_page(request, page, wizard, errors, status=400)
    return redirect(new_import_url(page.portal_id, wizard.label, wizard.description, wizard.object))


async def _settle_code(
    page: PortalPage, created: EventDefinition, code: str | None, predicted: str
) -> None:
    """Make the stored code block name the event as it was created: a starter block
    when none was typed, else the typed one with the predicted name corrected."""
    if code is None:
        fixed = wizard_examples.tracking_code(created)
    else:
        fixed = code
        if predicted and predicted != created.name:
            old = re.escape(fully_qualified_name(page.portal_id, predicted))
            fixed = re.sub(rf"\b{old}\b", created.fully_qualified_name, code)
        if fixed == code:
            return
    await run_in_threadpool(definitions.set_code, page.ctx.db, page.portal_id, created.name, fixed)


async def picker_start(request: Request) -> Response:
    """POST …/new/picker (page_url): a one-time token and the page address to open with
    it, for wizard.js (services/picker.py tells the whole round trip)."""
    page = await portal_page(request)
    form = await read_form(request, page.viewer)
    try:
        started = await run_in_threadpool(
            picker.start,
            page.ctx.db,
            page.portal_id,
            page.viewer.user.id,
            text_field(form, "page_url"),
        )
    except OccurError as exc:
        return JSONResponse({"message": exc.message}, status_code=400)
    answer = {"token": started.token, "openUrl": started.open_url, "origin": started.page_origin}
    return JSONResponse(answer, headers={"Cache-Control": "no-store"})


async def picker_redeem(request: Request) -> Response:
    """POST …/new/picker/redeem (token, selector): the selector, once the token is spent."""
    page = await portal_page(request)
    form = await read_form(request, page.viewer)
    try:
        selector = await run_in_threadpool(
            picker.redeem,
            page.ctx.db,
            page.portal_id,
            page.viewer.user.id,
            text_field(form, "token"),
            text_field(form, "selector"),
        )
    except OccurError as exc:
        return JSONResponse({"message": exc.message}, status_code=400)
    return JSONResponse({"selector": selector}, headers={"Cache-Control": "no-store"})


def done_url(definition: EventDefinition) -> str:
    query = urlencode({"name": definition.fully_qualified_name})
    return f"/app/{definition.portal_id}/events/new/done?{query}"


def _choice(page: PortalPage, key: str) -> MethodChoice | None:
    return next((c for c in method_choices(page.is_admin) if c.method.key == key), None)


def _wizard_page(
    request: Request,
    page: PortalPage,
    wizard: WizardForm,
    errors: dict[str, str],
    *,
    status: int = 200,
    open_step: str | None = None,
) -> Response:
    for row in wizard.properties:
        if not row.options:  # somewhere to type an option when the type changes
            row.options.append(OptionRow())
    summary = [(key, step_of(key), summary_line(key, message)) for key, message in errors.items()]
    return render(
        request,
        "wizard.html",
        {
            "wizard": wizard,
            "errors": errors,
            "summary": sorted(summary, key=lambda s: STEP_ORDER.get(s[1] or "", -1)),
            "open_step": first_step(errors) or open_step or "",
            "methods": method_choices(page.is_admin),
            "steps": STEPS,
            "objects": [(t.primary_object, t.plural.capitalize()) for t in OBJECT_TYPES],
            "types": [(t.value, TYPE_LABELS[t]) for t in PropertyType],
            "defaults": DEFAULT_PROPERTIES,
            "type_labels": TYPE_LABELS,
            "blank_row": PropertyRow(options=[OptionRow()]),
            "blank_option": OptionRow(),
            "examples": {t.value: v for t, v in wizard_examples.EXAMPLE_VALUES.items()},
            "url_ops": URL_OP_CHOICES,
        },
        page=page,
        status=status,
    )


# The page after creation: the event's names and examples that work as printed.


async def created_page(request: Request) -> Response:
    page = await portal_page(request)
    try:
        definition = await run_in_threadpool(
            definitions.get, page.ctx.db, page.portal_id, request.query_params.get("name", "")
        )
    except NotFound:
        return error_page(request, 404, "Not found", "There is no such event.")
    to = await run_in_threadpool(
        wizard_examples.recipient,
        page.ctx.db,
        page.portal_id,
        definition.object_type,
        create_contacts=page.ctx.settings.create_contacts_from_email,
    )
    code = None
    if definition.tracking_type == definitions.CUSTOM_SCRIPT:
        code = await run_in_threadpool(
            definitions.code, page.ctx.db, page.portal_id, definition.name
        )
    base_url = page.ctx.settings.public_url
    return render(
        request,
        "wizard_done.html",
        {
            "event": definition,
            "method": METHOD_LABELS.get(definition.tracking_type, definition.tracking_type),
            "examples": [
                (p, wizard_examples.example_value(p)) for p in definition.custom_properties
            ],
            "type_labels": TYPE_LABELS,
            "curl": wizard_examples.curl_example(base_url, definition, to),
            "python": wizard_examples.python_example(base_url, definition, to),
            "recipient": to,
            "code": code,
            "token": wizard_examples.TOKEN_PLACEHOLDER,
        },
        page=page,
    )


_N = "/app/{portal_id:int}/events/new"
routes = [
    Route(_N, new_event, methods=["GET"]),
    Route(_N, create_event, methods=["POST"]),
    Route(f"{_N}/check-names", check_names, methods=["GET"]),
    Route(f"{_N}/picker", picker_start, methods=["POST"]),
    Route(f"{_N}/picker/redeem", picker_redeem, methods=["POST"]),
    Route(f"{_N}/done", created_page, methods=["GET"]),
]
