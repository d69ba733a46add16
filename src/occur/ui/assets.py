"""Static files: our own (ui/static) and Plotly's bundled JS, served from the installed
package so that the browser never loads code from a third-party site."""

from __future__ import annotations

from importlib import metadata, util
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response

STATIC_DIR = Path(__file__).parent / "static"
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
