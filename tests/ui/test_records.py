"""Records pages: the lists, a record's properties and its activity timeline (order,
filter by event type, "Load more" paging), escaping, and who may see what."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from starlette.testclient import TestClient

from occur.domain.definitions import EventDefinition
from occur.domain.objects import COMPANY, CONTACT, DEAL, TICKET, ObjectType
from occur.services import accounts, crm, definitions
from occur.store.db import Database
from occur.store.events import NewEvent, insert_events
from tests.conftest import Tenant
from tests.ui.conftest import PASSWORD, Person, sign_in

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
DASH = "\N{EN DASH}"  # search pages say "1-25 of 30" with an en dash
_ROW = re.compile(r'<tr id="event-(\d+)">')
_MORE = re.compile(r'<a href="([^"]+)" data-timeline-more="([^"]+)">Load more</a>')


def _record(db: Database, tenant: Tenant, object_type: ObjectType, **values: str) -> int:
    return crm.create(db, tenant.portal_id, object_type, {"properties": values}).record.id


def _event_type(
    db: Database,
    tenant: Tenant,
    label: str,
    properties: Sequence[tuple[str, str]] = (),
    primary_object: str = "CONTACT",
) -> EventDefinition:
    body = {
        "label": label,
        "primaryObject": primary_object,
        "propertyDefinitions": [
            {"name": name, "label": plabel, "type": "string"} for name, plabel in properties
        ],
    }
    return definitions.create(db, tenant.portal_id, body, max_definitions=500)


def _complete(
    db: Database,
    tenant: Tenant,
    definition: EventDefinition,
    object_id: int | None,
    times: Sequence[int],
    properties: Mapping[str, str] | None = None,
) -> list[int]:
    """Store completions directly (as the ingest writer does); returns their ids."""
    rows = [
        NewEvent(
            definition_id=definition.id,
            uuid=str(uuid.uuid4()),
            object_type_id=definition.object_type.type_id,
            object_id=object_id,
            visitor_id=None,
            occurred_at=at,
            properties=dict(properties or {}),
        )
        for at in times
    ]
    with db.write() as conn:
        return insert_events(conn, tenant.portal_id, rows, received_at=T0)


def _rows(page_html: str) -> list[int]:
    return [int(i) for i in _ROW.findall(page_html)]


def _more(page_html: str) -> tuple[str, str] | None:
    """The "Load more" link: (the next page, the fragment timeline.js fetches instead)."""
    found = _MORE.search(page_html)
    return (html.unescape(found.group(1)), html.unescape(found.group(2))) if found else None


def _contact_page(tenant: Tenant, contact_id: int) -> str:
    return f"/app/{tenant.portal_id}/records/contacts/{contact_id}"


def test_the_timeline_shows_completed_events_newest_first_with_their_properties(
    browser: TestClient, db: Database, tenant: Tenant, admin: Person
) -> None:
    ada = _record(
        db,
        tenant,
        CONTACT,
        email="ada@example.com",
        firstname="Ada",
        lastname="Lovelace",
        phone="+44 20 1234",
    )
    other = _record(db, tenant, CONTACT, email="bob@example.com")
    viewed = _event_type(db, tenant, "Viewed pricing", [("plan", "Plan"), ("seats", "Seats")])
    [first, second] = _complete(db, tenant, viewed, ada, [T0, T0 + 60_000], {"plan": "pro"})
    # the same moment as `second`: the later id is the newer one
    tie_values = {"plan": "team", "seats": "12", "hs_page_url": "https://x.test/p"}
    [tie] = _complete(db, tenant, viewed, ada, [T0 + 60_000], tie_values)
    _complete(db, tenant, viewed, other, [T0 + 1])  # another contact's
    _complete(db, tenant, viewed, None, [T0 + 2])  # an anonymous visitor's
    sent = browser.post(
        "/events/v3/send",
        headers=tenant.headers,
        json={
            "eventName": viewed.fully_qualified_name,
            "email": "ada@example.com",
            "occurredAt": T0 + 120_000,
            "properties": {"plan": "free"},
        },
    )
    assert sent.status_code == 204
    sign_in(browser, admin.email)

    page = browser.get(_contact_page(tenant, ada))

    assert page.status_code == 200
    rows = _rows(page.text)
    assert len(rows) == 4 and rows[1:] == [tie, second, first]  # the sent one is newest
    assert "4 completed events." in page.text
    assert re.findall(r'<time data-ms="(\d+)">', page.text.split("data-timeline-rows")[1]) == [
        str(T0 + 120_000),
        str(T0 + 60_000),
        str(T0 + 60_000),
        str(T0),
    ]
    link = (
        f'<a href="/app/{tenant.portal_id}/events/{viewed.fully_qualified_name}">Viewed pricing</a>'
    )
    assert page.text.count(link) == 4
    tie_row = page.text.split(f'id="event-{tie}"')[1].split('<tr id="event-')[0]
    # custom properties first, then HubSpot's defaults, each with its label
    assert re.findall(r'<th scope="row">([^<]+)</th><td>([^<]*)</td>', tie_row) == [
        ("Plan", "team"),
        ("Seats", "12"),
        ("Page URL", "https://x.test/p"),
    ]
    assert "<summary>3 properties</summary>" in tie_row
    # the record's own properties, labelled
    about = page.text.split('id="about"')[1].split("</section>")[0]
    shown = dict(re.findall(r'<th scope="row">([^<]+)</th>\s*<td>(.*?)</td>', about))
    assert shown["First name"] == "Ada" and shown["Phone number"] == "+44 20 1234"
    assert shown["Email"] == "ada@example.com" and shown["Record ID"] == str(ada)
    assert shown["Lifecycle stage"] == '<span class="hint">—</span>'
    assert shown["Create date"].startswith("<time data-ms=")
    assert "<h1>Ada Lovelace</h1>" in page.text


def test_values_a_definition_does_not_define_stay_hidden(
    browser: TestClient, db: Database, tenant: Tenant, admin: Person
) -> None:
    ada = _record(db, tenant, CONTACT, email="ada@example.com")
    clicked = _event_type(db, tenant, "Clicked", [("button", "Button")])
    _complete(db, tenant, clicked, ada, [T0], {"button": "buy", "not_defined": "kept, hidden"})
    sign_in(browser, admin.email)
    page = browser.get(_contact_page(tenant, ada)).text
    assert "<summary>1 property</summary>" in page and "kept, hidden" not in page


def test_the_filter_shows_only_the_chosen_event_types(
    browser: TestClient, db: Database, tenant: Tenant, other_tenant: Tenant, admin: Person
) -> None:
    ada = _record(db, tenant, CONTACT, email="ada@example.com")
    a = _event_type(db, tenant, "Alpha")
    b = _event_type(db, tenant, "Bravo")
    c = _event_type(db, tenant, "Charlie")
    deal_event = _event_type(db, tenant, "Deal moved", primary_object="DEAL")
    # interleaved in time: Alpha, Bravo, Charlie, Alpha, …
    ids = {
        d.id: _complete(db, tenant, d, ada, [T0 + i * 3_000 + k for i in range(4)])
        for k, d in enumerate((a, b, c))
    }
    newest_first = {d.id: ids[d.id][::-1] for d in (a, b, c)}
    foreign = _event_type(db, other_tenant, "Alpha")  # same name in another portal
    sign_in(browser, admin.email)
    base = _contact_page(tenant, ada)

    whole = browser.get(base).text
    assert len(_rows(whole)) == 12 and "12 completed events." in whole
    # the options: this object type's event types, with this record's count of each
    options = re.findall(r'name="event" value="([^"]+)"(?: checked)?> ([^<]+) <span', whole)
    assert options == [(d.fully_qualified_name, d.label) for d in (a, b, c)]
    assert deal_event.label not in whole
    assert "(4)" in whole

    chosen = browser.get(
        base, params=[("event", a.fully_qualified_name), ("event", c.fully_qualified_name)]
    )
    expected = [
        e for pair in zip(newest_first[c.id], newest_first[a.id], strict=True) for e in pair
    ]
    assert _rows(chosen.text) == expected
    assert "8 completed events of the chosen types." in chosen.text
    assert f'value="{a.fully_qualified_name}" checked' in chosen.text
    assert f'value="{b.fully_qualified_name}">' in chosen.text  # not checked
    assert "Filter activity: Alpha, Charlie" in chosen.text

    one = browser.get(base, params={"event": b.fully_qualified_name})
    assert _rows(one.text) == newest_first[b.id]
    assert "4 completed events of the chosen type." in one.text

    for names in ([foreign.fully_qualified_name], ["pe1_nothing", "<b>"]):
        gone = browser.get(base, params=[("event", n) for n in names])
        assert gone.status_code == 200 and _rows(gone.text) == []
        assert "None of the chosen event types exists any more." in gone.text


def test_load_more_pages_through_every_event_once(
    browser: TestClient, db: Database, tenant: Tenant, member: Person
) -> None:
    ada = _record(db, tenant, CONTACT, email="ada@example.com")
    a = _event_type(db, tenant, "Alpha")
    b = _event_type(db, tenant, "Bravo")
    # pairs share a time, so pages also break between equal times
    alpha = _complete(db, tenant, a, ada, [T0 + (i // 2) * 1_000 for i in range(45)])
    bravo = _complete(db, tenant, b, ada, [T0 + i * 1_500 + 1 for i in range(10)])
    sign_in(browser, member.email)  # members may read records
    base = _contact_page(tenant, ada)

    def page_through(params: list[tuple[str, str]], *, fragments: bool) -> list[list[int]]:
        first = browser.get(base, params=params)
        assert first.status_code == 200
        pages, text = [_rows(first.text)], first.text
        while (more := _more(text)) is not None:
            nxt = more[1] if fragments else more[0]
            assert nxt.startswith(f"{base}/timeline?" if fragments else f"{base}?")
            text = browser.get(nxt).text
            pages.append(_rows(text))
            if fragments:  # a fragment is rows and a pager, no page around them
                assert "<html" not in text and "<h1>" not in text
        return pages

    by_time = sorted(
        [(T0 + (i // 2) * 1_000, e) for i, e in enumerate(alpha)]
        + [(T0 + i * 1_500 + 1, e) for i, e in enumerate(bravo)],
        reverse=True,
    )
    everything = [e for _at, e in by_time]
    for fragments in (True, False):
        pages = page_through([], fragments=fragments)
        assert [len(p) for p in pages] == [20, 20, 15]
        assert [e for p in pages for e in p] == everything  # no gap, no repeat
        only_alpha = page_through([("event", a.fully_qualified_name)], fragments=fragments)
        assert [len(p) for p in only_alpha] == [20, 20, 5]
        assert [e for p in only_alpha for e in p] == sorted(alpha, reverse=True)


def test_load_more_links_work_with_and_without_javascript(
    browser: TestClient, db: Database, tenant: Tenant, admin: Person
) -> None:
    ada = _record(db, tenant, CONTACT, email="ada@example.com")
    a = _event_type(db, tenant, "Alpha")
    _complete(db, tenant, a, ada, [T0 + i for i in range(21)])
    sign_in(browser, admin.email)
    base = _contact_page(tenant, ada)
    first = browser.get(base).text
    assert '<script src="/static/timeline.js" defer></script>' in first
    assert browser.get("/static/timeline.js").status_code == 200
    more = _more(first)
    assert more is not None
    plain, fragment = more
    assert fragment == plain.replace(f"{base}?", f"{base}/timeline?")
    second = browser.get(plain).text  # a whole page: newest link back, no further page
    assert len(_rows(second)) == 1 and "↑ Newest activity" in second
    assert "data-timeline-more" not in second and "<h1>" in second
    broken = browser.get(base, params={"after": "not-a-cursor"})
    assert broken.status_code == 400


def test_outside_values_are_escaped(
    browser: TestClient, db: Database, tenant: Tenant, admin: Person
) -> None:
    ada = _record(db, tenant, CONTACT, email="ada@example.com", firstname=SCRIPT, lastname=IMG)
    _record(db, tenant, DEAL, dealname=IMG, dealstage=SCRIPT)
    evil = _event_type(db, tenant, f"Bought {IMG}", [("note", f"Note {IMG}")])
    _complete(db, tenant, evil, ada, [T0, T0 + 1], {"note": SCRIPT + IMG})
    _complete(db, tenant, evil, ada, [T0 - i for i in range(1, 21)], {"note": IMG})
    sign_in(browser, admin.email)
    base = _contact_page(tenant, ada)
    first = browser.get(base).text
    pages = {
        "record": first,
        "fragment": browser.get((_more(first) or ("", ""))[1]).text,
        "filtered": browser.get(base, params={"event": evil.fully_qualified_name}).text,
        "contacts": browser.get(f"/app/{tenant.portal_id}/records/contacts").text,
        "search": browser.get(f"/app/{tenant.portal_id}/records/contacts?q=script").text,
        "deals": browser.get(f"/app/{tenant.portal_id}/records/deals").text,
    }
    for where, text in pages.items():
        assert SCRIPT not in text and IMG not in text, where
        assert "<img" not in text and "alert(1)</script>" not in text, where
        assert "&lt;img src=x onerror=alert(1)&gt;" in text, where
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages["record"]
    assert "Bought &lt;img src=x onerror=alert(1)&gt;" in pages["record"]  # the label
    assert "Note &lt;img src=x onerror=alert(1)&gt;" in pages["fragment"]  # property label
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages["search"]  # the name shown


def test_missing_archived_and_foreign_records_are_not_found(
    browser: TestClient, db: Database, tenant: Tenant, other_tenant: Tenant, admin: Person
) -> None:
    ada = _record(db, tenant, CONTACT, email="ada@example.com")
    gone = _record(db, tenant, CONTACT, email="gone@example.com")
    deal = _record(db, tenant, DEAL, dealname="Renewal")
    crm.archive(db, tenant.portal_id, CONTACT, str(gone))
    theirs = _record(db, other_tenant, CONTACT, email="olga@example.com")
    sign_in(browser, admin.email)
    p = tenant.portal_id
    assert browser.get(f"/app/{p}/records/contacts/{ada}").status_code == 200
    for path in (
        f"/app/{p}/records/contacts/{gone}",  # archived
        f"/app/{p}/records/contacts/{gone}/timeline",
        f"/app/{p}/records/contacts/999999",
        f"/app/{p}/records/contacts/abc",
        f"/app/{p}/records/contacts/{deal}",  # a deal's id under contacts
        f"/app/{p}/records/contacts/{theirs}",  # another portal's contact
        f"/app/{p}/records/widgets",
        f"/app/{p}/records/widgets/{ada}",
    ):
        answer = browser.get(path)
        assert answer.status_code == 404, path
        assert "<h1>Not found</h1>" in answer.text, path
    assert "deleted or archived" in browser.get(f"/app/{p}/records/contacts/{gone}").text
    assert f">{gone}<" not in browser.get(f"/app/{p}/records/contacts").text


def test_another_portals_user_gets_not_found_on_every_records_page(
    browser_factory: Any, db: Database, tenant: Tenant, other_tenant: Tenant
) -> None:
    ada = _record(db, tenant, CONTACT, email="ada@example.com", firstname="Ada")
    a = _event_type(db, tenant, "Alpha")
    _complete(db, tenant, a, ada, [T0 + i for i in range(25)])
    accounts.add_user(db, other_tenant.portal_id, "olga@example.com", PASSWORD, "admin")
    olga = browser_factory()
    sign_in(olga, "olga@example.com")
    p, o = tenant.portal_id, other_tenant.portal_id
    cursor_page = f"/app/{p}/records/contacts/{ada}"
    paths = [
        f"/app/{p}/records",
        *(f"/app/{p}/records/{t.plural}" for t in (CONTACT, COMPANY, DEAL, TICKET)),
        f"/app/{p}/records/contacts?q=ada",
        cursor_page,
        f"{cursor_page}/timeline",
        f"{cursor_page}?event={a.fully_qualified_name}",
    ]
    for path in paths:
        answer = olga.get(path)
        assert answer.status_code == 404, path
        assert "Ada" not in answer.text and "Alpha" not in answer.text, path
    # her own portal: the same id names nothing there
    assert olga.get(f"/app/{o}/records/contacts/{ada}").status_code == 404
    assert olga.get(f"/app/{o}/records/contacts").status_code == 200
    # signed out: sent to sign in, not shown anything
    anonymous = browser_factory().get(cursor_page, follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/sign-in")


def test_lists_page_search_and_show_columns_per_type(
    browser: TestClient, db: Database, tenant: Tenant, member: Person
) -> None:
    for i in range(30):
        _record(db, tenant, CONTACT, email=f"user{i:02d}@example.com", firstname=f"User{i:02d}")
    ada = _record(
        db, tenant, CONTACT, email="ada@lovelace.test", firstname="Ada", lastname="Lovelace"
    )
    _record(db, tenant, COMPANY, name="Acme", domain="acme.test")
    _record(
        db,
        tenant,
        DEAL,
        dealname="Acme renewal",
        amount="1500",
        dealstage="contractsent",
        closedate="2026-03-01T00:00:00Z",
    )
    _record(db, tenant, TICKET, subject="Cannot sign in", hs_pipeline_stage="open")
    sign_in(browser, member.email)
    base = f"/app/{tenant.portal_id}/records"
    assert browser.get(base, follow_redirects=False).headers["location"] == f"{base}/contacts"

    first = browser.get(f"{base}/contacts").text
    names = re.findall(r'<td><a href="[^"]+/contacts/\d+">([^<]+)</a></td>', first)
    assert names == [f"User{i:02d}" for i in range(25)]
    nxt = re.search(r'<a href="([^"]+)">Next →</a>', first)
    assert nxt is not None and "← First page" not in first
    second = browser.get(html.unescape(nxt.group(1))).text
    names = re.findall(r'<td><a href="[^"]+/contacts/\d+">([^<]+)</a></td>', second)
    assert names == [*(f"User{i:02d}" for i in range(25, 30)), "Ada Lovelace"]
    assert "Next →" not in second and "← First page" in second
    assert "<td>ada@lovelace.test</td>" in second

    found = browser.get(f"{base}/contacts", params={"q": "LOVELACE"}).text
    assert re.findall(r'href="[^"]+/contacts/(\d+)"', found) == [str(ada)]
    assert f"1{DASH}1 of 1 contact matching “LOVELACE”" in found
    paged = browser.get(f"{base}/contacts", params={"q": "example.com"}).text
    assert f"1{DASH}25 of 30 contacts" in paged
    nxt = re.search(r'<a href="([^"]+)">Next →</a>', paged)
    assert nxt is not None
    rest = browser.get(html.unescape(nxt.group(1))).text
    assert f"26{DASH}30 of 30 contacts" in rest and "← Previous" in rest
    none = browser.get(f"{base}/contacts", params={"q": "nobody"}).text
    assert "No contact matches “nobody”" in none

    deals = browser.get(f"{base}/deals").text
    assert re.findall(r'<th scope="col"[^>]*>([^<]+)</th>', deals) == [
        "Deal",
        "Amount",
        "Deal stage",
        "Close date",
    ]
    assert '<td class="num">1500</td>' in deals and "<td>contractsent</td>" in deals
    assert '<time data-ms="1772323200000">' in deals  # the close date, shown in local time
    tickets = browser.get(f"{base}/tickets").text
    assert ">Cannot sign in</a>" in tickets and "<td>open</td>" in tickets
    assert ">Acme</a>" in browser.get(f"{base}/companies").text
    assert browser.get(f"{base}/contacts", params={"after": "x"}).status_code == 400


def test_empty_states_say_what_to_do_next(
    browser: TestClient, db: Database, tenant: Tenant, admin: Person
) -> None:
    sign_in(browser, admin.email)
    base = f"/app/{tenant.portal_id}/records"
    for t in (CONTACT, COMPANY, DEAL, TICKET):
        text = browser.get(f"{base}/{t.plural}").text
        assert f"No {t.plural} yet." in text, t.plural
        assert f"/crm/v3/objects/{t.plural}" in text and "create one in Settings" in text
    ada = _record(db, tenant, CONTACT, email="ada@example.com")
    quiet = browser.get(f"{base}/contacts/{ada}").text
    assert "0 completed events." in quiet and "Define a custom event on contacts" in quiet
    _event_type(db, tenant, "Alpha")
    defined = browser.get(f"{base}/contacts/{ada}").text
    assert "No activity yet. Completions of your custom events" in defined
    assert "Filter activity" in defined
