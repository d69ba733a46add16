"""Every page of the web app, and its static files (our own, and Plotly's bundled JS)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from occur.ui import (
    analyze_pages,
    auth_pages,
    event_pages,
    events_pages,
    import_pages,
    import_results,
    records_pages,
    settings_pages,
    tracking_pages,
    wizard_pages,
)
from occur.ui.assets import PLOTLY_URL, STATIC_DIR, plotly_js
from occur.ui.web import PageError, error_page


async def favicon(_request: Request) -> Response:
    """Browsers ask for /favicon.ico whatever the page says; answer with ours."""
    return RedirectResponse("/static/favicon.svg", status_code=301)


async def on_page_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageError)
    return exc.response


def is_page_request(request: Request) -> bool:
    """A person's browser asking for a page (HTML errors), not an API client (JSON ones).

    API paths always answer JSON: HubSpot's clients parse the error body."""
    path = request.url.path
    if path.startswith(_API_PREFIXES):
        return False
    return "text/html" in request.headers.get("accept", "")


def wrap_for_pages(
    api_handler: Callable[[Request, Exception], Awaitable[Response]],
) -> Callable[[Request, Exception], Awaitable[Response]]:
    """An exception handler that answers pages with an HTML error page and everything
    else as `api_handler` does."""

    async def handle(request: Request, exc: Exception) -> Response:
        response = await api_handler(request, exc)  # it also logs unexpected errors
        if not is_page_request(request):
            return response
        title, message = _PAGE_ERRORS.get(response.status_code, _PAGE_ERRORS[500])
        return error_page(request, response.status_code, title, message)

    return handle


_API_PREFIXES = ("/events/v3", "/crm/", "/healthz", "/static/", "/collect/", "/js/")
_PAGE_ERRORS = {
    404: ("Not found", "There is no such page."),
    405: ("Not allowed", "That page cannot be used this way."),
    500: ("Something went wrong", "occur could not show this page. The error was logged."),
}


routes: list[BaseRoute] = [
    *auth_pages.routes,
    *settings_pages.routes,
    *wizard_pages.routes,
    *tracking_pages.routes,
    *import_pages.routes,
    *import_results.routes,
    *events_pages.routes,
    # after every fixed /events/... path (the wizard's /events/new): {name} matches anything
    *analyze_pages.routes,
    *event_pages.routes,
    *records_pages.routes,
    Route(PLOTLY_URL, plotly_js, methods=["GET"]),
    Route("/favicon.ico", favicon, methods=["GET"]),
    Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
]
