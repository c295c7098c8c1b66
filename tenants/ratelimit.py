"""Rate limits per API key and endpoint class, counted in Redis (shared by every web process).

A view names its class in `rate_class`; the limit per minute comes from the tenant's override
(Tenant.rate_limits, e.g. {"oem_submit": 20}), else the plan's (Plan.rate_limits), else RATE_LIMIT_DEFAULTS.
Seed 000 fixes oem_submit at 5 and oem_status at 10 requests per minute per key. A sliding window over the
current and previous minute smooths the edge of a fixed window without storing every request.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cache

import redis
from django.conf import settings

RATE_LIMIT_DEFAULTS = {
    "oem_submit": 5,
    "oem_status": 10,
    "scan_create": 120,
    "read": 1200,
    "write": 300,
}


@cache
def redis_client() -> redis.Redis:
    return redis.Redis.from_url(settings.LANTERN_RATE_REDIS_URL, socket_timeout=2, socket_connect_timeout=2)


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    retry_after_s: int


def rate_limit_for(rate_class: str, tenant_overrides: dict[str, int], plan_limits: dict[str, int]) -> int:
    for source in (tenant_overrides, plan_limits, RATE_LIMIT_DEFAULTS):
        if rate_class in source:
            return int(source[rate_class])
    return RATE_LIMIT_DEFAULTS["read"]


def rate_check(*, key_id: str, rate_class: str, limit: int, now: float | None = None) -> RateDecision:
    """Count this request against the key's limit for the class; allowed or not, and when to retry."""
    now = time.time() if now is None else now
    minute = int(now // 60)
    elapsed = (now % 60) / 60
    current_key = f"{settings.LANTERN_RATE_PREFIX}:{rate_class}:{key_id}:{minute}"
    previous_key = f"{settings.LANTERN_RATE_PREFIX}:{rate_class}:{key_id}:{minute - 1}"
    client = redis_client()
    pipe = client.pipeline()
    pipe.incr(current_key)
    pipe.expire(current_key, 120)
    pipe.get(previous_key)
    current, _, previous = pipe.execute()
    weighted = int(previous or 0) * (1 - elapsed) + int(current)
    if weighted <= limit:
        return RateDecision(True, limit, 0)
    client.decr(current_key)  # a refused request does not eat into the next window
    return RateDecision(False, limit, max(1, int(60 - now % 60)))
