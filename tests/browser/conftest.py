"""Headless Chromium from Debian (/usr/bin/chromium, driven by Playwright; no browser is downloaded) against
the real stack: daphne and a Celery worker on the test database, serving tests/browser/settings.py.
Screenshots and downloads go to var/test-artifacts/console/."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from django.conf import settings

from tests.stack.conftest import stack_env
from tests.stack.lib import ROOT, Stack

ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "var" / "test-artifacts" / "console"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def console_stack(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Stack]:
    """A running stack whose daphne serves the console; stopped after the module."""
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    with django_db_blocker.unblock():
        env = stack_env()
    env.pop(ASYNC_UNSAFE, None)
    stack = Stack(env, tmp_path_factory.mktemp("console-stack")).start()
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def browser_context() -> Iterator[object]:
    """A fresh Chromium profile (empty --user-data-dir) per module, downloads allowed. Playwright's sync API
    keeps an asyncio loop running in this thread, which Django's ORM takes for an async context; the tests
    only touch the database between browser calls, so the check is lifted for this process alone."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium chromium-driver)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    profile = tempfile.mkdtemp(prefix="lantern-chromium-")
    previous = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS, accept_downloads=True,
            viewport={"width": 1366, "height": 900})
        context.set_default_timeout(20_000)
        try:
            yield context
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)
            if previous is None:
                os.environ.pop(ASYNC_UNSAFE, None)
            else:
                os.environ[ASYNC_UNSAFE] = previous
