"""The tracking script in Chromium, loaded by a site on another origin from a live
`occur serve` (issue 5's proof, browser side).

Two live servers: occur, and a small static site (stdlib http.server) whose pages carry
`<script async src="{occur}/js/{portal}.js">`. What the script sends to the collector is
intercepted in the browser and answered 204 here, so these tests judge the script alone;
the collector has its own tests.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, Route, sync_playwright

from occur.domain.objects import CONTACT
from occur.services import access, crm, definitions, tracking_settings
from occur.services.tracking_script import tracker_source
from occur.store.db import Database, open_database
from tests.conftest import CHROMIUM, skip_or_fail
from tests.e2e.conftest import server_env, start_server, stop_server
from tests.support.events import stored_events
from tests.unit.url_rule_cases import CASES

pytestmark = pytest.mark.e2e
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Named sites for the cookie-domain test, served by the static site on 127.0.0.1.
    "--host-resolver-rules=MAP *.example.co.uk 127.0.0.1",
]
# Thrown on purpose by the code blocks of one test: the only page errors allowed.
EXPECTED_ERROR = "occur-test-expected"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


@dataclass(frozen=True)
class Occur:
    base_url: str
    db: Database


class Site:
    """A static site on its own port: pages are registered by path, then served."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = site.pages.get(self.path.split("?", 1)[0])
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write((body or "not found").encode())

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def page(
        self,
        path: str,
        occur: Occur,
        portal_id: int,
        *,
        early: str = "",
        body: str = "",
        csp: str = "",
    ) -> str:
        """Register a page carrying the tag (and `early` calls before it); its URL.
        With `csp`, the page sends that policy and its own scripts carry its nonce."""
        meta = f'<meta http-equiv="Content-Security-Policy" content="{csp}">' if csp else ""
        nonce = ' nonce="site-nonce"' if csp else ""
        self.pages[path] = (
            f"<!doctype html><html><head><meta charset=utf-8>{meta}<title>Shop</title>\n"
            f"<script{nonce}>var _hsq = window._hsq = window._hsq || [];\n{early}</script>\n"
            f'<script async{nonce} src="{occur.base_url}/js/{portal_id}.js"></script>\n'
            f"</head><body>{body}</body></html>"
        )
        return self.base_url + path

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Browser:
    """A Chromium tab whose collector requests are captured, not sent."""

    context: BrowserContext
    page: Page
    errors: list[str]
    payloads: list[dict[str, Any]] = field(default_factory=list)
    requests: list[dict[str, str]] = field(default_factory=list)
    # True: captured payloads go on to the live collector, and its statuses are kept.
    forward: bool = False
    statuses: list[int] = field(default_factory=list)

    def capture(self, route: Route) -> None:
        request = route.request
        if request.method == "GET":  # the image fallback: base64url JSON in `d`
            data = re.search(r"[?&]d=([^&]+)", request.url)
            assert data, request.url
            padded = data[1] + "=" * (-len(data[1]) % 4)
            payload = json.loads(base64.urlsafe_b64decode(padded))
        else:
            payload = json.loads(request.post_data or "null")
        if self.forward:  # counted once the collector answered
            answer = route.fetch()
            self.statuses.append(answer.status)
            route.fulfill(response=answer)
        else:
            route.fulfill(status=204, headers={"Access-Control-Allow-Origin": "*"})
        self.requests.append(
            {
                "method": request.method,
                "url": request.url,
                "type": request.resource_type,
                "content_type": request.headers.get("content-type", ""),
            }
        )
        self.payloads.append(payload)

    def wait_for(self, count: int, timeout_s: float = 10) -> list[dict[str, Any]]:
        """Pump the browser until `count` payloads arrived; all of them."""
        deadline = time.monotonic() + timeout_s
        while len(self.payloads) < count:
            assert time.monotonic() < deadline, f"{len(self.payloads)} payloads: {self.payloads}"
            self.page.wait_for_timeout(50)
        return self.payloads

    def quiet(self, count: int, seconds: float = 0.7) -> None:
        """Nothing more than `count` payloads arrives for a while."""
        self.page.wait_for_timeout(seconds * 1000)
        assert len(self.payloads) == count, self.payloads[count:]

    def push(self, *calls: str) -> None:
        """Run `_hsq.push(...)` calls in the page, in one task."""
        self.page.evaluate("() => {" + ";".join(f"_hsq.push({c})" for c in calls) + "}")

    def cookie(self, name: str) -> dict[str, Any] | None:
        return next((dict(c) for c in self.context.cookies() if c["name"] == name), None)


