"""The real stack for end-to-end tests, on the test database and the test Redis database. Tests that use it
commit their data (transactional tests) so the other processes can see it. One stack per module, so no
worker is alive while other modules' tests claim scans themselves."""

from __future__ import annotations

import os

import pytest
import redis
from django.conf import settings
from django.db import connection

from tests.stack.lib import ROOT, Stack  # noqa: F401  (ROOT is used by the tests)


def database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def stack_env(**overrides: str) -> dict[str, str]:
    """The environment of the processes a test starts. LANTERN_DB_POOL is left out: config/asgi.py sets it in
    whatever process imports it (this one does, for the in-process WebSocket tests), and a worker inheriting it
    would run on a connection pool, which production workers never do (config/env.py); daphne sets it again."""
    inherited = {name: value for name, value in os.environ.items() if name != "LANTERN_DB_POOL"}
    return {**inherited, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": database_url(),
            "PYTHONUNBUFFERED": "1", **overrides}


@pytest.fixture(scope="module")
def live_stack(django_db_setup, django_db_blocker, tmp_path_factory):
    """{"http", "ws", "worker_log", "env"} of a running stack; stopped after the module."""
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    with django_db_blocker.unblock():
        env = stack_env()
    stack = Stack(env, tmp_path_factory.mktemp("stack")).start()
    try:
        yield {"http": stack.http, "ws": stack.ws, "worker_log": stack.worker_log, "env": env, "stack": stack}
    finally:
        stack.stop()
