"""The collector's rules: which completions a beacon stores, with which values, what is
counted as rejected, and which sites may send."""

from __future__ import annotations

from dataclasses import replace

import pytest

from occur.domain.beacons import Beacon, EventKind, Page, TrackedEvent
from occur.domain.collection import (
    IDENTIFY,
    INVALID_EMAIL,
    MAX_FUTURE_MS,
    NOT_A_CONTACT_EVENT,
    UNKNOWN_EVENT,
    PageView,
    Rejection,
    Visit,
    lenient_values,
    may_be_defined,
    occurred_at,
    plan_beacon,
    qualified_event_name,
)
from occur.domain.completions import Completion
from occur.domain.identity import Identity, IdentityKind
from occur.domain.objects import DEAL
from occur.domain.occurrences import INVALID_ENUMERATION_OPTION, INVALID_NUMBER
from occur.domain.origins import (
    domain_problem,
    host_allowed,
    host_of,
    normalise_domain,
    read_allowed_domains,
)
from occur.domain.rate_limits import TokenBuckets
from tests.unit.test_occurrences import B, E, N, definition, spec

UTK = "0123456789abcdef0123456789abcdef"
NOW = 1_767_225_600_000
PAGE = Page("https://shop.example/p", "Shop", "https://google.com/")


def event(name: str, event_id: str = "e-1", at: int = NOW, **properties: object) -> TrackedEvent:
    return TrackedEvent(EventKind.EVENT, event_id, at, name, properties)


# --- lenient values ---------------------------------------------------------------------


def test_sixty_long_properties_keep_fifty_cut_to_their_limits() -> None:
    raw: dict[str, object] = {f"p{i:02d}": "v" * 2000 for i in range(59)}
    raw["a_page_url"] = "u" * 2000
    values, dropped = lenient_values(definition(), raw)
    assert dropped == []
    assert list(values) == ["a_page_url", *(f"p{i:02d}" for i in range(49))]
    assert {len(v) for name, v in values.items() if name != "a_page_url"} == {256}
    assert len(values["a_page_url"]) == 1024


def test_undefined_properties_are_kept_and_defined_ones_coerced() -> None:
    values, dropped = lenient_values(
        definition(spec("amount", N), spec("trial", B)),
        {"Amount": "12.50", "trial": True, "not_defined_yet": 5},
    )
    assert values == {"amount": "12.5", "trial": "true", "not_defined_yet": "5"}
    assert dropped == []


def test_a_value_that_does_not_read_as_its_type_is_dropped_and_reported() -> None:
    values, dropped = lenient_values(
        definition(spec("plan", E, ("free", "pro")), spec("amount", N)),
        {"plan": "gold", "amount": "lots", "note": "kept"},
    )
    assert values == {"note": "kept"}
    assert dropped == [
        Rejection("pe7_viewed_car", INVALID_NUMBER, "amount", "lots"),
        Rejection("pe7_viewed_car", INVALID_ENUMERATION_OPTION, "plan", "gold"),
    ]


# --- planning a beacon --------------------------------------------------------------------


def plan(*events: TrackedEvent, email_text: str | None = None) -> tuple[list[Completion], Visit]:
    known = definition(spec("plan", E, ("free", "pro")))
    deal = replace(definition(), id=2, name="won_deal", object_type=DEAL)
    definitions = {known.fully_qualified_name: known, deal.fully_qualified_name: deal}
    found = Beacon(UTK, PAGE, events, unreadable_email=email_text)
    return plan_beacon(7, found, definitions, {"hs_page_url": PAGE.url, "plan": "free"}, NOW)


def test_a_known_event_becomes_a_completion_of_the_visitor_with_context() -> None:
    completions, visit = plan(event("viewed_car", plan="pro", extra="x"))
    [completion] = completions
    assert completion.identity == Identity(IdentityKind.UTK, UTK, "utk")
    assert (completion.definition_id, completion.uuid, completion.occurred_at) == (1, "e-1", NOW)
    # The page's own value wins over the collector's for the same name.
    assert completion.values == {"hs_page_url": PAGE.url, "plan": "pro", "extra": "x"}
    assert visit.page_views == () and visit.rejections == ()


def test_unknown_and_non_contact_events_are_rejected_not_stored() -> None:
    completions, visit = plan(
        event("pe7_nope", "a"), event("won_deal", "b"), event("pe7_viewed_car", "c")
    )
    assert [c.uuid for c in completions] == ["c"]
    assert visit.rejections == (
        Rejection("pe7_nope", UNKNOWN_EVENT, "", PAGE.url),
        Rejection("won_deal", NOT_A_CONTACT_EVENT, "", PAGE.url),
    )


