"""Which sites may send to a portal's collector: its allowed domains.

A page's host is allowed when it equals an allowed domain or is a subdomain of one
(`shop.example.com` under `example.com`); an empty list allows any site. Settings keep
the list as text, one domain per line; people paste URLs there too, so a line is read
leniently (`https://www.example.com/path` → `www.example.com`).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from urllib.parse import urlsplit

MAX_DOMAINS = 100
MAX_DOMAIN_CHARS = 253
# A host name: dot-separated labels of letters, digits, "-" and "_" (browsers send
# international names in punycode, which is what people should list).
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_HOST = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")


def normalise_domain(line: str) -> str:
    """The host a settings line names: scheme, port, path and a leading `*.` removed."""
    text = line.strip().lower()
    if "://" in text:
        text = text.split("://", 1)[1]
    text = text.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    text = text.rsplit("@", 1)[-1]
    if text.startswith("["):  # an IPv6 literal: its colons are not a port
        return text[1:].split("]", 1)[0]
    text = text.split(":", 1)[0]
    while text.startswith(("*.", ".")):
        text = text[2:] if text.startswith("*.") else text[1:]
    return text.rstrip(".")


def domain_problem(domain: str) -> str | None:
    """Why a normalised domain cannot be listed, or None."""
    if len(domain) > MAX_DOMAIN_CHARS:
        return f"{domain[:40]}… is longer than a host name can be."
    if _HOST.fullmatch(domain) or _is_address(domain):
        return None
    return f"{domain[:60]!r} is not a host name such as example.com."


def read_allowed_domains(text: str) -> tuple[str, ...]:
    """The domains a stored list holds, normalised, once each, in the order written."""
    found = (normalise_domain(line) for line in text.splitlines())
    return tuple(dict.fromkeys(domain for domain in found if domain))


def write_allowed_domains(domains: Sequence[str]) -> str:
    return "\n".join(domains)


def host_of(origin: str) -> str | None:
    """The host of an `Origin` (or `Referer`) header; None for `null` or no host."""
    try:
        host = urlsplit(origin.strip()).hostname
    except ValueError:
        return None
    return host.rstrip(".") if host else None


def host_allowed(host: str | None, allowed: Sequence[str]) -> bool:
    """Whether a page on `host` may send; an empty list allows any page, even one that
    did not say where it is."""
    if not allowed:
        return True
    if not host:
        return False
    return any(host == domain or host.endswith("." + domain) for domain in allowed)


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
