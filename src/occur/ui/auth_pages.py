"""First run, sign-in and sign-out."""

from __future__ import annotations

import time

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from occur.api.context import context
from occur.errors import OccurError
from occur.services import accounts
from occur.ui.web import (
    PageError,
    current_viewer,
    end_session,
    error_page,
    field_errors,
    read_form,
    redirect,
    render,
    safe_next,
    start_session,
    text_field,
)


async def home(request: Request) -> Response:
    """Where `/` leads: set-up, sign-in, or the first portal's events."""
    viewer = await current_viewer(request)
    if viewer is None:
        has_users = await run_in_threadpool(accounts.has_users, context(request).db)
        return redirect("/sign-in" if has_users else "/setup")
    if not viewer.memberships:
        return error_page(
            request, 403, "No portal yet", "Your account belongs to no portal; ask an admin."
        )
    return redirect(f"/app/{viewer.memberships[0].portal_id}/events")


async def setup_form(request: Request) -> Response:
    ctx = context(request)
    if await run_in_threadpool(accounts.has_users, ctx.db):
        return redirect("/sign-in")
    return _setup_page(request, {}, {})


async def setup_submit(request: Request) -> Response:
    ctx = context(request)
    form = await read_form(request)
    values = {k: text_field(form, k) for k in ("email", "portal_name")}
    code = ctx.setup_code
    if code is None or code.exhausted:
        return _setup_page(request, values, {}, status=403)
    if not code.accepts(text_field(form, "setup_code")):
        errors = {"setup_code": "That is not the code `occur serve` printed."}
        return _setup_page(request, values, errors, status=400)
    password = text_field(form, "password")
    if password != text_field(form, "password_again"):
        return _setup_page(request, values, {"password_again": "The passwords differ."}, 400)
    try:
        created = await run_in_threadpool(
            accounts.set_up_first_user, ctx.db, values["email"], password, values["portal_name"]
        )
    except OccurError as exc:
        return _setup_page(request, values, field_errors(exc.errors) or {"": exc.message}, 400)
    secret = await run_in_threadpool(accounts.start_session, ctx.db, created.user.id)
    response = redirect(f"/app/{created.portal_id}/events")
    start_session(response, request, secret)
    return response


def _setup_page(
    request: Request, values: dict[str, str], errors: dict[str, str], status: int = 200
) -> Response:
    code = context(request).setup_code
    return render(
        request,
        "setup.html",
        {
            "values": values,
            "errors": errors,
            "closed": code is None or code.exhausted,
        },
        status=status,
    )


async def sign_in_form(request: Request) -> Response:
    if await current_viewer(request) is not None:
        return redirect(safe_next(request.query_params.get("next")))
    return _sign_in_page(request, "", None, request.query_params.get("next"))


async def sign_in_submit(request: Request) -> Response:
    ctx = context(request)
    form = await read_form(request)
    email = text_field(form, "email").strip()
    target = text_field(form, "next")
    key = email.lower()
    wait = ctx.sign_in_failures.wait_seconds(key, time.monotonic())
    if wait > 0:
        minutes = max(1, round(wait / 60))
        message = f"Too many wrong passwords for this address; try again in {minutes} min."
        return _sign_in_page(request, email, message, target, status=429)
    user = await run_in_threadpool(
        accounts.authenticate, ctx.db, email, text_field(form, "password")
    )
    if user is None:
        ctx.sign_in_failures.failed(key, time.monotonic())
        return _sign_in_page(request, email, "Wrong email or password.", target, status=400)
    ctx.sign_in_failures.succeeded(key)
    secret = await run_in_threadpool(accounts.start_session, ctx.db, user.id)
    response = redirect(safe_next(target))
    start_session(response, request, secret)
    return response


def _sign_in_page(
    request: Request, email: str, error: str | None, target: str | None, status: int = 200
) -> Response:
    values = {"email": email, "error": error, "next": safe_next(target)}
    return render(request, "sign_in.html", values, status=status)


async def sign_out(request: Request) -> Response:
    viewer = await current_viewer(request)
    if viewer is not None:
        await read_form(request, viewer)
        await run_in_threadpool(accounts.end_session, context(request).db, viewer.session)
    response = redirect("/sign-in")
    end_session(response)
    return response


routes = [
    Route("/", home, methods=["GET"]),
    Route("/setup", setup_form, methods=["GET"]),
    Route("/setup", setup_submit, methods=["POST"]),
    Route("/sign-in", sign_in_form, methods=["GET"]),
    Route("/sign-in", sign_in_submit, methods=["POST"]),
    Route("/sign-out", sign_out, methods=["POST"]),
]

__all__ = ["PageError", "routes"]
