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
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.e2e.browser import FreshServer, setup_code_in

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


def server_env(data_dir: Path, database_url: str | None = None) -> dict[str, str]:
    """The environment of an `occur serve` on `data_dir` (SQLite there unless a URL is given)."""
    env = {**os.environ, "OCCUR_DATA_DIR": str(data_dir), "OCCUR_SECRET_KEY": "x"}
    for name in ("OCCUR_DATABASE_URL", "OCCUR_PUBLIC_URL"):
        env.pop(name, None)
    if database_url is not None:
        env["OCCUR_DATABASE_URL"] = database_url
    return env


def start_server(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`occur serve` on a free port, healthy; returns the process and its base URL.
    The log is appended to, so a restarted server keeps the earlier run's lines."""
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "occur", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_healthy(base_url, process, log)
    except BaseException:
        stop_server(process)
        raise
    return process, base_url


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """Ask the server to stop; kill it when it does not within 15 s."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def create_portal(env: dict[str, str], name: str) -> tuple[int, str]:
    """`occur portal create --json` against the same store; returns (portal id, token)."""
    created = subprocess.run(
        [sys.executable, "-m", "occur", "portal", "create", "--name", name, "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    portal = json.loads(created.stdout.strip().splitlines()[-1])
    return int(portal["portalId"]), str(portal["token"])


@dataclass(frozen=True)
class SignedUp:
    """A live server with a portal, its every-scope token and a user who may sign in."""

    base_url: str
    portal_id: int
    token: str
    email: str


@contextmanager
def signed_up_server(
    data_dir: Path, portal_name: str, email: str, password: str
) -> Iterator[SignedUp]:
    """`occur serve` on SQLite with a portal and one user, created through the CLI."""
    env = server_env(data_dir / "data")
    portal_id, token = create_portal(env, portal_name)
    subprocess.run(
        [sys.executable, "-m", "occur", "user", "create", "--portal", str(portal_id),
         "--email", email, "--password-stdin"],
        env=env, input=password + "\n", text=True, check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    process, base_url = start_server(env, data_dir / "server.log")
    try:
        yield SignedUp(base_url, portal_id, token, email)
    finally:
        stop_server(process)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`occur serve` on SQLite in a temp data dir; yields its URL, a portal and a token."""
    data_dir = tmp_path_factory.mktemp("occur-live")
    env = server_env(data_dir)
    process, base_url = start_server(env, data_dir / "server.log")
    try:
        portal_id, token = create_portal(env, "E2E")
        yield LiveServer(base_url, portal_id, token)
    finally:
        stop_server(process)


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[FreshServer]:
    """`occur serve` on an empty SQLite store, as a new user first starts it."""
    env = server_env(tmp_path / "data")
    log = tmp_path / "server.log"
    process, base_url = start_server(env, log)
    try:
        yield FreshServer(base_url, setup_code_in(log.read_text()), env, log)
    finally:
        stop_server(process)
