"""The `hs_*` properties the collector fills from the page and the browser.

Every completion a beacon carries gets them, as HubSpot's own script does. They are
occur's to fill, not the page's: they do not count toward the 50 properties a
completion may hold (DESIGN §3b), and a property the page sent itself under the same
name is kept instead (collection.py).
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from occur.domain.beacons import Page
from occur.domain.fields import NUL
from occur.domain.languages import language_code
from occur.domain.occurrences import value_limit_chars
from occur.domain.user_agents import Agent

_UTM_PARAMETERS = ("source", "medium", "campaign", "term", "content")
_NAMES = (
    "hs_page_url", "hs_page_title", "hs_referrer", "hs_language", "hs_screen_width",
    "hs_screen_height", *(f"hs_utm_{name}" for name in _UTM_PARAMETERS), "hs_browser",
    "hs_operating_system", "hs_operating_version", "hs_device_type",
)  # fmt: skip
# Every beacon fills these: their limits are worked out once.
_LIMITS = {name: value_limit_chars(name) for name in _NAMES}


def page_values(page: Page, agent: Agent) -> dict[str, str]:
    """The context properties with a value; each cut to its property's limit."""
    language = language_code(page.language) if page.language else None
    found: dict[str, str | int | None] = {
        "hs_page_url": page.url,
        "hs_page_title": page.title,
        "hs_referrer": page.referrer,
        "hs_language": language,
        "hs_screen_width": page.screen_width,
        "hs_screen_height": page.screen_height,
        **{f"hs_utm_{name}": value for name, value in utm_values(page.url).items()},
        "hs_browser": agent.browser,
        "hs_operating_system": agent.operating_system,
        "hs_operating_version": agent.operating_version,
        "hs_device_type": agent.device_type,
    }
    values: dict[str, str] = {}
    for name, value in found.items():
        text = str(value).replace(NUL, "").strip() if value is not None else ""
        if text:
            values[name] = text[: _LIMITS[name]]
    return values


def utm_values(url: str) -> dict[str, str]:
    """utm_source … utm_content from a URL's query, the first of each; names in any case."""
    try:
        query = urlsplit(url).query
    except ValueError:  # e.g. an unbalanced "[" where an IPv6 host would be
        return {}
    found: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=False):
        lowered = key.lower()
        if lowered.startswith("utm_") and lowered[4:] in _UTM_PARAMETERS:
            found.setdefault(lowered[4:], value)
    return found
