"""A visual event from end to end in Chromium, nothing intercepted: an admin creates a
clicked-element event in occur's wizard by pointing at the button on their own site
(another origin) with the picker, and a visitor's click on that site is then stored by
the live collector, while a click elsewhere is not."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser as Chromium
from playwright.sync_api import expect, sync_playwright

from occur.services import accounts, definitions
from occur.store.db import Database
from tests.conftest import CHROMIUM, skip_or_fail
from tests.e2e.test_tracking_script import CHROMIUM_ARGS, Occur, Site, new_portal
from tests.e2e.test_tracking_script import occur as occur
from tests.e2e.test_tracking_script import site as site
from tests.support.events import stored_events

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery"
SHOP = (
    '<main><h1>Pricing</h1><p><button id="buy" class="cta">Buy</button> '
    '<button class="cta" id="later">Later</button></p></main>'
)


@pytest.fixture
def chromium() -> Iterator[Chromium]:
    if not CHROMIUM.exists():
        skip_or_fail(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


def _stored(db: Database, definition_id: int, count: int, timeout_s: float = 10) -> int:
    deadline = time.monotonic() + timeout_s
    while True:
        found = [e for e in stored_events(db) if e.definition_id == definition_id]
        if len(found) >= count or time.monotonic() > deadline:
            return len(found)
        time.sleep(0.05)


def test_pick_the_button_in_the_wizard_then_a_click_on_it_is_stored(
    occur: Occur,
    site: Site,
    chromium: Chromium,
) -> None:
    portal = new_portal(occur, "Visual shop")
    accounts.add_user(occur.db, portal, "ada@example.com", PASSWORD, "admin")
    url = site.page("/pricing.html", occur, portal, body=SHOP)

    admin = chromium.new_context()
    tab = admin.new_page()
    tab.goto(f"{occur.base_url}/sign-in")
    tab.get_by_label("Email").fill("ada@example.com")
    tab.get_by_label("Password").fill(PASSWORD)
    tab.get_by_role("button", name="Sign in").click()
    tab.goto(f"{occur.base_url}/app/{portal}/events/new")
    tab.get_by_role("radio", name="Visual event").check()
    tab.get_by_role("button", name="Next").click()
    tab.get_by_label("Event label").fill("Clicked buy")
    tab.get_by_role("button", name="Next").click()  # to properties
    tab.get_by_role("button", name="Next").click()  # to what to track
    tab.get_by_label("Page to pick on").fill(url)
    with admin.expect_page() as opened:
        tab.get_by_role("button", name="Pick the element on that page").click()
    picker = opened.value
    picker.wait_for_selector("#confirm")
    picker.locator("#buy").click()  # held by the picker, not a real click
    picker.click("#confirm")
    selector = tab.get_by_label("Element (CSS selector)")
    expect(selector).to_have_value("#buy")
    expect(tab.get_by_text("Picked.")).to_be_visible()
    tab.get_by_role("button", name="Create event").click()
    tab.wait_for_url("**/events/new/done?name=*")
    name = tab.url.rsplit("name=", 1)[1]
    made = definitions.get(occur.db, portal, name)
    assert made.tracking_type == "CLICKED_ELEMENT"
    rule = definitions.tracking_rule(occur.db, portal, name)
    assert rule is not None and rule.selector == "#buy"
    admin.close()

    visitor = chromium.new_context()
    shop = visitor.new_page()
    shop.goto(url)
    shop.locator("#later").click()
    shop.locator("#buy").click()
    assert _stored(occur.db, made.id, 1) == 1
    shop.locator("#buy").click()
    assert _stored(occur.db, made.id, 2) == 2
    shop.wait_for_timeout(700)
    (first, _second) = [e for e in stored_events(occur.db) if e.definition_id == made.id]
    assert first.properties["hs_element_id"] == "buy"
    assert first.properties["hs_element_text"] == "Buy"
    assert first.properties["hs_page_url"] == url
    assert first.visitor_id is not None and first.object_id is None
    assert _stored(occur.db, made.id, 3, timeout_s=0.5) == 2  # "Later" counted nothing
    visitor.close()
