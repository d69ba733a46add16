"""First run, sign-in, sessions and CSRF through the web app's HTTP interface."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.testclient import TestClient

from occur.config import Settings
from occur.services import access, accounts
from occur.services.accounts import SetupCode
from occur.store.db import Database
from tests.conftest import Tenant
from tests.ui.conftest import PASSWORD, SETUP_CODE, Person, csrf_of, post_form, sign_in


def _setup(client: TestClient, **fields: str) -> Any:
    data = {
        "setup_code": SETUP_CODE,
        "email": "Ann@Example.com",
        "password": PASSWORD,
        "password_again": PASSWORD,
        "portal_name": "",
        **fields,
    }
    return post_form(client, "/setup", "/setup", data)


def test_a_new_instance_leads_to_setup_and_the_first_user_joins_the_existing_portal(
    browser: TestClient, db: Database, tenant: Tenant
) -> None:
    assert browser.get("/", follow_redirects=False).headers["location"] == "/setup"
    response = _setup(browser, setup_code="abcd efgh-jkmn")  # typed loosely: still the code
    assert response.status_code == 303
    assert response.headers["location"] == f"/app/{tenant.portal_id}/events"
    cookie = response.headers["set-cookie"]
    assert "occur_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # http public URL
    page = browser.get(f"/app/{tenant.portal_id}/events")
    assert page.status_code == 200 and "ann@example.com" in page.text
    (membership,) = accounts.memberships(
        db, accounts.authenticate(db, "ann@example.com", PASSWORD).id
    )  # type: ignore[union-attr]
    assert (membership.portal_id, membership.role) == (tenant.portal_id, "admin")


def test_setup_creates_a_portal_when_there_is_none(browser: TestClient, db: Database) -> None:
    response = _setup(browser, portal_name="Initech")
    assert response.status_code == 303
    user = accounts.authenticate(db, "ann@example.com", PASSWORD)
    assert user is not None
    (membership,) = accounts.memberships(db, user.id)
    assert membership.portal_name == "Initech"


def test_setup_needs_the_printed_code_and_stops_after_twenty_wrong_ones(
    browser: TestClient, db: Database, setup_code: SetupCode
) -> None:
    wrong = _setup(browser, setup_code="ZZZZ-ZZZZ-ZZZZ")
    assert wrong.status_code == 400
    assert 'aria-invalid="true" aria-describedby="e-setup_code"' in wrong.text
    assert 'value="ann@example.com"' in wrong.text.lower()  # the form keeps what was typed
    assert not accounts.has_users(db)
    for _ in range(19):
        _setup(browser, setup_code="ZZZZ-ZZZZ-ZZZZ")
    assert setup_code.exhausted
    assert "Sign-up is closed" in browser.get("/setup").text
    token = csrf_of(browser.get("/sign-in").text)  # the form is gone; post it anyway
    closed = browser.post(
        "/setup",
        data={
            "csrf_token": token,
            "setup_code": SETUP_CODE,
            "email": "a@example.com",
            "password": PASSWORD,
            "password_again": PASSWORD,
        },
    )
    assert closed.status_code == 403  # even the right code is refused now
    assert not accounts.has_users(db)


def test_setup_shows_password_problems_beside_the_field(browser: TestClient, db: Database) -> None:
    short = _setup(browser, password="short", password_again="short")
    assert short.status_code == 400
    assert 'id="e-password"' in short.text and "at least 8" in short.text
    differ = _setup(browser, password_again=PASSWORD + "!")
    assert differ.status_code == 400 and 'id="e-password_again"' in differ.text
    assert not accounts.has_users(db)


def test_setup_is_closed_once_a_user_exists(
    browser_factory: Callable[[], TestClient], db: Database
) -> None:
    assert _setup(browser_factory()).status_code == 303
    late = browser_factory()
    assert late.get("/setup", follow_redirects=False).headers["location"] == "/sign-in"
    refused = _setup(late, email="mallory@example.com")
    assert refused.status_code == 400
    assert accounts.authenticate(db, "mallory@example.com", PASSWORD) is None


def test_an_app_without_a_setup_code_never_offers_sign_up(settings: Settings, db: Database) -> None:
    from occur.app import create_app

    with TestClient(create_app(settings, db)) as client:
        page = client.get("/setup")
        assert "Sign-up is closed" in page.text
        token = csrf_of(client.get("/sign-in").text)  # a valid token: only the code is missing
        response = client.post(
            "/setup",
            data={
                "csrf_token": token,
                "setup_code": SETUP_CODE,
                "email": "a@example.com",
                "password": PASSWORD,
                "password_again": PASSWORD,
            },
        )
        assert response.status_code == 403
    assert not accounts.has_users(db)


def test_sign_in_goes_back_where_the_user_was_going(
    browser: TestClient, admin: Person, tenant: Tenant
) -> None:
    target = f"/app/{tenant.portal_id}/settings/users"
    bounced = browser.get(target, follow_redirects=False)
    assert bounced.status_code == 303 and bounced.headers["location"].startswith("/sign-in?next=")
    form = browser.get(bounced.headers["location"])
    response = browser.post(
        "/sign-in",
        data={
            "csrf_token": csrf_of(form.text),
            "email": "ANN@example.com ",
            "password": PASSWORD,
            "next": target,
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == target


def test_sign_in_never_redirects_off_site(
    browser_factory: Callable[[], TestClient], admin: Person
) -> None:
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        response = post_form(
            browser_factory(),
            "/sign-in",
            "/sign-in",
            {"email": admin.email, "password": PASSWORD, "next": target},
        )
        assert response.headers["location"] == "/"


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(
    browser: TestClient, admin: Person
) -> None:
    wrong = post_form(
        browser, "/sign-in", "/sign-in", {"email": admin.email, "password": "nope-nope"}
    )
    unknown = post_form(
        browser, "/sign-in", "/sign-in", {"email": "nobody@example.com", "password": "nope-nope"}
    )
    assert wrong.status_code == unknown.status_code == 400
    assert "Wrong email or password." in wrong.text
    assert "Wrong email or password." in unknown.text
    assert "occur_session" not in wrong.headers.get("set-cookie", "")


def test_ten_wrong_passwords_lock_the_address_for_a_while(
    browser: TestClient, admin: Person
) -> None:
    for _ in range(10):
        post_form(
            browser, "/sign-in", "/sign-in", {"email": admin.email, "password": "guess-guess"}
        )
    locked = post_form(
        browser, "/sign-in", "/sign-in", {"email": admin.email, "password": PASSWORD}
    )
    assert locked.status_code == 429
    assert "Too many wrong passwords" in locked.text


def test_sign_out_ends_the_session_on_the_server(
    browser: TestClient, admin: Person, tenant: Tenant
) -> None:
    sign_in(browser, admin.email)
    stolen = browser.cookies.get("occur_session")
    page = f"/app/{tenant.portal_id}/events"
    out = post_form(browser, page, "/sign-out", {})
    assert out.headers["location"] == "/sign-in"
    browser.cookies.set("occur_session", stolen or "")  # a copy kept before signing out
    assert browser.get(page, follow_redirects=False).status_code == 303


def test_a_forged_session_cookie_is_refused(
    browser: TestClient, admin: Person, tenant: Tenant
) -> None:
    sign_in(browser, admin.email)
    cookie = browser.cookies.get("occur_session") or ""
    secret, _, mac = cookie.rpartition(".")
    page = f"/app/{tenant.portal_id}/events"
    for forged in (secret, f"{secret}.{'0' * len(mac)}", f"x{secret}.{mac}"):
        browser.cookies.clear()
        browser.cookies.set("occur_session", forged)
        assert browser.get(page, follow_redirects=False).status_code == 303


def test_every_form_needs_its_token(
    browser_factory: Callable[[], TestClient], admin: Person, tenant: Tenant, db: Database
) -> None:
    ann = browser_factory()
    sign_in(ann, admin.email)
    action = f"/app/{tenant.portal_id}/settings/tokens"
    data = {"name": "sneaky", "scopes": ["automation"]}
    assert ann.post(action, data=data).status_code == 403
    assert ann.post(action, data={**data, "csrf_token": "forged"}).status_code == 403
    other = browser_factory()  # a token from another browser's page does not transfer
    token_elsewhere = csrf_of(other.get("/sign-in").text)
    assert ann.post(action, data={**data, "csrf_token": token_elsewhere}).status_code == 403
    assert [t.name for t in access.portal_tokens(db, tenant.portal_id)] == [
        "Full access (created with the portal)"
    ]


def test_cookies_are_secure_behind_an_https_public_url(
    settings: Settings, db: Database, admin: Person
) -> None:
    from dataclasses import replace

    from occur.app import create_app

    secure = replace(settings, public_url="https://occur.example.com")
    with TestClient(create_app(secure, db), base_url="https://testserver") as client:
        response = post_form(
            client, "/sign-in", "/sign-in", {"email": admin.email, "password": PASSWORD}
        )
        assert "Secure" in response.headers["set-cookie"]


def test_browsers_get_html_error_pages_and_api_clients_json(
    browser: TestClient, admin: Person, tenant: Tenant
) -> None:
    sign_in(browser, admin.email)
    html = {"accept": "text/html,application/xhtml+xml"}
    missing = browser.get(f"/app/{tenant.portal_id}/nowhere", headers=html)
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    assert "There is no such page." in missing.text
    api = browser.get("/events/v3/nowhere", headers=html)  # API paths always answer JSON
    assert api.status_code == 404 and api.json()["category"] == "OBJECT_NOT_FOUND"
    plain = browser.get(f"/app/{tenant.portal_id}/nowhere")
    assert plain.headers["content-type"].startswith("application/json")


def test_pages_forbid_inline_scripts_framing_and_caching(browser: TestClient) -> None:
    page = browser.get("/sign-in")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy.split("script-src", 1)[1].split(";", 1)[0]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    assert "<script>" not in page.text  # scripts are files, never inline
