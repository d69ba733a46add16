"""Chromium (Debian's, driven by Playwright) and a fresh `occur serve` for browser tests."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.conftest import skip_or_fail
from tests.e2e.conftest import server_env, start_server, stop_server

CHROMIUM = Path("/usr/bin/chromium")
_SETUP_CODE = re.compile(r"^    ([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})$", re.MULTILINE)


@dataclass(frozen=True)
class FreshServer:
    base_url: str
    setup_code: str
    env: dict[str, str]
    log: Path


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        skip_or_fail(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield browser
        browser.close()


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[FreshServer]:
    """`occur serve` on an empty SQLite store, as a new user first starts it."""
    env = server_env(tmp_path / "data")
    log = tmp_path / "server.log"
    process, base_url = start_server(env, log)
    try:
        found = _SETUP_CODE.search(log.read_text())
        assert found, f"occur serve printed no set-up code:\n{log.read_text()}"
        yield FreshServer(base_url, found.group(1), env, log)
    finally:
        stop_server(process)


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    """A new browser context (its own cookies) that fails the test on any page error."""
    context = chromium.new_context()
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on("dialog", lambda dialog: errors.append(f"dialog: {dialog.message}") or dialog.dismiss())
    yield tab
    context.close()
    assert not errors, errors


_WELCOME_TOKEN = re.compile(r"^    (occur-pat-\S+)$", re.MULTILINE)


def welcome_token(server: FreshServer) -> str:
    """The full-access token `occur serve` printed for the portal it created."""
    found = _WELCOME_TOKEN.search(server.log.read_text())
    assert found, "occur serve printed no token"
    return found.group(1)
