"""The web app through HTTP (Starlette's test client keeps cookies like a browser)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.testclient import TestClient

from occur.app import create_app
from occur.config import Settings
from occur.services import accounts
from occur.services.accounts import SetupCode
from occur.store.db import Database
from tests.conftest import Tenant

SETUP_CODE = "ABCDEFGHJKMN"
PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page holds no form token"
    return found.group(1)


def post_form(client: TestClient, page: str, action: str, data: dict[str, Any]) -> Any:
    """GET `page` for its form token, then POST `data` with it to `action` (no redirects)."""
    token = csrf_of(client.get(page).text)
    return client.post(action, data={"csrf_token": token, **data}, follow_redirects=False)


@dataclass(frozen=True)
class Person:
    email: str
    user_id: int


@pytest.fixture
def setup_code() -> SetupCode:
    return SetupCode(SETUP_CODE)


@pytest.fixture
def browser_factory(
    settings: Settings, db: Database, setup_code: SetupCode
) -> Iterator[Callable[[], TestClient]]:
    """New browsers (separate cookie jars) on one app."""
    app = create_app(settings, db, setup_code)
    opened: list[TestClient] = []

    def open_browser() -> TestClient:
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        opened.append(client)
        return client

    yield open_browser
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture
def browser(browser_factory: Callable[[], TestClient]) -> TestClient:
    return browser_factory()


@pytest.fixture
def admin(db: Database, tenant: Tenant) -> Person:
    added = accounts.add_user(db, tenant.portal_id, "ann@example.com", PASSWORD, "admin")
    return Person(added.user.email, added.user.id)


@pytest.fixture
def member(db: Database, tenant: Tenant) -> Person:
    added = accounts.add_user(db, tenant.portal_id, "bob@example.com", PASSWORD, "member")
    return Person(added.user.email, added.user.id)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> None:
    response = post_form(client, "/sign-in", "/sign-in", {"email": email, "password": password})
    assert response.status_code == 303, response.text
