"""What every page needs: templates, the signed-in viewer, CSRF, forms and redirects.

Sessions: the cookie carries a random secret plus an HMAC of it under OCCUR_SECRET_KEY,
so a forged or truncated cookie is refused without a query; the secret names a server
side session (services.accounts). CSRF: every form carries a token derived from the
session (or, before sign-in, from a random per-browser cookie) under the same key;
SameSite=Lax cookies stop most cross-site posts already, the token stops the rest.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from occur.api.context import AppContext, context
from occur.domain.accounts import ADMIN
from occur.errors import FieldError
from occur.services import accounts
from occur.store.accounts import MembershipRow, UserRow

SESSION_COOKIE = "occur_session"
BROWSER_COOKIE = "occur_browser"
CSRF_FIELD = "csrf_token"
FORM_LIMIT_BYTES = 256 * 1024
# Every page: scripts only from occur itself (ours and the bundled Plotly), never inline,
# so even a value that escaped escaping could not run; no framing (clickjacking). Plotly
# writes <style> elements, hence inline styles, which cannot run code.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",  # pages hold private data
}

templates = Environment(
    loader=PackageLoader("occur.ui", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class Viewer:
    """The signed-in user and the portals they may see."""

    user: UserRow
    session: str
    memberships: tuple[MembershipRow, ...]

    def membership(self, portal_id: int) -> MembershipRow | None:
        return next((m for m in self.memberships if m.portal_id == portal_id), None)


@dataclass(frozen=True)
class PortalPage:
    """A page inside one portal: who looks, at which portal, as what."""

    ctx: AppContext
    viewer: Viewer
    member: MembershipRow

    @property
    def portal_id(self) -> int:
        return self.member.portal_id

    @property
    def is_admin(self) -> bool:
        return self.member.role == ADMIN


class PageError(Exception):
    """Ends a page with an HTML answer: a redirect, or an error page."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def render(
    request: Request,
    template: str,
    values: dict[str, Any] | None = None,
    *,
    status: int = 200,
    viewer: Viewer | None = None,
    page: PortalPage | None = None,
) -> HTMLResponse:
    ctx = context(request)
    browser = request.cookies.get(BROWSER_COOKIE) or secrets.token_urlsafe(24)
    session = viewer.session if viewer else page.viewer.session if page else None
    body = templates.get_template(template).render(
        request=request,
        viewer=viewer or (page.viewer if page else None),
        page=page,
        csrf_token=_csrf_token(ctx, session, browser),
        csrf_field=CSRF_FIELD,
        **(values or {}),
    )
    response = HTMLResponse(body, status_code=status)
    response.headers.update(PAGE_HEADERS)
    if BROWSER_COOKIE not in request.cookies:
        _set_cookie(response, ctx, BROWSER_COOKIE, browser, max_age=None)
    return response


def error_page(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    return render(request, "error.html", {"title": title, "message": message}, status=status)


def redirect(url: str) -> RedirectResponse:
    """After a successful POST: 303, so that a reload does not post again."""
    return RedirectResponse(url, status_code=303)


async def current_viewer(request: Request) -> Viewer | None:
    ctx = context(request)
    secret = _unsigned(ctx, request.cookies.get(SESSION_COOKIE, ""))
    if secret is None:
        return None
    return await run_in_threadpool(_load_viewer, ctx, secret)


async def signed_in(request: Request) -> Viewer:
    viewer = await current_viewer(request)
    if viewer is None:
        raise PageError(redirect_to_sign_in(request))
    return viewer


async def portal_page(request: Request, *, admin: bool = False) -> PortalPage:
    """The viewer on a page of the portal in the path. A portal the viewer does not
    belong to is answered exactly like one that does not exist."""
    viewer = await signed_in(request)
    portal_id = request.path_params["portal_id"]
    member = viewer.membership(portal_id)
    if member is None:
        raise PageError(error_page(request, 404, "Not found", "There is no such page."))
    page = PortalPage(context(request), viewer, member)
    if admin and not page.is_admin:
        raise PageError(
            render(
                request,
                "error.html",
                {"title": "Admins only", "message": "Ask an admin of this portal to do this."},
                status=403,
                page=page,
            )
        )
    return page


async def read_form(request: Request, viewer: Viewer | None = None) -> FormData:
    """The posted form, once its size and CSRF token are checked."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > FORM_LIMIT_BYTES:
        raise PageError(error_page(request, 413, "Too large", "That form was too large."))
    form = await request.form(max_files=0, max_fields=2000)
    sent = form.get(CSRF_FIELD)
    check_csrf(request, viewer, sent if isinstance(sent, str) else "")
    return form


def check_csrf(request: Request, viewer: Viewer | None, sent: str) -> None:
    """PageError 403 unless `sent` is the CSRF token of this session (or, before sign-in,
    of this browser): for forms read some other way than read_form (a streamed upload)."""
    browser = request.cookies.get(BROWSER_COOKIE, "")
    expected = _csrf_token(context(request), viewer.session if viewer else None, browser)
    if not hmac.compare_digest(sent, expected):
        raise PageError(
            error_page(
                request,
                403,
                "Form expired",
                "This form was not sent from this site, or it is too old. Go back, reload "
                "the page and send it again.",
            )
        )


def text_field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def field_errors(errors: Sequence[FieldError]) -> dict[str, str]:
    """Problems by form field, for showing each beside its input."""
    found: dict[str, str] = {}
    for error in errors:
        found.setdefault(error.in_ or "", error.message)
    return found


def start_session(response: Response, request: Request, secret: str) -> None:
    max_age = accounts.SESSION_DAYS * 86_400
    _set_cookie(response, context(request), SESSION_COOKIE, _signed(context(request), secret),
                max_age=max_age)  # fmt: skip


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


def redirect_to_sign_in(request: Request) -> RedirectResponse:
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    response = RedirectResponse("/sign-in?" + _next_query(target), status_code=303)
    return response


def safe_next(target: str | None) -> str:
    """Only a path on this site: an open redirect would make phishing links look ours."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _next_query(target: str) -> str:
    return urlencode({"next": target})


def _load_viewer(ctx: AppContext, secret: str) -> Viewer | None:
    user = accounts.session_user(ctx.db, secret)
    if user is None:
        return None
    return Viewer(user, secret, tuple(accounts.memberships(ctx.db, user.id)))


def _mac(ctx: AppContext, purpose: str, value: str) -> str:
    key = ctx.settings.secret_key.encode()
    return hmac.new(key, f"{purpose}|{value}".encode(), hashlib.sha256).hexdigest()


def _signed(ctx: AppContext, secret: str) -> str:
    return f"{secret}.{_mac(ctx, 'session', secret)}"


def _unsigned(ctx: AppContext, cookie: str) -> str | None:
    secret, _, mac = cookie.rpartition(".")
    if not secret or not hmac.compare_digest(mac, _mac(ctx, "session", secret)):
        return None
    return secret


def _csrf_token(ctx: AppContext, session: str | None, browser: str) -> str:
    return _mac(ctx, "csrf", f"s:{session}" if session else f"b:{browser}")[:40]


def _set_cookie(
    response: Response, ctx: AppContext, name: str, value: str, *, max_age: int | None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=ctx.settings.public_url.startswith("https://"),
    )
