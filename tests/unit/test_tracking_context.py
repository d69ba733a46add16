"""The page-context `hs_*` values the collector fills: from the page, from the
User-Agent header (onto HubSpot's nine device types), and the ISO 639-1 languages."""

from __future__ import annotations

import pytest

from occur.domain.beacons import Page
from occur.domain.languages import iso_639_1, language_code
from occur.domain.page_context import page_values, utm_values
from occur.domain.properties import DEFAULT_PROPERTIES
from occur.domain.user_agents import DEVICE_TYPES, Agent, read_user_agent

WINDOWS_CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
MAC_FIREFOX = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:121.0) Gecko/20100101 Firefox/121.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1"
)
IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/16.6 Mobile/15E148 Safari/604.1"
)
ANDROID_PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Mobile Safari/537.36"
)
ANDROID_TABLET = (
    "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
PLAYSTATION = (
    "Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/13.0 Safari/605.1.15"
)
XBOX = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Xbox; Xbox One) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edge/44.18363.8131"
)
SMART_TV = (
    "Mozilla/5.0 (SMART-TV; LINUX; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) "
    "76.0.3809.146/6.0 TV Safari/537.36"
)
WATCH = (
    "Mozilla/5.0 (Linux; Android 11; Galaxy Watch4 Classic) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


@pytest.mark.parametrize(
    ("header", "device"),
    [
        (WINDOWS_CHROME, "Desktop"),
        (MAC_FIREFOX, "Desktop"),
        (IPHONE, "Smartphone"),
        (ANDROID_PHONE, "Smartphone"),
        (IPAD, "Tablet"),
        (ANDROID_TABLET, "Tablet"),
        (PLAYSTATION, "Game Console"),
        (XBOX, "Game Console"),
        (SMART_TV, "Smart TV"),
        (WATCH, "Wearable Computer"),
        (GOOGLEBOT, "Unknown"),
        ("", "Unknown"),
        ("curl/8.5.0", "Unknown"),
    ],
)
def test_device_types_are_hubspots_nine(header: str, device: str) -> None:
    assert read_user_agent(header).device_type == device
    assert device in DEVICE_TYPES


def test_browser_and_operating_system_come_from_ua_parser() -> None:
    assert read_user_agent(WINDOWS_CHROME) == Agent("Chrome", "Windows", "10", "Desktop")
    assert read_user_agent(MAC_FIREFOX) == Agent("Firefox", "Mac OS X", "10.15", "Desktop")
    assert read_user_agent(IPHONE) == Agent("Mobile Safari", "iOS", "17.2", "Smartphone")
    assert read_user_agent("") == Agent("", "", "", "Unknown")


def test_a_huge_header_is_cut_before_parsing() -> None:
    assert read_user_agent(WINDOWS_CHROME + "x" * 100_000).browser == "Chrome"


def test_device_types_are_the_options_of_hs_device_type() -> None:
    [device] = [p for p in DEFAULT_PROPERTIES if p.name == "hs_device_type"]
    assert tuple(o.value for o in device.options) == DEVICE_TYPES


def test_hs_language_offers_the_iso_639_1_codes_by_english_name() -> None:
    [language] = [p for p in DEFAULT_PROPERTIES if p.name == "hs_language"]
    options = [(o.value, o.label) for o in language.options]
    assert options == list(iso_639_1())
    assert ("en", "English") in options and ("de", "German") in options
    assert len(options) >= 180
    assert all(len(code) == 2 for code, _ in options)
    assert [o.display_order for o in language.options] == list(range(len(options)))


@pytest.mark.parametrize(
    ("tag", "code"),
    [("en-US", "en"), ("EN", "en"), ("pt_BR", "pt"), ("zh-Hant-TW", "zh"), ("xx-YY", None),
     ("fil", None), ("", None)],
)  # fmt: skip
def test_language_tags_give_their_iso_639_1_code(tag: str, code: str | None) -> None:
    assert language_code(tag) == code


def test_page_values_fill_the_context_properties() -> None:
    page = Page(
        url="https://shop.example/p?UTM_Source=ads&utm_medium=cpc&utm_medium=x&utm_term=&q=1",
        title="Shop",
        referrer="https://google.com/",
        language="en-GB",
        screen_width=1440,
        screen_height=900,
    )
    assert page_values(page, read_user_agent(IPHONE)) == {
        "hs_page_url": page.url,
        "hs_page_title": "Shop",
        "hs_referrer": "https://google.com/",
        "hs_language": "en",
        "hs_screen_width": "1440",
        "hs_screen_height": "900",
        "hs_utm_source": "ads",
        "hs_utm_medium": "cpc",
        "hs_browser": "Mobile Safari",
        "hs_operating_system": "iOS",
        "hs_operating_version": "17.2",
        "hs_device_type": "Smartphone",
    }


def test_missing_page_values_are_left_out() -> None:
    assert page_values(Page(""), read_user_agent("")) == {"hs_device_type": "Unknown"}


def test_utm_values_survive_urls_that_do_not_parse() -> None:
    assert utm_values("http://[bad/?utm_source=x") == {}
    assert utm_values("https://a.example/?utm_campaign=spring%20sale") == {
        "campaign": "spring sale"
    }
