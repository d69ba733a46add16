"""A portal's tracking-script settings as people edit them (Settings ▸ Tracking code),
and the completions the collector could not store as sent."""

from __future__ import annotations

from dataclasses import dataclass

from occur.domain.origins import (
    MAX_DOMAINS,
    domain_problem,
    normalise_domain,
    write_allowed_domains,
)
from occur.errors import FieldError, NotFound, ValidationError
from occur.store import tracking as store
from occur.store.db import Database
from occur.store.tracking import RejectedRow


@dataclass(frozen=True)
class TrackingSettings:
    allowed_domains: tuple[str, ...]
    consent_required: bool


def tracking_settings(db: Database, portal_id: int) -> TrackingSettings:
    with db.read() as conn:
        found = store.get_tracking_settings(conn, portal_id)
    if found is None:
        raise NotFound(f"There is no portal {portal_id}.")
    domains = tuple(line for line in found.allowed_domains.splitlines() if line)
    return TrackingSettings(domains, found.consent_required)


def update_tracking_settings(
    db: Database, portal_id: int, *, allowed_domains: str, consent_required: bool
) -> TrackingSettings:
    """Save the settings; every line that is not a host name is reported at once, and
    nothing is saved then. Pasted URLs are kept as their host (`https://a.com/x` →
    `a.com`), since that is what the collector compares."""
    domains: list[str] = []
    problems: list[str] = []
    for line in allowed_domains.splitlines():
        domain = normalise_domain(line)
        if not domain:
            continue
        problem = domain_problem(domain)
        if problem:
            problems.append(problem)
        elif domain not in domains:
            domains.append(domain)
    if len(domains) > MAX_DOMAINS:
        problems.append(f"List at most {MAX_DOMAINS} domains (subdomains are included).")
    if problems:
        raise ValidationError(
            "Some allowed domains cannot be used.",
            errors=[FieldError(" ".join(problems[:5]), in_="allowed_domains")],
        )
    with db.write() as conn:
        store.update_tracking_settings(
            conn,
            portal_id,
            allowed_domains=write_allowed_domains(domains),
            consent_required=consent_required,
        )
    return TrackingSettings(tuple(domains), consent_required)


def rejected_completions(db: Database, portal_id: int) -> list[RejectedRow]:
    """What the collector dropped, most recently seen first."""
    with db.read() as conn:
        return store.list_rejections(conn, portal_id)
