"""The web app in a real browser against a live `occur serve` (issue 4's proof)."""

from __future__ import annotations

import re
import time

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.browser import FreshServer, welcome_token

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


def _api(server: FreshServer, method: str, path: str, body: object) -> httpx.Response:
    headers = {"Authorization": f"Bearer {welcome_token(server)}"}
    return httpx.request(method, server.base_url + path, headers=headers, json=body, timeout=10)


def _plotted(page: Page) -> list[dict[str, object]]:
    """What Plotly drew: each trace's name and y values, read from the chart itself."""
    page.wait_for_function("document.getElementById('chart')?.data !== undefined")
    traces: list[dict[str, object]] = page.evaluate(
        "document.getElementById('chart').data.map(t => ({name: t.name, y: Array.from(t.y)}))"
    )
    return traces


def test_define_send_and_see_it_everywhere(page: Page, fresh_server: FreshServer) -> None:
    """Issue 4's proof: sign up, create an event with an enumeration property in the
    wizard, send completions through the API, and find them in the chart, the
    breakdown, Activity and the contact's timeline, which filters by event type."""
    sign_up(page, fresh_server)
    portal = page.url.split("/app/")[1].split("/")[0]
    base = f"{fresh_server.base_url}/app/{portal}"

    page.get_by_role("link", name="Create event").first.click()
    page.get_by_label("Send data via API").check()
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Event label").fill("Watched demo")
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Add property").click()
    row = page.locator(".property-row").nth(0)
    row.get_by_label("Property label").fill("Plan")
    row.get_by_label("Type").select_option("enumeration")
    row.get_by_label("Option label").fill("Pro")
    row.get_by_role("button", name="Add option").click()
    row.get_by_label("Option label").nth(1).fill("Free")
    page.get_by_role("button", name="Create event").click()
    fqn = page.locator("#event-fqn").inner_text()
    assert fqn == f"pe{portal}_watched_demo"
    other = _api(fresh_server, "POST", "/events/v3/event-definitions",
                 {"label": "Opened email", "primaryObject": "CONTACT"})  # fmt: skip
    assert other.status_code == 201, other.text

    now = int(time.time() * 1000)
    sends = [
        (fqn, "ada@example.com", "pro", now - 60_000),
        (fqn, "ada@example.com", "pro", now - 120_000),
        (fqn, "ada@example.com", "pro", now - 86_400_000),
        (fqn, "bob@example.com", "free", now - 60_000),
        (other.json()["fullyQualifiedName"], "ada@example.com", None, now - 30_000),
    ]
    for name, email, plan, at in sends:
        body: dict[str, object] = {"eventName": name, "email": email, "occurredAt": at}
        if plan:
            body["properties"] = {"plan": plan}
        assert _api(fresh_server, "POST", "/events/v3/send", body).status_code == 204

    page.goto(f"{base}/events/{fqn}?range=7d")
    (line,) = _plotted(page)
    assert line["y"][-2:] == [1, 3]  # yesterday, today (UTC days, the portal's zone)
    assert sum(line["y"]) == 4  # type: ignore[arg-type]
    expect(page.get_by_role("heading", name="Total completions: 4")).to_be_visible()

    page.get_by_label("Break down by").select_option("plan")
    page.get_by_role("button", name="Show").click()
    split = {str(t["name"]): sum(t["y"]) for t in _plotted(page)}  # type: ignore[arg-type]
    assert split == {"Pro": 3, "Free": 1}
    table = page.locator("#breakdown tbody tr")
    expect(table).to_have_count(2)
    expect(table.nth(0)).to_contain_text("Pro")
    expect(table.nth(0)).to_contain_text("3")
    # unique records: "(no value)" is counted after the page shows ("Other" needs no
    # count: plan has held two values only); every completion holds one, so the script
    # takes the line away
    page.get_by_label("Measure").select_option("unique")
    with page.expect_response(lambda r: "/analyze/rest?" in r.url) as counted:
        page.get_by_role("button", name="Show").click()
    assert counted.value.json() == {"other": 0, "noValue": 0}
    expect(table).to_have_count(2)
    expect(table.nth(0)).to_contain_text("1")

    page.get_by_role("link", name="Activity").click()
    expect(page.locator("table.data tbody tr")).to_have_count(4)

    page.get_by_role("link", name="Records").click()
    page.get_by_role("link", name="ada@example.com").first.click()
    expect(page.get_by_text("4 completed events.")).to_be_visible()
    expect(page.locator("table.timeline > tbody > tr")).to_have_count(4)
    page.locator("details.filter > summary").click()
    watched = page.get_by_role("checkbox", name=re.compile("Watched demo"))
    expect(watched).to_be_visible()
    watched.check()
    page.get_by_role("button", name="Show these events").click()
    expect(page.locator("table.timeline > tbody > tr")).to_have_count(3)
    expect(page.locator("table.timeline")).not_to_contain_text("Opened email")


def test_load_more_appends_the_next_timeline_rows_in_place(
    page: Page, fresh_server: FreshServer
) -> None:
    made = _api(fresh_server, "POST", "/events/v3/event-definitions",
                {"label": "Opened app", "primaryObject": "CONTACT"})  # fmt: skip
    name = made.json()["fullyQualifiedName"]
    batch = [{"eventName": name, "email": "ada@example.com", "occurredAt": 1_700_000_000_000 + i}
             for i in range(45)]  # fmt: skip
    sent = _api(fresh_server, "POST", "/events/v3/send/batch", {"inputs": batch})
    assert sent.status_code == 204, sent.text
    sign_up(page, fresh_server)
    page.get_by_role("link", name="Records").click()
    page.get_by_role("link", name="ada@example.com").first.click()
    rows = page.locator("table.timeline > tbody > tr")
    expect(rows).to_have_count(20)
    url = page.url
    page.get_by_role("link", name="Load more").click()
    expect(rows).to_have_count(40)
    page.get_by_role("link", name="Load more").click()
    expect(rows).to_have_count(45)
    assert page.url == url  # appended in place, not a new page
    expect(page.get_by_role("link", name="Load more")).to_have_count(0)
    last_time = rows.nth(44).locator("time")
    expect(last_time).not_to_have_text(re.compile(r"^\d+$"))  # formatted, not raw ms
    ids = rows.evaluate_all("rows => rows.map(r => r.id)")
    assert len(set(ids)) == 45
