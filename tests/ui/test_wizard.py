"""The Create event wizard: what it stores, how it reports problems, its name checker,
who may create JavaScript-code events, and that the examples it prints work as printed."""

from __future__ import annotations

import html
import json
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect
from starlette.testclient import TestClient

from occur.domain.objects import COMPANY
from occur.services import crm, definitions
from occur.store.db import Database
from tests.conftest import REQUIRE_ALL, Tenant
from tests.e2e.conftest import SignedUp, signed_up_server
from tests.ui.conftest import PASSWORD, Person, csrf_of, post_form, sign_in

XSS = "<img src=x onerror=alert(1)>"
# Quotes, a backslash and markup: each example must quote it for its own language.
AWKWARD = 'it\'s "quoted" \\ <b>'


def new_page(tenant: Tenant) -> str:
    return f"/app/{tenant.portal_id}/events/new"


def create(client: TestClient, tenant: Tenant, data: dict[str, Any]) -> httpx.Response:
    """POST the wizard as its Create button does."""
    url = new_page(tenant)
    response: httpx.Response = post_form(client, url, url, {"action": "create", **data})
    return response


def done_name(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    found = re.search(r"/events/new/done\?name=(\w+)$", response.headers["location"])
    assert found, response.headers["location"]
    return found.group(1)


def code_text(page_html: str, element_id: str) -> str:
    found = re.search(rf'<code id="{element_id}">(.*?)</code>', page_html, re.DOTALL)
    assert found, f"no #{element_id} on the page"
    return html.unescape(found.group(1))


ENUM_FORM = {
    "method": "api",
    "label": "Watched demo",
    "description": "A prospect watched the product demo.",
    "object": "CONTACT",
    # Row indices as wizard.js leaves them after adding and removing: gaps, out of order.
    "p-7-label": "Seconds watched",
    "p-7-name": "seconds_watched",
    "p-7-type": "number",
    "p-2-label": "Plan",
    "p-2-name": "plan",
    "p-2-type": "enumeration",
    "p-2-description": "The plan they looked at.",
    "p-2-o-0-label": "Pro",
    "p-2-o-0-value": "pro",
    "p-2-o-1-label": "",  # a spare blank option row is ignored
    "p-2-o-1-value": "",
    "p-2-o-4-label": "Free",
    "p-2-o-4-value": "free",
    "p-5-label": "",  # and so is a blank property row
    "p-5-name": "",
    "p-5-type": "string",
    "p-9-label": "Demo video",  # no name: derived from the label, as the API does
    "p-9-type": "string",
}


def test_the_method_step_lists_every_method_and_why_some_are_off(
    browser_factory: Callable[[], TestClient], tenant: Tenant, admin: Person, member: Person
) -> None:
    ann, bob = browser_factory(), browser_factory()
    sign_in(ann, admin.email)
    sign_in(bob, member.email)
    as_admin = ann.get(new_page(tenant)).text
    as_member = bob.get(new_page(tenant)).text
    for text in (as_admin, as_member):
        for label in ("Send data via API", "JavaScript code", "Visual event", "Import spreadsheet"):
            assert label in text
        assert not re.search(r'value="import"[^>]*disabled', text)
        assert not re.search(r'value="visual"[^>]*disabled', text)
    assert not re.search(r'value="javascript"[^>]*disabled', as_admin)
    assert re.search(r'value="javascript"[^>]*disabled', as_member)
    assert "Only admins manage code blocks." in as_member
    assert "hs_page_url" in as_admin  # the default properties are listed


def test_an_api_event_with_an_enumeration_property_is_stored_as_typed(
    browser: TestClient, db: Database, tenant: Tenant, member: Person
) -> None:
    sign_in(browser, member.email)
    name = done_name(create(browser, tenant, ENUM_FORM))
    assert name == f"pe{tenant.portal_id}_watched_demo"
    stored = definitions.get(db, tenant.portal_id, name)
    assert (stored.label, stored.description) == ("Watched demo", ENUM_FORM["description"])
    assert stored.object_type.primary_object == "CONTACT"
    assert stored.tracking_type == "MANUAL"
    custom = [(p.name, p.label, p.type.value, p.description) for p in stored.custom_properties]
    assert custom == [
        ("plan", "Plan", "enumeration", "The plan they looked at."),
        ("seconds_watched", "Seconds watched", "number", ""),
        ("demo_video", "Demo video", "string", ""),
    ]
    plan = stored.custom_properties[0]
    assert [(o.label, o.value, o.display_order) for o in plan.options] == [
        ("Pro", "pro", 0),
        ("Free", "free", 1),
    ]
    assert len(stored.properties) == 32 + 3  # HubSpot's defaults come with it
    done = browser.get(f"/app/{tenant.portal_id}/events/new/done?name={name}")
    assert done.status_code == 200
    assert code_text(done.text, "event-fqn") == name
    for prop in ("plan", "seconds_watched", "demo_video"):
        assert f">{prop}</code>" in done.text
    curl = code_text(done.text, "example-curl")
    assert "YOUR_ACCESS_TOKEN" in curl and '"plan": "pro"' in curl
    assert '"seconds_watched": "42"' in curl
    assert definitions.code(db, tenant.portal_id, name) is None


def test_problems_show_beside_their_fields_and_every_value_stays(
    browser: TestClient, db: Database, tenant: Tenant, admin: Person
) -> None:
    sign_in(browser, admin.email)
    form = {
        "method": "api",
        "label": "  ",
        "description": "Kept as typed",
        "object": "DEAL",
        "p-0-label": "Lives",
        "p-0-name": "9lives",
        "p-0-type": "number",
        "p-1-label": "Plan",
        "p-1-name": "plan",
        "p-1-type": "string",
        "p-2-label": "Plan again",
        "p-2-name": "PLAN",  # equal to "plan" after lowercasing
        "p-2-type": "string",
        "p-3-label": "Plan once more",
        "p-3-name": "plan",
        "p-3-type": "string",
        "p-4-label": "Tier",
        "p-4-name": "tier",
        "p-4-type": "enumeration",  # with no option
        "p-5-label": "",
        "p-5-name": "no_label",
        "p-5-type": "enumeration",
        "p-5-o-0-label": "Gold",
        "p-5-o-0-value": "",
        "p-6-label": "Browser",
        "p-6-name": "hs_browser",  # a default property's name
        "p-6-type": "string",
    }
    bad = create(browser, tenant, form)
    assert bad.status_code == 400
    text = bad.text
    expected = {
        "label": "Event label must not be empty.",
        "p-0-name": "The name must start with a lowercase letter (a-z).",
        "p-2-name": "The name must start with a lowercase letter (a-z).",
        "p-3-name": "already has a property named &#39;plan&#39;",
        "p-4-options": "An enumeration property needs at least one option.",
        "p-5-label": "Property label must not be empty.",
        "p-5-o-0-value": "Option value must not be empty.",
        "p-6-name": "already has a property named &#39;hs_browser&#39;",
    }
    for key, message in expected.items():
        found = re.search(rf'<p class="error" id="e-{key}">([^<]*)</p>', text)
        assert found, key
        assert message in found.group(1), (key, found.group(1))
        assert f'href="#f-{key}"' in text  # listed in the summary, linked to the field
    assert 'id="e-p-1-name"' not in text  # the first "plan" is fine: the later one clashes
    assert 'data-open-step="details"' in text  # the step with the first problem opens
    for value in ("Kept as typed", "9lives", "PLAN", "no_label", "Gold", "hs_browser"):
        assert value in text
    assert re.search(r'<option value="DEAL" selected>', text)
    assert re.search(r'name="p-4-type".*?<option value="enumeration" selected>', text, re.DOTALL)
    assert definitions.list_page(db, tenant.portal_id, _ALL).definitions == []


_ALL = definitions.ListQuery(
    search=None, limit=10, after_id=None, include_properties=False, descending=False
)


def test_without_scripts_the_row_buttons_edit_the_form_on_the_server(
    browser: TestClient, db: Database, tenant: Tenant, admin: Person
) -> None:
    sign_in(browser, admin.email)
    url = new_page(tenant)
    typed = {"method": "api", "label": "Kept", "p-0-label": "First", "p-0-type": "enumeration",
             "p-0-o-0-label": "Gold", "p-0-o-0-value": "gold"}  # fmt: skip
    added = post_form(browser, url, url, {**typed, "action": "add-property"})
    assert added.status_code == 200
    assert 'name="p-1-label"' in added.text and 'value="Kept"' in added.text
    assert 'data-open-step="properties"' in added.text
    option = post_form(browser, url, url, {**typed, "action": "add-option:0"})
    assert 'name="p-0-o-1-label"' in option.text
    removed = post_form(browser, url, url, {**typed, "action": "remove-property:0"})
    assert 'name="p-0-label"' not in removed.text
    assert definitions.list_page(db, tenant.portal_id, _ALL).definitions == []
    # Enter without scripts presses the first submit button: it must be Create.
    first_button = re.search(r"<button[^>]*>", added.text[added.text.index("data-wizard") :])
    assert first_button and 'value="create"' in first_button.group(0)


NAMES = (
    "plan",
    "x",
    "seconds_watched_2",
    "a" * 50,
    "a" * 51,
    "9lives",
    "_plan",
    "Plan",
    "PLAN",
    "plan-tier",
    "plan tier",
    "plän",
    "hs_browser",
    "HS_BROWSER",
    "hs_custom",
)


def _api_problem(client: TestClient, tenant: Tenant, names: list[str]) -> list[str | None]:
    """What the HTTP API says about each property name (None: accepted)."""
    props = [{"name": n, "label": f"P{i}", "type": "string"} for i, n in enumerate(names)]
    body = {"label": "Check", "propertyDefinitions": props}
    answer = client.post("/events/v3/event-definitions", headers=tenant.headers, json=body)
    if answer.status_code == 201:
        name = answer.json()["name"]
        deleted = client.delete(f"/events/v3/event-definitions/{name}", headers=tenant.headers)
        assert deleted.status_code == 204
        return [None] * len(names)
    assert answer.status_code == 400, answer.text
    errors = {e["in"]: e["message"] for e in answer.json()["errors"]}
    return [errors.get(f"propertyDefinitions[{i}].name") for i in range(len(names))]


def _checked(client: TestClient, tenant: Tenant, query: list[tuple[str, str]]) -> Any:
    answer = client.get(f"{new_page(tenant)}/check-names", params=query)
    assert answer.status_code == 200
    return answer.json()


def test_the_name_checker_agrees_with_the_api(
    browser: TestClient, tenant: Tenant, member: Person
) -> None:
    sign_in(browser, member.email)
    for name in NAMES:
        checked = _checked(browser, tenant, [("label", "P"), ("name", name)])
        assert checked["problems"] == _api_problem(browser, tenant, [name]), name
    rows = ["plan", "tier", "plan", "hs_page_url"]
    query = [pair for n in rows for pair in (("label", "L"), ("name", n))]
    checked = _checked(browser, tenant, query)
    assert checked["problems"] == _api_problem(browser, tenant, rows)
    assert [p is not None for p in checked["problems"]] == [False, False, True, True]


def test_the_name_checker_derives_names_as_the_api_would(
    browser: TestClient, db: Database, tenant: Tenant, member: Person
) -> None:
    sign_in(browser, member.email)
    query = [
        ("label", "Plan"),
        ("name", "plan"),
        ("label", "Plan!"),
        ("name", ""),
        ("label", "HS Browser"),
        ("name", "stale"),
        ("label", ""),
        ("name", "old"),
        ("derive", "1"),
        ("derive", "2"),
        ("derive", "3"),
        ("event_label", "Signed up"),
    ]
    checked = _checked(browser, tenant, query)
    assert checked["names"] == ["plan", "plan_2", "hs_browser_2", ""]
    assert checked["problems"] == [None, None, None, None]
    assert checked["eventName"] == "signed_up"
    definitions.create(db, tenant.portal_id, {"label": "Signed up"}, max_definitions=50)
    again = _checked(browser, tenant, [("event_label", "Signed up")])
    assert again == {"names": [], "problems": [], "eventName": "signed_up_2"}


JS_FORM = {
    "method": "javascript",
    "label": "Signed up",
    "object": "CONTACT",
    "p-0-label": "Plan",
    "p-0-name": "plan",
    "p-0-type": "enumeration",
    "p-0-o-0-label": "Team",
    "p-0-o-0-value": AWKWARD,
    "p-1-label": "Seats",
    "p-1-name": "seats",
    "p-1-type": "number",
}


def test_only_admins_create_javascript_code_events(
    browser_factory: Callable[[], TestClient],
    db: Database,
    tenant: Tenant,
    admin: Person,
    member: Person,
) -> None:
    bob, ann = browser_factory(), browser_factory()
    sign_in(bob, member.email)
    typed = "_hsq.push(['trackCustomBehavioralEvent', {name: 'pe%d_signed_up'}]);"
    refused = create(bob, tenant, {**JS_FORM, "code": typed % tenant.portal_id})
    assert refused.status_code == 403
    assert definitions.list_page(db, tenant.portal_id, _ALL).definitions == []

    sign_in(ann, admin.email)
    # Empty code: the starter block for the event as created.
    first = done_name(create(ann, tenant, JS_FORM))
    stored = definitions.get(db, tenant.portal_id, first)
    assert stored.tracking_type == "CUSTOM_SCRIPT"
    escaped = AWKWARD.replace("\\", "\\\\").replace("'", "\\'").replace("<", "\\x3c")
    assert definitions.code(db, tenant.portal_id, first) == (
        "var _hsq = window._hsq = window._hsq || [];\n"
        "_hsq.push(['trackCustomBehavioralEvent', {\n"
        f"  name: 'pe{tenant.portal_id}_signed_up',\n"
        "  properties: {\n"
        f"    plan: '{escaped}',\n"
        "    seats: '42'\n"
        "  }\n"
        "}]);\n"
    )
    # Typed code naming the predicted event: corrected when the name came out different.
    second = done_name(
        create(
            ann,
            tenant,
            {**JS_FORM, "code": typed % tenant.portal_id, "code_event_name": "signed_up"},
        )
    )
    assert second == f"pe{tenant.portal_id}_signed_up_2"
    assert definitions.code(db, tenant.portal_id, second) == typed.replace("pe%d_signed_up", second)
    done = ann.get(f"/app/{tenant.portal_id}/events/new/done?name={second}")
    assert code_text(done.text, "event-code") == typed.replace("pe%d_signed_up", second)
    # An API event ignores a code block sent along.
    api = done_name(create(ann, tenant, {**JS_FORM, "method": "api", "code": "alert(1)"}))
    assert definitions.code(db, tenant.portal_id, api) is None


def test_a_method_that_does_not_exist_is_refused(
    browser: TestClient, db: Database, tenant: Tenant, admin: Person
) -> None:
    sign_in(browser, admin.email)
    for method, reason in (("fax", "Choose how the event is sent"),):
        refused = create(browser, tenant, {**ENUM_FORM, "method": method})
        assert refused.status_code == 400
        found = re.search(r'<p class="error" id="e-method">([^<]*)</p>', refused.text)
        assert found and reason in found.group(1)
        assert 'data-open-step="method"' in refused.text
    assert definitions.list_page(db, tenant.portal_id, _ALL).definitions == []


def test_outside_values_are_escaped_on_the_done_page(
    browser: TestClient, tenant: Tenant, admin: Person
) -> None:
    sign_in(browser, admin.email)
    form = {
        "method": "api",
        "label": XSS,
        "description": f"About {XSS}",
        "object": "CONTACT",
        "p-0-label": f"Plan {XSS}",
        "p-0-type": "enumeration",
        "p-0-o-0-label": XSS,
        "p-0-o-0-value": "<script>alert(1)</script>",
    }
    name = done_name(create(browser, tenant, form))
    done = browser.get(f"/app/{tenant.portal_id}/events/new/done?name={name}").text
    assert "<img" not in done and "<script>alert" not in done
    assert "&lt;img src=x onerror=alert(1)&gt;" in done
    wizard = create(browser, tenant, {**form, "p-0-name": "9"})  # shown again with an error
    assert wizard.status_code == 400
    assert "<img" not in wizard.text and "<script>alert" not in wizard.text


def _curl_request(command: str) -> tuple[str, str, dict[str, str], str]:
    """Method, URL, headers and body of the printed curl command, read as a shell would."""
    words = shlex.split(command.replace("\\\n", " "))
    assert words[0] == "curl"
    method, url, headers, data = "GET", "", {}, ""
    args = iter(words[1:])
    for word in args:
        if word == "-X":
            method = next(args)
        elif word == "-H":
            key, _, value = next(args).partition(": ")
            headers[key] = value
        elif word == "-d":
            data = next(args)
        else:
            url = word
    return method, url, headers, data


def test_the_printed_curl_command_sends_the_event(
    browser: TestClient, db: Database, tenant: Tenant, admin: Person
) -> None:
    """In process, for every database: a company event's example names a real company."""
    sign_in(browser, admin.email)
    company = crm.create(db, tenant.portal_id, COMPANY, {"properties": {"name": "Acme"}})
    form = {**JS_FORM, "method": "api", "object": "COMPANY", "label": "Renewed"}
    name = done_name(create(browser, tenant, form))
    done = browser.get(f"/app/{tenant.portal_id}/events/new/done?name={name}").text
    curl = code_text(done, "example-curl")
    method, url, headers, data = _curl_request(curl)
    assert url == "http://127.0.0.1:8800/events/v3/send"  # OCCUR_PUBLIC_URL's default
    assert headers["Authorization"] == "Bearer YOUR_ACCESS_TOKEN"
    assert json.loads(data) == {
        "eventName": name,
        "objectId": str(company.record.id),
        "properties": {"plan": AWKWARD, "seats": "42"},
    }
    headers["Authorization"] = f"Bearer {tenant.token}"
    sent = browser.request(method, url.removeprefix("http://127.0.0.1:8800"), headers=headers,
                           content=data.encode())  # fmt: skip
    assert sent.status_code == 204, sent.text
    read = browser.get("/events/v3/events", params={"eventType": name}, headers=tenant.headers)
    [event] = read.json()["results"]
    assert event["objectId"] == str(company.record.id)
    assert event["properties"]["plan"] == AWKWARD


# Live: the examples run exactly as printed (curl in a shell, Python in a fresh
# interpreter with the official client) against `occur serve`; and the wizard in Chromium.


Live = SignedUp


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with signed_up_server(
        tmp_path_factory.mktemp("wizard-live"), "Wizard", "wanda@example.com", PASSWORD
    ) as server:
        yield server


@contextmanager
def _signed_in(live: Live) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.base_url, timeout=30) as client:
        token = csrf_of(client.get("/sign-in").text)
        answer = client.post(
            "/sign-in", data={"csrf_token": token, "email": live.email, "password": PASSWORD}
        )
        assert answer.status_code == 303, answer.text
        yield client


