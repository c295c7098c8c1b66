"""Tests: the real PostgreSQL and Redis, loopback-only targets, a separate Redis database."""

from config.env import env_bool, env_int, env_str
from config.settings.base import *  # noqa: F401,F403
from config.settings.base import DATABASES, REDIS_URL

DEBUG = False
LANTERN_TARGET_POLICY = "loopback"
LANTERN_EXCLUDED_PORTS = env_str("LANTERN_EXCLUDED_PORTS", "2024")
LANTERN_LOOPBACK_NAMES = ["scanme.lantern.test=127.0.0.1"]
# Every test target is 127.0.0.1: the politeness cap is exercised by its own tests, not by all of them.
LANTERN_MAX_SCANS_PER_DESTINATION = env_int("LANTERN_MAX_SCANS_PER_DESTINATION", 1000)
# In-process API tests have no worker; the tests of this rule turn it on (the live stack reports anyway).
LANTERN_REQUIRE_LIVE_ENGINES = env_bool("LANTERN_REQUIRE_LIVE_ENGINES", False)
# Transactional tests empty every table after each test; a live worker's row must come back quickly.
LANTERN_WORKER_REPORT_S = env_int("LANTERN_WORKER_REPORT_S", 2)

DATABASES["default"]["TEST"] = {"NAME": env_str("LANTERN_TEST_DB", "test_lantern")}
# Keep connections short in the test process: pytest-django drops the test database at the end, which a
# connection held open here would block. (The daphne the tests start pools its own, as in production.) A fault
# drill turns LANTERN_TEST_KEEP_DB_CONNECTIONS on for the workers it starts, to keep connections as production
# does (CONN_MAX_AGE and health checks from config/env.py) and prove they recover.
if not env_bool("LANTERN_TEST_KEEP_DB_CONNECTIONS", False):
    DATABASES["default"]["CONN_MAX_AGE"] = 0

_TEST_REDIS = env_str("LANTERN_TEST_REDIS_URL", REDIS_URL.rsplit("/", 1)[0] + "/9")
CELERY_BROKER_URL = _TEST_REDIS
LANTERN_RATE_REDIS_URL = _TEST_REDIS
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _TEST_REDIS,
                      "KEY_PREFIX": "lantern-test"}}
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [_TEST_REDIS], "prefix": "lantern-test:ch"},
    }
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LANTERN_SCOPE_ENFORCED = env_bool("LANTERN_SCOPE_ENFORCED", False)
# Webhook receivers on this machine (development and tests); production refuses loopback and private ones.
LANTERN_WEBHOOK_ALLOW_LOOPBACK = env_bool("LANTERN_WEBHOOK_ALLOW_LOOPBACK", True)
# A test that forgets to start its own DNS server must never query the machine's resolver.
LANTERN_VERIFY_DNS_SERVERS = ["127.0.0.1:9"]
