"""The web app in a real browser against a live `occur serve` (issue 4's proof)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.browser import FreshServer

PASSWORD = "a long enough passphrase"


def sign_up(page: Page, server: FreshServer, email: str = "ann@example.com") -> None:
    page.goto(server.base_url)
    expect(page).to_have_url(re.compile(r"/setup$"))
    page.get_by_label("Set-up code").fill(server.setup_code.lower())
    page.get_by_label("Your email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Custom events")).to_be_visible()


def test_first_run_sign_up_then_sign_out_and_in(page: Page, fresh_server: FreshServer) -> None:
    page.goto(fresh_server.base_url + "/setup")
    page.get_by_label("Set-up code").fill("WRONG-CODE-0000")
    page.get_by_label("Your email").fill("ann@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#e-setup_code")).to_contain_text("not the code")
    expect(page.get_by_label("Your email")).to_have_value("ann@example.com")

    sign_up(page, fresh_server)
    expect(page.get_by_text("No custom events yet")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    page.goto(fresh_server.base_url + "/setup")
    expect(page).to_have_url(re.compile(r"/sign-in$"))  # set-up is over

    page.get_by_label("Email").fill("ann@example.com")
    page.get_by_label("Password").fill("wrong password!")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Custom events")).to_be_visible()


def test_keyboard_reaches_the_sign_in_form(page: Page, fresh_server: FreshServer) -> None:
    sign_up(page, fresh_server)
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    page.keyboard.press("Tab")  # the skip link comes first
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.get_by_label("Email").focus()
    page.keyboard.type("ann@example.com")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Custom events")).to_be_visible()
