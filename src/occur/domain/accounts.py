"""Rules for web app accounts: what a valid sign-in email, password, role and portal
setting is. Pure: the services hash and store."""

from __future__ import annotations

import zoneinfo
from functools import cache

from occur.domain.crm import normalise_email

ADMIN = "admin"
MEMBER = "member"
ROLES = (ADMIN, MEMBER)
# NIST SP 800-63B: at least 8 characters, and long passphrases allowed. The upper bound
# only keeps a request from making the hash work on megabytes.
MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 256
WEEK_STARTS = ("SUNDAY", "MONDAY")
DEFAULT_TIME_ZONE = "UTC"


def account_email(text: str) -> str | None:
    """The address an account is known by (lowercased), or None when it is not one."""
    email = normalise_email(text)
    return None if email is None else email.lower()


def password_problem(password: str, email: str) -> str | None:
    """Why this password may not be used, or None."""
    if len(password) < MIN_PASSWORD_CHARS:
        return f"Use at least {MIN_PASSWORD_CHARS} characters."
    if len(password) > MAX_PASSWORD_CHARS:
        return f"Use at most {MAX_PASSWORD_CHARS} characters."
    if password.strip().lower() == email.strip().lower():
        return "The password may not be the email address."
    return None


@cache
def time_zones() -> tuple[str, ...]:
    """Every IANA zone name, sorted, for the settings form's choices."""
    return tuple(sorted(zoneinfo.available_timezones()))


def is_time_zone(name: str) -> bool:
    return name in time_zones()
