"""A token bucket per key: the per-portal send rate limit (OCCUR_SEND_RATE_PER_SECOND).

Pure: the caller passes the time, so the rule is tested without sleeping.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated_at: float


class TokenBuckets:
    """`rate` requests a second per key, with bursts of up to `rate` requests."""

    def __init__(self, rate_per_second: float) -> None:
        self.rate = rate_per_second
        self._buckets: dict[int, _Bucket] = {}

    def take(self, key: int, now_seconds: float) -> float:
        """Spend one token; 0 when allowed, else the seconds until one is free."""
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(self.rate, now_seconds)
        elapsed = max(0.0, now_seconds - bucket.updated_at)
        bucket.tokens = min(self.rate, bucket.tokens + elapsed * self.rate)
        bucket.updated_at = now_seconds
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate


def retry_after_seconds(wait_seconds: float) -> int:
    """Retry-After carries whole seconds: round up, and never 0."""
    return max(1, math.ceil(wait_seconds))
