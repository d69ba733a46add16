"""A live `occur serve` on SQLite for end-to-end tests, with a portal and its token.

The server runs as a real subprocess on a free port, exactly as a user starts it; tests
talk to it over HTTP only.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

STARTUP_SECONDS = 30


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    portal_id: int
    token: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"occur serve exited early:\n{log.read_text()}")
        try:
            if httpx.get(base_url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"occur serve did not become healthy:\n{log.read_text()}")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`occur serve` on SQLite in a temp data dir; yields its URL, a portal and a token."""
    data_dir = tmp_path_factory.mktemp("occur-live")
    env = {**os.environ, "OCCUR_DATA_DIR": str(data_dir), "OCCUR_SECRET_KEY": "x"}
    for name in ("OCCUR_DATABASE_URL", "OCCUR_PUBLIC_URL"):
        env.pop(name, None)
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    log = data_dir / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "occur", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_healthy(base_url, process, log)
        created = subprocess.run(
            [sys.executable, "-m", "occur", "portal", "create", "--name", "E2E", "--json"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        portal = json.loads(created.stdout.strip().splitlines()[-1])
        yield LiveServer(base_url, int(portal["portalId"]), portal["token"])
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
