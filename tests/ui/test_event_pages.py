"""An event's page: Properties and Activity tabs, and deleting the event."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from occur.domain.event_queries import read_event_query
from occur.errors import NotFound
from occur.services import definitions, event_reads
from occur.services.definitions import CUSTOM_SCRIPT
from occur.store.db import Database
from tests.conftest import Tenant
from tests.ui.conftest import Person, post_form, sign_in

XSS = '<img src=x onerror="alert(1)">'
BODY: dict[str, Any] = {
    "label": f"Bought {XSS}",
    "primaryObject": "CONTACT",
    "propertyDefinitions": [
        {
            "name": "plan",
            "label": "Plan",
            "type": "enumeration",
            "options": [{"label": "Pro", "value": "pro"}, {"label": "Free", "value": "free"}],
        },
        {"name": "note", "label": f"Note {XSS}", "type": "string"},
    ],
}


def _event(db: Database, tenant: Tenant) -> str:
    return definitions.create(db, tenant.portal_id, BODY, max_definitions=50).fully_qualified_name


def _send(client: TestClient, tenant: Tenant, name: str, count: int, note: str = "hi") -> None:
    for i in range(count):
        body = {"eventName": name, "email": f"u{i}@example.com", "uuid": f"u-{i}",
                "occurredAt": 1_700_000_000_000 + i * 1000,
                "properties": {"plan": "pro", "note": note}}  # fmt: skip
        assert client.post("/events/v3/send", headers=tenant.headers, json=body).status_code == 204


def test_properties_are_listed_added_edited_and_deleted(
    browser: TestClient, db: Database, tenant: Tenant, member: Person
) -> None:
    name = _event(db, tenant)
    sign_in(browser, member.email)  # members define events too
    tab = f"/app/{tenant.portal_id}/events/{name}/properties"
    page = browser.get(tab)
    assert page.status_code == 200
    assert "Dropdown (enumeration)" in page.text and "Pro, Free" in page.text
    assert "hs_page_url" in page.text  # the default properties are listed too
    added = post_form(browser, tab, tab, {"label": "Amount paid", "name": "", "type": "number"})
    assert added.status_code == 303
    bad = post_form(browser, tab, tab, {"label": "Bad", "name": "9lives", "type": "number"})
    assert bad.status_code == 400
    assert 'id="e-new-name"' in bad.text and 'value="9lives"' in bad.text
    dup = post_form(browser, tab, tab, {"label": "Plan again", "name": "PLAN", "type": "string"})
    assert dup.status_code == 400
    no_options = post_form(
        browser, tab, tab, {"label": "Tier", "name": "tier", "type": "enumeration", "options": ""}
    )
    assert no_options.status_code == 400
    options = "Pro = pro\nFree = free\nTeam = team"
    change = {"label": "Plan name", "description": "Which plan", "options": options}
    edit = post_form(browser, tab, f"{tab}/plan", change)
    assert edit.status_code == 303
    removed = post_form(browser, tab, f"{tab}/note", {"action": "delete"})
    assert removed.status_code == 303
    stored = definitions.get(db, tenant.portal_id, name)
    custom = {
        p.name: (p.label, p.type, [o.value for o in p.options]) for p in stored.custom_properties
    }
    assert custom == {
        "plan": ("Plan name", "enumeration", ["pro", "free", "team"]),
        "amount_paid": ("Amount paid", "number", []),
    }


def test_activity_pages_through_every_completion_once(
    browser: TestClient, db: Database, tenant: Tenant, admin: Person
) -> None:
    name = _event(db, tenant)
    _send(browser, tenant, name, 60)
    sign_in(browser, admin.email)
    url: str | None = f"/app/{tenant.portal_id}/events/{name}/activity"
    seen: list[str] = []
    while url:
        page = browser.get(url)
        assert page.status_code == 200
        seen += re.findall(r'data-ms="(\d+)"', page.text)
        older = re.search(r'href="([^"]+/activity\?after=[^"]+)"', page.text)
        url = older.group(1) if older else None
    expected = [str(1_700_000_000_000 + i * 1000) for i in reversed(range(60))]
    assert seen == expected  # newest first, no gap, no repeat
    first = browser.get(f"/app/{tenant.portal_id}/events/{name}/activity").text
    assert "/records/contacts/" in first and "Plan" in first


def test_deleting_an_event_removes_it_and_its_completions(
    browser: TestClient, db: Database, tenant: Tenant, admin: Person
) -> None:
    name = _event(db, tenant)
    _send(browser, tenant, name, 3)
    sign_in(browser, admin.email)
    page = f"/app/{tenant.portal_id}/events/{name}/properties"
    assert "and every completion of it" in browser.get(page).text  # the confirmation says so
    done = post_form(browser, page, f"/app/{tenant.portal_id}/events/{name}/delete", {})
    assert done.status_code == 303
    assert browser.get(page).status_code == 404
    with pytest.raises(NotFound):
        definitions.get(db, tenant.portal_id, name)
    query = read_event_query([("eventType", name)])
    assert event_reads.read_page(db, tenant.portal_id, query).events == []


def test_outside_values_are_escaped_on_every_tab(
    browser: TestClient, db: Database, tenant: Tenant, admin: Person
) -> None:
    name = _event(db, tenant)
    _send(browser, tenant, name, 1, note=f"<script>alert('x')</script>{XSS}")
    sign_in(browser, admin.email)
    for tab in ("properties", "activity"):
        html = browser.get(f"/app/{tenant.portal_id}/events/{name}/{tab}").text
        assert XSS not in html and "<script>alert" not in html, tab
        assert "&lt;img src=x onerror=" in html, tab


def test_another_portals_user_cannot_reach_the_event(
    browser: TestClient, db: Database, tenant: Tenant, other_tenant: Tenant
) -> None:
    from occur.services import accounts

    name = _event(db, tenant)
    accounts.add_user(db, other_tenant.portal_id, "olga@example.com", "long enough pass", "admin")
    sign_in(browser, "olga@example.com", "long enough pass")
    for tab in ("properties", "activity"):
        assert browser.get(f"/app/{tenant.portal_id}/events/{name}/{tab}").status_code == 404
        # and the name does not resolve inside her own portal either
        assert browser.get(f"/app/{other_tenant.portal_id}/events/{name}/{tab}").status_code == 404
    own = f"/app/{other_tenant.portal_id}/events"
    assert (
        post_form(browser, own, f"/app/{tenant.portal_id}/events/{name}/delete", {}).status_code
        == 404
    )
    assert definitions.get(db, tenant.portal_id, name).fully_qualified_name == name


def test_details_are_edited_and_only_admins_change_a_code_block(
    browser_factory: Callable[[], TestClient], db: Database, tenant: Tenant, admin: Person,
    member: Person,
) -> None:  # fmt: skip
    made = definitions.create(
        db, tenant.portal_id, {"label": "Played video", "primaryObject": "CONTACT"},
        max_definitions=50, tracking_type=CUSTOM_SCRIPT, code="// first",
    )  # fmt: skip
    tab = f"/app/{tenant.portal_id}/events/{made.fully_qualified_name}/details"
    bob = browser_factory()
    sign_in(bob, member.email)
    page = bob.get(tab).text
    assert "// first" in page and "readonly" in page and "Only admins change it." in page
    edited = post_form(bob, tab, tab, {"label": "Played a video", "description": "Any video"})
    assert edited.status_code == 303
    empty = post_form(bob, tab, tab, {"label": " ", "description": ""})
    assert empty.status_code == 400 and 'id="e-label"' in empty.text
    refused = post_form(bob, tab, tab.replace("/details", "/code"), {"code": "evil()"})
    assert refused.status_code == 403
    ann = browser_factory()
    sign_in(ann, admin.email)
    saved = post_form(ann, tab, tab.replace("/details", "/code"), {"code": "track('<x>')"})
    assert saved.status_code == 303
    stored = definitions.get(db, tenant.portal_id, made.name)
    assert (stored.label, stored.description) == ("Played a video", "Any video")
    assert definitions.code(db, tenant.portal_id, made.name) == "track('<x>')"
    assert "track(&#39;&lt;x&gt;&#39;)" in ann.get(tab).text
    api_event = _event(db, tenant)  # not a code event: no code block shown or accepted
    other = f"/app/{tenant.portal_id}/events/{api_event}/details"
    assert "Code block" not in ann.get(other).text
    assert (
        post_form(ann, other, other.replace("/details", "/code"), {"code": "x"}).status_code == 400
    )


def test_changing_a_property_the_event_lacks_is_not_found(
    browser: TestClient, db: Database, tenant: Tenant, admin: Person
) -> None:
    name = _event(db, tenant)
    sign_in(browser, admin.email)
    tab = f"/app/{tenant.portal_id}/events/{name}/properties"
    missing = post_form(browser, tab, f"{tab}/colour", {"label": "Colour"})
    assert missing.status_code == 404
