"""Data ▸ Custom events: counts, sorting, searching, empty states."""

from __future__ import annotations

import re
import time

from starlette.testclient import TestClient

from occur.services import definitions
from occur.store.db import Database
from tests.conftest import Tenant
from tests.ui.conftest import Person, sign_in

DAY_MS = 86_400_000


def _define(db: Database, tenant: Tenant, label: str) -> str:
    body = {"label": label, "primaryObject": "CONTACT", "propertyDefinitions": []}
    return definitions.create(db, tenant.portal_id, body, max_definitions=50).fully_qualified_name


def _send(client: TestClient, tenant: Tenant, name: str, *ages_days: float) -> None:
    now = int(time.time() * 1000)
    for i, age in enumerate(ages_days):
        body = {
            "eventName": name,
            "email": f"u{i}@example.com",
            "occurredAt": now - int(age * DAY_MS),
        }
        assert client.post("/events/v3/send", headers=tenant.headers, json=body).status_code == 204


def _names_in_order(html: str) -> list[str]:
    return re.findall(r"<strong>([^<]+)</strong></a><br><code>", html)


def test_the_list_counts_the_last_30_days_and_sorts_and_searches(
    browser: TestClient, db: Database, tenant: Tenant, member: Person
) -> None:
    demo = _define(db, tenant, "Watched demo")
    bought = _define(db, tenant, "Bought plan")
    _define(db, tenant, "Joined webinar")
    _send(browser, tenant, demo, 1, 2, 3, 40)  # the 40-day-old one is not counted
    _send(browser, tenant, bought, 0.5)
    sign_in(browser, member.email)
    url = f"/app/{tenant.portal_id}/events"
    page = browser.get(url).text
    rows = re.findall(r"<strong>([^<]+)</strong>.*?<td class=\"num\">([\d,]+)</td>", page, re.S)
    assert dict(rows) == {"Watched demo": "3", "Bought plan": "1", "Joined webinar": "0"}
    assert "Never" in page  # the webinar has no completion yet
    assert _names_in_order(page) == [
        "Joined webinar",
        "Bought plan",
        "Watched demo",
    ]  # newest first
    by_count = browser.get(f"{url}?sort=completions&dir=desc").text
    assert _names_in_order(by_count) == ["Watched demo", "Bought plan", "Joined webinar"]
    by_name = browser.get(f"{url}?sort=name&dir=asc").text
    assert _names_in_order(by_name) == ["Bought plan", "Joined webinar", "Watched demo"]
    by_last = browser.get(f"{url}?sort=last&dir=desc").text
    assert _names_in_order(by_last)[0] == "Bought plan"
    assert _names_in_order(browser.get(f"{url}?q=demo").text) == ["Watched demo"]
    nothing = browser.get(f"{url}?q=<zzz>").text
    assert "No event matches “&lt;zzz&gt;”" in nothing
    assert _names_in_order(browser.get(f"{url}?sort=bogus&dir=sideways").text)  # falls back


def test_an_empty_portal_says_what_to_do_next(
    browser: TestClient, tenant: Tenant, admin: Person
) -> None:
    sign_in(browser, admin.email)
    page = browser.get(f"/app/{tenant.portal_id}/events").text
    assert "No custom events yet" in page
    assert f'href="/app/{tenant.portal_id}/events/new"' in page


def test_labels_are_escaped_in_the_list(
    browser: TestClient, db: Database, tenant: Tenant, admin: Person
) -> None:
    _define(db, tenant, '<script>alert("x")</script>')
    sign_in(browser, admin.email)
    page = browser.get(f"/app/{tenant.portal_id}/events").text
    assert '<script>alert("x")</script>' not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
