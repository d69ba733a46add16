"""Values from outside never run as code in the browser: labels, property values, record
properties and chart labels carry payloads, and a real Chromium renders every page."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.browser import FreshServer, welcome_token
from tests.e2e.test_web_app import sign_up

# Short enough for a 50-character label.
PAYLOAD = '<img src=x onerror="window.__pwned=1">'
SCRIPT = "<script>window.__pwned=2</script>"


def _api(server: FreshServer, method: str, path: str, body: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {welcome_token(server)}"}
    return httpx.request(method, server.base_url + path, headers=headers, json=body, timeout=10)


def test_payloads_render_as_text_on_every_page(page: Page, fresh_server: FreshServer) -> None:
    definition = _api(fresh_server, "POST", "/events/v3/event-definitions", {
        "label": f"Clicked {PAYLOAD}",
        "description": SCRIPT,
        "primaryObject": "CONTACT",
        "propertyDefinitions": [
            {"name": "plan", "label": f"Plan {SCRIPT}", "type": "enumeration",
             "options": [{"label": PAYLOAD, "value": "evil"}, {"label": "Pro", "value": "pro"}]},
            {"name": "note", "label": "Note", "type": "string"},
        ],
    })  # fmt: skip
    assert definition.status_code == 201, definition.text
    name = definition.json()["fullyQualifiedName"]
    contact = _api(fresh_server, "POST", "/crm/v3/objects/contacts",
                   {"properties": {"email": "eve@example.com", "firstname": PAYLOAD}})  # fmt: skip
    assert contact.status_code == 201, contact.text
    for plan, note in (("evil", PAYLOAD), ("pro", SCRIPT), ("evil", "fine")):
        sent = _api(fresh_server, "POST", "/events/v3/send", {
            "eventName": name, "email": "eve@example.com",
            "properties": {"plan": plan, "note": note},
        })  # fmt: skip
        assert sent.status_code == 204, sent.text
    sign_up(page, fresh_server)
    portal = page.url.split("/app/")[1].split("/")[0]
    base = f"{fresh_server.base_url}/app/{portal}"
    pages = [
        f"{base}/events",
        f"{base}/events/{name}",
        f"{base}/events/{name}?breakdown=plan",
        f"{base}/events/{name}?breakdown=note&metric=unique",
        f"{base}/events/{name}/properties",
        f"{base}/events/{name}/activity",
        f"{base}/records/contacts",
        f"{base}/records/contacts/{contact.json()['id']}",
    ]
    for url in pages:
        page.goto(url)
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__pwned") is None, url
        assert page.locator("img[src=x]").count() == 0, url
    page.goto(f"{base}/events/{name}?breakdown=plan")
    legend = page.locator("#chart .legendtext")
    expect(legend.first).to_be_visible()
    texts = legend.all_text_contents()
    assert PAYLOAD in texts  # shown as typed, not turned into markup
    page.locator("#chart").hover()
    assert page.evaluate("window.__pwned") is None
