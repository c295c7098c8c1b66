"""Webhook delivery settings (the webhooks app). Every value can be set from the environment."""

from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_str


def _env_seconds(name: str, default: str) -> float:
    raw = env_str(name, default)
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number of seconds, not {raw!r}") from None
    if value < 0:
        raise ImproperlyConfigured(f"{name} must not be negative")
    return value


# Receivers on 127.0.0.0/8 and ::1 are refused unless this is on (development and tests only; every other
# non-public address stays refused whatever it says).
LANTERN_WEBHOOK_ALLOW_LOOPBACK = env_bool("LANTERN_WEBHOOK_ALLOW_LOOPBACK", False)

# One attempt may take at most connect + read time (plus the headers' trickle, which the task's soft limit
# bounds); a slow receiver then holds a worker process for seconds, never minutes.
LANTERN_WEBHOOK_CONNECT_TIMEOUT_S = _env_seconds("LANTERN_WEBHOOK_CONNECT_TIMEOUT_S", "3")
LANTERN_WEBHOOK_READ_TIMEOUT_S = _env_seconds("LANTERN_WEBHOOK_READ_TIMEOUT_S", "10")
LANTERN_WEBHOOK_TASK_SOFT_LIMIT_S = env_int("LANTERN_WEBHOOK_TASK_SOFT_LIMIT_S", 30)
LANTERN_WEBHOOK_TASK_HARD_LIMIT_S = env_int("LANTERN_WEBHOOK_TASK_HARD_LIMIT_S", 45)

# The CA certificates (a PEM file) that receivers' https certificates are verified against; empty: the
# certifi bundle (the public web PKI). For a private CA, or a test CA in the tests. The name in the URL is
# always checked, whatever the bundle.
LANTERN_WEBHOOK_CA_FILE = env_str("LANTERN_WEBHOOK_CA_FILE", "")

# Retries: attempt n waits BASE * 2**(n-1) seconds (at most MAX), with jitter, and a delivery is dead after
# MAX_ATTEMPTS attempts or once its next attempt would fall outside RETRY_WINDOW of its creation.
LANTERN_WEBHOOK_BACKOFF_BASE_S = _env_seconds("LANTERN_WEBHOOK_BACKOFF_BASE_S", "10")
LANTERN_WEBHOOK_BACKOFF_MAX_S = _env_seconds("LANTERN_WEBHOOK_BACKOFF_MAX_S", "3600")
LANTERN_WEBHOOK_MAX_ATTEMPTS = env_int("LANTERN_WEBHOOK_MAX_ATTEMPTS", 10)
LANTERN_WEBHOOK_RETRY_WINDOW_S = env_int("LANTERN_WEBHOOK_RETRY_WINDOW_S", 24 * 3600)

# At most this many attempts to one destination (an endpoint, or a per-scan URL's host:port) are in flight
# at once; the others wait (about a read timeout when the destination is slow), so one slow receiver cannot
# take every worker process of the webhooks queue. Keep it below the webhooks worker's concurrency.
LANTERN_WEBHOOK_MAX_IN_FLIGHT = env_int("LANTERN_WEBHOOK_MAX_IN_FLIGHT", 4)

# An endpoint whose deliveries end dead or refused this many times in a row is disabled (0: never).
LANTERN_WEBHOOK_DISABLE_AFTER = env_int("LANTERN_WEBHOOK_DISABLE_AFTER", 25)

# After a secret rotation the previous secret keeps signing (a second v1 signature) this long by default.
LANTERN_WEBHOOK_SECRET_OVERLAP_S = env_int("LANTERN_WEBHOOK_SECRET_OVERLAP_S", 24 * 3600)
LANTERN_WEBHOOK_SECRET_OVERLAP_MAX_S = env_int("LANTERN_WEBHOOK_SECRET_OVERLAP_MAX_S", 7 * 24 * 3600)

LANTERN_WEBHOOK_MAX_ENDPOINTS = env_int("LANTERN_WEBHOOK_MAX_ENDPOINTS", 20)
# Bytes of a receiver's answer kept on the attempt row.
LANTERN_WEBHOOK_RESPONSE_EXCERPT_BYTES = env_int("LANTERN_WEBHOOK_RESPONSE_EXCERPT_BYTES", 1024)
# The reaper re-enqueues unfinished deliveries this long overdue (their task message was lost).
LANTERN_WEBHOOK_REAP_GRACE_S = env_int("LANTERN_WEBHOOK_REAP_GRACE_S", 600)
