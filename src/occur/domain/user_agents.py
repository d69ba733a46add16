"""What a `User-Agent` header says about the browser: the collector's `hs_browser`,
`hs_operating_system`, `hs_operating_version` and `hs_device_type`.

Parsing is ua-parser's (the maintained uap-core rules, from the package registry): we
do not keep user-agent patterns of our own. What we do own is the mapping of its device
families onto the nine `hs_device_type` options HubSpot documents (properties.py),
which ua-parser knows nothing about.

A site sends the same few user agents over and over, and a parse tries hundreds of
patterns, so results are cached by header value.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import ua_parser

# Longer headers are cut before parsing: no real browser sends more, and a made-up
# megabyte header must cost neither regex time nor cache memory.
MAX_USER_AGENT_CHARS = 512
_CACHED_AGENTS = 4096

GAME_CONSOLE = "Game Console"
PDA = "PDA"
PERSONAL_COMPUTER = "Personal Computer"
DESKTOP = "Desktop"
SMARTPHONE = "Smartphone"
SMART_TV = "Smart TV"
TABLET = "Tablet"
WEARABLE = "Wearable Computer"
UNKNOWN = "Unknown"
# All nine, as properties.py offers them; "Personal Computer" is never chosen: a user
# agent cannot tell a desktop from another personal computer.
DEVICE_TYPES = (
    GAME_CONSOLE, PDA, PERSONAL_COMPUTER, DESKTOP, SMARTPHONE, SMART_TV, TABLET, WEARABLE, UNKNOWN,
)  # fmt: skip

# Markers looked for in the lowercased header and device family, in this order: a TV
# or console browser often also says "Mobile" or names a desktop OS.
_CONSOLES = ("playstation", "xbox", "nintendo")
_TVS = (
    "smart-tv", "smarttv", "smart tv", "googletv", "google tv", "appletv", "apple tv",
    "hbbtv", "netcast", "web0s", "webos.tv", "roku", "crkey", "bravia", "aftb", "aftm",
    "aftt", "tizen tv", "inettv", "opera tv", "viera", "philipstv", "android tv",
)  # fmt: skip
_WEARABLES = ("watch", "wear os", "glass", "quest", "oculus", "vision pro")
_TABLETS = ("ipad", "tablet", "kindle", "silk/", "playbook", "nexus 7", "nexus 9", "nexus 10")
_PDAS = ("palmos", "palm os", "windows ce", "avantgo", "blazer", "plucker", "xiino", "elaine")
_PHONES = ("iphone", "ipod", "smartphone", "feature phone", "mobile", "phone", "blackberry")
# Operating systems of personal computers: a browser on one with no device named is the
# machine itself, which HubSpot's option calls "Desktop" (docs/tracking.md).
_DESKTOP_OSES = frozenset(
    {
        "Windows", "Mac OS X", "Linux", "Ubuntu", "Chrome OS", "ChromeOS", "Fedora",
        "Debian", "FreeBSD", "OpenBSD", "NetBSD", "Mint", "Red Hat", "SUSE", "Solaris",
        "Arch Linux", "Gentoo", "Mandriva", "Slackware", "Kubuntu", "Xubuntu", "CentOS",
    }
)  # fmt: skip
_MOBILE_OSES = frozenset({"Android", "iOS", "iPadOS", "Windows Phone", "KaiOS", "Tizen"})
_OTHER = "Other"


@dataclass(frozen=True, slots=True)
class Agent:
    """The user agent's browser, operating system and device; "" when not recognised."""

    browser: str
    operating_system: str
    operating_version: str
    device_type: str


@lru_cache(maxsize=_CACHED_AGENTS)
def read_user_agent(header: str) -> Agent:
    """The agent a `User-Agent` header names (cut to 512 characters first)."""
    text = header[:MAX_USER_AGENT_CHARS]
    if not text.strip():
        return Agent("", "", "", UNKNOWN)
    parsed = ua_parser.parse(text)
    browser = parsed.user_agent.family if parsed.user_agent else _OTHER
    os = parsed.os
    os_family = os.family if os else _OTHER
    version = ".".join(p for p in (os.major, os.minor, os.patch) if p) if os else ""
    device = parsed.device.family if parsed.device else _OTHER
    return Agent(
        browser="" if browser == _OTHER else browser,
        operating_system="" if os_family == _OTHER else os_family,
        operating_version=version if os_family != _OTHER else "",
        device_type=device_type(text, device, os_family, spider=device == "Spider"),
    )


def device_type(header: str, device_family: str, os_family: str, *, spider: bool) -> str:
    """One of HubSpot's nine device types, from the header and ua-parser's findings.

    Robots are Unknown: they are not a device a person holds. Android without "Mobile"
    is a tablet, as Google's guidance for Android browsers has it.
    """
    if spider:
        return UNKNOWN
    text = f"{header} {device_family}".lower()
    if any(marker in text for marker in _CONSOLES):
        return GAME_CONSOLE
    if any(marker in text for marker in _TVS):
        return SMART_TV
    if any(marker in text for marker in _WEARABLES):
        return WEARABLE
    if any(marker in text for marker in _PDAS):
        return PDA
    if any(marker in text for marker in _TABLETS):
        return TABLET
    if os_family == "Android" and "mobile" not in text:
        return TABLET
    if any(marker in text for marker in _PHONES) or os_family in _MOBILE_OSES:
        return SMARTPHONE
    if os_family in _DESKTOP_OSES:
        return DESKTOP
    return UNKNOWN
