"""Celery entry points of the findings app. Thin: they call services."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True, soft_time_limit=50, time_limit=60)
def finding_tallies_compact_task() -> None:
    """Beat, every minute: fold the findings tally deltas into one row per key. Idempotent."""
    from findings.services import finding_tallies_compact

    finding_tallies_compact()
