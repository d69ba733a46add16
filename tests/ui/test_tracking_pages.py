"""Settings ▸ Tracking code and Data ▸ Rejected completions, through the web app."""

from __future__ import annotations

import json

from starlette.testclient import TestClient

from occur.services import definitions, tracking_settings
from occur.store.db import Database
from tests.conftest import Tenant
from tests.ui.conftest import Person, post_form, sign_in

UTK = "0123456789abcdef0123456789abcdef"


def test_the_tag_and_who_may_send(
    browser: TestClient, db: Database, tenant: Tenant, admin: Person
) -> None:
    sign_in(browser, admin.email)
    page = f"/app/{tenant.portal_id}/settings/tracking"
    shown = browser.get(page)
    assert shown.status_code == 200
    assert f"/js/{tenant.portal_id}.js&#34;&gt;&lt;/script&gt;" in shown.text  # escaped tag
    saved = post_form(
        browser,
        page,
        page,
        {"allowed_domains": "https://www.Example.com/shop\n\nshop.test\n", "consent_required": "1"},
    )
    assert saved.status_code == 303
    found = tracking_settings.tracking_settings(db, tenant.portal_id)
    assert found.allowed_domains == ("www.example.com", "shop.test")
    assert found.consent_required
    again = browser.get(page).text
    assert "www.example.com\nshop.test</textarea>" in again and "checked" in again


def test_a_bad_domain_is_shown_beside_the_field_and_nothing_is_saved(
    browser: TestClient, db: Database, tenant: Tenant, admin: Person
) -> None:
    sign_in(browser, admin.email)
    page = f"/app/{tenant.portal_id}/settings/tracking"
    refused = post_form(browser, page, page, {"allowed_domains": "good.test\nnot a host!<b>"})
    assert refused.status_code == 400
    assert 'id="e-allowed_domains"' in refused.text
    assert "<b>" not in refused.text  # the echoed value is escaped
    assert "not a host!&lt;b&gt;" in refused.text  # and kept in the field
    assert tracking_settings.tracking_settings(db, tenant.portal_id).allowed_domains == ()


def test_members_see_the_tag_but_cannot_change_who_may_send(
    browser: TestClient, db: Database, tenant: Tenant, member: Person
) -> None:
    sign_in(browser, member.email)
    page = f"/app/{tenant.portal_id}/settings/tracking"
    assert "/js/" in browser.get(page).text
    refused = post_form(browser, page, page, {"allowed_domains": "evil.test"})
    assert refused.status_code == 403
    assert tracking_settings.tracking_settings(db, tenant.portal_id).allowed_domains == ()


def test_rejected_completions_list_what_the_collector_dropped(
    browser: TestClient, db: Database, tenant: Tenant, admin: Person
) -> None:
    body = {
        "label": "Bought",
        "primaryObject": "CONTACT",
        "propertyDefinitions": [
            {
                "name": "plan",
                "label": "Plan",
                "type": "enumeration",
                "options": [{"label": "Pro", "value": "pro"}],
            }
        ],
    }
    definitions.create(db, tenant.portal_id, body, max_definitions=10)
    sign_in(browser, admin.email)
    empty = browser.get(f"/app/{tenant.portal_id}/events/rejected")
    assert "Nothing rejected" in empty.text
    events = [
        {"kind": "event", "id": f"e{n}", "at": 1, "name": name, "properties": props}
        for n, (name, props) in enumerate(
            [
                ("<script>nope</script>", {}),
                ("<script>nope</script>", {}),
                (f"pe{tenant.portal_id}_bought", {"plan": "gold"}),
            ]
        )
    ]
    payload = {"v": 1, "utk": UTK, "page": {"url": "https://shop.test/a"}, "events": events}
    sent = browser.post(
        f"/collect/{tenant.portal_id}",
        content=json.dumps(payload),
        headers={"Content-Type": "text/plain", "Origin": "https://shop.test"},
    )
    assert sent.status_code == 204, sent.text
    listed = browser.get(f"/app/{tenant.portal_id}/events/rejected")
    assert "&lt;script&gt;nope&lt;/script&gt;" in listed.text
    assert "<script>nope" not in listed.text
    assert "No event with this name exists" in listed.text
    assert ">2</td>" in listed.text  # the unknown name, counted twice in one row
    assert "<code>plan</code>" in listed.text and "INVALID_ENUMERATION_OPTION" in listed.text
    events_list = browser.get(f"/app/{tenant.portal_id}/events").text
    assert f"/app/{tenant.portal_id}/events/rejected" in events_list


def test_a_visual_events_rule_is_shown_and_changed_on_its_details_tab(
    browser: TestClient, db: Database, tenant: Tenant, member: Person
) -> None:
    created = definitions.create(
        db,
        tenant.portal_id,
        {"label": "Clicked buy", "primaryObject": "CONTACT"},
        max_definitions=10,
        tracking_type="CLICKED_ELEMENT",
        tracking_rule={"selector": "#buy<b>", "url": {"op": "contains", "value": "/shop"}},
    )
    sign_in(browser, member.email)
    page = f"/app/{tenant.portal_id}/events/{created.fully_qualified_name}/details"
    shown = browser.get(page).text
    assert 'value="#buy&lt;b&gt;"' in shown and 'value="/shop"' in shown
    action = page.replace("/details", "/rule")
    saved = post_form(
        browser, page, action, {"selector": ".cta", "url_op": "", "url_value": "", "url_param": ""}
    )
    assert saved.status_code == 303
    rule = definitions.tracking_rule(db, tenant.portal_id, created.name)
    assert rule is not None and (rule.selector, rule.url) == (".cta", None)
    refused = post_form(browser, page, action, {"selector": " ", "url_op": "is", "url_value": ""})
    assert refused.status_code == 400
    assert 'id="e-selector"' in refused.text and 'id="e-url_value"' in refused.text
    rule = definitions.tracking_rule(db, tenant.portal_id, created.name)
    assert rule is not None and rule.selector == ".cta"
