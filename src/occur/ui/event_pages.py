"""One event type's page: its header and tabs (Analyze, Properties, Activity), property
editing, and deleting the event. The Analyze tab lives in analyze_pages."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from occur.domain import url_rules
from occur.domain.definitions import EventDefinition
from occur.domain.event_cursors import encode_cursor
from occur.domain.event_queries import read_event_query
from occur.domain.names import derive_name, fold_key
from occur.domain.properties import PropertyType
from occur.errors import NotFound, OccurError
from occur.services import definitions, event_reads
from occur.ui.events_pages import METHOD_LABELS
from occur.ui.visual_rules import FIELD_OF_PATH, RULE_FIELDS, URL_OP_CHOICES, rule_json
from occur.ui.web import (
    PageError,
    PortalPage,
    error_page,
    field_errors,
    portal_page,
    read_form,
    redirect,
    render,
    text_field,
)

ACTIVITY_PAGE_SIZE = 25
TYPE_LABELS = {
    PropertyType.STRING: "Text",
    PropertyType.NUMBER: "Number",
    PropertyType.ENUMERATION: "Dropdown (enumeration)",
    PropertyType.DATETIME: "Date and time",
    PropertyType.DATE: "Date",
    PropertyType.BOOL: "True/false",
}


async def event_of(request: Request, page: PortalPage) -> EventDefinition:
    """The live event in the path, or the not-found page (also for other portals' names)."""
    try:
        return await run_in_threadpool(
            definitions.get, page.ctx.db, page.portal_id, request.path_params["name"]
        )
    except NotFound:
        raise PageError(error_page(request, 404, "Not found", "There is no such event.")) from None


def event_values(definition: EventDefinition, tab: str) -> dict[str, Any]:
    """What the shared event header (templates/_event_header.html) shows."""
    return {
        "event": definition,
        "method": METHOD_LABELS.get(definition.tracking_type, definition.tracking_type),
        "tab": tab,
        "base": f"/app/{definition.portal_id}/events/{definition.fully_qualified_name}",
        "type_labels": TYPE_LABELS,
    }


async def properties_tab(request: Request) -> Response:
    page = await portal_page(request)
    definition = await event_of(request, page)
    return _properties_page(request, page, definition, {}, {})


def _properties_page(
    request: Request,
    page: PortalPage,
    definition: EventDefinition,
    errors: dict[str, str],
    values: dict[str, str],
    status: int = 200,
) -> Response:
    return render(
        request,
        "event_properties.html",
        {
            **event_values(definition, "properties"),
            "errors": errors,
            "values": values,
            "types": [(t.value, TYPE_LABELS[t]) for t in PropertyType],
        },
        page=page,
        status=status,
    )


async def property_add(request: Request) -> Response:
    page = await portal_page(request)
    definition = await event_of(request, page)
    form = await read_form(request, page.viewer)
    values = {k: text_field(form, k) for k in ("label", "name", "type", "description", "options")}
    taken = {fold_key(p.name) for p in definition.properties}
    name = values["name"].strip() or derive_name(
        values["label"].strip(), lambda n: fold_key(n) in taken, fallback="property"
    )
    body: dict[str, Any] = {
        "label": values["label"].strip(),
        "name": name,
        "type": values["type"],
        "description": values["description"].strip(),
    }
    if values["type"] == PropertyType.ENUMERATION:
        body["options"] = _options(values["options"])
    try:
        await run_in_threadpool(
            definitions.add_property, page.ctx.db, page.portal_id, definition.name, body
        )
    except OccurError as exc:
        errors = {f"new-{e.in_ or ''}": e.message for e in exc.errors} or {"new-": exc.message}
        return _properties_page(request, page, definition, errors, values, 400)
    return redirect(f"{event_values(definition, '')['base']}/properties")


async def property_change(request: Request) -> Response:
    page = await portal_page(request)
    definition = await event_of(request, page)
    form = await read_form(request, page.viewer)
    name = request.path_params["property"]
    base = event_values(definition, "")["base"]
    try:
        if text_field(form, "action") == "delete":
            await run_in_threadpool(
                definitions.delete_property, page.ctx.db, page.portal_id, definition.name, name
            )
        else:
            await run_in_threadpool(
                definitions.update_property,
                page.ctx.db,
                page.portal_id,
                definition.name,
                name,
                _property_change(form, definition, name),
            )
    except NotFound:
        return error_page(request, 404, "Not found", "This event has no such property.")
    except OccurError as exc:
        message = exc.errors[0].message if exc.errors else exc.message
        return _properties_page(request, page, definition, {f"prop-{name}": message}, {}, 400)
    return redirect(f"{base}/properties")


def _property_change(form: FormData, definition: EventDefinition, name: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "label": text_field(form, "label").strip(),
        "description": text_field(form, "description").strip(),
    }
    spec = next((p for p in definition.properties if p.name == name), None)
    if spec is not None and spec.type == PropertyType.ENUMERATION:
        body["options"] = _options(text_field(form, "options"))
    return body


def _options(text: str) -> list[dict[str, Any]]:
    """Options typed one per line as `Label = value` (or just a label: value derived)."""
    options: list[dict[str, Any]] = []
    for order, line in enumerate(line.strip() for line in text.splitlines() if line.strip()):
        label, sep, value = line.partition("=")
        label = label.strip()
        value = value.strip() if sep else label.lower().replace(" ", "_")
        options.append({"label": label, "value": value, "displayOrder": order})
    return options


def options_text(definition: EventDefinition, name: str) -> str:
    spec = next((p for p in definition.properties if p.name == name), None)
    if spec is None:
        return ""
    return "\n".join(f"{o.label} = {o.value}" for o in spec.options)


async def activity_tab(request: Request) -> Response:
    page = await portal_page(request)
    definition = await event_of(request, page)
    params = [("eventType", definition.fully_qualified_name), ("limit", str(ACTIVITY_PAGE_SIZE))]
    for key in ("after", "before"):
        cursor = request.query_params.get(key)
        if cursor:
            params.append((key, cursor[:200]))
    try:
        query = read_event_query(params)
    except OccurError:
        return error_page(request, 400, "Bad link", "That page link is broken; start again.")
    found = await run_in_threadpool(event_reads.read_page, page.ctx.db, page.portal_id, query)
    labels = {p.name: p.label for p in definition.properties}
    return render(
        request,
        "event_activity.html",
        {
            **event_values(definition, "activity"),
            "found": found,
            "labels": labels,
            "cursor": encode_cursor,
            "record_path": {
                "CONTACT": "contacts",
                "COMPANY": "companies",
                "DEAL": "deals",
                "TICKET": "tickets",
            },
        },
        page=page,
    )


async def details_tab(request: Request) -> Response:
    page = await portal_page(request)
    definition = await event_of(request, page)
    return await _details_page(request, page, definition, {}, {})


async def _details_page(
    request: Request,
    page: PortalPage,
    definition: EventDefinition,
    errors: dict[str, str],
    values: dict[str, str],
    status: int = 200,
) -> Response:
    code = None
    if definition.tracking_type == definitions.CUSTOM_SCRIPT:
        code = await run_in_threadpool(
            definitions.code, page.ctx.db, page.portal_id, definition.name
        )
    rule = None
    if definition.tracking_type in url_rules.VISUAL_TRACKING_TYPES:
        rule = await run_in_threadpool(
            definitions.tracking_rule, page.ctx.db, page.portal_id, definition.name
        )
    shown = {
        "label": definition.label,
        "description": definition.description,
        "code": code or "",
        **_rule_fields(rule),
        **values,
    }
    return render(
        request,
        "event_details.html",
        {
            **event_values(definition, "details"),
            "errors": errors,
            "values": shown,
            "has_code": definition.tracking_type == definitions.CUSTOM_SCRIPT,
            "visual": definition.tracking_type in url_rules.VISUAL_TRACKING_TYPES,
            "url_ops": URL_OP_CHOICES,
            "saved": request.query_params.get("saved", ""),
        },
        page=page,
        status=status,
    )


async def details_save(request: Request) -> Response:
    page = await portal_page(request)
    definition = await event_of(request, page)
    form = await read_form(request, page.viewer)
    values = {k: text_field(form, k) for k in ("label", "description")}
    body = {"label": values["label"].strip(), "description": values["description"].strip()}
    try:
        await run_in_threadpool(
            definitions.update, page.ctx.db, page.portal_id, definition.name, body
        )
    except OccurError as exc:
        errors = field_errors(exc.errors) or {"label": exc.message}
        return await _details_page(request, page, definition, errors, values, 400)
    return redirect(f"{event_values(definition, '')['base']}/details?saved=details")


async def code_save(request: Request) -> Response:
    """Replace a JavaScript-code event's block: admins only, as the code runs on every
    page of the customer's site."""
    page = await portal_page(request, admin=True)
    definition = await event_of(request, page)
    form = await read_form(request, page.viewer)
    code = text_field(form, "code")
    try:
        await run_in_threadpool(
            definitions.set_code, page.ctx.db, page.portal_id, definition.name, code
        )
    except OccurError as exc:
        errors = field_errors(exc.errors) or {"code": exc.message}
        return await _details_page(request, page, definition, errors, {"code": code}, 400)
    return redirect(f"{event_values(definition, '')['base']}/details?saved=code")


def _rule_fields(rule: url_rules.TrackingRule | None) -> dict[str, str]:
    if rule is None:
        return {}
    url = rule.url
    return {
        "selector": rule.selector or "",
        "url_op": url.op if url else "",
        "url_param": (url.param or "") if url else "",
        "url_value": url.value if url else "",
    }


async def rule_save(request: Request) -> Response:
    """Change what a visual event tracks: its selector and its page rule."""
    page = await portal_page(request)
    definition = await event_of(request, page)
    form = await read_form(request, page.viewer)
    values = {k: text_field(form, k).strip() for k in RULE_FIELDS}
    raw = rule_json(definition.tracking_type, values)
    try:
        await run_in_threadpool(
            definitions.set_tracking_rule, page.ctx.db, page.portal_id, definition.name, raw
        )
    except OccurError as exc:
        errors = {FIELD_OF_PATH.get(e.in_ or "", "url_op"): e.message for e in exc.errors}
        return await _details_page(request, page, definition, errors, values, 400)
    return redirect(f"{event_values(definition, '')['base']}/details?saved=rule")


async def event_delete(request: Request) -> Response:
    page = await portal_page(request)
    definition = await event_of(request, page)
    await read_form(request, page.viewer)
    await run_in_threadpool(definitions.delete, page.ctx.db, page.portal_id, definition.name)
    return redirect(f"/app/{page.portal_id}/events?" + urlencode({"deleted": definition.label}))


_E = "/app/{portal_id:int}/events/{name:str}"
routes = [
    Route(f"{_E}/properties", properties_tab, methods=["GET"]),
    Route(f"{_E}/properties", property_add, methods=["POST"]),
    Route(f"{_E}/properties/{{property:str}}", property_change, methods=["POST"]),
    Route(f"{_E}/activity", activity_tab, methods=["GET"]),
    Route(f"{_E}/details", details_tab, methods=["GET"]),
    Route(f"{_E}/details", details_save, methods=["POST"]),
    Route(f"{_E}/rule", rule_save, methods=["POST"]),
    Route(f"{_E}/code", code_save, methods=["POST"]),
    Route(f"{_E}/delete", event_delete, methods=["POST"]),
]