@pytest.fixture(scope="module")
def occur(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Occur]:
    data_dir = tmp_path_factory.mktemp("occur-tracking")
    env = server_env(data_dir)
    process, base_url = start_server(env, data_dir / "server.log")
    db = open_database(f"sqlite:///{data_dir / 'occur.sqlite'}")
    try:
        yield Occur(base_url, db)
    finally:
        db.dispose()
        stop_server(process)


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    served = Site()
    yield served
    served.close()


@pytest.fixture
def browser() -> Iterator[Browser]:
    """A fresh Chromium context. Page errors, dialogs and CSP refusals fail the test,
    except errors the test's own code blocks throw on purpose."""
    if not CHROMIUM.exists():
        skip_or_fail(f"{CHROMIUM} is missing (apt-get install chromium)")
    errors: list[str] = []
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        context = chromium.new_context()
        tab = context.new_page()
        found = Browser(context, tab, errors)
        context.route(re.compile(r"/collect/"), found.capture)

        def watch(page: Page) -> None:
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("dialog", lambda d: errors.append(f"dialog: {d.message}") or d.dismiss())
            page.on("console", lambda m: _csp_refusal(m.type, m.text, errors))

        watch(tab)
        context.on("page", watch)
        yield found
        chromium.close()
    unexpected = [e for e in errors if EXPECTED_ERROR not in e]
    assert not unexpected, unexpected


def _csp_refusal(kind: str, text: str, errors: list[str]) -> None:
    if kind == "error" and "Content Security Policy" in text:
        errors.append(text)


def new_portal(occur: Occur, name: str) -> int:
    portal, _token = access.create_portal(occur.db, name)
    return portal.id


def define(occur: Occur, portal_id: int, label: str, tracking_type: str, **extra: Any) -> str:
    """A definition made through the service, as the web app makes it; its full name."""
    made = definitions.create(
        occur.db, portal_id, {"label": label, "primaryObject": "CONTACT"},
        max_definitions=50, tracking_type=tracking_type, **extra,
    )  # fmt: skip
    return made.fully_qualified_name


