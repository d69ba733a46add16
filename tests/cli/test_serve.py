"""`occur serve` as a newcomer meets it: first start prints a token and a curl that works."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    def __init__(self, data_dir: Path) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "OCCUR_DATA_DIR": str(data_dir),
            "PYTHONUNBUFFERED": "1",
        }
        for name in ("OCCUR_DATABASE_URL", "OCCUR_SECRET_KEY", "OCCUR_PUBLIC_URL"):
            env.pop(name, None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "occur", "serve", "--port", str(self.port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )

    def welcome(self) -> str:
        """Stdout up to the end of the printed curl example (empty if none is printed)."""
        assert self.process.stdout is not None
        lines: list[str] = []
        for line in self.process.stdout:
            lines.append(line)
            if line.strip().startswith("-d '"):
                break
        return "".join(lines)

    def wait_healthy(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.base + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert self.process.poll() is None, "occur serve exited early"
            time.sleep(0.1)
        raise AssertionError("occur serve did not become healthy")

    def stop(self) -> str:
        self.process.terminate()
        out, _ = self.process.communicate(timeout=15)
        return out or ""


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "occur-data"


@pytest.fixture
def server(data_dir: Path) -> Iterator[Server]:
    running = Server(data_dir)
    yield running
    if running.process.poll() is None:
        running.stop()


def test_first_start_prints_a_token_and_a_curl_that_works_as_printed(
    server: Server, data_dir: Path
) -> None:
    text = server.welcome()
    assert "Created portal" in text
    token = re.search(r"^\s+(occur-pat-\S+)\s*$", text, re.MULTILINE)
    assert token is not None
    curl = text[text.index("curl ") :]
    server.wait_healthy()
    done = subprocess.run(["bash", "-c", curl], capture_output=True, text=True, check=True)
    created = json.loads(done.stdout)
    assert created["name"] == "watched_demo"
    portal_id = int(re.search(r"Created portal (\d+)", text).group(1))  # type: ignore[union-attr]
    assert created["fullyQualifiedName"] == f"pe{portal_id}_watched_demo"
    assert (data_dir / "occur.sqlite").exists()
    assert (data_dir / "secret.key").stat().st_mode & 0o077 == 0


def test_a_second_start_creates_no_second_portal(data_dir: Path) -> None:
    first = Server(data_dir)
    assert "Created portal" in first.welcome()
    first.wait_healthy()
    first.stop()
    key = (data_dir / "secret.key").read_text()
    second = Server(data_dir)
    try:
        second.wait_healthy()
    finally:
        out = second.stop()
    assert "Created portal" not in out
    assert (data_dir / "secret.key").read_text() == key
