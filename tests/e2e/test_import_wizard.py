"""Import spreadsheet in a real browser against a live `occur serve`: the whole wizard
with a CSV the test writes, the results and the event's Activity tab, and the error
file's round trip (download, fix, import again: nothing stored twice)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Dialog, Page, expect, sync_playwright

from tests.conftest import CHROMIUM, skip_or_fail
from tests.e2e.conftest import SignedUp, signed_up_server
from tests.ui.conftest import PASSWORD

pytestmark = pytest.mark.e2e

GOOD_ROWS = (
    ("ann@example.com", "Ann", "03/01/2025 10:00", "Pro"),
    ("bob@example.com", "Bob", "03/02/2025 11:30", "Free"),
    ("cy@example.com", "Cy", "03/03/2025 09:15", "Pro"),
)
BAD_ROW = ("dee-at-example.com", "Dee", "03/04/2025 08:00", "Pro")


Live = SignedUp


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with signed_up_server(
        tmp_path_factory.mktemp("import-live"), "Imports", "ivy@example.com", PASSWORD
    ) as server:
        yield server


def write_csv(path: Path, rows: Any, header: tuple[str, ...] = ("Email", "First name",
              "Date", "Plan")) -> Path:  # fmt: skip
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def sign_in(page: Page, live: Live) -> None:
    page.goto(f"{live.base_url}/sign-in")
    page.get_by_label("Email").fill(live.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/app/"))


def map_and_finish(page: Page, name: str) -> None:
    """From the mapping step to the import's page, checking the guide on the way."""
    expect(page.get_by_text("Everything the import needs is mapped.")).to_be_visible()
    email_as = page.get_by_label("Import column 1 “Email” as")
    email_as.select_option("skip")  # the guide notices, and Next waits
    expect(page.locator('[data-role="needs"]')).to_contain_text("email")
    expect(page.get_by_role("button", name="Next")).to_be_disabled()
    email_as.select_option("contact")
    page.get_by_label("Contact property for column 1").select_option("email")
    expect(page.get_by_role("button", name="Next")).to_be_enabled()
    email_as.focus()
    page.keyboard.press("Tab")  # each column's controls are next to each other
    expect(page.get_by_label("Contact property for column 1")).to_be_focused()
    plan_as = page.get_by_label("Import column 4 “Plan” as")
    expect(plan_as).to_have_value("event")
    expect(page.get_by_label("New property label for column 4")).to_have_value("Plan")
    page.get_by_role("button", name="Next").click()

    preview = page.locator('[data-role="preview"]')
    expect(preview).to_contain_text("ann@example.com")
    expect(preview).to_contain_text("2025-03-01 10:00:00 UTC")  # month/day/year, as guessed
    page.get_by_role("button", name="Next").click()

    page.get_by_label("Import name").fill(name)
    expect(page.get_by_label("Date format of Occurred at")).to_have_value("MONTH_DAY_YEAR")
    page.get_by_role("button", name="Finish import").click()
    expect(page.locator("#e-consent")).to_be_visible()  # the checkbox is required
    expect(page.get_by_label("Import name")).to_have_value(name)
    page.get_by_label("The contacts in this file expect to hear from us").check()
    page.get_by_role("button", name="Finish import").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()


def wait_done(page: Page) -> None:
    expect(page.locator("#import-state")).to_have_text(re.compile("Done|Failed"), timeout=60_000)


def counter(page: Page, key: str) -> str:
    return page.locator(f"#counter-{key}").inner_text()


