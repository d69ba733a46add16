"""Shared fixtures: every store and API test runs on SQLite and on PostgreSQL.

PostgreSQL runs as a throwaway cluster in a temp dir on a free port, started once per
test session; each test gets a fresh database copied from a migrated template. When the
server binaries are missing those tests skip with the reason, and fail instead under
OCCUR_REQUIRE_ALL_TESTS=1.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Dialog, Page, sync_playwright
from starlette.testclient import TestClient

from occur.app import create_app
from occur.config import Settings
from occur.services import access
from occur.store import migrate
from occur.store.db import Database, open_database
from tests.support.postgres import PostgresCluster, find_pg_bin

REQUIRE_ALL = os.environ.get("OCCUR_REQUIRE_ALL_TESTS") == "1"
SHARED = Path(__file__).resolve().parents[2] / "shared"
_counter = itertools.count()


def skip_or_fail(reason: str) -> None:
    """Skip with a visible reason; under OCCUR_REQUIRE_ALL_TESTS=1 a skip is a failure."""
    if REQUIRE_ALL:
        pytest.fail(f"required test cannot run: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster | None]:
    bin_dir = find_pg_bin()
    if bin_dir is None:
        yield None
        return
    cluster = PostgresCluster(bin_dir)
    cluster.start()
    try:
        template = cluster.url("occur_template")
        cluster.create_database("occur_template")
        db = open_database(template)
        migrate.upgrade(db)
        db.dispose()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite"
    db = open_database(f"sqlite:///{path}")
    migrate.upgrade(db)
    db.dispose()  # the last connection to close checkpoints the WAL into the file
    assert not path.with_name(path.name + "-wal").exists()
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sqlite_template: Path,
    pg_cluster: PostgresCluster | None,
) -> Iterator[str]:
    """A fresh, migrated database for one test."""
    if request.param == "sqlite":
        target = tmp_path / "occur.sqlite"
        shutil.copyfile(sqlite_template, target)
        yield f"sqlite:///{target}"
        return
    if pg_cluster is None:
        skip_or_fail("PostgreSQL server binaries not found (apt-get install postgresql)")
        return
    name = f"t{os.getpid()}_{next(_counter)}"
    pg_cluster.create_database(name, template="occur_template")
    try:
        yield pg_cluster.url(name)
    finally:
        pg_cluster.drop_database(name)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = open_database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    env = {
        "OCCUR_DATA_DIR": str(tmp_path / "data"),
        "OCCUR_DATABASE_URL": database_url,
        "OCCUR_SECRET_KEY": "test-secret",
    }
    return Settings.from_env(env)


@dataclass(frozen=True)
class Tenant:
    portal_id: int
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def client(settings: Settings, db: Database) -> Iterator[TestClient]:
    with TestClient(create_app(settings, db), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def tenant(db: Database) -> Tenant:
    created, token = access.create_portal(db, "Acme")
    return Tenant(created.id, token.secret)


@pytest.fixture
def other_tenant(db: Database) -> Tenant:
    created, token = access.create_portal(db, "Globex")
    return Tenant(created.id, token.secret)


@pytest.fixture
def api(client: TestClient, tenant: Tenant) -> TestClient:
    """A client that sends the tenant's full-access token on every request."""
    client.headers.update(tenant.headers)
    return client


@pytest.fixture
def shared_dir() -> Path:
    """../shared (HubSpot's specs): present in CI and sessions, absent in a user's clone."""
    if not (SHARED / "spec" / "hubspot").is_dir():
        skip_or_fail(f"{SHARED} is not here (it exists beside the repo in CI, not in clones)")
    return SHARED


CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def page() -> Iterator[Page]:
    """A fresh Chromium tab (Debian's, driven by Playwright) that fails the test on any
    page error, dialog or Content-Security-Policy refusal.

    Playwright's sync API keeps an event loop running in this thread while it is open, so
    it lives for one test only: a longer-lived one breaks later tests' asyncio.run()."""
    if not CHROMIUM.exists():
        skip_or_fail(f"{CHROMIUM} is missing (apt-get install chromium)")
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        tab = browser.new_context().new_page()
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        tab.on("console", lambda message: _csp_refusal(message, errors))
        tab.on(
            "dialog", lambda dialog: errors.append(f"dialog: {dialog.message}") or dialog.dismiss()
        )
        yield tab
        browser.close()
    assert not errors, errors


def _refuse_dialog(dialog: Dialog, errors: list[str]) -> None:
    errors.append(f"dialog: {dialog.message}")  # nothing occur shows may open alert()
    dialog.dismiss()


def _csp_refusal(message: ConsoleMessage, errors: list[str]) -> None:
    # A Content-Security-Policy refusal is only a console message: count it as a failure.
    if message.type == "error" and "Content Security Policy" in message.text:
        errors.append(message.text)
