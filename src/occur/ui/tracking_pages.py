"""The tracking script's pages: Settings ▸ Tracking code (the tag to copy, allowed
domains, consent) and Data ▸ Rejected completions (what the collector dropped)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from occur.errors import OccurError
from occur.services import tracking_settings
from occur.ui.web import (
    PortalPage,
    field_errors,
    portal_page,
    read_form,
    redirect,
    render,
    text_field,
)

# Why the collector dropped something, in the words of the people who fix the site.
REASONS = {
    "UNKNOWN_EVENT": "No event with this name exists in this portal (or it was deleted).",
    "NOT_A_CONTACT_EVENT": "The event is not on Contacts, so a website visitor cannot complete it.",
    "INVALID_EMAIL": "identify was called with something that is not an email address.",
}


def reason_text(reason: str, property_name: str) -> str:
    if reason in REASONS:
        return REASONS[reason]
    return f"The value of {property_name} does not fit the property ({reason}); the " \
        "completion was stored without it."  # fmt: skip


def script_tag(public_url: str, portal_id: int) -> str:
    return f'<script async src="{public_url}/js/{portal_id}.js"></script>'


async def tracking_page(request: Request) -> Response:
    page = await portal_page(request)
    return await _settings_page(request, page, {}, None)


async def tracking_submit(request: Request) -> Response:
    page = await portal_page(request, admin=True)
    form = await read_form(request, page.viewer)
    values = {
        "allowed_domains": text_field(form, "allowed_domains"),
        "consent_required": "1" if text_field(form, "consent_required") else "",
    }
    try:
        await run_in_threadpool(
            lambda: tracking_settings.update_tracking_settings(
                page.ctx.db,
                page.portal_id,
                allowed_domains=values["allowed_domains"],
                consent_required=bool(values["consent_required"]),
            )
        )
    except OccurError as exc:
        errors = field_errors(exc.errors) or {"": exc.message}
        return await _settings_page(request, page, errors, values, 400)
    return redirect(f"/app/{page.portal_id}/settings/tracking?saved=1")


async def _settings_page(
    request: Request,
    page: PortalPage,
    errors: dict[str, str],
    values: dict[str, str] | None,
    status: int = 200,
) -> Response:
    if values is None:
        found = await run_in_threadpool(
            tracking_settings.tracking_settings, page.ctx.db, page.portal_id
        )
        values = {
            "allowed_domains": "\n".join(found.allowed_domains),
            "consent_required": "1" if found.consent_required else "",
        }
    return render(
        request,
        "settings_tracking.html",
        {
            "values": values,
            "errors": errors,
            "tag": script_tag(page.ctx.settings.public_url, page.portal_id),
            "saved": request.query_params.get("saved") == "1",
        },
        page=page,
        status=status,
    )


async def rejected_page(request: Request) -> Response:
    page = await portal_page(request)
    rows = await run_in_threadpool(
        tracking_settings.rejected_completions, page.ctx.db, page.portal_id
    )
    shown = [(row, reason_text(row.reason, row.property_name)) for row in rows]
    return render(request, "events_rejected.html", {"rows": shown}, page=page)


_P = "/app/{portal_id:int}"
routes = [
    Route(f"{_P}/settings/tracking", tracking_page, methods=["GET"]),
    Route(f"{_P}/settings/tracking", tracking_submit, methods=["POST"]),
    Route(f"{_P}/events/rejected", rejected_page, methods=["GET"]),
]
