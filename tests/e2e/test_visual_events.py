"""The tracking script from end to end in Chromium, nothing intercepted: what a site on
another origin sends is stored by the live collector of `occur serve`.

An admin creates a clicked-element event in occur's wizard by pointing at the button on
their own site with the picker; a visitor's click on it is stored, a click elsewhere is
not. A completion queued before the script loaded is stored leniently; identify moves
the visitor's earlier completions to the contact."""

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


def test_queued_calls_are_stored_leniently_and_identify_moves_earlier_ones(
    occur: Occur,
    site: Site,
    chromium: Chromium,
) -> None:
    """The lenient path as stored: a completion queued before the script loaded, with
    60 properties of 2,000 characters, is kept as 50 properties cut to 256 characters;
    identify later moves the visitor's earlier completions to the new contact."""
    portal = new_portal(occur, "Lenient shop")
    made = definitions.create(
        occur.db,
        portal,
        {"label": "Quoted", "primaryObject": "CONTACT"},
        max_definitions=10,
        tracking_type="CUSTOM_SCRIPT",
    )
    props = "{" + ",".join(f"p{n:02d}: 'x'.repeat(2000)" for n in range(60)) + "}"
    early = (
        f"_hsq.push(['trackCustomBehavioralEvent', "
        f"{{name: '{made.fully_qualified_name}', properties: {props}}}]);"
    )
    url = site.page("/quote.html", occur, portal, early=early)
    visitor = chromium.new_context()
    shop = visitor.new_page()
    shop.goto(url)
    assert _stored(occur.db, made.id, 1) == 1
    (first,) = [e for e in stored_events(occur.db) if e.definition_id == made.id]
    custom = {k: v for k, v in first.properties.items() if not k.startswith("hs_")}
    assert sorted(custom) == [f"p{n:02d}" for n in range(50)]
    assert {len(v) for v in custom.values()} == {256}
    assert first.object_id is None and first.visitor_id is not None
    shop.evaluate(
        "name => { _hsq.push(['identify', {email: 'grace@example.com'}]);"
        " _hsq.push(['trackCustomBehavioralEvent', {name, properties: {p00: 'again'}}]); }",
        made.fully_qualified_name,
    )
    assert _stored(occur.db, made.id, 2) == 2
    both = [e for e in stored_events(occur.db) if e.definition_id == made.id]
    contacts = {e.object_id for e in both}
    assert len(contacts) == 1 and None not in contacts  # the first one moved too
    visitor.close()
