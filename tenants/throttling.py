"""DRF throttle over tenants/ratelimit.py: per API key and endpoint class, limits from plan and tenant."""

from __future__ import annotations

import logging

import redis
from rest_framework.throttling import BaseThrottle

from tenants.auth import AuthContext
from tenants.ratelimit import rate_check, rate_limit_for

logger = logging.getLogger(__name__)


class ApiKeyRateThrottle(BaseThrottle):
    """A view sets `rate_class` (a string, or a dict by HTTP method); otherwise GET/HEAD count as "read"
    and other methods as "write"."""

    def allow_request(self, request, view) -> bool:
        context = request.auth
        if not isinstance(context, AuthContext):
            return True  # unauthenticated requests are refused by the permission check anyway
        declared = getattr(view, "rate_class", None)
        if isinstance(declared, dict):
            declared = declared.get(request.method)
        rate_class = declared or ("read" if request.method in ("GET", "HEAD", "OPTIONS") else "write")
        limit = rate_limit_for(rate_class, dict(context.rate_limits), {})
        try:
            decision = rate_check(key_id=context.key_id, rate_class=rate_class, limit=limit)
        except redis.RedisError:
            # Redis down: serve the request unlimited rather than refuse every tenant; logged loudly.
            logger.error("rate limiter unavailable (Redis); %s %s not counted", context.key_id, rate_class)
            self._wait = None
            return True
        self._wait = decision.retry_after_s
        return decision.allowed

    def wait(self) -> float | None:
        return self._wait
