"""What browser tests know about a fresh `occur serve` (fixtures: tests/e2e/conftest.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
_SETUP_CODE = re.compile(r"^    ([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})$", re.MULTILINE)


@dataclass(frozen=True)
class FreshServer:
    base_url: str
    setup_code: str
    env: dict[str, str]
    log: Path


def setup_code_in(log: str) -> str:
    """The one-time set-up code `occur serve` printed."""
    found = _SETUP_CODE.search(log)
    assert found, f"occur serve printed no set-up code:\n{log}"
    return found.group(1)


_WELCOME_TOKEN = re.compile(r"^    (occur-pat-\S+)$", re.MULTILINE)


def welcome_token(server: FreshServer) -> str:
    """The full-access token `occur serve` printed for the portal it created."""
    found = _WELCOME_TOKEN.search(server.log.read_text())
    assert found, "occur serve printed no token"
    return found.group(1)
