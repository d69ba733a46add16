"""Import spreadsheet in the web app, in process: the wizard's hand-over, the file step,
the mapping step (auto-mapping, the guide, inline properties, the preview), finishing,
the import's page (results, errors, error file, revert), escaping of every value that
came from a file, and that one portal's imports stay invisible to another's users."""

from __future__ import annotations

import csv
import html
import io
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import openpyxl  # type: ignore[import-untyped]
from starlette.testclient import TestClient

from occur.config import Settings
from occur.domain.import_columns import auto_map
from occur.domain.import_dates import guess_date_format
from occur.domain.objects import COMPANY
from occur.domain.properties import MAX_CUSTOM_PROPERTIES
from occur.services import accounts, crm, definitions
from occur.store.db import Database
from occur.ui.import_form import (
    ColumnRow,
    auto_rows,
    property_problems,
    read_form,
)
from tests.conftest import Tenant
from tests.ui.conftest import PASSWORD, Person, csrf_of, post_form, sign_in

CSV_TEXT = (
    "E-mail,First name,Date,Plan,Seats\n"
    "ann@example.com,Ann,2025-03-01 10:00,pro,3\n"
    "bob@example.com,Bob,2025-03-02 11:30,free,1\n"
)
XSS_HEADER = "<script>alert(1)</script>"
XSS_CELL = '<img src=x onerror="alert(2)">'


def _new(tenant: Tenant) -> str:
    return f"/app/{tenant.portal_id}/imports/new"


def upload(
    client: TestClient,
    tenant: Tenant,
    content: bytes,
    *,
    filename: str = "people.csv",
    state: dict[str, str] | None = None,
    token: str | None = None,
) -> Any:
    """The file step as a browser sends it: text fields first, then the file."""
    state = state or {"label": "Bought plan", "object": "CONTACT"}
    page = _new(tenant) + "?" + "&".join(f"{k}={v}" for k, v in state.items())
    form_token = token if token is not None else csrf_of(client.get(page).text)
    fields = {"csrf_token": form_token, "language": "en", **state}
    return client.post(
        _new(tenant),
        data=fields,
        files={"file": (filename, content, "text/csv")},
        follow_redirects=False,
    )


def map_page(client: TestClient, tenant: Tenant, content: bytes = CSV_TEXT.encode(),
             **kwargs: Any) -> tuple[str, str]:  # fmt: skip
    """Upload, then open the mapping step: (its URL, its HTML)."""
    uploaded = upload(client, tenant, content, **kwargs)
    assert uploaded.status_code == 303, uploaded.text
    location = uploaded.headers["location"]
    assert location.startswith(_new(tenant) + "/map?")
    shown = client.get(location)
    assert shown.status_code == 200, shown.text
    return location, shown.text


def form_values(page_html: str) -> dict[str, str]:
    """What the mapping form would send as shown: inputs, checked boxes, selected options."""
    form = page_html[page_html.index("data-import-map") :]
    values: dict[str, str] = {}
    for tag in re.findall(r"<input\b[^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        if not name:
            continue
        kind = re.search(r'type="([^"]+)"', tag)
        if kind and kind.group(1) == "checkbox" and " checked" not in tag:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        values[html.unescape(name.group(1))] = html.unescape(value.group(1) if value else "")
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)"[^>]*selected', body) or re.search(
            r'<option value="([^"]*)"', body
        )
        values[html.unescape(name)] = html.unescape(chosen.group(1)) if chosen else ""
    return values


def finish(client: TestClient, tenant: Tenant, values: dict[str, str]) -> Any:
    return client.post(_new(tenant) + "/map", data=values, follow_redirects=False)


