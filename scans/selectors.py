"""Reads for scans. Every function takes tenant_id: another tenant's scan is the same 404 as none."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from config.errors import NotFound
from scans.estimates import remaining_seconds, step_key, step_means
from scans.models import Certificate, Host, Priority, Scan, ScanEvent, ScanSchedule, ScheduleRun, Service

SEVERITIES = ("critical", "high", "medium", "low", "info")


def as_uuid(value: Any) -> uuid.UUID | None:
    """A scan id as a UUID, or None when it cannot be one (which callers answer as not found)."""
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None


def scan_get(*, tenant_id: int, scan_id: Any) -> Scan:
    scan_uuid = as_uuid(scan_id)
    scan = Scan.objects.for_tenant(tenant_id).filter(pk=scan_uuid).first() if scan_uuid else None
    if scan is None:
        raise NotFound("Scan not found")
    return scan


def scan_list(*, tenant_id: int, status: str | None = None, target: str | None = None,
              created_from: datetime | None = None, created_to: datetime | None = None,
              engine: str | None = None) -> QuerySet[Scan]:
    """The tenant's scans, newest first, with per-severity finding counts."""
    queryset = Scan.objects.for_tenant(tenant_id)
    if status:
        queryset = queryset.filter(status=status)
    if target:
        queryset = queryset.filter(Q(target_value__iexact=target) | Q(target__iexact=target))
    if created_from:
        queryset = queryset.filter(created_at__gte=created_from)
    if created_to:
        queryset = queryset.filter(created_at__lte=created_to)
    if engine:
        queryset = queryset.filter(engine=engine)
    return queryset.order_by("-created_at", "-pk")


def scan_devices(*, tenant_id: int, scan: Scan) -> list[Host]:
    """The scan's hosts with their services (seed 004's devices), two queries in all."""
    services = Service.objects.for_tenant(tenant_id).order_by("port", "protocol")
    return list(Host.objects.for_tenant(tenant_id).filter(scan=scan).order_by("ip", "hostname")
                .prefetch_related(Prefetch("services", queryset=services)))


def scan_certificates(*, tenant_id: int, scan: Scan) -> list[Certificate]:
    return list(Certificate.objects.for_tenant(tenant_id).filter(scan=scan).order_by("host", "port"))


def scan_events_since(*, tenant_id: int, scan_id: Any, since: int = 0, limit: int = 1000) -> list[ScanEvent]:
    return list(ScanEvent.objects.for_tenant(tenant_id).filter(scan_id=scan_id, seq__gt=since)
                .order_by("seq")[:limit])


def scan_exists(*, tenant_id: int, scan_id: Any) -> bool:
    scan_uuid = as_uuid(scan_id)
    return scan_uuid is not None and Scan.objects.for_tenant(tenant_id).filter(pk=scan_uuid).exists()


def scan_estimated_duration(*, scan: Scan) -> int:
    """Seconds the scan should take: the sum of its plan steps' measured durations (scans.estimates, the same
    figures as a running scan's estimated_completion); until every step has been measured, the scan's
    timeout, which bounds it."""
    keys = [step_key(step) for phase in scan.plan if not phase.get("skipped") for step in phase["steps"]]
    seconds = remaining_seconds(running=None, upcoming=keys, means=step_means(keys))
    return scan.timeout_s if seconds is None else min(scan.timeout_s, max(1, round(seconds)))


def _with_recent_runs(queryset: QuerySet[ScanSchedule]) -> QuerySet[ScanSchedule]:
    runs = ScheduleRun.objects.order_by("-scheduled_for")
    return queryset.prefetch_related(Prefetch("runs", queryset=runs, to_attr="all_runs"))


def schedule_list(*, tenant_id: int) -> list[ScanSchedule]:
    schedules = list(_with_recent_runs(ScanSchedule.objects.for_tenant(tenant_id)).order_by("-created_at"))
    for schedule in schedules:
        schedule.recent_runs = schedule.all_runs[:5]
    return schedules


def schedule_get(*, tenant_id: int, schedule_id: Any) -> ScanSchedule:
    schedule_uuid = as_uuid(schedule_id)
    schedule = _with_recent_runs(ScanSchedule.objects.for_tenant(tenant_id)).filter(uuid=schedule_uuid).first() \
        if schedule_uuid else None
    if schedule is None:
        raise NotFound("Schedule not found")
    schedule.recent_runs = schedule.all_runs[:5]
    return schedule


def scan_counts_by_status_priority() -> dict[tuple[str, str], int]:
    """Across all tenants, for operators (/metrics): no tenant's data leaves through it, only counts."""
    labels = {p.value: p.label for p in Priority}
    rows = Scan.objects.values_list("status", "priority").annotate(n=Count("pk")).order_by()
    return {(status, labels[priority]): n for status, priority, n in rows}


def scans_queued_by_queue() -> dict[str, int]:
    rows = Scan.objects.filter(status="queued").values_list("queue").annotate(n=Count("pk")).order_by()
    return dict(rows)
