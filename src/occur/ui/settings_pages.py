"""Settings: the portal (name, time zone, week start), its users, its access tokens;
and one's own account (password). Members may look; only admins change anything."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from occur.api.context import context
from occur.domain import accounts as account_rules
from occur.domain.scopes import ALL_SCOPES
from occur.errors import OccurError
from occur.services import access, accounts
from occur.ui.web import (
    PortalPage,
    error_page,
    field_errors,
    portal_page,
    read_form,
    redirect,
    render,
    signed_in,
    text_field,
)

_SCOPE_LABELS = {
    "behavioral_events.event_definitions.read_write": "Define custom events",
    "analytics.behavioral_events.send": "Send event completions",
    "crm.import": "Import spreadsheets",
    "automation": "Workflows",
}


def _scope_label(scope: str) -> str:
    if scope in _SCOPE_LABELS:
        return _SCOPE_LABELS[scope]
    _, _, plural, verb = scope.split(".")
    return f"{'Read' if verb == 'read' else 'Write'} {plural}"


async def portal_settings(request: Request) -> Response:
    page = await portal_page(request)
    return await _portal_settings_page(request, page, {}, None)


async def portal_settings_submit(request: Request) -> Response:
    page = await portal_page(request, admin=True)
    form = await read_form(request, page.viewer)
    values = {k: text_field(form, k) for k in ("name", "time_zone", "week_start")}
    try:
        await run_in_threadpool(
            accounts.update_portal,
            page.ctx.db,
            page.portal_id,
            name=values["name"],
            time_zone=values["time_zone"],
            week_start=values["week_start"],
        )
    except OccurError as exc:
        return await _portal_settings_page(request, page, field_errors(exc.errors), values, 400)
    return redirect(f"/app/{page.portal_id}/settings?saved=1")


async def _portal_settings_page(
    request: Request,
    page: PortalPage,
    errors: dict[str, str],
    values: dict[str, str] | None,
    status: int = 200,
) -> Response:
    portal = await run_in_threadpool(accounts.portal, page.ctx.db, page.portal_id)
    shown = values or {
        "name": portal.name,
        "time_zone": portal.time_zone,
        "week_start": portal.week_start,
    }
    return render(
        request,
        "settings_portal.html",
        {
            "values": shown,
            "errors": errors,
            "time_zones": account_rules.time_zones(),
            "saved": request.query_params.get("saved") == "1",
        },
        page=page,
        status=status,
    )


async def users(request: Request) -> Response:
    page = await portal_page(request)
    return await _users_page(request, page, {}, {})


async def users_add(request: Request) -> Response:
    page = await portal_page(request, admin=True)
    form = await read_form(request, page.viewer)
    values = {k: text_field(form, k) for k in ("email", "role")}
    try:
        await run_in_threadpool(
            accounts.add_user,
            page.ctx.db,
            page.portal_id,
            values["email"],
            text_field(form, "password") or None,
            values["role"] or account_rules.MEMBER,
        )
    except OccurError as exc:
        errors = field_errors(exc.errors) or {"": exc.message}
        return await _users_page(request, page, errors, values, 400)
    return redirect(f"/app/{page.portal_id}/settings/users")


async def users_change(request: Request) -> Response:
    """One form per user row: a new role, a new password, or removal."""
    page = await portal_page(request, admin=True)
    form = await read_form(request, page.viewer)
    user_id = request.path_params["user_id"]
    action = text_field(form, "action")
    db = page.ctx.db
    try:
        if action == "role":
            await run_in_threadpool(
                accounts.set_role, db, page.portal_id, user_id, text_field(form, "role")
            )
        elif action == "reset_password":
            await run_in_threadpool(
                accounts.reset_password,
                db,
                page.portal_id,
                user_id,
                text_field(form, "new_password"),
            )
        elif action == "remove":
            await run_in_threadpool(accounts.remove_user, db, page.portal_id, user_id)
        else:
            return error_page(request, 400, "Unknown action", "That form asked for nothing.")
    except OccurError as exc:
        message = exc.errors[0].message if exc.errors else exc.message
        return await _users_page(request, page, {f"user-{user_id}": message}, {}, 400)
    return redirect(f"/app/{page.portal_id}/settings/users")


async def _users_page(
    request: Request,
    page: PortalPage,
    errors: dict[str, str],
    values: dict[str, str],
    status: int = 200,
) -> Response:
    members = await run_in_threadpool(accounts.portal_users, page.ctx.db, page.portal_id)
    return render(
        request,
        "settings_users.html",
        {"members": members, "errors": errors, "values": values, "roles": account_rules.ROLES},
        page=page,
        status=status,
    )


async def tokens(request: Request) -> Response:
    page = await portal_page(request, admin=True)
    return await _tokens_page(request, page, {}, None)


async def tokens_create(request: Request) -> Response:
    page = await portal_page(request, admin=True)
    form = await read_form(request, page.viewer)
    scopes = [s for s in form.getlist("scopes") if isinstance(s, str)]
    name = text_field(form, "name").strip()
    if not scopes:
        return await _tokens_page(
            request, page, {"scopes": "Choose at least one scope."}, None, 400
        )
    try:
        issued = await run_in_threadpool(
            access.create_token, page.ctx.db, page.portal_id, scopes, name[:200]
        )
    except OccurError as exc:
        return await _tokens_page(request, page, {"scopes": exc.message}, None, 400)
    # Shown in this answer only: the store keeps a hash, nothing can show it again.
    return await _tokens_page(request, page, {}, issued.secret)


async def tokens_revoke(request: Request) -> Response:
    page = await portal_page(request, admin=True)
    await read_form(request, page.viewer)
    try:
        await run_in_threadpool(
            access.revoke_token, page.ctx.db, request.path_params["token_id"], page.portal_id
        )
    except OccurError:
        return error_page(request, 404, "Not found", "There is no such live token.")
    return redirect(f"/app/{page.portal_id}/settings/tokens")


async def _tokens_page(
    request: Request,
    page: PortalPage,
    errors: dict[str, str],
    new_secret: str | None,
    status: int = 200,
) -> Response:
    rows = await run_in_threadpool(access.portal_tokens, page.ctx.db, page.portal_id)
    return render(
        request,
        "settings_tokens.html",
        {
            "tokens": sorted(rows, key=lambda t: (t.revoked_at is not None, -t.id)),
            "scopes": [(s, _scope_label(s)) for s in ALL_SCOPES],
            "scope_label": _scope_label,
            "errors": errors,
            "new_secret": new_secret,
        },
        page=page,
        status=status,
    )


async def account(request: Request) -> Response:
    viewer = await signed_in(request)
    return render(
        request,
        "account.html",
        {"errors": {}, "changed": request.query_params.get("changed") == "1"},
        viewer=viewer,
    )


async def account_password(request: Request) -> Response:
    viewer = await signed_in(request)
    form = await read_form(request, viewer)
    new = text_field(form, "new_password")
    if new != text_field(form, "new_password_again"):
        errors = {"new_password_again": "The new passwords differ."}
        return render(request, "account.html", {"errors": errors, "changed": False},
                      viewer=viewer, status=400)  # fmt: skip
    try:
        await run_in_threadpool(
            accounts.change_password,
            context(request).db,
            viewer.user,
            text_field(form, "current_password"),
            new,
            viewer.session,
        )
    except OccurError as exc:
        return render(request, "account.html",
                      {"errors": field_errors(exc.errors), "changed": False},
                      viewer=viewer, status=400)  # fmt: skip
    return redirect("/account?changed=1")


async def switch_portal(request: Request) -> Response:
    viewer = await signed_in(request)
    wanted = request.query_params.get("portal", "")
    if wanted.isdigit() and viewer.membership(int(wanted)) is not None:
        return redirect(f"/app/{int(wanted)}/events")
    return error_page(request, 404, "Not found", "There is no such portal.")


_P = "/app/{portal_id:int}/settings"
routes = [
    Route(_P, portal_settings, methods=["GET"]),
    Route(_P, portal_settings_submit, methods=["POST"]),
    Route(f"{_P}/users", users, methods=["GET"]),
    Route(f"{_P}/users", users_add, methods=["POST"]),
    Route(f"{_P}/users/{{user_id:int}}", users_change, methods=["POST"]),
    Route(f"{_P}/tokens", tokens, methods=["GET"]),
    Route(f"{_P}/tokens", tokens_create, methods=["POST"]),
    Route(f"{_P}/tokens/{{token_id:int}}/revoke", tokens_revoke, methods=["POST"]),
    Route("/account", account, methods=["GET"]),
    Route("/account/password", account_password, methods=["POST"]),
    Route("/switch", switch_portal, methods=["GET"]),
]
