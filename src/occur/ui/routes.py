"""Every page of the web app, and its static files (our own, and Plotly's bundled JS)."""

from __future__ import annotations

from importlib import metadata, util
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from occur.ui import auth_pages, event_pages, events_pages, settings_pages
from occur.ui.web import STATIC_DIR, PageError

# Found without importing plotly (its import takes a second and is not needed here).
_PLOTLY_SPEC = util.find_spec("plotly")
assert _PLOTLY_SPEC is not None and _PLOTLY_SPEC.origin is not None, "plotly is a dependency"
PLOTLY_JS = Path(_PLOTLY_SPEC.origin).parent / "package_data" / "plotly.min.js"
PLOTLY_URL = f"/static/vendor/plotly-{metadata.version('plotly')}.min.js"


async def plotly_js(_request: Request) -> Response:
    # The version is in the URL, so the file may be cached for a year.
    response = FileResponse(PLOTLY_JS, media_type="text/javascript")
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


async def on_page_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageError)
    return exc.response


routes: list[BaseRoute] = [
    *auth_pages.routes,
    *settings_pages.routes,
    *events_pages.routes,
    # after every fixed /events/... path (the wizard's /events/new): {name} matches anything
    *event_pages.routes,
    Route(PLOTLY_URL, plotly_js, methods=["GET"]),
    Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
]
