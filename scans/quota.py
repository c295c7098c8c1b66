"""Monthly scan quotas (seed 003: Startup 25, Professional 150, Enterprise unlimited) and back-pressure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone as dt_timezone

from django.conf import settings
from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone

from config.errors import QuotaExhausted, TooManyRequests
from scans.models import Scan, ScanStatus
from tenants.models import Plan, Tenant

_QUOTA_LOCK_SPACE = 0x4C4151


@dataclass(frozen=True)
class Quota:
    plan: str
    monthly_limit: int | None
    used_this_month: int
    resets_at: datetime

    @property
    def remaining(self) -> int | None:
        return None if self.monthly_limit is None else max(0, self.monthly_limit - self.used_this_month)


def month_bounds(now: datetime | None = None) -> tuple[datetime, datetime]:
    """[start of this month, start of next month) in UTC: quotas reset at midnight UTC on the 1st."""
    now = (now or timezone.now()).astimezone(dt_timezone.utc)
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    following = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(
        month=start.month + 1)
    return start, following


def quota_get(*, tenant_id: int) -> Quota:
    """The tenant's quota this month. Every scan created this month counts, whichever API created it,
    except imported reports (nothing was scanned)."""
    plan = Tenant.objects.select_related("plan").get(pk=tenant_id).plan
    return _quota(tenant_id, plan)


def _quota(tenant_id: int, plan: Plan) -> Quota:
    start, resets_at = month_bounds()
    used = Scan.objects.for_tenant(tenant_id).filter(created_at__gte=start).exclude(surface="import").count()
    return Quota(plan=plan.slug, monthly_limit=plan.monthly_scan_limit, used_this_month=used, resets_at=resets_at)


def quota_check_locked(*, tenant_id: int) -> None:
    """Inside the creating transaction: serialise the tenant's creations (advisory lock until commit) and
    refuse when the month's quota is used up. Raises QuotaExhausted (403). An unlimited plan has nothing to
    count and nothing to serialise."""
    plan = Tenant.objects.select_related("plan").get(pk=tenant_id).plan
    if plan.monthly_scan_limit is None:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_QUOTA_LOCK_SPACE, tenant_id])
    quota = _quota(tenant_id, plan)
    if quota.monthly_limit is not None and quota.used_this_month >= quota.monthly_limit:
        resets = quota.resets_at.isoformat().replace("+00:00", "Z")
        raise QuotaExhausted(
            f"Monthly scan quota exhausted: {quota.used_this_month} of {quota.monthly_limit} scans used on the "
            f"{quota.plan} plan; it resets at {resets}",
            details={"monthly_limit": quota.monthly_limit, "used_this_month": quota.used_this_month,
                     "resets_at": resets},
        )


def backlog_check(*, tenant_id: int) -> None:
    """Refuse new work with 429 + Retry-After when the queue is past its bounds, instead of piling up."""
    retry = {"Retry-After": str(settings.LANTERN_BACKLOG_RETRY_AFTER_S)}
    counts = Scan.objects.filter(status=ScanStatus.QUEUED).aggregate(
        everyone=Count("pk"), mine=Count("pk", filter=Q(tenant_id=tenant_id)))
    if counts["everyone"] >= settings.LANTERN_BACKLOG_MAX:
        raise TooManyRequests("Lantern's scan queue is full; retry later", headers=retry)
    if counts["mine"] >= settings.LANTERN_TENANT_BACKLOG_MAX:
        raise TooManyRequests("Too many of your scans are waiting; retry when some have run", headers=retry)
