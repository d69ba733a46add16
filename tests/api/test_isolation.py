"""Every route, walked with no token and with another portal's token.

A token sees only its own portal: another portal's objects answer 404 (never 403, which
would tell that they exist), lists and searches do not show them, and writes aimed at them
change nothing. New routes are picked up from the app itself; a route whose path holds a
parameter this walk does not know fails the test until the walk learns it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.routing import Route
from starlette.testclient import TestClient

from tests.conftest import Tenant

SECRET_EMAIL = "secret-owner@example.com"
SECRET_EVENT = "secret_event"


def _seed(client: TestClient, owner: Tenant) -> dict[str, str]:
    h = owner.headers
    r = client.post(
        "/events/v3/event-definitions",
        headers=h,
        json={
            "label": "Secret event",
            "name": SECRET_EVENT,
            "propertyDefinitions": [{"name": "plan", "label": "Plan", "type": "string"}],
        },
    )
    assert r.status_code == 201, r.text
    r = client.post(
        "/crm/v3/objects/contacts",
        headers=h,
        json={"properties": {"email": SECRET_EMAIL, "firstname": "Owner"}},
    )
    assert r.status_code == 201, r.text
    object_id = r.json()["id"]
    request = {"name": "Secret import", "eventName": SECRET_EVENT, "dateFormat": "YEAR_MONTH_DAY"}
    r = client.post(
        "/crm/v3/imports",
        headers=h,
        data={"importRequest": json.dumps(request)},
        files={"files": ("secret.csv", f"Email,Date\n{SECRET_EMAIL},2026-01-02\n", "text/csv")},
    )
    assert r.status_code == 200, r.text
    return {
        "event_name": SECRET_EVENT,
        "property_name": "plan",
        "object_type": "contacts",
        "object_id": object_id,
        "import_id": r.json()["id"],
    }


# Public by design: websites load the tracking script and send to its collector without
# a token; tests/api/test_collector.py and test_script.py judge who may use them.
PUBLIC_MODULES = ("occur.api.collector", "occur.api.script")


def _routes(client: TestClient) -> list[tuple[str, str]]:
    found = []
    for route in client.app.routes:  # type: ignore[attr-defined]
        if not isinstance(route, Route) or not route.endpoint.__module__.startswith("occur.api"):
            continue  # the web app's pages: tests/ui/test_portal_isolation.py
        if route.endpoint.__module__ in PUBLIC_MODULES:
            continue
        for method in sorted((route.methods or set()) - {"HEAD"}):
            found.append((method, route.path))
    return found


def _fill(path: str, params: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in params, f"the isolation walk does not know {{{name}}} in {path}"
        return params[name]

    return re.sub(r"\{(\w+)(?::\w+)?\}", value, path)


def _body(path: str, params: dict[str, str]) -> Any:
    """A body for a collection POST that aims at the owner's objects where it can."""
    target = params["object_id"]
    if path.endswith("/search"):
        return {
            "filterGroups": [
                {"filters": [{"propertyName": "email", "operator": "EQ", "value": SECRET_EMAIL}]}
            ]
        }
    if path.endswith("/batch/read") or path.endswith("/batch/archive"):
        return {"inputs": [{"id": target}]}
    if path.endswith("/batch/update"):
        return {"inputs": [{"id": target, "properties": {"firstname": "Mallory"}}]}
    if path.endswith("/gdpr-delete"):
        return {"objectId": target}
    if path.endswith("/property"):
        return {"name": "mallory", "label": "Mallory", "type": "string"}
    return {"properties": {"firstname": "Mallory"}, "label": "Mallory", "propertyDefinitions": []}


def test_every_route_needs_a_token(client: TestClient, tenant: Tenant) -> None:
    params = _seed(client, tenant)
    checked = 0
    for method, path in _routes(client):
        if path == "/healthz":
            continue
        r = client.request(method, _fill(path, params), json=_body(path, params))
        assert r.status_code == 401, f"{method} {path}: {r.status_code}"
        assert r.json()["category"] == "INVALID_AUTHENTICATION"
        checked += 1
    assert checked >= 20


def test_another_portal_cannot_see_or_touch_anything(
    client: TestClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    params = _seed(client, tenant)
    owner_view = _owner_view(client, tenant, params)
    for method, path in _routes(client):
        if path == "/healthz":
            continue
        url = _fill(path, params)
        r = client.request(method, url, headers=other_tenant.headers, json=_body(path, params))
        where = f"{method} {path}"
        assert r.status_code != 403, where
        assert r.status_code < 500, where
        if "{" in path.replace("{object_type}", ""):
            assert r.status_code == 404, f"{where}: {r.status_code} {r.text[:200]}"
            assert r.json()["category"] == "OBJECT_NOT_FOUND"
        assert SECRET_EMAIL not in r.text, where
        assert f"pe{tenant.portal_id}_" not in r.text, where
    assert _owner_view(client, tenant, params) == owner_view


def _owner_view(client: TestClient, owner: Tenant, params: dict[str, str]) -> tuple[Any, Any]:
    """What the owner sees of its objects, to prove the walk changed none of them."""
    definition = client.get(f"/events/v3/event-definitions/{SECRET_EVENT}", headers=owner.headers)
    contact = client.get(
        f"/crm/v3/objects/contacts/{params['object_id']}",
        params={"properties": "email,firstname"},
        headers=owner.headers,
    )
    assert definition.status_code == 200
    assert contact.status_code == 200
    d = definition.json()
    c = contact.json()
    return (
        (d["labels"]["singular"], [p["name"] for p in d["properties"]], d["updatedAt"]),
        (c["properties"]["email"], c["properties"]["firstname"], c["archived"], c["updatedAt"]),
    )
