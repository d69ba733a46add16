"""The Analyze tab: the numbers it charts, its table, breakdown, filter and CSV."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from typing import Any

from starlette.testclient import TestClient

from occur.services import accounts, definitions
from occur.store.db import Database
from tests.conftest import Tenant
from tests.ui.conftest import Person, sign_in

DAY_MS = 86_400_000
BODY: dict[str, Any] = {
    "label": "Bought plan",
    "primaryObject": "CONTACT",
    "propertyDefinitions": [
        {
            "name": "plan",
            "label": "Plan",
            "type": "enumeration",
            "options": [
                {"label": "Pro", "value": "pro"},
                {"label": '<img src=x onerror="alert(1)">', "value": "free"},
            ],
        }
    ],
}


def _ms(day: str, hour: int = 12) -> int:
    moment = datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _setup(client: TestClient, db: Database, tenant: Tenant) -> str:
    name = definitions.create(db, tenant.portal_id, BODY, max_definitions=50).fully_qualified_name
    sends = [  # (day, contact, plan)
        ("2026-03-02", 1, "pro"), ("2026-03-02", 1, "pro"), ("2026-03-02", 2, "free"),
        ("2026-03-04", 3, "pro"), ("2026-03-09", 1, "free"), ("2026-03-10", 4, None),
    ]  # fmt: skip
    for n, (day, who, plan) in enumerate(sends):
        body: dict[str, Any] = {"eventName": name, "email": f"c{who}@example.com", "uuid": f"s{n}",
                                "occurredAt": _ms(day)}  # fmt: skip
        if plan:
            body["properties"] = {"plan": plan}
        assert client.post("/events/v3/send", headers=tenant.headers, json=body).status_code == 204
    return name


def _table(html: str, table_id: str) -> list[list[str]]:
    body = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    return [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in rows if "<td" in row]


def test_day_and_week_counts_in_the_table_and_the_chart_data(
    browser: TestClient, db: Database, tenant: Tenant, member: Person
) -> None:
    name = _setup(browser, db, tenant)
    sign_in(browser, member.email)
    base = f"/app/{tenant.portal_id}/events/{name}"
    days = browser.get(f"{base}?range=custom&start=2026-03-01&end=2026-03-10")
    assert days.status_code == 200
    assert "Total completions: 6" in days.text
    counts = {row[0]: int(row[1]) for row in _table(days.text, "chart-numbers")}
    assert counts["2026-03-02"] == 3 and counts["2026-03-04"] == 1 and counts["2026-03-10"] == 1
    assert len(counts) == 10 and sum(counts.values()) == 6  # every day, zeros included
    figure = re.search(r'data-figure="([^"]+)"', days.text)
    assert figure and "&#34;y&#34;: [0, 3, 0, 1, 0, 0, 0, 0, 1, 1]" in figure.group(1)
    weeks = browser.get(f"{base}?range=custom&start=2026-03-01&end=2026-03-14&interval=week")
    assert [r[:2] for r in _table(weeks.text, "chart-numbers")] == [
        ["2026-03-01", "4"],  # Sunday-first weeks, the portal's default
        ["2026-03-08", "2"],
    ]
    unique = browser.get(f"{base}?range=custom&start=2026-03-01&end=2026-03-14&metric=unique")
    assert "Unique records: 4" in unique.text


def test_the_portals_week_start_and_time_zone_shape_the_buckets(
    browser: TestClient, db: Database, tenant: Tenant, admin: Person
) -> None:
    name = _setup(browser, db, tenant)
    accounts.update_portal(db, tenant.portal_id, name="Acme", time_zone="Pacific/Kiritimati",
                           week_start="MONDAY")  # fmt: skip
    sign_in(browser, admin.email)
    base = f"/app/{tenant.portal_id}/events/{name}"
    weeks = browser.get(f"{base}?range=custom&start=2026-03-02&end=2026-03-15&interval=week")
    # noon UTC is 02:00 the next day at UTC+14: Mon 2 -> Tue 3, Mon 9 -> Tue 10, ...
    assert [r[:2] for r in _table(weeks.text, "chart-numbers")] == [
        ["2026-03-02", "4"],
        ["2026-03-09", "2"],
    ]
    days = browser.get(f"{base}?range=custom&start=2026-03-02&end=2026-03-05")
    counts = {row[0]: int(row[1]) for row in _table(days.text, "chart-numbers")}
    assert counts == {"2026-03-02": 0, "2026-03-03": 3, "2026-03-04": 0, "2026-03-05": 1}
    assert "in Pacific/Kiritimati" in days.text


def test_breakdown_filter_and_csv(
    browser: TestClient, db: Database, tenant: Tenant, admin: Person
) -> None:
    name = _setup(browser, db, tenant)
    sign_in(browser, admin.email)
    base = f"/app/{tenant.portal_id}/events/{name}"
    window = "range=custom&start=2026-03-01&end=2026-03-14"
    split = browser.get(f"{base}?{window}&breakdown=plan")
    rows = {r[0]: r[1] for r in _table(split.text, "breakdown")}
    assert rows == {"Pro": "3", "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;": "2",
                    "<em>(no value)</em>": "1"}  # fmt: skip
    assert '<img src=x onerror="alert(1)">' not in split.text
    only_pro = browser.get(f"{base}?{window}&filterProperty=plan&filterValue=pro")
    assert "Total completions: 3" in only_pro.text
    download = browser.get(f"{base}/analyze.csv?{window}&interval=week&breakdown=plan")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert "attachment" in download.headers["content-disposition"]
    table = list(csv.reader(io.StringIO(download.text)))
    assert table[0][0] == "Date" and table[0][1:] == ["Pro", '<img src=x onerror="alert(1)">']
    assert table[1:] == [["2026-03-01", "3", "1"], ["2026-03-08", "0", "1"]]


def test_a_unique_breakdown_counts_its_last_lines_after_the_page(
    browser: TestClient, db: Database, tenant: Tenant, admin: Person
) -> None:
    name = _setup(browser, db, tenant)
    sign_in(browser, admin.email)
    base = f"/app/{tenant.portal_id}/events/{name}"
    query = "range=custom&start=2026-03-01&end=2026-03-14&breakdown=plan&metric=unique"
    page = browser.get(f"{base}?{query}")
    # Pro: c1, c3; free (labelled with an <img> payload): c2, c1; the (no value) line is
    # left for later; "Other" needs no count, as plan has held only those two values
    assert [r[1] for r in _table(page.text, "breakdown")] == ["2", "2"]
    assert page.text.count('data-later="') == 1
    assert 'data-later="noValue"' in page.text
    later = re.search(r'data-rest="([^"]+)"', page.text)
    assert later is not None
    counted = browser.get(later.group(1).replace("&amp;", "&"))
    assert counted.json() == {"other": 0, "noValue": 1}  # two values only; c4 sent no plan
    # without script, the lines link to the same page counted in full
    link = re.search(r'<a href="([^"]+complete=1)">Count</a>', page.text)
    assert link is not None
    full = browser.get(link.group(1).replace("&amp;", "&"))
    assert {r[0]: r[1] for r in _table(full.text, "breakdown")}["<em>(no value)</em>"] == "1"
    assert "data-later" not in full.text and "data-rest" not in full.text
    # completions add up, so their lines come with the page and the same answer
    totals = browser.get(f"{base}/analyze/rest?{query.replace('unique', 'total')}")
    assert totals.json() == {"other": 0, "noValue": 1}
    assert browser.get(f"{base}/analyze/rest?range=7d").status_code == 400


def test_bad_options_are_explained_not_crashed_on(
    browser: TestClient, db: Database, tenant: Tenant, admin: Person
) -> None:
    name = _setup(browser, db, tenant)
    sign_in(browser, admin.email)
    base = f"/app/{tenant.portal_id}/events/{name}"
    bad = browser.get(f"{base}?range=custom&start=2026-02-30&end=soon&interval=hour")
    assert bad.status_code == 400
    assert "The chart could not be drawn" in bad.text and "2026-02-30" in bad.text
    unknown = browser.get(f"{base}?breakdown=colour")
    assert unknown.status_code == 400 and "colour" in unknown.text
    assert browser.get(f"{base}/analyze.csv?interval=hour").status_code == 400


def test_an_empty_event_says_what_to_do(
    browser: TestClient, db: Database, tenant: Tenant, admin: Person
) -> None:
    name = definitions.create(db, tenant.portal_id, BODY, max_definitions=50).fully_qualified_name
    sign_in(browser, admin.email)
    page = browser.get(f"/app/{tenant.portal_id}/events/{name}")
    assert page.status_code == 200 and "No completions in this range" in page.text
