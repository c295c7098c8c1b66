"""Reads for the console's pages: the dashboard's figures and the user's memberships. Every function but
membership_list takes tenant_id; each is a fixed number of queries whatever the tenant's size, so the
dashboard stays fast on a tenant with a million findings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from findings.models import Finding, FindingOccurrence, Severity
from findings.risk import COUNTED_STATUSES, RiskScore
from findings.selectors import target_risk
from scans.models import Priority, Scan, ScanStatus
from tenants.models import Membership

SEVERITY_ORDER = tuple(Severity.values)  # critical first
RISKY_TARGET_WINDOW_DAYS = 30


@dataclass(frozen=True, slots=True)
class QueueDepth:
    priority: str
    queued: int


@dataclass(frozen=True, slots=True)
class DayCount:
    day: date
    count: int


@dataclass(frozen=True, slots=True)
class DaySeverities:
    day: date
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True, slots=True)
class RiskyTarget:
    target: str
    open_by_severity: dict[str, int]
    risk: RiskScore


def membership_list(*, user_id: int) -> list[Membership]:
    """The user's memberships in active tenants, oldest first (the first is the default tenant)."""
    return list(Membership.objects.select_related("tenant", "tenant__plan")
                .filter(user_id=user_id, tenant__is_active=True).order_by("created_at"))


def dashboard_running(*, tenant_id: int, limit: int = 25) -> list[Scan]:
    """Scans running now, highest priority first (index scan_running_tenant)."""
    return list(Scan.objects.for_tenant(tenant_id).filter(status=ScanStatus.RUNNING)
                .only("id", "target_value", "engine", "scan_type", "profile", "priority", "progress", "phase",
                      "current_tool", "started_at", "hosts_found", "ports_found", "status")
                .order_by("-priority", "started_at")[:limit])


def dashboard_queue_depth(*, tenant_id: int) -> list[QueueDepth]:
    """Queued scans per priority, every priority listed (critical first). One grouped query."""
    counts = dict(Scan.objects.for_tenant(tenant_id).filter(status=ScanStatus.QUEUED).order_by()
                  .values_list("priority").annotate(n=Count("pk")))
    return [QueueDepth(priority=p.label, queued=counts.get(p.value, 0)) for p in sorted(Priority, reverse=True)]


def _days(days: int, today: date) -> list[date]:
    return [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]


def _window_start(days: int, today: date) -> datetime:
    first = today - timedelta(days=days - 1)
    return datetime(first.year, first.month, first.day, tzinfo=timezone.get_current_timezone())


def dashboard_scans_per_day(*, tenant_id: int, days: int = 14, today: date | None = None) -> list[DayCount]:
    """Scans created on each of the last `days` days (today last), zeros included (index scan_tenant_recent)."""
    today = today or timezone.localdate()
    rows = dict(Scan.objects.for_tenant(tenant_id).filter(created_at__gte=_window_start(days, today))
                .annotate(day=TruncDate("created_at")).order_by().values_list("day").annotate(n=Count("pk")))
    return [DayCount(day=day, count=rows.get(day, 0)) for day in _days(days, today)]


def dashboard_findings_per_day(*, tenant_id: int, days: int = 14,
                               today: date | None = None) -> list[DaySeverities]:
    """New findings (first seen) per day and severity over the last `days` days. A finding first seen in the
    window was also last seen in it, so the last_seen condition lets index finding_tenant_seen_id narrow the
    rows before first_seen is read."""
    today = today or timezone.localdate()
    start = _window_start(days, today)
    rows = (Finding.objects.for_tenant(tenant_id).filter(last_seen__gte=start, first_seen__gte=start)
            .annotate(day=TruncDate("first_seen")).order_by().values_list("day", "severity")
            .annotate(n=Count("pk")))
    counts: dict[date, dict[str, int]] = {}
    for day, severity, n in rows:
        counts.setdefault(day, {})[severity] = n
    return [DaySeverities(day=day, counts={s: counts.get(day, {}).get(s, 0) for s in SEVERITY_ORDER})
            for day in _days(days, today)]


def dashboard_risky_targets(*, tenant_id: int, limit: int = 5) -> list[RiskyTarget]:
    """The targets with the worst open findings among scans of the last 30 days, worst first, each with its
    risk score (findings.selectors.target_risk). One grouped query, then a few per listed target."""
    since = timezone.now() - timedelta(days=RISKY_TARGET_WINDOW_DAYS)
    by_severity = {s: Count("finding_id", distinct=True, filter=Q(finding__severity=s)) for s in SEVERITY_ORDER}
    rows = (FindingOccurrence.objects.for_tenant(tenant_id)
            .filter(scan__tenant_id=tenant_id, scan__created_at__gte=since, finding__status__in=COUNTED_STATUSES)
            .order_by().values("scan__target_value").annotate(**by_severity)
            .order_by(*[f"-{s}" for s in SEVERITY_ORDER], "scan__target_value")[:limit])
    return [RiskyTarget(target=row["scan__target_value"], open_by_severity={s: row[s] for s in SEVERITY_ORDER},
                        risk=target_risk(tenant_id=tenant_id, target_value=row["scan__target_value"]))
            for row in rows]