def test_the_import_wizard_end_to_end(page: Page, live: Live, tmp_path: Path) -> None:
    data = write_csv(tmp_path / "plans.csv", GOOD_ROWS)
    sign_in(page, live)
    page.goto(f"{live.base_url}/app/{live.portal_id}/events/new")
    page.get_by_label("Import spreadsheet").check()
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Event label").fill("Chose plan")
    page.get_by_role("button", name="Next: choose the file").click()

    expect(page.get_by_role("heading", name="Import spreadsheet: Chose plan")).to_be_visible()
    page.get_by_label("Spreadsheet file (CSV or Excel .xlsx)").set_input_files(str(data))
    page.get_by_role("button", name="Upload and map columns").click()
    map_and_finish(page, "Plans of March")

    page.reload()  # the page shows the import where it is, whatever the browser knew
    wait_done(page)
    assert counter(page, "rowsRead") == "3"
    assert counter(page, "contactsCreated") == "3"
    assert counter(page, "contactsUpdated") == "0"
    assert counter(page, "completionsCreated") == "3"
    assert counter(page, "rowsWithErrors") == "0"
    expect(page.get_by_role("progressbar", name="Progress of the import")).to_have_js_property(
        "value", 1
    )

    page.get_by_role("link", name=re.compile(r"chose_plan")).click()
    page.get_by_role("link", name="Activity").click()
    rows = page.locator("table.data tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator("table.data")).to_contain_text("Pro")
    expect(page.locator("table.data")).to_contain_text("Free")

    page.goto(f"{live.base_url}/app/{live.portal_id}/imports")
    expect(page.get_by_role("link", name="Plans of March")).to_be_visible()


def test_the_error_file_round_trip(page: Page, live: Live, tmp_path: Path) -> None:
    data = write_csv(tmp_path / "with-a-bad-row.csv", (*GOOD_ROWS[:2], BAD_ROW))
    sign_in(page, live)
    page.goto(f"{live.base_url}/app/{live.portal_id}/events/new?method=import")
    page.get_by_label("Import spreadsheet").check()
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Event label").fill("Renewed plan")
    page.get_by_role("button", name="Next: choose the file").click()
    page.get_by_label("Spreadsheet file (CSV or Excel .xlsx)").set_input_files(str(data))
    page.get_by_role("button", name="Upload and map columns").click()
    map_and_finish(page, "Renewals, first try")
    wait_done(page)
    assert counter(page, "completionsCreated") == "2"
    assert counter(page, "rowsWithErrors") == "1"
    errors = page.locator("#import-errors")
    expect(errors).to_contain_text("INVALID_EMAIL")
    expect(errors).to_contain_text("dee-at-example.com")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the error file").click()
    saved = download_info.value.path()
    rows = list(csv.reader(io.StringIO(Path(saved).read_text(encoding="utf-8-sig"))))
    assert rows[0] == ["Email", "First name", "Date", "Plan", "Error"]
    assert len(rows) == 2 and rows[1][0] == "dee-at-example.com"
    fixed = [[cell.replace("-at-", "@") for cell in row[:-1]] for row in rows[1:]]
    retry = write_csv(tmp_path / "fixed.csv", fixed, tuple(rows[0][:-1]))

    # Again through the event's own Import action, into the same event.
    page.get_by_role("link", name=re.compile(r"renewed_plan")).click()
    fqn = page.locator("#event-fqn").inner_text()
    page.get_by_role("link", name="Import", exact=True).click()
    page.get_by_label("Spreadsheet file (CSV or Excel .xlsx)").set_input_files(str(retry))
    page.get_by_role("button", name="Upload and map columns").click()
    expect(page.get_by_label("Import column 4 “Plan” as")).to_have_value("event")
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Import name").fill("Renewals, fixed")
    page.get_by_label("The contacts in this file expect to hear from us").check()
    page.get_by_role("button", name="Finish import").click()
    wait_done(page)
    assert counter(page, "completionsCreated") == "1"
    assert counter(page, "rowsWithErrors") == "0"

    # The whole first file once more (its bad row fixed): nothing is stored twice.
    whole = write_csv(tmp_path / "whole.csv", (*GOOD_ROWS[:2], fixed[0]))
    page.goto(f"{live.base_url}/app/{live.portal_id}/imports/new?event={fqn}")
    page.get_by_label("Spreadsheet file (CSV or Excel .xlsx)").set_input_files(str(whole))
    page.get_by_role("button", name="Upload and map columns").click()
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Next").click()
    page.get_by_label("The contacts in this file expect to hear from us").check()
    page.get_by_role("button", name="Finish import").click()
    wait_done(page)
    read = httpx.get(f"{live.base_url}/events/v3/events",
                     params={"eventType": fqn, "limit": 100},
                     headers={"Authorization": f"Bearer {live.token}"})  # fmt: skip
    assert len(read.json()["results"]) == 3


XSS_HEADER = "<script>alert(1)</script>"
XSS_CELL = '<img src=x onerror="alert(2)">'


def test_values_from_the_file_never_run(page: Page, live: Live, tmp_path: Path) -> None:
    """Markup in headers, cells and the file's name shows as text on every page it
    reaches; the `page` fixture fails the test on any dialog or page error."""
    rows = [("ann@example.com", "2025-03-01", XSS_CELL), (XSS_CELL, "2025-03-02", "x")]
    data = write_csv(tmp_path / "<b onclick=alert(4)>odd.csv", rows, ("Email", "Date", XSS_HEADER))
    sign_in(page, live)
    page.goto(f"{live.base_url}/app/{live.portal_id}/events/new?method=import")
    page.get_by_label("Import spreadsheet").check()
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Event label").fill("Markup test")
    page.get_by_role("button", name="Next: choose the file").click()
    page.get_by_label("Spreadsheet file (CSV or Excel .xlsx)").set_input_files(str(data))
    page.get_by_role("button", name="Upload and map columns").click()
    expect(page.get_by_role("rowheader", name=XSS_HEADER)).to_be_visible()
    expect(page.get_by_text("<b onclick=alert(4)>odd.csv")).to_be_visible()
    page.get_by_label("Import column 1 “Email” as").select_option("skip")  # a new preview
    page.get_by_label("Import column 1 “Email” as").select_option("contact")
    page.get_by_label("Contact property for column 1").select_option("email")
    page.get_by_role("button", name="Next").click()
    expect(page.locator('[data-role="preview"]')).to_contain_text(XSS_CELL)
    page.get_by_role("button", name="Next").click()
    page.get_by_label("The contacts in this file expect to hear from us").check()
    page.get_by_role("button", name="Finish import").click()
    wait_done(page)
    expect(page.locator("#import-errors")).to_contain_text(XSS_CELL)
    page.get_by_role("link", name=re.compile(r"markup_test")).click()
    page.get_by_role("link", name="Activity").click()
    expect(page.locator("table.data")).to_contain_text(XSS_CELL)
    page.get_by_role("link", name="Properties").click()
    expect(page.get_by_text(XSS_HEADER).first).to_be_visible()
    assert page.evaluate("document.querySelectorAll('img[src=x], main script').length") == 0


@dataclass
class Confirming:
    """A tab whose confirm() dialogs are accepted and kept; anything else fails."""

    page: Page
    confirmed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def on_dialog(self, dialog: Dialog) -> None:
        if dialog.type == "confirm":
            self.confirmed.append(dialog.message)
            dialog.accept()
        else:
            self.errors.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()


@pytest.fixture
def confirming() -> Iterator[Confirming]:
    if not CHROMIUM.exists():
        skip_or_fail(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        tab = Confirming(browser.new_context().new_page())
        tab.page.on("dialog", tab.on_dialog)
        tab.page.on("pageerror", lambda exc: tab.errors.append(str(exc)))
        yield tab
        browser.close()
    assert not tab.errors, tab.errors


def test_a_running_import_survives_a_reload_can_be_canceled_and_reverted(
    confirming: Confirming, live: Live, tmp_path: Path
) -> None:
    page = confirming.page
    created = httpx.post(
        f"{live.base_url}/events/v3/event-definitions",
        json={"label": "Long import", "propertyDefinitions": []},
        headers={"Authorization": f"Bearer {live.token}"},
    )
    assert created.status_code == 201, created.text
    fqn = created.json()["fullyQualifiedName"]
    many = [(f"person{i}@example.com", f"P{i}", f"2025-01-01T00:00:{i % 60:02d}Z", "x")
            for i in range(LONG_ROWS)]  # fmt: skip
    data = write_csv(tmp_path / "many.csv", many)
    sign_in(page, live)
    page.goto(f"{live.base_url}/app/{live.portal_id}/imports/new?event={fqn}")
    page.get_by_label("Spreadsheet file (CSV or Excel .xlsx)").set_input_files(str(data))
    page.get_by_role("button", name="Upload and map columns").click()
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Next").click()
    page.get_by_label("The contacts in this file expect to hear from us").check()
    page.get_by_role("button", name="Finish import").click()

    cancel = page.get_by_role("button", name="Cancel import")
    expect(cancel).to_be_visible()  # it runs
    page.reload()  # and the page still knows where it is
    bar = page.get_by_role("progressbar", name="Progress of the import")
    # The bar moves without a reload.
    expect(page.locator('[data-role="percent"]')).not_to_have_text("0%", timeout=30_000)
    cancel.click()
    expect(page.get_by_text("The import was canceled.")).to_be_visible()
    assert "Cancel the import" in confirming.confirmed[0]
    expect(page.locator("#import-state")).to_have_text("Canceled")
    kept = int(page.locator("#counter-completionsCreated").inner_text().replace(",", ""))
    assert 0 < kept < LONG_ROWS
    expect(bar).to_be_visible()

    page.get_by_role("button", name="Revert import").click()
    # A job removes the rows; the page follows it and shows the end without a reload.
    expect(page.locator("#import-state")).to_have_text("Reverted", timeout=60_000)
    expect(page.locator("#counter-completionsRemoved")).to_have_text(f"{kept:,}")
    assert f"removes the {kept:,} completions" in confirming.confirmed[1]
    read = httpx.get(f"{live.base_url}/events/v3/events", params={"eventType": fqn},
                     headers={"Authorization": f"Bearer {live.token}"})  # fmt: skip
    assert read.json()["results"] == []


LONG_ROWS = 60_000
