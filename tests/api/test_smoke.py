from starlette.testclient import TestClient

from tests.conftest import Tenant


def test_healthz(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


def test_create_and_get(api: TestClient, tenant: Tenant) -> None:
    r = api.post("/events/v3/event-definitions", json={"label": "Watched demo", "propertyDefinitions": []})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["name"] == "watched_demo"
    assert body["fullyQualifiedName"] == f"pe{tenant.portal_id}_watched_demo"
    assert len(body["properties"]) == 32
