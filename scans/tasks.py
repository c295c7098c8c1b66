"""Celery entry points. Thin: they call services and nothing else."""

from __future__ import annotations

import socket

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings

WORKER_NAME = socket.gethostname()


@worker_ready.connect
def _report_engines(sender, **kwargs) -> None:
    """Each worker says which queues it serves and which engines it has, at start and then periodically."""
    from scans.workers import start_reporting

    start_reporting(name=sender.hostname, queues=[queue.name for queue in sender.task_consumer.queues])


@shared_task(bind=True, acks_late=True, soft_time_limit=settings.SCAN_TASK_SOFT_LIMIT_S,
             time_limit=settings.SCAN_TASK_HARD_LIMIT_S)
def scan_slot_task(self, queue: str = "scans") -> None:
    """A slot token for `queue`: claim the next eligible scan of that queue (if any), run it, then offer the
    freed slot. Safe to deliver twice: the claim is atomic and a token that finds nothing ends at once."""
    from scans.dispatch import scan_claim_next
    from scans.execution import scan_execute
    from scans.services import scan_slots_offer

    scan_id = scan_claim_next(worker=self.request.hostname or WORKER_NAME, queue=queue)
    if scan_id is None:
        return
    scan_execute(scan_id=scan_id)
    scan_slots_offer(count=1, queue=queue)


@shared_task(acks_late=True, soft_time_limit=50, time_limit=60)
def scans_reconcile_task() -> None:
    """Beat, every 30 s: re-queue scans of lost workers and re-send tokens for waiting scans."""
    from scans.services import scans_reconcile

    scans_reconcile()


@shared_task(acks_late=True, soft_time_limit=50, time_limit=60)
def scan_schedule_run_task(*, schedule_id: int) -> None:
    """Beat, per schedule: fire it once (a duplicate tick does nothing)."""
    from scans.schedules import schedule_run

    schedule_run(schedule_id=schedule_id)
