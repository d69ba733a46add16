"""Every page of one portal, visited with the session of a user of another portal: each
answers as if the page did not exist, and no value of the first portal leaks."""

from __future__ import annotations

import re
from pathlib import Path

from starlette.routing import Route
from starlette.testclient import TestClient

from occur.app import create_app
from occur.config import Settings
from occur.domain.objects import CONTACT
from occur.services import accounts, crm, definitions
from occur.store.db import Database
from tests.conftest import Tenant
from tests.ui.conftest import PASSWORD, Person, csrf_of, sign_in

SECRET_LABEL = "Acme secret launch"


def _page_paths(settings: Settings) -> list[tuple[str, str]]:
    app = create_app(settings)
    paths = [
        (method, route.path)
        for route in app.routes
        if isinstance(route, Route) and route.endpoint.__module__.startswith("occur.ui")
        for method in sorted((route.methods or set()) - {"HEAD"})
        if route.path.startswith("/app/{portal_id")
    ]
    app.state.ctx.db.dispose()
    return paths


def test_no_page_of_a_portal_opens_to_another_portals_user(
    browser: TestClient, settings: Settings, db: Database, tenant: Tenant, other_tenant: Tenant,
    admin: Person, tmp_path: Path,
) -> None:  # fmt: skip
    event = definitions.create(
        db, tenant.portal_id,
        {"label": SECRET_LABEL, "primaryObject": "CONTACT",
         "propertyDefinitions": [{"name": "plan", "label": "Plan", "type": "string"}]},
        max_definitions=50,
    )  # fmt: skip
    contact = crm.create(db, tenant.portal_id, CONTACT, {"properties": {"email": "ceo@acme.test"}})
    accounts.add_user(db, other_tenant.portal_id, "olga@example.com", PASSWORD, "admin")
    sign_in(browser, "olga@example.com")
    token = csrf_of(browser.get(f"/app/{other_tenant.portal_id}/events").text)
    values = {
        "portal_id": str(tenant.portal_id),
        "name": event.fully_qualified_name,
        "property": "plan",
        "object_type": "contacts",
        "record_id": str(contact.record.id),
        "user_id": str(admin.user_id),
        "token_id": "1",
        "import_id": "1",
    }
    checked = 0
    for method, template in _page_paths(settings):
        path = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: values[m.group(1)], template)
        if method == "GET":
            response = browser.get(path, follow_redirects=False)
        else:
            data = {"csrf_token": token, "label": "x", "name": "x", "action": "delete",
                    "email": "eve@example.com", "role": "admin", "time_zone": "UTC",
                    "week_start": "SUNDAY", "scopes": "automation", "type": "string"}  # fmt: skip
            response = browser.post(path, data=data, follow_redirects=False)
        assert response.status_code == 404, f"{method} {path}: {response.status_code}"
        assert SECRET_LABEL not in response.text and "ceo@acme.test" not in response.text
        checked += 1
    assert checked >= 24  # every /app/{p}/... route (docs/web-app.md)
    # and nothing was changed by those posts
    assert definitions.get(db, tenant.portal_id, event.name).label == SECRET_LABEL
    assert [m.email for m in accounts.portal_users(db, tenant.portal_id)] == [admin.email]
