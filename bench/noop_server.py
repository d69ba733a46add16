"""The ceiling for a send request: a Starlette POST that reads its body and answers 204.

Served exactly as `occur serve` serves occur (src/occur/cli.py): one uvicorn process,
uvicorn's defaults (uvloop, httptools, access log on) with `log_level="info"` and no proxy
headers. Keep the two in step, or the ratio compares more than occur's own work.

Run: python -m bench.noop_server PORT
"""

from __future__ import annotations

import sys

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


async def accept(request: Request) -> Response:
    await request.body()
    return Response(status_code=204)


app = Starlette(
    routes=[
        Route("/events/v3/send", accept, methods=["POST"]),
        Route("/events/v3/send/batch", accept, methods=["POST"]),
        Route("/collect/{portal_id:int}", accept, methods=["POST"]),  # bench/collector.py
    ]
)


def main() -> None:
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), proxy_headers=False, log_level="info")


if __name__ == "__main__":
    main()
