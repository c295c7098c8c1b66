"""The retry policy, as pure functions: what an outcome means, and how long to wait before the next try.

2xx succeeds. Network errors, timeouts, 408, 429 and 5xx are retried; every other status (1xx, 3xx
because redirects are not followed, 4xx) fails for good, as a receiver that answers 400 or 404 will answer
it again. Waits grow exponentially from LANTERN_WEBHOOK_BACKOFF_BASE_S, capped at BACKOFF_MAX_S, with
"equal jitter" (half fixed, half random) so retries of many deliveries do not arrive in waves; a 429 or 503
that names a Retry-After is waited at least that long (still capped).
"""

from __future__ import annotations

import random
from enum import StrEnum

from django.conf import settings

from webhooks.transport import Outcome

RETRYABLE_STATUS_CODES = frozenset({408, 429})


class Verdict(StrEnum):
    SUCCEEDED = "succeeded"
    RETRY = "retry"
    FAILED = "failed"


def verdict(outcome: Outcome) -> Verdict:
    code = outcome.status_code
    if code is None:
        return Verdict.RETRY
    if 200 <= code < 300:
        return Verdict.SUCCEEDED
    if code in RETRYABLE_STATUS_CODES or 500 <= code < 600:
        return Verdict.RETRY
    return Verdict.FAILED


def backoff_s(attempt: int, *, retry_after_s: float | None = None, rng: random.Random | None = None) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based)."""
    base, cap = settings.LANTERN_WEBHOOK_BACKOFF_BASE_S, settings.LANTERN_WEBHOOK_BACKOFF_MAX_S
    ceiling = min(cap, base * 2 ** max(0, attempt - 1))
    wait = ceiling / 2 + (rng or random).uniform(0, ceiling / 2)
    if retry_after_s is not None:
        wait = max(wait, min(retry_after_s, cap))
    return wait
