"""Fixtures of the webhooks tests: loopback receivers allowed, small retry and timeout values, the webhooks
routes, and an in-process outbox that records every enqueued delivery task (with its countdown) and runs
them on demand, with JSON round-tripped arguments as a real broker would."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

import tests.stack.conftest as stack
from tests.conftest import TenantKey, client_for, make_tenant, tenant_a, tenant_b  # noqa: F401  (shared)
from tests.stack.conftest import live_stack  # noqa: F401
from webhooks.services import webhook_deliver
from webhooks.tasks import webhook_deliver_task


@pytest.fixture(autouse=True)
def webhook_settings(settings):
    settings.LANTERN_WEBHOOK_ALLOW_LOOPBACK = True
    settings.LANTERN_WEBHOOK_BACKOFF_BASE_S = 0.05
    settings.LANTERN_WEBHOOK_CONNECT_TIMEOUT_S = 1.0
    settings.LANTERN_WEBHOOK_READ_TIMEOUT_S = 1.0
    return settings


@dataclass
class Outbox:
    """Delivery tasks enqueued (after commit) and not yet run, oldest first."""

    capture: Any
    queued: list[tuple[dict[str, Any], float | None]] = field(default_factory=list)
    countdowns: list[float | None] = field(default_factory=list)

    def apply_async(self, args: Any = None, kwargs: dict[str, Any] | None = None,
                    countdown: float | None = None, **options: Any) -> None:
        self.queued.append((json.loads(json.dumps(kwargs)), countdown))
        self.countdowns.append(countdown)

    def run(self, *, limit: int = 100) -> int:
        """Run queued tasks (and the ones they enqueue) until none is left; the number run."""
        done = 0
        while self.queued and done < limit:
            kwargs, _ = self.queued.pop(0)
            with self.capture(execute=True):
                webhook_deliver(**kwargs)
            done += 1
        return done

    def committed(self) -> Any:
        """A block whose on-commit callbacks (the enqueues) run at its end, as after a real commit."""
        return self.capture(execute=True)

    def run_one(self) -> None:
        kwargs, _ = self.queued.pop(0)
        with self.capture(execute=True):
            webhook_deliver(**kwargs)


@pytest.fixture
def outbox(monkeypatch, django_capture_on_commit_callbacks) -> Iterator[Outbox]:
    box = Outbox(capture=django_capture_on_commit_callbacks)
    monkeypatch.setattr(webhook_deliver_task, "apply_async", box.apply_async)
    yield box


@pytest.fixture
def reporter_a(tenant_a) -> TenantKey:  # noqa: F811  (the fixture, by name)
    """A key of tenant a without the webhooks:manage scope."""
    return make_tenant("acme", role="reporter")


@pytest.fixture(scope="module")
def webhook_stack_settings():
    """Makes the live stack's worker and daphne run with webhooks/tests/stack_settings.py: the test settings
    do not (yet) name the webhooks sink, and base.py sets LANTERN_EVENT_SINKS after every settings part, so
    no environment variable can add it; the module path is the one lever stack_env leaves."""
    original = stack.stack_env
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(stack, "stack_env",
                      lambda: {**original(), "DJANGO_SETTINGS_MODULE": "webhooks.tests.stack_settings"})
        yield


@pytest.fixture(scope="module")
def webhook_stack(webhook_stack_settings, live_stack):  # noqa: F811  (the fixture, by name)
    """The real stack (tests/stack/conftest.py live_stack) with the webhooks sink and small timeouts."""
    return live_stack
