"""The tracking script's collector (docs/tracking.md): admit a beacon, identify its
visitor, and store its completions and page views through the ingest writer.

The collector is public (no token): what keeps it from being anyone's free event store
is that the portal must exist, the page's site must be on the portal's allowed domains,
and each address and each visitor may send only so fast. Each of those checks is made
without touching the store on the hot path: portals' settings are cached briefly, and
rate limits live in memory.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, replace

from occur.domain import origins
from occur.domain.beacons import Beacon, EventKind
from occur.domain.collection import may_be_defined, plan_beacon, qualified_event_name
from occur.domain.page_context import page_values
from occur.domain.rate_limits import TokenBuckets, retry_after_seconds
from occur.domain.user_agents import MAX_USER_AGENT_CHARS, Agent, read_user_agent
from occur.errors import NotFound, OriginNotAllowed, RateLimited
from occur.services.clock import now_ms
from occur.services.ingest import Ingest, Receipt
from occur.services.ingest_store import SendJob
from occur.services.tracking_settings import TrackingSettings, tracking_settings
from occur.store.db import Database

# A change of a portal's allowed domains reaches other processes within this time.
PORTAL_TTL_SECONDS = 5.0
MISSING_PORTAL_TTL_SECONDS = 1.0
MAX_CACHED_PORTALS = 10_000
# An identify repeated by every page of a visit is a no-op: skip the write for a while.
IDENTIFIED_TTL_SECONDS = 60.0
MAX_IDENTIFIED = 10_000
# User agents parsed so far: a site's visitors send a few hundred different ones.
MAX_AGENTS = 10_000


@dataclass(frozen=True)
class CollectSettings:
    """Requests a second (bursts of as many) per visitor and per address; 0 is no limit."""

    visitor_rate_per_second: float = 20
    address_rate_per_second: float = 100


class Collector:
    """One per process: the portal cache, the rate limits, and recent identifies."""

    def __init__(self, db: Database, ingest: Ingest, settings: CollectSettings) -> None:
        self._db = db
        self._ingest = ingest
        visitor_rate, address_rate = (
            settings.visitor_rate_per_second,
            settings.address_rate_per_second,
        )
        self._per_visitor = TokenBuckets(visitor_rate) if visitor_rate > 0 else None
        self._per_address = TokenBuckets(address_rate) if address_rate > 0 else None
        self._portals: dict[int, tuple[float, TrackingSettings | None]] = {}
        self._identified: OrderedDict[tuple[int, str], tuple[str, float]] = OrderedDict()
        self._agents: dict[str, Agent] = {}

    async def check_site(self, portal_id: int, page: str | None) -> None:
        """Before a body is read: the portal must exist (404) and the page's site be on
        its allowed domains (403; `page` is the Origin or Referer header, if any)."""
        portal = await self.portal(portal_id)
        if portal is None:
            raise NotFound("There is no portal with this id.")
        host = origins.host_of(page) if page else None
        if not origins.host_allowed(host, portal.allowed_domains):
            raise OriginNotAllowed()

    def check_address(self, address: str) -> None:
        """An address sending faster than its rate is answered 429 before its body is read."""
        _spend(self._per_address, address, "this address")

    async def collect(self, portal_id: int, beacon: Beacon, user_agent: str) -> Receipt:
        """Store what the beacon carries; answered once committed. Its identify is done
        by the writer, in the same transaction and before its completions
        (services/visitors.identify_in), unless this visitor was just identified so."""
        _spend(self._per_visitor, (portal_id, beacon.utk), "this visitor")
        email = beacon.email if not self._identified_lately(portal_id, beacon) else None
        received_at = now_ms()
        context = page_values(beacon.page, await self._agent(user_agent))
        qualified = (
            qualified_event_name(portal_id, event.name)
            for event in beacon.events
            if event.kind is EventKind.EVENT
        )
        names = {name for name in qualified if may_be_defined(portal_id, name)}

        async def build(fresh: bool) -> SendJob:
            definitions = await self._ingest.definitions.get_many(portal_id, names, fresh=fresh)
            completions, visit = plan_beacon(portal_id, beacon, definitions, context, received_at)
            return SendJob(portal_id, tuple(completions), received_at, replace(visit, email=email))

        receipt = await self._ingest.collect(build)
        if email is not None:
            self._remember_identified(portal_id, beacon.utk, email)
        return receipt

    async def portal(self, portal_id: int) -> TrackingSettings | None:
        """The portal's tracking settings (cached a few seconds); None: no such portal."""
        now = time.monotonic()
        cached = self._portals.get(portal_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        found = await asyncio.to_thread(self._read_portal, portal_id)
        ttl = PORTAL_TTL_SECONDS if found is not None else MISSING_PORTAL_TTL_SECONDS
        if len(self._portals) >= MAX_CACHED_PORTALS:
            self._portals.clear()
        self._portals[portal_id] = (now + ttl, found)
        return found

    def _read_portal(self, portal_id: int) -> TrackingSettings | None:
        try:
            return tracking_settings(self._db, portal_id)
        except NotFound:
            return None

    def forget_portal(self, portal_id: int) -> None:
        """After this process changed the settings: use them from the next beacon on."""
        self._portals.pop(portal_id, None)

    async def _agent(self, header: str) -> Agent:
        """A new user agent is parsed off the event loop: ua-parser tries its patterns
        one by one (milliseconds), and its first use loads them all (about a second)."""
        key = header[:MAX_USER_AGENT_CHARS]
        found = self._agents.get(key)
        if found is None:
            found = await asyncio.to_thread(read_user_agent, key)
            if len(self._agents) >= MAX_AGENTS:
                self._agents.clear()
            self._agents[key] = found
        return found

    def _identified_lately(self, portal_id: int, beacon: Beacon) -> bool:
        """Pages repeat identify on every view: a visitor tied to this address a moment
        ago by this process needs no write (its completions find the contact anyway)."""
        if beacon.email is None:
            return False
        known = self._identified.get((portal_id, beacon.utk))
        return (
            known is not None and known[0] == beacon.email.lower() and known[1] > time.monotonic()
        )

    def _remember_identified(self, portal_id: int, utk: str, email: str) -> None:
        key = (portal_id, utk)
        self._identified[key] = (email.lower(), time.monotonic() + IDENTIFIED_TTL_SECONDS)
        self._identified.move_to_end(key)
        while len(self._identified) > MAX_IDENTIFIED:
            self._identified.popitem(last=False)


def _spend(buckets: TokenBuckets | None, key: Hashable, who: str) -> None:
    if buckets is None:
        return
    wait = buckets.take(key, time.monotonic())
    if wait > 0:
        raise RateLimited(
            f"The collector takes {buckets.rate:g} requests a second from {who}.",
            retry_after_seconds=retry_after_seconds(wait),
        )
