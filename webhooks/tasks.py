"""Celery entry points of the webhooks app (routed to the "webhooks" queue). Thin: they call services."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings


@shared_task(acks_late=True, soft_time_limit=settings.LANTERN_WEBHOOK_TASK_SOFT_LIMIT_S,
             time_limit=settings.LANTERN_WEBHOOK_TASK_HARD_LIMIT_S)
def webhook_deliver_task(*, tenant_id: int, delivery_id: str) -> None:
    """One attempt of one delivery; a retry is a new task with a countdown, never a sleep here.
    Safe to deliver twice: webhook_deliver claims the delivery with a conditional update."""
    from webhooks.services import webhook_deliver

    webhook_deliver(tenant_id=tenant_id, delivery_id=delivery_id)


@shared_task(acks_late=True, soft_time_limit=50, time_limit=60)
def webhook_deliveries_reap_task() -> None:
    """Beat, every minute: give lost deliveries (dead worker, lost message) a new task. Idempotent."""
    from webhooks.services import deliveries_reap

    deliveries_reap()
