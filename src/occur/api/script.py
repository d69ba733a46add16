"""GET /js/{portalId}.js: the portal's tracking script (docs/tracking.md).

Sites load it on every page, from occur's origin: it is public, cacheable for five
minutes, and revalidated by ETag so a changed code block reaches browsers within that.
Browsers that take gzip get the gzipped copy assembled with the text (each encoding has
its own ETag, as HTTP caches expect).
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from occur.api.context import context
from occur.services import tracking_script
from occur.services.tracking_script import ScriptSettings

MEDIA_TYPE = "application/javascript; charset=utf-8"
CACHE_CONTROL = "public, max-age=300"


async def script(request: Request) -> Response:
    ctx = context(request)
    found = await run_in_threadpool(
        tracking_script.script_for,
        ctx.db,
        ScriptSettings(ctx.settings.public_url),
        ctx.tracking_scripts,
        request.path_params["portal_id"],
    )
    zipped = _takes_gzip(request.headers.get("accept-encoding", ""))
    etag = found.gzip_etag if zipped else found.etag
    headers = {"Cache-Control": CACHE_CONTROL, "ETag": etag, "Vary": "Accept-Encoding"}
    if _matches(request.headers.get("if-none-match", ""), etag):
        return Response(status_code=304, headers=headers)
    if zipped:
        headers["Content-Encoding"] = "gzip"
        return Response(found.gzipped, headers=headers, media_type=MEDIA_TYPE)
    return Response(found.text, headers=headers, media_type=MEDIA_TYPE)


def _takes_gzip(accept_encoding: str) -> bool:
    """Accept-Encoding names gzip (or `*`) without `q=0`."""
    for part in accept_encoding.split(","):
        coding, _, params = part.partition(";")
        if coding.strip().lower() not in ("gzip", "*"):
            continue
        quality = params.strip().removeprefix("q=").strip() if params else "1"
        try:
            return float(quality) > 0
        except ValueError:
            return True
    return False


def _matches(if_none_match: str, etag: str) -> bool:
    """If-None-Match holds `*` or a list of tags, weak (`W/`) or strong."""
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags


routes = [Route("/js/{portal_id:int}.js", script, methods=["GET"])]