@pytest.mark.e2e
def test_the_printed_examples_work_against_a_live_server(live: Live, tmp_path: Path) -> None:
    with _signed_in(live) as client:
        url = f"/app/{live.portal_id}/events/new"
        form = {**JS_FORM, "method": "api", "label": "Printed examples", "action": "create"}
        created = client.post(url, data={"csrf_token": csrf_of(client.get(url).text), **form})
        name = done_name(created)
        done = client.get(created.headers["location"]).text
    curl = code_text(done, "example-curl").replace("YOUR_ACCESS_TOKEN", live.token)
    python = code_text(done, "example-python").replace("YOUR_ACCESS_TOKEN", live.token)
    assert live.base_url in curl and live.base_url in python
    expected_runs = 1
    if shutil.which("curl"):
        ran = subprocess.run(["sh", "-c", curl], capture_output=True, text=True, timeout=60)
        assert ran.returncode == 0 and ran.stdout == "", (ran.stdout, ran.stderr)  # 204
        expected_runs = 2
    elif REQUIRE_ALL:
        pytest.fail(
            "curl is missing: the printed curl example cannot be run (apt-get install curl)"
        )
    script = tmp_path / "example.py"
    script.write_text(python)
    ran = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    read = httpx.get(
        f"{live.base_url}/events/v3/events",
        params={"eventType": name},
        headers={"Authorization": f"Bearer {live.token}"},
    )
    results = read.json()["results"]
    assert len(results) == expected_runs
    for result in results:
        assert result["properties"]["plan"] == AWKWARD and result["properties"]["seats"] == "42"


