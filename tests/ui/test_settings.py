"""Settings pages: who may see and change what, and that changes take effect."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest
from starlette.testclient import TestClient

from occur.services import access, accounts
from occur.store.db import Database
from tests.conftest import Tenant
from tests.ui.conftest import PASSWORD, Person, post_form, sign_in

PAGES = ("/events", "/settings", "/settings/users", "/settings/tokens")


def test_a_user_of_another_portal_sees_none_of_its_pages(
    browser: TestClient, db: Database, tenant: Tenant, other_tenant: Tenant, admin: Person
) -> None:
    accounts.add_user(db, other_tenant.portal_id, "olga@example.com", PASSWORD, "admin")
    sign_in(browser, "olga@example.com")
    for path in PAGES:
        mine = browser.get(f"/app/{other_tenant.portal_id}{path}")
        theirs = browser.get(f"/app/{tenant.portal_id}{path}")
        missing = browser.get(f"/app/999999{path}")
        assert mine.status_code == 200, path
        assert theirs.status_code == missing.status_code == 404, path
        assert "Acme" not in theirs.text
    action = f"/app/{tenant.portal_id}/settings/tokens"
    page = f"/app/{other_tenant.portal_id}/settings/tokens"
    stolen = post_form(browser, page, action, {"name": "x", "scopes": ["automation"]})
    assert stolen.status_code == 404
    assert len(access.portal_tokens(db, tenant.portal_id)) == 1


def test_members_see_settings_but_change_nothing(
    browser: TestClient, db: Database, tenant: Tenant, admin: Person, member: Person
) -> None:
    sign_in(browser, member.email)
    base = f"/app/{tenant.portal_id}"
    settings_page = browser.get(f"{base}/settings")
    assert (
        settings_page.status_code == 200
        and "Only admins change these settings." in settings_page.text
    )
    assert browser.get(f"{base}/settings/tokens").status_code == 403
    users_page = browser.get(f"{base}/settings/users")
    assert "Add a user" not in users_page.text and "Reset password" not in users_page.text
    attempts = [
        (f"{base}/settings", {"name": "Hacked", "time_zone": "UTC", "week_start": "SUNDAY"}),
        (
            f"{base}/settings/users",
            {"email": "eve@example.com", "password": PASSWORD, "role": "admin"},
        ),
        (f"{base}/settings/users/{member.user_id}", {"action": "role", "role": "admin"}),
        (f"{base}/settings/tokens", {"name": "x", "scopes": ["automation"]}),
    ]
    for action, data in attempts:
        assert post_form(browser, f"{base}/events", action, data).status_code == 403, action
    assert accounts.portal(db, tenant.portal_id).name == "Acme"
    assert [m.email for m in accounts.portal_users(db, tenant.portal_id)] == [
        admin.email,
        member.email,
    ]
    assert {
        m.role for m in accounts.portal_users(db, tenant.portal_id) if m.email == member.email
    } == {"member"}


def test_portal_settings_are_validated_beside_each_field_and_saved(
    browser: TestClient, db: Database, tenant: Tenant, admin: Person
) -> None:
    sign_in(browser, admin.email)
    page = f"/app/{tenant.portal_id}/settings"
    bad = post_form(
        browser, page, page, {"name": " ", "time_zone": "Mars/Olympus", "week_start": "FRIDAY"}
    )
    assert bad.status_code == 400
    for field in ("name", "time_zone", "week_start"):
        assert f'id="e-{field}"' in bad.text, field  # each error beside its field
    assert "Mars/Olympus" in bad.text  # what was typed stays in the form
    good = post_form(
        browser,
        page,
        page,
        {"name": "Acme <b>EU</b>", "time_zone": "Europe/Paris", "week_start": "MONDAY"},
    )
    assert good.status_code == 303
    saved = accounts.portal(db, tenant.portal_id)
    assert (saved.name, saved.time_zone, saved.week_start) == (
        "Acme <b>EU</b>",
        "Europe/Paris",
        "MONDAY",
    )
    shown = browser.get(page).text
    assert "Acme &lt;b&gt;EU&lt;/b&gt;" in shown and "<b>EU</b>" not in shown


def test_a_token_made_in_the_ui_works_on_the_api_until_revoked(
    browser: TestClient, tenant: Tenant, admin: Person
) -> None:
    sign_in(browser, admin.email)
    page = f"/app/{tenant.portal_id}/settings/tokens"
    made = post_form(
        browser,
        page,
        page,
        {"name": "Website", "scopes": ["behavioral_events.event_definitions.read_write"]},
    )
    assert made.status_code == 200
    found = re.search(r'<code id="new-token">([^<]+)</code>', made.text)
    assert found
    secret = found.group(1)
    assert secret not in browser.get(page).text  # shown once only
    api = {"Authorization": f"Bearer {secret}"}
    assert browser.get("/events/v3/event-definitions", headers=api).status_code == 200
    denied = browser.post(
        "/events/v3/send", headers=api, json={"eventName": "x", "email": "a@b.co"}
    )
    assert denied.status_code == 403  # the scope it was not given
    token_id = re.findall(r"/settings/tokens/(\d+)/revoke", browser.get(page).text)[0]
    revoked = post_form(browser, page, f"{page}/{token_id}/revoke", {})
    assert revoked.status_code == 303
    deadline = time.monotonic() + 10  # the authenticator caches a token for seconds
    while browser.get("/events/v3/event-definitions", headers=api).status_code != 401:
        assert time.monotonic() < deadline, "a revoked token kept working"
        time.sleep(0.2)


def test_changing_ones_password_signs_out_the_other_sessions(
    browser_factory: Callable[[], TestClient], db: Database, tenant: Tenant, admin: Person
) -> None:
    laptop, phone = browser_factory(), browser_factory()
    sign_in(laptop, admin.email)
    sign_in(phone, admin.email)
    page = f"/app/{tenant.portal_id}/events"
    wrong = post_form(
        laptop,
        "/account",
        "/account/password",
        {
            "current_password": "not-it-at-all",
            "new_password": "a new passphrase",
            "new_password_again": "a new passphrase",
        },
    )
    assert wrong.status_code == 400 and 'id="e-current_password"' in wrong.text
    changed = post_form(
        laptop,
        "/account",
        "/account/password",
        {
            "current_password": PASSWORD,
            "new_password": "a new passphrase",
            "new_password_again": "a new passphrase",
        },
    )
    assert changed.status_code == 303
    assert laptop.get(page, follow_redirects=False).status_code == 200
    assert phone.get(page, follow_redirects=False).status_code == 303
    assert accounts.authenticate(db, admin.email, "a new passphrase") is not None
    assert accounts.authenticate(db, admin.email, PASSWORD) is None


def test_an_admin_resets_a_members_password_and_signs_them_out(
    browser_factory: Callable[[], TestClient],
    db: Database,
    tenant: Tenant,
    admin: Person,
    member: Person,
) -> None:
    ann, bob = browser_factory(), browser_factory()
    sign_in(ann, admin.email)
    sign_in(bob, member.email)
    users = f"/app/{tenant.portal_id}/settings/users"
    done = post_form(
        ann,
        users,
        f"{users}/{member.user_id}",
        {"action": "reset_password", "new_password": "handed over in person"},
    )
    assert done.status_code == 303
    assert bob.get(users, follow_redirects=False).status_code == 303
    assert accounts.authenticate(db, member.email, "handed over in person") is not None


def test_a_portal_always_keeps_an_admin(
    browser: TestClient, db: Database, tenant: Tenant, admin: Person, member: Person
) -> None:
    sign_in(browser, admin.email)
    users = f"/app/{tenant.portal_id}/settings/users"
    demote = post_form(
        browser, users, f"{users}/{admin.user_id}", {"action": "role", "role": "member"}
    )
    assert demote.status_code == 400 and "at least one admin" in demote.text
    promote = post_form(
        browser, users, f"{users}/{member.user_id}", {"action": "role", "role": "admin"}
    )
    assert promote.status_code == 303
    now_fine = post_form(
        browser, users, f"{users}/{admin.user_id}", {"action": "role", "role": "member"}
    )
    assert now_fine.status_code == 303
    roles = {m.email: m.role for m in accounts.portal_users(db, tenant.portal_id)}
    assert roles == {admin.email: "member", member.email: "admin"}


def test_adding_an_existing_account_to_a_second_portal_gives_a_switcher(
    browser_factory: Callable[[], TestClient],
    db: Database,
    tenant: Tenant,
    other_tenant: Tenant,
    admin: Person,
) -> None:
    accounts.add_user(db, other_tenant.portal_id, "olga@example.com", PASSWORD, "admin")
    olga = browser_factory()
    sign_in(olga, "olga@example.com")
    users = f"/app/{other_tenant.portal_id}/settings/users"
    added = post_form(olga, users, users, {"email": "ANN@example.com", "role": "member"})
    assert added.status_code == 303
    again = post_form(olga, users, users, {"email": "ann@example.com", "role": "member"})
    assert again.status_code == 400 and "already a user of this portal" in again.text
    ann = browser_factory()
    sign_in(ann, admin.email)  # her password did not change
    page = ann.get(f"/app/{tenant.portal_id}/events").text
    assert 'id="portal-switch"' in page and "Globex" in page
    switched = ann.get(f"/switch?portal={other_tenant.portal_id}", follow_redirects=False)
    assert switched.headers["location"] == f"/app/{other_tenant.portal_id}/events"
    assert ann.get("/switch?portal=999", follow_redirects=False).status_code == 404


@pytest.mark.parametrize("role", ["admin", "member"])
def test_removing_a_user_ends_their_access(
    browser_factory: Callable[[], TestClient],
    db: Database,
    tenant: Tenant,
    admin: Person,
    role: str,
) -> None:
    accounts.add_user(db, tenant.portal_id, "carl@example.com", PASSWORD, role)
    carl = browser_factory()
    sign_in(carl, "carl@example.com")
    ann = browser_factory()
    sign_in(ann, admin.email)
    users = f"/app/{tenant.portal_id}/settings/users"
    carl_id = next(
        m.user_id
        for m in accounts.portal_users(db, tenant.portal_id)
        if m.email == "carl@example.com"
    )
    assert post_form(ann, users, f"{users}/{carl_id}", {"action": "remove"}).status_code == 303
    # his only portal: his sessions end, so he is sent to sign in
    gone = carl.get(f"/app/{tenant.portal_id}/events", follow_redirects=False)
    assert gone.status_code == 303