def wait_done(client: TestClient, location: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        progress = client.get(location + "/progress").json()
        if progress["finished"]:
            return dict(progress)
        time.sleep(0.1)
    raise AssertionError("the import did not finish within 60 s")


def run_import(client: TestClient, tenant: Tenant, content: bytes = CSV_TEXT.encode(),
               **changes: str) -> tuple[str, dict[str, Any]]:  # fmt: skip
    """The whole wizard after the details: (the import's page, its final progress)."""
    _, shown = map_page(client, tenant, content)
    values = {**form_values(shown), "consent": "1", **changes}
    finished = finish(client, tenant, values)
    assert finished.status_code == 303, finished.text
    location = finished.headers["location"]
    assert re.fullmatch(rf"/app/{tenant.portal_id}/imports/\d+", location)
    return location, wait_done(client, location)


def completions(client: TestClient, tenant: Tenant, event: str) -> list[dict[str, Any]]:
    read = client.get("/events/v3/events", params={"eventType": event, "limit": 100},
                      headers=tenant.headers)  # fmt: skip
    assert read.status_code == 200, read.text
    results: list[dict[str, Any]] = read.json()["results"]
    return results


def test_the_wizard_checks_an_import_events_details_and_hands_them_on(
    browser: TestClient, db: Database, tenant: Tenant, member: Person
) -> None:
    sign_in(browser, member.email)
    wizard = f"/app/{tenant.portal_id}/events/new"
    shown = browser.get(wizard).text
    assert not re.search(r'value="import"[^>]*disabled', shown)
    form = {"action": "create", "method": "import", "label": "Bought plan",
            "description": "From the shop", "object": "CONTACT"}  # fmt: skip
    handed = post_form(browser, wizard, wizard, form)
    assert handed.status_code == 303
    target = urlsplit(handed.headers["location"])
    assert target.path == _new(tenant)
    assert parse_qs(target.query) == {
        "label": ["Bought plan"], "description": ["From the shop"], "object": ["CONTACT"]
    }  # fmt: skip
    refused = post_form(browser, wizard, wizard, {**form, "label": ""})
    assert refused.status_code == 400
    assert 'id="e-label"' in refused.text
    # Nothing is created before the import starts.
    assert definitions.list_page(db, tenant.portal_id, _ALL).definitions == []
    file_step = browser.get(handed.headers["location"]).text
    assert 'type="file"' in file_step and "Bought plan" in file_step
    back = re.search(r'<a class="button" href="([^"]+)">Back</a>', file_step)
    assert back
    again = browser.get(html.unescape(back.group(1))).text  # the details as typed
    assert 'value="Bought plan"' in again and "From the shop</textarea>" in again
    assert 'data-open-step="details"' in again
    assert re.search(r'value="import"[^>]*checked', again)


def test_the_mapping_step_maps_columns_by_their_headers_and_previews_rows(
    browser: TestClient, tenant: Tenant, member: Person
) -> None:
    sign_in(browser, member.email)
    _, shown = map_page(browser, tenant)
    values = form_values(shown)
    assert values["c-0-as"] == "contact" and values["c-0-contact"] == "email"
    assert values["c-1-as"] == "contact" and values["c-1-contact"] == "firstname"
    assert values["c-2-as"] == "occurred_at"
    # A new event: the other columns become new event properties named after them.
    assert values["c-3-as"] == "event" and values["c-3-event"] == "__new__"
    assert values["c-3-new-label"] == "Plan" and values["c-3-new-name"] == "plan"
    assert values["date_format"] == "YEAR_MONTH_DAY"  # guessed from the Date column
    assert values["time_zone"] == "UTC"  # the portal's
    assert "Everything the import needs is mapped." in shown
    preview = shown[shown.index('data-role="preview"') :]
    assert "ann@example.com" in preview and "2025-03-01 10:00:00 UTC" in preview
    assert "pro" in preview
    for label in ("Import column 1 “E-mail” as", "Date format of Occurred at", "Time zone"):
        assert html.escape(label, quote=False) in shown or label in shown


def test_the_guide_says_what_is_missing_and_new_names_follow_the_rules(
    browser: TestClient, tenant: Tenant, member: Person
) -> None:
    sign_in(browser, member.email)
    _, shown = map_page(browser, tenant)
    values = form_values(shown)
    checked = browser.post(
        _new(tenant) + "/check",
        data={**values, "c-0-as": "skip", "c-2-as": "skip", "c-4-new-name": "9seats",
              "c-3-new-name": ""},
    ).json()  # fmt: skip
    assert len(checked["requirements"]) == 2
    assert any("email" in need for need in checked["requirements"])
    assert "must start with a lowercase letter" in checked["problems"]["c-4-new-name"]
    assert checked["names"] == {"c-3-new-name": "plan"}  # derived from its label
    # A fixed time for every row stands in for the Occurred at column.
    fixed = browser.post(
        _new(tenant) + "/check",
        data={**values, "c-2-as": "skip", "fixed_occurred_at": "2025-01-02T03:04"},
    ).json()
    assert fixed["requirements"] == []
    assert fixed["preview"][0]["occurredAt"] == "2025-01-02 03:04:00 UTC"


def test_finishing_without_consent_keeps_every_value_and_says_why(
    browser: TestClient, db: Database, tenant: Tenant, member: Person
) -> None:
    sign_in(browser, member.email)
    _, shown = map_page(browser, tenant)
    values = {**form_values(shown), "name": "March sales", "c-4-new-label": "Seat count"}
    values.pop("consent", None)
    refused = finish(browser, tenant, values)
    assert refused.status_code == 400
    assert 'id="e-consent"' in refused.text
    assert 'data-open-step="finish"' in refused.text
    assert form_values(refused.text)["name"] == "March sales"
    assert form_values(refused.text)["c-4-new-label"] == "Seat count"
    unmet = finish(browser, tenant, {**values, "consent": "1", "c-0-as": "skip"})
    assert unmet.status_code == 400 and 'id="e-mapping"' in unmet.text
    assert definitions.list_page(db, tenant.portal_id, _ALL).definitions == []


def test_an_import_creates_its_event_contacts_and_completions(
    browser: TestClient, db: Database, tenant: Tenant, member: Person
) -> None:
    sign_in(browser, member.email)
    location, progress = run_import(browser, tenant, name="March sales")
    assert progress["state"] == "DONE" and progress["progress"] == 1
    assert progress["counters"] == {"rowsRead": 2, "contactsCreated": 2, "contactsUpdated": 0,
                                    "completionsCreated": 2, "rowsWithErrors": 0}  # fmt: skip
    [event] = definitions.list_page(db, tenant.portal_id, _ALL).definitions
    assert event.label == "Bought plan" and event.tracking_type == "IMPORT"
    assert [p.name for p in event.custom_properties] == ["plan", "seats"]
    found = completions(browser, tenant, event.fully_qualified_name)
    assert sorted(c["properties"]["plan"] for c in found) == ["free", "pro"]
    assert {c["occurredAt"][:16] for c in found} == {"2025-03-01T10:00", "2025-03-02T11:30"}
    page = browser.get(location).text
    assert "March sales" in page and "Done" in page
    assert re.search(r'id="counter-completionsCreated">2<', page)
    assert "Revert import" in page and "Cancel import" not in page
    listed = browser.get(f"/app/{tenant.portal_id}/imports").text
    assert "March sales" in listed and event.fully_qualified_name in listed
    activity = browser.get(f"/app/{tenant.portal_id}/events/{event.fully_qualified_name}/activity")
    assert activity.text.count('<span class="prop-name">Plan</span> pro') == 1
    assert activity.text.count('<span class="prop-name">Plan</span> free') == 1


def test_failing_rows_are_listed_and_the_error_file_round_trips(
    browser: TestClient, tenant: Tenant, member: Person
) -> None:
    sign_in(browser, member.email)
    content = CSV_TEXT + "not-an-email,Cy,2025-03-03 09:00,pro,2\nd@example.com,Di,someday,pro,x\n"
    location, progress = run_import(browser, tenant, content.encode())
    assert progress["counters"]["rowsWithErrors"] == 2
    assert progress["counters"]["completionsCreated"] == 2
    page = browser.get(location).text
    table = page[page.index('id="import-errors"') :]
    assert "INVALID_EMAIL" in table and "not-an-email" in table
    assert "COULD_NOT_PARSE_DATE" in table and "someday" in table
    assert re.search(r'<td class="num">4</td>', table)  # the line in the file
    download = browser.get(location + "/errors.csv")
    assert download.status_code == 200
    assert "attachment" in download.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[0] == ["E-mail", "First name", "Date", "Plan", "Seats", "Error"]
    assert [r[0] for r in rows[1:]] == ["not-an-email", "d@example.com"]


def test_values_from_the_file_are_never_markup(
    browser: TestClient, tenant: Tenant, member: Person
) -> None:
    sign_in(browser, member.email)
    quoted = '"' + XSS_CELL.replace('"', '""') + '"'  # a CSV cell holding quotes
    content = (
        f"Email,{XSS_HEADER},Date\nann@example.com,{quoted},2025-03-01\n{quoted},x,2025-03-01\n"
    )
    _, shown = map_page(browser, tenant, content.encode(), filename=f"{XSS_HEADER}.csv")
    for raw in ("<script>alert", "<img src=x"):
        assert raw not in shown
    assert html.escape(XSS_HEADER, quote=False) in shown
    location, _ = run_import(browser, tenant, content.encode())
    page = browser.get(location).text
    assert "<img src=x" not in page and "<script>alert" not in page
    assert "&lt;img src=x onerror=" in page  # the bad email, shown as text


def test_an_import_into_an_existing_event_can_add_a_property(
    browser: TestClient, db: Database, tenant: Tenant, member: Person
) -> None:
    sign_in(browser, member.email)
    event = definitions.create(
        db, tenant.portal_id,
        {"label": "Renewed", "propertyDefinitions": [{"name": "plan", "label": "Plan",
                                                      "type": "string"}]},
        max_definitions=50,
    )  # fmt: skip
    header = browser.get(f"/app/{tenant.portal_id}/events/{event.fully_qualified_name}").text
    assert f"/imports/new?event={event.fully_qualified_name}" in header
    _, shown = map_page(browser, tenant, state={"event": event.fully_qualified_name})
    values = form_values(shown)
    assert values["c-3-as"] == "event" and values["c-3-event"] == "plan"  # by its label
    assert values["c-4-as"] == "skip"  # an existing event gets no new property unasked
    values.update({"c-4-as": "event", "c-4-event": "__new__", "c-4-new-label": "Seats",
                   "c-4-new-type": "number", "consent": "1"})  # fmt: skip
    finished = finish(browser, tenant, values)
    assert finished.status_code == 303, finished.text
    assert wait_done(browser, finished.headers["location"])["state"] == "DONE"
    changed = definitions.get(db, tenant.portal_id, event.name)
    assert [p.name for p in changed.custom_properties] == ["plan", "seats"]
    found = completions(browser, tenant, event.fully_qualified_name)
    assert sorted(c["properties"]["seats"] for c in found) == ["1", "3"]


def test_revert_removes_what_the_import_created(
    browser: TestClient, db: Database, tenant: Tenant, member: Person
) -> None:
    sign_in(browser, member.email)
    location, _ = run_import(browser, tenant)
    page = browser.get(location).text
    confirm = re.search(r'action="[^"]*/revert"[^>]*data-confirm="([^"]+)"', page)
    assert confirm and "removes the 2 completions" in html.unescape(confirm.group(1))
    reverted = post_form(browser, location, location + "/revert", {})
    assert reverted.status_code == 303
    assert reverted.headers["location"].endswith("?done=reverting")
    assert wait_done(browser, location)["state"] == "REVERTED"
    [event] = definitions.list_page(db, tenant.portal_id, _ALL).definitions
    assert completions(browser, tenant, event.fully_qualified_name) == []
    shown = browser.get(reverted.headers["location"]).text
    assert "Reverted" in shown and "The import was reverted" in shown
    assert re.search(r'id="counter-completionsRemoved">2<', shown)
    assert "Revert import" not in shown  # nothing left to revert


def test_another_portals_user_sees_none_of_its_imports(
    browser_factory: Callable[[], TestClient], settings: Settings, db: Database,
    tenant: Tenant, other_tenant: Tenant, member: Person,
) -> None:  # fmt: skip
    ann = browser_factory()
    sign_in(ann, member.email)
    location, _ = run_import(ann, tenant, name="Secret import")
    import_id = location.rsplit("/", 1)[1]
    accounts.add_user(db, other_tenant.portal_id, "olga@example.com", PASSWORD, "admin")
    olga = browser_factory()
    sign_in(olga, "olga@example.com")
    own = f"/app/{other_tenant.portal_id}/imports"
    assert "Secret import" not in olga.get(own).text
    for path in (f"{own}/{import_id}", f"{own}/{import_id}/progress",
                 f"{own}/{import_id}/errors.csv", location, location + "/progress"):  # fmt: skip
        answer = olga.get(path)
        assert answer.status_code == 404, path
        assert "Secret import" not in answer.text
    token = csrf_of(olga.get(own).text)
    revert = olga.post(f"{own}/{import_id}/revert", data={"csrf_token": token})
    assert revert.status_code == 404
    assert "Reverted" not in ann.get(location).text
    # Nor can another person use an upload of this portal's user.
    ann_map, _ = map_page(ann, tenant)
    stolen = olga.get(
        ann_map.replace(f"/app/{tenant.portal_id}/", f"/app/{other_tenant.portal_id}/")
    )
    assert stolen.status_code == 404


def test_the_file_step_refuses_a_missing_token_and_an_unreadable_file(
    browser: TestClient, settings: Settings, tenant: Tenant, member: Person
) -> None:
    sign_in(browser, member.email)
    refused = upload(browser, tenant, CSV_TEXT.encode(), token="forged")
    assert refused.status_code == 403
    staged = settings.data_dir / "imports"
    assert not staged.exists() or not any(staged.iterdir())
    empty = upload(browser, tenant, b"")
    assert empty.status_code == 400 and 'id="e-file"' in empty.text
    assert "Bought plan" in empty.text  # the details are kept


_ALL = definitions.ListQuery(
    search=None, limit=100, after_id=None, include_properties=True, descending=False
)


def test_a_workbooks_sheet_is_chosen_on_the_mapping_step(
    browser: TestClient, db: Database, tenant: Tenant, member: Person
) -> None:
    workbook = openpyxl.Workbook()
    notes = workbook.active
    assert notes is not None
    notes.title = "Notes"
    notes.append(["Read me first"])
    sales = workbook.create_sheet("Sales")
    sales.append(["Email", "Date", "Amount"])
    sales.append(["ann@example.com", datetime(2025, 3, 1, 10, 0), 12.5])
    out = io.BytesIO()
    workbook.save(out)
    sign_in(browser, member.email)
    location, shown = map_page(browser, tenant, out.getvalue(), filename="sales.xlsx")
    assert re.search(r'<option value="Notes" selected>', shown)
    assert "Read me first" in shown
    other = browser.get(location + "&sheet=Sales")
    assert other.status_code == 200
    values = form_values(other.text)
    assert values["sheet"] == "Sales"
    assert values["c-0-contact"] == "email" and values["c-1-as"] == "occurred_at"
    finished = finish(browser, tenant, {**values, "consent": "1"})
    assert finished.status_code == 303, finished.text
    assert wait_done(browser, finished.headers["location"])["counters"]["rowsRead"] == 1
    [event] = definitions.list_page(db, tenant.portal_id, _ALL).definitions
    [stored] = completions(browser, tenant, event.fully_qualified_name)
    assert stored["properties"]["amount"] == "12.5"
    assert stored["occurredAt"].startswith("2025-03-01T10:00")


def test_the_date_format_is_guessed_from_what_most_cells_say() -> None:
    cases = {
        ("2025-03-01 10:00",): "YEAR_MONTH_DAY",
        ("2025-03-01T10:00:00Z",): "YEAR_MONTH_DAY",
        ("03/01/2025 10:00", "03/22/2025"): "MONTH_DAY_YEAR",
        ("22/03/2025", "01/04/2025 5:30 PM"): "DAY_MONTH_YEAR",
        ("03/01/2025", "someday"): "MONTH_DAY_YEAR",  # a bad cell does not decide
        ("1700000000000",): "EPOCH_MILLIS",
    }
    for samples, expected in cases.items():
        assert guess_date_format(samples, "UTC") == expected, samples
    assert guess_date_format(["someday"], "UTC") is None
    assert guess_date_format([], "UTC") is None


def test_a_company_event_is_imported_by_record_id(
    browser: TestClient, db: Database, tenant: Tenant, member: Person
) -> None:
    company = crm.create(db, tenant.portal_id, COMPANY, {"properties": {"name": "Acme"}})
    event = definitions.create(
        db, tenant.portal_id, {"label": "Renewed contract", "primaryObject": "COMPANY"},
        max_definitions=50,
    )  # fmt: skip
    sign_in(browser, member.email)
    content = f"Record ID,Date\n{company.record.id},2025-03-01\n999999,2025-03-02\n"
    state = {"event": event.fully_qualified_name}
    _, shown = map_page(browser, tenant, content.encode(), state=state)
    assert 'value="contact"' not in shown  # contact properties are for contact events
    values = form_values(shown)
    assert values["c-0-as"] == "record_id" and values["c-1-as"] == "occurred_at"
    finished = finish(browser, tenant, {**values, "consent": "1"})
    assert finished.status_code == 303, finished.text
    progress = wait_done(browser, finished.headers["location"])
    assert progress["counters"]["completionsCreated"] == 1
    assert progress["counters"]["rowsWithErrors"] == 1  # no such record
    [stored] = completions(browser, tenant, event.fully_qualified_name)
    assert stored["objectId"] == str(company.record.id)


def test_french_headers_decimal_commas_and_one_time_for_every_row(
    browser: TestClient, db: Database, tenant: Tenant, member: Person
) -> None:
    sign_in(browser, member.email)
    content = "Courriel;Prénom;Montant\nann@example.com;Ann;1 234,5\n".encode("cp1252")
    state = {"label": "Achat", "object": "CONTACT", "language": "fr"}
    uploaded = upload(browser, tenant, content, state=state)
    location = uploaded.headers["location"]
    assert "language=fr" in location
    values = form_values(browser.get(location).text)
    assert values["language"] == "fr"
    assert values["c-0-contact"] == "email" and values["c-1-contact"] == "firstname"
    assert values["c-2-event"] == "__new__" and values["c-2-new-name"] == "montant"
    values.update({"c-2-new-type": "number", "consent": "1"})
    refused = finish(browser, tenant, values)  # no time column, and no time for all rows
    assert refused.status_code == 400 and 'id="e-mapping"' in refused.text
    values["fixed_occurred_at"] = "2025-06-30T09:15"
    values["time_zone"] = "Europe/Paris"
    finished = finish(browser, tenant, values)
    assert finished.status_code == 303, finished.text
    assert wait_done(browser, finished.headers["location"])["state"] == "DONE"
    [event] = definitions.list_page(db, tenant.portal_id, _ALL).definitions
    [stored] = completions(browser, tenant, event.fully_qualified_name)
    assert stored["properties"]["montant"] == "1234.5"
    assert stored["occurredAt"].startswith("2025-06-30T07:15")  # 09:15 in Paris


def test_a_wide_file_proposes_no_more_new_properties_than_an_event_holds() -> None:
    headers = ["Email", "Date", *(f"Column {i}" for i in range(60))]
    mappings = auto_map(headers, "en", object_is_contact=True, event_properties=[])
    rows = auto_rows(mappings, new_event=True, taken=[])
    created = [r for r in rows if r.creates_property]
    assert len(created) == MAX_CUSTOM_PROPERTIES
    assert rows[-1].target == "skip"
    assert property_problems(read_form(_sent(rows), headers), None) == {}


def _sent(rows: list[ColumnRow]) -> dict[str, str]:
    sent: dict[str, str] = {}
    for r in rows:
        sent.update({f"c-{r.index}-as": r.target, f"c-{r.index}-contact": r.contact,
                     f"c-{r.index}-event": r.event, f"c-{r.index}-new-label": r.new_label,
                     f"c-{r.index}-new-name": r.new_name})  # fmt: skip
    return sent


def test_the_errors_table_pages(browser: TestClient, tenant: Tenant, member: Person) -> None:
    sign_in(browser, member.email)
    bad = "".join(f"bad{i},Bad,2025-03-01 10:00,pro,1\n" for i in range(130))
    location, progress = run_import(browser, tenant, (CSV_TEXT + bad).encode())
    assert progress["counters"]["rowsWithErrors"] == 130
    first = browser.get(location).text
    more = re.search(r'<a href="(\?after=[^"]+)">More errors</a>', first)
    assert more and first.count("INVALID_EMAIL") == 100
    second = browser.get(location + html.unescape(more.group(1))).text
    assert second.count("INVALID_EMAIL") == 30 and "More errors" not in second
    assert "bad129" in second and "bad129" not in first


def test_finish_sent_twice_starts_one_import_and_creates_one_event(
    browser: TestClient, db: Database, tenant: Tenant, member: Person
) -> None:
    """A double click on Finish (or the POST sent again on a reload) answers with the
    import the first one started: not a second import, not "name taken" for the event
    the first one created."""
    sign_in(browser, member.email)
    _, shown = map_page(browser, tenant)
    values = {**form_values(shown), "consent": "1", "name": "Twice"}
    with ThreadPoolExecutor(max_workers=2) as pool:
        both = list(pool.map(lambda _: finish(browser, tenant, values), range(2)))
    assert [a.status_code for a in both] == [303, 303], [a.text for a in both]
    wait_done(browser, both[0].headers["location"])
    again = finish(browser, tenant, values)  # its file is gone now that it has ended
    answers = [*both, again]
    assert [a.status_code for a in answers] == [303, 303, 303], again.text
    assert len({a.headers["location"] for a in answers}) == 1
    [event] = definitions.list_page(db, tenant.portal_id, _ALL).definitions
    listed = browser.get(f"/app/{tenant.portal_id}/imports").text
    assert listed.count(">Twice<") == 1, listed
    assert len(completions(browser, tenant, event.fully_qualified_name)) == 2
