"""A token bucket per key: the per-portal send rate limit (OCCUR_SEND_RATE_PER_SECOND),
and the collector's per-visitor and per-address limits.

Pure: the caller passes the time, so the rule is tested without sleeping.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated_at: float


class TokenBuckets:
    """`rate` requests a second per key, with bursts of up to `rate` requests.

    Keys may come from the public (an address, a cookie), so at most `max_keys` buckets
    are kept: past that, the full ones (idle long enough to have refilled, so forgetting
    them changes nothing) are dropped, and if every bucket is in use, all of them.
    """

    def __init__(self, rate_per_second: float, max_keys: int = 100_000) -> None:
        self.rate = rate_per_second
        self._max_keys = max_keys
        self._buckets: dict[Hashable, _Bucket] = {}

    def take(self, key: Hashable, now_seconds: float) -> float:
        """Spend one token; 0 when allowed, else the seconds until one is free."""
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._max_keys:
                self._forget_full(now_seconds)
            bucket = self._buckets[key] = _Bucket(self.rate, now_seconds)
        elapsed = max(0.0, now_seconds - bucket.updated_at)
        bucket.tokens = min(self.rate, bucket.tokens + elapsed * self.rate)
        bucket.updated_at = now_seconds
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate

    def __len__(self) -> int:
        return len(self._buckets)

    def _forget_full(self, now_seconds: float) -> None:
        refill_seconds = 1.0  # any bucket untouched this long is full again
        self._buckets = {
            key: bucket
            for key, bucket in self._buckets.items()
            if now_seconds - bucket.updated_at < refill_seconds
        }
        if len(self._buckets) >= self._max_keys:
            self._buckets.clear()  # bounded memory beats perfect memory under a flood


def retry_after_seconds(wait_seconds: float) -> int:
    """Retry-After carries whole seconds: round up, and never 0."""
    return max(1, math.ceil(wait_seconds))


class FailureLimiter:
    """At most `max_failures` failed attempts per key in `window_seconds`; then refuse
    until the oldest failure leaves the window. Sign-in and the setup code use it, so
    that guessing passwords online costs hours instead of seconds."""

    def __init__(self, max_failures: int, window_seconds: float, max_keys: int = 100_000) -> None:
        self.max_failures = max_failures
        self.window_seconds = window_seconds
        self._max_keys = max_keys
        self._failures: dict[str, list[float]] = {}

    def wait_seconds(self, key: str, now_seconds: float) -> float:
        """0 when an attempt may be made now, else how long until one may."""
        recent = self._recent(key, now_seconds)
        if len(recent) < self.max_failures:
            return 0.0
        return recent[0] + self.window_seconds - now_seconds

    def failed(self, key: str, now_seconds: float) -> None:
        if len(self._failures) >= self._max_keys:
            self._failures.clear()  # bounded memory beats perfect memory under a flood
        self._failures[key] = [*self._recent(key, now_seconds), now_seconds]

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)

    def _recent(self, key: str, now_seconds: float) -> list[float]:
        since = now_seconds - self.window_seconds
        return [at for at in self._failures.get(key, ()) if at > since]