def _events(payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [event for payload in payloads for event in payload["events"]]


def _named(payloads: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [e for e in _events(payloads) if e.get("name") == name]


def test_a_page_view_is_sent_with_the_page_context(
    occur: Occur, site: Site, browser: Browser
) -> None:
    portal = new_portal(occur, "Page views")
    url = site.page("/views.html", occur, portal)
    before = int(time.time() * 1000)
    browser.page.goto(url + "?utm_source=ads")
    (payload,) = browser.wait_for(1)
    browser.quiet(1)
    utk = payload["utk"]
    assert re.fullmatch(r"[0-9a-f]{32}", utk)
    assert payload["v"] == 1 and "identify" not in payload
    assert payload["page"] == {
        "url": url + "?utm_source=ads",
        "title": "Shop",
        "referrer": "",
        "language": browser.page.evaluate("navigator.language"),
        "screenWidth": browser.page.evaluate("screen.width"),
        "screenHeight": browser.page.evaluate("screen.height"),
    }
    (view,) = payload["events"]
    assert view["kind"] == "pageview" and UUID.fullmatch(view["id"])
    assert before <= view["at"] <= int(time.time() * 1000)
    # A beacon of text/plain JSON to the portal's collector on the occur server.
    (sent,) = browser.requests
    assert sent["url"] == f"{occur.base_url}/collect/{portal}"
    assert sent["method"] == "POST" and sent["content_type"].startswith("text/plain")
    cookie = browser.cookie("hubspotutk")
    assert cookie is not None and cookie["value"] == utk
    assert cookie["sameSite"] == "Lax" and cookie["secure"] is False and cookie["path"] == "/"
    days = (cookie["expires"] - time.time()) / 86400
    assert 394 < days <= 395  # 13 months

    # The next page keeps the visitor and names the previous page as its referrer.
    site.page("/views-2.html", occur, portal, body="<p>two</p>")
    browser.page.evaluate("url => { location.href = url }", site.base_url + "/views-2.html")
    second = browser.wait_for(2)[1]
    assert second["utk"] == utk
    assert second["page"]["referrer"] == url + "?utm_source=ads"


def test_queued_calls_are_delivered_and_identify_rides_on_the_next_send(
    occur: Occur, site: Site, browser: Browser
) -> None:
    portal = new_portal(occur, "Queued")
    demo = f"pe{portal}_watched_demo"
    early = (
        '_hsq.push(["identify", {email: "ada@example.com", id: 7, nested: {a: 1}}]);\n'
        f'_hsq.push(["trackCustomBehavioralEvent",'
        f' {{name: "{demo}", properties: {{plan: "pro"}}}}]);'
    )
    browser.page.goto(site.page("/queued.html", occur, portal, early=early))
    (first,) = browser.wait_for(1)
    # The queued event and the automatic page view leave together, with the identity.
    assert first["identify"] == {"email": "ada@example.com", "id": "7", "nested": '{"a":1}'}
    assert [(e["kind"], e.get("name"), e.get("properties")) for e in first["events"]] == [
        ("event", demo, {"plan": "pro"}),
        ("pageview", None, None),
    ]
    assert len({e["id"] for e in first["events"]}) == 2

    # Later calls run at once; identify alone sends nothing and rides on the next send.
    browser.push(f'["trackCustomBehavioralEvent", {{name: "{demo}"}}]')
    second = browser.wait_for(2)[1]
    assert "identify" not in second
    assert second["events"][0]["properties"] == {}
    browser.push('["identify", {email: "bob@example.com"}]')
    browser.quiet(2)
    browser.push('["trackPageView"]')
    third = browser.wait_for(3)[2]
    assert third["identify"] == {"email": "bob@example.com"}
    assert [e["kind"] for e in third["events"]] == ["pageview"]
    assert {p["utk"] for p in browser.payloads} == {first["utk"]}


def test_lenient_limits_cut_properties_before_sending(
    occur: Occur, site: Site, browser: Browser
) -> None:
    portal = new_portal(occur, "Limits")
    name = f"pe{portal}_big"
    browser.page.goto(site.page("/limits.html", occur, portal))
    browser.wait_for(1)
    browser.page.evaluate(
        """name => {
            const properties = {};
            properties["n".repeat(60)] = "short";
            properties.page_url = "u".repeat(2000);
            for (let i = 0; i < 60; i++) properties["prop_" + i] = "é".repeat(2000);
            properties.count = 3;
            _hsq.push(["trackCustomBehavioralEvent", {name, properties}]);
        }""",
        name,
    )
    (event,) = browser.wait_for(2)[1]["events"]
    sent = event["properties"]
    assert len(sent) == 50
    assert sent["n" * 50] == "short"
    assert sent["page_url"] == "u" * 1024
    assert sent["prop_0"] == "é" * 256 and sent["prop_47"] == "é" * 256
    assert "prop_48" not in sent and "count" not in sent

    # Calls in one task leave in one payload, 50 events at most each.
    browser.page.evaluate(
        "name => { for (let i = 0; i < 60; i++) _hsq.push(['trackCustomBehavioralEvent', "
        "{name, properties: {i}}]) }",
        name,
    )
    batches = browser.wait_for(4)[2:]
    browser.quiet(4)
    assert [len(p["events"]) for p in batches] == [50, 10]
    assert [e["properties"]["i"] for e in _events(batches)] == list(range(60))


def test_large_payloads_go_by_fetch_and_without_fetch_by_image(
    occur: Occur, site: Site, browser: Browser
) -> None:
    portal = new_portal(occur, "Transports")
    name = f"pe{portal}_big"
    browser.page.goto(site.page("/transports.html", occur, portal))
    browser.wait_for(1)
    assert browser.requests[0]["type"] == "ping"  # navigator.sendBeacon
    browser.page.evaluate(
        """name => {
            const properties = {};
            for (let i = 0; i < 50; i++) properties["p" + i] = "x".repeat(256);
            for (let i = 0; i < 10; i++) {
                _hsq.push(["trackCustomBehavioralEvent", {name, properties}]);
            }
        }""",
        name,
    )
    big = browser.wait_for(2)[1]
    assert len(big["events"]) == 10  # about 130 KB: more than a beacon may carry
    assert browser.requests[1]["type"] == "fetch"
    assert browser.requests[1]["content_type"].startswith("text/plain")

    old = "Navigator.prototype.sendBeacon = undefined; window.fetch = undefined;"
    browser.page.goto(site.page("/old-browser.html", occur, portal, early=old))
    pixel = browser.wait_for(3)[2]
    assert browser.requests[2]["method"] == "GET"
    assert browser.requests[2]["url"].startswith(f"{occur.base_url}/collect/{portal}.gif?d=")
    assert [e["kind"] for e in pixel["events"]] == ["pageview"]
    assert pixel["utk"] == big["utk"]


def test_a_clicked_element_event_fires_on_matching_clicks_only(
    occur: Occur, site: Site, browser: Browser
) -> None:
    portal = new_portal(occur, "Clicks")
    buy = define(
        occur, portal, "Clicked buy", "CLICKED_ELEMENT", tracking_rule={"selector": "#buy"}
    )
    card = define(
        occur, portal, "Clicked card", "CLICKED_ELEMENT",
        tracking_rule={"selector": ".card", "url": {"op": "begins_with", "value": "/shop/"}},
    )  # fmt: skip
    body = (
        '<a id="buy" class="btn primary" href="#checkout"><span id="label">Buy\n   now</span></a>'
        '<button id="other">Other</button><div class="card"><b id="in-card">Card</b></div>'
    )
    url = site.page("/clicks.html", occur, portal, body=body)
    browser.page.goto(url)
    browser.wait_for(1)
    page = browser.page

    page.click("#label")  # inside the element: closest(selector) finds it
    (clicked,) = browser.wait_for(2)[1]["events"]
    assert clicked["name"] == buy and UUID.fullmatch(clicked["id"])
    assert clicked["properties"] == {
        "hs_element_id": "buy",
        "hs_element_class": "btn primary",
        "hs_element_text": "Buy now",
        "hs_link_href": url + "#checkout",
    }
    page.click("#other")
    page.click("#in-card")  # its URL rule does not hold on this page
    browser.quiet(2)

    # setPath re-evaluates the rules: the card now counts, on its new page URL.
    browser.push('["setPath", "/shop/cards"]')
    page.click("#in-card")
    (card_click,) = browser.wait_for(3)[2]["events"]
    assert card_click["name"] == card
    assert card_click["properties"] == {"hs_element_class": "card", "hs_element_text": "Card"}
    assert browser.payloads[2]["page"]["url"] == site.base_url + "/shop/cards"

    # Elements added later are matched too (the listener is delegated).
    page.evaluate("""() => { const b = document.createElement('button'); b.id = 'buy';
        b.textContent = 'New'; document.getElementById('buy').remove();
        document.body.append(b); _hsq.push(['refreshPageHandlers']); }""")
    page.click("text=New")
    assert browser.wait_for(4)[3]["events"][0]["properties"]["hs_element_text"] == "New"


def test_a_visited_url_event_fires_only_on_matching_urls(
    occur: Occur, site: Site, browser: Browser
) -> None:
    portal = new_portal(occur, "Visits")
    spring = define(
        occur, portal, "Saw spring sale", "VISITED_URL",
        tracking_rule={"url": {"op": "query_param_is", "param": "utm_campaign", "value": "spring"}},
    )  # fmt: skip
    pricing = define(
        occur, portal, "Saw pricing", "VISITED_URL",
        tracking_rule={"url": {"op": "matches_wildcard", "value": "/pricing*"}},
    )  # fmt: skip
    url = site.page("/landing.html", occur, portal)
    browser.page.goto(url + "?utm_campaign=autumn")
    browser.wait_for(1)
    browser.quiet(1)
    assert [e["kind"] for e in _events(browser.payloads)] == ["pageview"]

    browser.page.goto(url + "?utm_campaign=Spring&x=1")
    second = browser.wait_for(2)[1]
    assert [(e["kind"], e.get("name")) for e in second["events"]] == [
        ("pageview", None),
        ("event", spring),
    ]
    # A single-page app moves on: the next page view is judged on the new path.
    browser.push('["setPath", "/pricing/team"]', '["trackPageView"]')
    third = browser.wait_for(3)[2]
    assert [e.get("name") for e in third["events"]] == [None, pricing]
    assert third["page"]["url"] == site.base_url + "/pricing/team"
    browser.quiet(3)


def test_code_blocks_run_and_a_failing_one_stops_nothing_else(
    occur: Occur, site: Site, browser: Browser
) -> None:
    portal = new_portal(occur, "Code")
    ran = f"pe{portal}_block_ran"
    blocks = [
        f"throw new Error('{EXPECTED_ERROR}: thrown at once');",
        f"return Promise.reject(new Error('{EXPECTED_ERROR}: rejected'));",
        f"setTimeout(() => {{ throw new Error('{EXPECTED_ERROR}: from a timer'); }}, 0);\n"
        f"Promise.reject(new Error('{EXPECTED_ERROR}: unhandled'));",
        "window.blockThis = this === window;\n"
        f"_hsq.push(['trackCustomBehavioralEvent', {{name: '{ran}'}}]);",
    ]
    for number, code in enumerate(blocks):
        define(occur, portal, f"Block {number}", "CUSTOM_SCRIPT", code=code)
    browser.page.goto(site.page("/code.html", occur, portal))
    browser.wait_for(2)
    assert [e["name"] for e in _named(browser.payloads, ran)] == [ran]
    assert browser.page.evaluate("window.blockThis") is True
    # The tracker still works after every block ran.
    browser.push(f"['trackCustomBehavioralEvent', {{name: '{ran}'}}]")
    browser.wait_for(3)
    assert len(_named(browser.payloads, ran)) == 2
    browser.page.wait_for_timeout(200)
    assert sum(EXPECTED_ERROR in e for e in browser.errors) == 2  # the timer and unhandled


def test_a_portal_that_waits_for_consent_sends_nothing_before_it(
    occur: Occur, site: Site, browser: Browser
) -> None:
    portal = new_portal(occur, "Consent")
    tracking_settings.update_tracking_settings(
        occur.db, portal, allowed_domains="", consent_required=True
    )
    name = f"pe{portal}_clicked"
    early = (
        "window.consents = [];\n"
        "_hsq.push(['addPrivacyConsentListener', c => consents.push(c.allowed)]);\n"
        f"_hsq.push(['trackCustomBehavioralEvent', {{name: '{name}'}}]);"
    )
    url = site.page("/consent.html", occur, portal, early=early)
    browser.page.goto(url)
    browser.quiet(0, seconds=1.0)
    assert browser.cookie("hubspotutk") is None
    assert browser.page.evaluate("document.cookie") == ""

    browser.push("['doNotTrack', {track: true}]")
    (payload,) = browser.wait_for(1)
    assert [e["kind"] for e in payload["events"]] == ["event", "pageview"]
    cookie = browser.cookie("hubspotutk")
    assert cookie is not None and cookie["value"] == payload["utk"]
    assert browser.page.evaluate("window.consents") == [False, True]

    # Consent is remembered on the next page; revoking it stops tracking and forgets.
    browser.page.goto(url)
    assert browser.wait_for(2)[1]["utk"] == payload["utk"]
    browser.push("['revokeCookieConsent']")
    browser.push(f"['trackCustomBehavioralEvent', {{name: '{name}'}}]")
    browser.quiet(2)
    assert browser.cookie("hubspotutk") is None
    assert browser.page.evaluate("window.consents") == [True, False]


def test_do_not_track_stops_a_portal_that_does_not_wait_for_consent(
    occur: Occur, site: Site, browser: Browser
) -> None:
    portal = new_portal(occur, "Do not track")
    url = site.page("/dnt.html", occur, portal)
    browser.page.goto(url)
    browser.wait_for(1)
    browser.push("['doNotTrack']")
    browser.push("['trackPageView']")
    browser.page.goto(url)
    browser.quiet(1)
    assert browser.cookie("hubspotutk") is None
    assert browser.cookie("__hs_do_not_track") is not None


def test_the_picker_posts_a_selector_for_the_clicked_element_to_occur(
    occur: Occur, site: Site, browser: Browser
) -> None:
    portal = new_portal(occur, "Picker")
    body = (
        '<main><ul><li class="item">A</li><li class="item">B</li></ul>'
        '<ul><li class="item">C</li><li class="item">D</li></ul>'
        '<a href="/elsewhere" class="btn">Go</a></main>'
    )
    url = site.page("/picker.html", occur, portal, body=body)
    page = browser.page
    # An occur page opens the customer's page, as the wizard does, and hears back.
    page.goto(occur.base_url + "/healthz")
    page.evaluate(
        """url => {
            window.messages = [];
            addEventListener("message", e => messages.push({origin: e.origin, data: e.data}));
            const open = document.createElement("button");
            open.id = "open";
            open.textContent = "Open";
            open.onclick = () => window.open(url + "#occur-picker=tok_123456789");
            document.body.append(open);
        }""",
        url,
    )
    with browser.context.expect_page() as opened:
        page.click("#open")
    picker = opened.value
    picker.wait_for_selector("#confirm")  # in the overlay's shadow root
    target = picker.locator("ul >> nth=1").locator("li >> nth=1")
    target.hover()  # outlined, with its proposed selector
    assert picker.locator("#outline").bounding_box() == target.bounding_box()
    hovered = picker.locator("#selector").text_content()
    picker.hover("a.btn")
    assert picker.locator("#selector").text_content() != hovered
    picker.click("a.btn")  # held, not followed
    picker.click("#cancel")
    target.click()
    picker.hover("a.btn")  # a held choice stays
    selector = picker.locator("#selector").text_content()
    assert selector == hovered
    assert picker.locator("#matches").text_content() == "Matches 1 element."
    picker.click("#confirm")
    deadline = time.monotonic() + 10
    while not page.evaluate("messages.length"):
        assert time.monotonic() < deadline
        page.wait_for_timeout(50)
    (message,) = page.evaluate("messages")
    assert message == {
        "origin": site.base_url,
        "data": {"type": "occur-picker", "token": "tok_123456789", "selector": selector,
                 "pageUrl": url},
    }  # fmt: skip
    assert picker.evaluate(
        "s => [...document.querySelectorAll(s)].map(e => e.textContent)", selector
    ) == ["D"]
    assert picker.url == url + "#occur-picker=tok_123456789"  # the click was not followed
    # The picker's visit is not tracked.
    picker.wait_for_timeout(300)
    assert browser.payloads == [] and browser.cookie("hubspotutk") is None


def test_the_picker_prefers_an_id_and_short_class_paths(
    occur: Occur, site: Site, browser: Browser
) -> None:
    portal = new_portal(occur, "Picker paths")
    body = (
        '<div id="hero"><button class="btn cta">Buy</button><button class="btn">More</button></div>'
        '<section><p>x</p><p><span class="css-1x2y3z price">9</span></p></section>'
        '<footer><a id="contact" href="#c">Contact</a></footer>'
    )
    url = site.page("/picker-paths.html", occur, portal, body=body)
    picker = browser.page
    picker.goto(url + "#occur-picker=tok_abcdefgh")
    picker.wait_for_selector("#confirm")
    chosen = {}
    for locator in ("#contact", "button.cta", "text=More", "span.price"):
        picker.click(locator)
        chosen[locator] = picker.locator("#selector").text_content()
    assert chosen == {
        "#contact": "#contact",
        "button.cta": "button.btn.cta",
        "text=More": "button.btn:nth-of-type(2)",
        "span.price": "span.price",
    }


def test_url_rules_in_the_tracker_agree_with_the_server(browser: Browser) -> None:
    source = tracker_source()
    found = re.search(r"// url-rules: begin.*?\n(.*)\n\s*// url-rules: end", source, re.DOTALL)
    assert found
    answers = browser.page.evaluate(
        "cases => { " + found[1] + "\n return cases.map(c => urlMatches(c[0], c[1])); }", CASES
    )
    mismatches = [case for case, answer in zip(CASES, answers, strict=True) if answer != case[2]]
    assert not mismatches


def test_the_live_collector_stores_what_the_script_sends(
    occur: Occur, site: Site, browser: Browser
) -> None:
    portal = new_portal(occur, "Live")
    tracking_settings.update_tracking_settings(occur.db, portal, allowed_domains="127.0.0.1",
                                  consent_required=False)  # fmt: skip
    demo = definitions.create(
        occur.db, portal,
        {"label": "Watched demo", "primaryObject": "CONTACT",
         "propertyDefinitions": [{"name": "plan", "label": "Plan", "type": "string"}]},
        max_definitions=50,
    )  # fmt: skip
    buy = define(
        occur, portal, "Clicked buy", "CLICKED_ELEMENT", tracking_rule={"selector": "#buy"}
    )
    early = (
        '_hsq.push(["identify", {email: "Ada@Example.com"}]);\n'
        f'_hsq.push(["trackCustomBehavioralEvent", {{name: "{demo.fully_qualified_name}",'
        ' properties: {plan: "pro", not_defined_yet: "kept"}}]);'
    )
    body = '<button id="buy" class="cta">Buy</button>'
    url = site.page("/live.html", occur, portal, early=early, body=body)
    browser.forward = True
    browser.page.goto(url + "?utm_source=ads")
    browser.wait_for(1)
    browser.page.click("#buy")
    browser.wait_for(2)
    assert browser.statuses == [204, 204]

    stored = [e for e in stored_events(occur.db) if e.definition_id == demo.id]
    (watched,) = stored
    assert watched.properties["plan"] == "pro"
    assert watched.properties["not_defined_yet"] == "kept"
    assert watched.properties["hs_page_url"] == url + "?utm_source=ads"
    assert watched.properties["hs_utm_source"] == "ads"
    contact = crm.get(
        occur.db, portal, CONTACT, str(watched.object_id),
        id_property=None, archived=False, properties=["email"],
    )  # fmt: skip
    assert contact.properties["email"] == "Ada@Example.com"  # found again by any case
    clicked = definitions.get(occur.db, portal, buy).id
    (click,) = [e for e in stored_events(occur.db) if e.definition_id == clicked]
    assert click.object_id == watched.object_id  # the visitor is that contact now
    assert click.properties["hs_element_id"] == "buy"
    assert click.properties["hs_element_text"] == "Buy"


def test_the_visitor_cookie_spans_the_registrable_domain(
    occur: Occur, site: Site, browser: Browser
) -> None:
    portal = new_portal(occur, "Subdomains")
    port = site.base_url.rsplit(":", 1)[1]
    site.page("/domains.html", occur, portal)
    browser.page.goto(f"http://shop.example.co.uk:{port}/domains.html")
    first = browser.wait_for(1)[0]
    cookie = browser.cookie("hubspotutk")
    # co.uk is a public suffix: the browser refuses it, example.co.uk is the widest.
    assert cookie is not None and cookie["domain"] == ".example.co.uk"
    assert cookie["value"] == first["utk"]
    assert [c["name"] for c in browser.context.cookies()] == ["hubspotutk"]  # no probe left
    browser.page.goto(f"http://www.example.co.uk:{port}/domains.html")
    assert browser.wait_for(2)[1]["utk"] == first["utk"]


def test_a_site_with_a_strict_content_security_policy_runs_everything(
    occur: Occur, site: Site, browser: Browser
) -> None:
    """No eval anywhere: a policy that allows occur's origin (and no 'unsafe-*') is enough
    for the tracker, code blocks and the picker; any refusal fails the test."""
    portal = new_portal(occur, "Strict site")
    ran = f"pe{portal}_ran"
    define(occur, portal, "Ran", "CUSTOM_SCRIPT",
           code=f"_hsq.push(['trackCustomBehavioralEvent', {{name: '{ran}'}}]);")  # fmt: skip
    csp = (
        f"default-src 'none'; script-src 'nonce-site-nonce' {occur.base_url}; "
        f"connect-src {occur.base_url}; img-src {occur.base_url}"
    )
    # A refused eval throws (which code may catch): the page's own report counts.
    early = (
        "window.refused = [];\n"
        "document.addEventListener('securitypolicyviolation', e => refused.push(e.blockedURI));"
    )
    body = "<button id=b>B</button>"
    url = site.page("/strict.html", occur, portal, csp=csp, early=early, body=body)
    browser.page.goto(url)
    browser.wait_for(2)
    assert [e.get("name") for e in _events(browser.payloads)] == [None, ran]
    assert browser.page.evaluate("window.refused") == []
    browser.page.goto("about:blank")  # a new load, not a move within the page
    browser.page.goto(url + "#occur-picker=tok_strict_1")
    browser.page.click("#b")
    assert browser.page.locator("#selector").text_content() == "#b"
    assert browser.page.locator("#outline").is_visible()
    assert browser.page.evaluate("window.refused") == []
