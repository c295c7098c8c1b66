"""Scheduled scans (seed 003): create, list, pause/resume, delete, and run.

Each schedule is our own row plus a django-celery-beat PeriodicTask whose CrontabSchedule is in the
schedule's timezone, written in one transaction. Beat calls scan_schedule_run_task(schedule_id); the run
claims its firing with a conditional UPDATE of next_run_at, so a duplicate beat tick runs nothing, then
creates a normal scan that counts against the quota, or records a skipped run saying why.

Times are wall-clock times in the schedule's timezone, so a 02:00 daily scan stays at 02:00 local across
DST changes. A time that does not exist on a spring-forward day runs at the first instant after the gap.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone as dt_timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import IntegrityError, transaction
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from config.errors import DomainError, Forbidden, ValidationFailed
from scans.models import ScanSchedule, ScheduleRun
from scans.selectors import schedule_get
from scans.services import ScanRequest, scan_create, scan_request_check
from tenants.models import Tenant

RUN_TASK = "scans.tasks.scan_schedule_run_task"
REQUEST_FIELDS = ("target", "target_type", "engine", "options", "scan_type", "ports", "priority", "name",
                  "tags", "timeout_s", "extra")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(f"unknown timezone {name!r} (use an IANA name such as Europe/Berlin)",
                               field="timezone") from None


def next_run_after(schedule: ScanSchedule, after: datetime) -> datetime:
    """The first firing strictly after `after`, as an aware UTC datetime."""
    zone = _zone(schedule.timezone)
    local = after.astimezone(zone)
    day = local.date()
    for _ in range(0, 400):
        if _fires_on(schedule, day):
            # fold=0: a wall time inside a spring-forward gap becomes the first instant after the gap
            # (02:30 → 03:30 summer time); a repeated fall-back time runs at its first occurrence.
            candidate = datetime(day.year, day.month, day.day, schedule.hour, schedule.minute, tzinfo=zone)
            if candidate > after:
                return candidate.astimezone(dt_timezone.utc)
        day += timedelta(days=1)
    raise ValueError("no firing within 400 days")  # unreachable for valid schedules


def _fires_on(schedule: ScanSchedule, day) -> bool:
    if schedule.frequency == ScanSchedule.Frequency.DAILY:
        return True
    if schedule.frequency == ScanSchedule.Frequency.WEEKLY:
        return (day.isoweekday() % 7) == schedule.day_of_week
    return day.day == schedule.day_of_month


def _crontab(schedule: ScanSchedule) -> CrontabSchedule:
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute=str(schedule.minute), hour=str(schedule.hour),
        day_of_week=str(schedule.day_of_week) if schedule.frequency == "weekly" else "*",
        day_of_month=str(schedule.day_of_month) if schedule.frequency == "monthly" else "*",
        month_of_year="*", timezone=schedule.timezone,
    )
    return crontab


def _validate_timing(frequency: str, day_of_week: Any, day_of_month: Any, hour: Any, minute: Any) -> None:
    if frequency not in ScanSchedule.Frequency.values:
        raise ValidationFailed("frequency must be daily, weekly or monthly", field="frequency")
    for name, value, low, high in (("hour", hour, 0, 23), ("minute", minute, 0, 59)):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValidationFailed(f"{name} must be an integer from {low} to {high}", field=name)
    if frequency == "weekly" and (isinstance(day_of_week, bool) or not isinstance(day_of_week, int)
                                  or not 0 <= day_of_week <= 6):
        raise ValidationFailed("weekly schedules need day_of_week 0 (Sunday) to 6 (Saturday)", field="day_of_week")
    if frequency == "monthly" and (isinstance(day_of_month, bool) or not isinstance(day_of_month, int)
                                   or not 1 <= day_of_month <= 28):
        raise ValidationFailed("monthly schedules need day_of_month 1 to 28", field="day_of_month")


@transaction.atomic
def schedule_create(*, tenant_id: int, api_key_pk: int | None, request: ScanRequest, frequency: str,
                    day_of_week: int | None, day_of_month: int | None, hour: int, minute: int = 0,
                    timezone_name: str = "UTC") -> ScanSchedule:
    """Validate (plan allows schedules, the scan request itself, the timing) and write the schedule and its
    beat entry. Not idempotent."""
    tenant = Tenant.objects.select_related("plan").get(pk=tenant_id)
    if not tenant.plan.schedules_enabled:
        raise Forbidden(f"Scheduled scans are available on the Professional and Enterprise plans, not on "
                        f"{tenant.plan.name}")
    _validate_timing(frequency, day_of_week, day_of_month, hour, minute)
    _zone(timezone_name)
    scan_request_check(request, tenant_id=tenant_id)
    schedule = ScanSchedule(
        tenant_id=tenant_id, created_by_key_id=api_key_pk, target=str(request.target), frequency=frequency,
        request={name: getattr(request, name) for name in REQUEST_FIELDS} | {"tags": list(request.tags)},
        day_of_week=day_of_week if frequency == "weekly" else None,
        day_of_month=(day_of_month or 1) if frequency == "monthly" else None,
        hour=hour, minute=minute, timezone=timezone_name, next_run_at=timezone.now(),
    )
    schedule.next_run_at = next_run_after(schedule, timezone.now())
    schedule.save()
    schedule.periodic_task = PeriodicTask.objects.create(
        name=f"lantern-schedule-{schedule.uuid}", task=RUN_TASK, crontab=_crontab(schedule),
        kwargs=json.dumps({"schedule_id": schedule.pk}), queue="default",
    )
    schedule.save(update_fields=["periodic_task"])
    return schedule


@transaction.atomic
def schedule_set_paused(*, tenant_id: int, schedule_id: Any, paused: bool) -> ScanSchedule:
    """Pause or resume; resuming moves next_run_at to the next firing from now. Idempotent."""
    schedule = schedule_get(tenant_id=tenant_id, schedule_id=schedule_id)
    schedule.paused = paused
    if not paused:
        schedule.next_run_at = next_run_after(schedule, timezone.now())
    schedule.save(update_fields=["paused", "next_run_at"])
    if schedule.periodic_task_id:
        PeriodicTask.objects.filter(pk=schedule.periodic_task_id).update(enabled=not paused)
    return schedule


@transaction.atomic
def schedule_delete(*, tenant_id: int, schedule_id: Any) -> None:
    """Delete the schedule and its beat entry (its past scans stay). A missing schedule is a 404."""
    schedule = schedule_get(tenant_id=tenant_id, schedule_id=schedule_id)
    task_id = schedule.periodic_task_id
    schedule.delete()
    if task_id:
        PeriodicTask.objects.filter(pk=task_id).delete()


def schedule_run(*, schedule_id: int, now: datetime | None = None) -> ScheduleRun | None:
    """Fire a due schedule once: claim the firing (a duplicate tick claims nothing and returns None), then
    create its scan or record why it was skipped. Writes ScanSchedule.next_run_at, a ScheduleRun and maybe
    a Scan. Idempotent per firing."""
    now = now or timezone.now()
    schedule = ScanSchedule.objects.filter(pk=schedule_id).first()
    if schedule is None or schedule.paused or schedule.next_run_at > now + timedelta(minutes=1):
        return None
    due = schedule.next_run_at
    claimed = ScanSchedule.objects.filter(pk=schedule_id, next_run_at=due, paused=False).update(
        next_run_at=next_run_after(schedule, max(now, due)), last_run_at=now)
    if not claimed:
        return None
    fields = dict(schedule.request)
    fields["tags"] = tuple(fields.get("tags") or ())
    fields["extra"] = {**(fields.get("extra") or {}), "schedule_id": str(schedule.uuid)}
    try:
        scan = scan_create(tenant_id=schedule.tenant_id, api_key_pk=schedule.created_by_key_id,
                           request=ScanRequest(**fields, surface="schedule"))
    except DomainError as exc:
        return _record(schedule, due, None, "skipped", exc.message)
    return _record(schedule, due, scan, "created", "")


def _record(schedule: ScanSchedule, due: datetime, scan, status: str, reason: str) -> ScheduleRun | None:
    try:
        return ScheduleRun.objects.create(tenant_id=schedule.tenant_id, schedule=schedule, scheduled_for=due,
                                          scan=scan, status=status, reason=reason[:2000])
    except IntegrityError:
        return None