@pytest.mark.e2e
def test_the_wizard_in_a_browser(page: Page, live: Live) -> None:
    page.goto(f"{live.base_url}/sign-in")
    page.get_by_label("Email").fill(live.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/app/"))
    page.goto(f"{live.base_url}/app/{live.portal_id}/events/new")
    label = page.get_by_label("Event label")
    expect(label).to_be_hidden()  # one step at a time
    page.get_by_label("JavaScript code").check()
    page.get_by_role("button", name="Next").click()

    page.get_by_role("button", name="Next").click()  # no label yet: stays, says why
    expect(page.locator("#e-label")).to_have_text("Event label must not be empty.")
    expect(label).to_be_focused()
    label.fill("Browser made")
    expect(page.get_by_text(f"Internal name: pe{live.portal_id}_browser_made")).to_be_visible()
    page.keyboard.press("Enter")  # Enter moves on like Next

    page.get_by_role("button", name="Add property").click()
    first = page.locator(".property-row").nth(0)
    first.get_by_label("Property label").fill("Plan Tier")
    expect(first.get_by_label("Internal name")).to_have_value("plan_tier")
    first.get_by_label("Type").select_option("enumeration")
    first.get_by_label("Option label").fill("Gold Plus")
    expect(first.get_by_label("Option value")).to_have_value("gold_plus")
    page.get_by_role("button", name="Add property").click()
    second = page.locator(".property-row").nth(1)
    second.get_by_label("Property label").fill("plan tier")
    expect(second.get_by_label("Internal name")).to_have_value("plan_tier_2")
    second.get_by_label("Internal name").fill("9seats")
    expect(second.locator(".error")).to_contain_text("must start with a lowercase letter")
    page.get_by_role("button", name="Next").click()
    expect(second.get_by_label("Internal name")).to_be_focused()  # not past a bad name
    second.get_by_label("Internal name").fill("seats")
    second.get_by_label("Type").select_option("number")
    expect(second.locator(".error")).to_have_count(0)
    page.get_by_role("button", name="Next").click()

    editor = page.get_by_label("Code block")
    starter = (
        "var _hsq = window._hsq = window._hsq || [];\n"
        "_hsq.push(['trackCustomBehavioralEvent', {\n"
        f"  name: 'pe{live.portal_id}_browser_made',\n"
        "  properties: {\n"
        "    plan_tier: 'gold_plus',\n"
        "    seats: '42'\n"
        "  }\n"
        "}]);\n"
    )
    expect(editor).to_have_value(starter)
    editor.focus()
    page.keyboard.press("Control+End")
    page.keyboard.press("Tab")  # indents instead of leaving
    expect(editor).to_have_value(starter + "  ")
    expect(editor).to_be_focused()
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")  # Esc, then Tab leaves
    expect(editor).not_to_be_focused()
    page.get_by_role("button", name="Create event").click()

    expect(page.get_by_role("heading", name="Browser made")).to_be_visible()
    fqn = f"pe{live.portal_id}_browser_made"
    expect(page.locator("#event-fqn")).to_have_text(fqn)
    expect(page.locator("#event-code")).to_have_text(starter + "  ")


@pytest.mark.e2e
def test_a_problem_only_the_server_finds_opens_its_step(page: Page, live: Live) -> None:
    page.goto(f"{live.base_url}/sign-in")
    page.get_by_label("Email").fill(live.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/app/"))
    page.goto(f"{live.base_url}/app/{live.portal_id}/events/new")
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Event label").fill("Too long a label")
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Add property").click()
    label = page.get_by_label("Property label")
    label.evaluate("input => input.removeAttribute('maxlength')")  # as an old browser might
    label.fill("x" * 51)
    expect(page.get_by_role("button", name="Next")).to_be_hidden()  # the API's last step
    page.get_by_role("button", name="Create event").click()

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Property label must be at most 50 characters")
    expect(summary).to_be_focused()
    expect(page.get_by_label("Property label")).to_have_value("x" * 51)  # kept
    expect(page.get_by_label("Property label")).to_be_visible()  # its step is open
    expect(page.get_by_label("Event label")).to_be_hidden()
    page.get_by_role("button", name="Back").click()
    expect(page.get_by_label("Event label")).to_have_value("Too long a label")
    summary.get_by_role("link").click()
    expect(page.get_by_label("Property label")).to_be_focused()


VISUAL_FORM = {"method": "visual", "label": "Clicked buy", "object": "CONTACT"}


def test_a_clicked_element_and_a_visited_url_event_keep_their_rules(
    browser: TestClient, db: Database, tenant: Tenant, member: Person
) -> None:
    sign_in(browser, member.email)  # no code involved: members may create them
    clicked = done_name(
        create(
            browser,
            tenant,
            {**VISUAL_FORM, "visual_kind": "CLICKED_ELEMENT", "selector": " #buy ", "url_op": ""},
        )
    )
    found = definitions.get(db, tenant.portal_id, clicked)
    assert found.tracking_type == "CLICKED_ELEMENT"
    rule = definitions.tracking_rule(db, tenant.portal_id, clicked)
    assert rule is not None and (rule.selector, rule.url) == ("#buy", None)
    visited = done_name(
        create(
            browser,
            tenant,
            {
                **VISUAL_FORM,
                "label": "Saw pricing",
                "visual_kind": "VISITED_URL",
                "selector": "ignored for pages",
                "url_op": "query_param_is",
                "url_param": "plan",
                "url_value": "pro",
            },
        )
    )
    rule = definitions.tracking_rule(db, tenant.portal_id, visited)
    assert rule is not None and rule.selector is None and rule.url is not None
    assert (rule.url.op, rule.url.param, rule.url.value) == ("query_param_is", "plan", "pro")
    assert definitions.get(db, tenant.portal_id, visited).tracking_type == "VISITED_URL"


def test_a_visual_event_without_its_rule_is_explained_beside_the_field(
    browser: TestClient, db: Database, tenant: Tenant, admin: Person
) -> None:
    sign_in(browser, admin.email)
    no_selector = create(browser, tenant, {**VISUAL_FORM, "visual_kind": "CLICKED_ELEMENT"})
    assert no_selector.status_code == 400
    assert 'id="e-selector"' in no_selector.text
    assert 'data-open-step="visual"' in no_selector.text
    assert 'value="Clicked buy"' in no_selector.text  # what was typed stays
    no_value = create(
        browser, tenant, {**VISUAL_FORM, "visual_kind": "VISITED_URL", "url_op": "contains"}
    )
    assert no_value.status_code == 400 and 'id="e-url_value"' in no_value.text
    assert definitions.list_page(db, tenant.portal_id, _ALL).definitions == []


def _picker(client: TestClient, tenant: Tenant, path: str, data: dict[str, str]) -> Any:
    page = new_page(tenant)
    token = csrf_of(client.get(page).text)
    return client.post(f"{page}/picker{path}", data={"csrf_token": token, **data})


def test_a_picker_token_works_once_for_its_user_only(
    browser_factory: Callable[[], TestClient], tenant: Tenant, admin: Person, member: Person
) -> None:
    ann, bob = browser_factory(), browser_factory()
    sign_in(ann, admin.email)
    sign_in(bob, member.email)
    bad = _picker(ann, tenant, "", {"page_url": "javascript:alert(1)"})
    assert bad.status_code == 400 and "https://" in bad.json()["message"]
    started = _picker(ann, tenant, "", {"page_url": "https://shop.test/p?x=1#top"}).json()
    assert started["openUrl"] == f"https://shop.test/p?x=1#occur-picker={started['token']}"
    assert started["origin"] == "https://shop.test"
    picked = {"token": started["token"], "selector": "#buy"}
    stolen = _picker(bob, tenant, "/redeem", picked)  # another user of the portal
    assert stolen.status_code == 400
    first = _picker(ann, tenant, "/redeem", picked)
    assert first.status_code == 200 and first.json() == {"selector": "#buy"}
    replayed = _picker(ann, tenant, "/redeem", picked)
    assert replayed.status_code == 400 and "used already" in replayed.json()["message"]
    unknown = _picker(ann, tenant, "/redeem", {"token": "forged", "selector": "#x"})
    assert unknown.status_code == 400
    no_csrf = ann.post(f"{new_page(tenant)}/picker/redeem", data=picked)
    assert no_csrf.status_code == 403