def test_page_views_and_an_unreadable_email_are_part_of_the_visit() -> None:
    view = TrackedEvent(EventKind.PAGEVIEW, "p-1", NOW - 5)
    completions, visit = plan(view, email_text="nope")
    assert completions == []
    assert visit.page_views == (PageView("p-1", PAGE.url, "Shop", "https://google.com/", NOW - 5),)
    assert visit.rejections == (Rejection(IDENTIFY, INVALID_EMAIL, "", "nope"),)


def test_a_time_a_day_ahead_is_stored_as_received() -> None:
    assert occurred_at(NOW + MAX_FUTURE_MS, NOW) == NOW + MAX_FUTURE_MS
    assert occurred_at(NOW + MAX_FUTURE_MS + 1, NOW) == NOW
    assert occurred_at(NOW - 10**9, NOW) == NOW - 10**9


def test_short_and_qualified_names_name_the_same_event() -> None:
    assert qualified_event_name(7, "viewed_car") == "pe7_viewed_car"
    assert qualified_event_name(7, "pe7_viewed_car") == "pe7_viewed_car"
    assert qualified_event_name(7, "pe8_viewed_car") == "pe7_pe8_viewed_car"


def test_only_names_a_definition_could_have_are_looked_up() -> None:
    assert may_be_defined(7, "pe7_viewed_car")
    assert may_be_defined(7, "pe7_pe8_viewed_car")
    assert not may_be_defined(7, "pe7_Viewed Car")
    assert not may_be_defined(7, "pe7_" + "a" * 51)
    assert not may_be_defined(7, "pe8_viewed_car")


# --- allowed domains ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "allowed", "expected"),
    [
        ("shop.example.com", ("example.com",), True),
        ("example.com", ("example.com",), True),
        ("badexample.com", ("example.com",), False),
        ("example.com.evil.io", ("example.com",), False),
        ("example.com", ("shop.example.com",), False),
        ("anything.io", (), True),
        (None, (), True),
        (None, ("example.com",), False),
        ("b.io", ("a.io", "b.io"), True),
    ],
)
def test_a_host_is_allowed_when_equal_to_or_under_an_allowed_domain(
    host: str | None, allowed: tuple[str, ...], expected: bool
) -> None:
    assert host_allowed(host, allowed) is expected


def test_hosts_are_read_from_origin_and_referer_headers() -> None:
    assert host_of("https://Shop.Example.com:8443") == "shop.example.com"
    assert host_of("https://shop.example.com/page?x=1") == "shop.example.com"
    assert host_of("null") is None
    assert host_of("http://[::1]:80") == "::1"
    assert host_of("http://[bad") is None


def test_settings_lines_are_read_leniently() -> None:
    text = " https://www.Example.com/path \n\n*.shop.io\n.dot.io.\nhttp://[::1]:8000/\nshop.io:443"
    assert read_allowed_domains(text) == ("www.example.com", "shop.io", "dot.io", "::1")
    assert normalise_domain("user@host.io") == "host.io"
    assert domain_problem("example.com") is None
    assert domain_problem("::1") is None
    assert domain_problem("exa mple.com") is not None
    assert domain_problem("a" * 300) is not None


# --- rate limits keyed by the public ----------------------------------------------------


def test_token_buckets_take_any_key_and_bound_their_memory() -> None:
    buckets = TokenBuckets(2, max_keys=3)
    assert [buckets.take(("portal", "utk"), 0.0) for _ in range(3)] == [0.0, 0.0, 0.5]
    buckets.take("10.0.0.1", 0.0)
    buckets.take("10.0.0.2", 0.5)
    assert len(buckets) == 3
    # A fourth key, a second later: the buckets idle that long were full, and go.
    buckets.take("10.0.0.3", 1.2)
    assert len(buckets) == 2  # ("portal", "utk") and 10.0.0.1 went, 10.0.0.2 stayed
    assert buckets.take(("portal", "utk"), 1.2) == 0.0  # a fresh, full bucket
    # Every bucket busy: all are forgotten rather than memory growing.
    busy = TokenBuckets(1, max_keys=2)
    busy.take("a", 0.0)
    busy.take("b", 0.0)
    busy.take("c", 0.1)
    assert len(busy) == 1
