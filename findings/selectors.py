"""Reads for findings. Every function takes tenant_id; another tenant's finding or scan is the same 404 as a
missing one (the scan is resolved by scans.selectors.scan_get, which scopes by tenant)."""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Generic, TypeVar

from django.db.models import Case, Count, F, IntegerField, QuerySet, Sum, Value, When

from config.errors import NotFound
from findings.models import Finding, FindingOccurrence, FindingStatusChange, FindingTally
from findings.risk import COUNTED_STATUSES, Exposure, RiskScore, risk_score
from scans.models import Host, Scan, ScanStatus, Service
from scans.selectors import as_uuid

T = TypeVar("T")
SEVERITY_RANK = {"critical": 4, "high": 3, "medium": 2, "low": 1, "info": 0}
OPEN_PORT_STATES = ("open",)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return math.ceil(self.total / self.per_page) if self.total else 0


def page_of(queryset: QuerySet[Any], *, page: int, per_page: int, total: int | None = None) -> Page[Any]:
    """One page of a queryset and its total: two queries (count, then the slice), or one when the caller
    already knows the total."""
    if total is None:
        total = queryset.count()
    items = list(queryset[(page - 1) * per_page : page * per_page]) if total > (page - 1) * per_page else []
    return Page(items=items, total=total, page=page, per_page=per_page)


@dataclass(frozen=True, slots=True)
class FindingFilters:
    severity: str | None = None
    status: str | None = None
    tool: str | None = None
    host: str | None = None
    target: str | None = None  # the scan target (Scan.target_value) of any scan that saw the finding
    cve: str | None = None
    seen_from: datetime | None = None  # on last_seen
    seen_to: datetime | None = None


# The filters FindingTally cannot total: any of them set means counting the matching rows.
_UNTALLIED_FILTERS = tuple(field.name for field in fields(FindingFilters)
                           if field.name not in ("severity", "status", "tool"))


def finding_page(*, tenant_id: int, filters: FindingFilters, page: int, per_page: int) -> Page[Finding]:
    """One page of finding_list with its exact total. Filtered by severity, status and tool only (the triage
    views, and the unfiltered list), the total is a sum over the tenant's FindingTally rows instead of a count
    over up to millions of findings; any other filter counts the matching rows."""
    queryset = finding_list(tenant_id=tenant_id, filters=filters)
    total = None
    if not any(getattr(filters, name) for name in _UNTALLIED_FILTERS):
        tallies = FindingTally.objects.for_tenant(tenant_id)
        if filters.severity:
            tallies = tallies.filter(severity=filters.severity)
        if filters.status:
            tallies = tallies.filter(status=filters.status)
        if filters.tool:
            tallies = tallies.filter(tool=filters.tool)
        total = tallies.aggregate(total=Sum("delta"))["total"] or 0
    return page_of(queryset, page=page, per_page=per_page, total=total)


def finding_get(*, tenant_id: int, finding_id: Any) -> Finding:
    finding_uuid = as_uuid(finding_id)
    finding = Finding.objects.for_tenant(tenant_id).filter(uuid=finding_uuid).first() if finding_uuid else None
    if finding is None:
        raise NotFound("Finding not found")
    return finding


def finding_status_history(*, tenant_id: int, finding: Finding, limit: int = 50) -> list[FindingStatusChange]:
    """The finding's status changes, newest first."""
    return list(FindingStatusChange.objects.for_tenant(tenant_id).filter(finding=finding)
                .order_by("-changed_at", "-pk")[:limit])


def finding_list(*, tenant_id: int, filters: FindingFilters = FindingFilters()) -> QuerySet[Finding]:
    """The tenant's findings across scans, most recently seen first (index finding_sev_status_seen)."""
    queryset = Finding.objects.for_tenant(tenant_id)
    if filters.severity:
        queryset = queryset.filter(severity=filters.severity)
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.tool:
        queryset = queryset.filter(tool=filters.tool)
    if filters.host:
        queryset = queryset.filter(host=filters.host.lower())
    if filters.cve:
        queryset = queryset.filter(cve_ids__contains=[filters.cve.upper()])
    if filters.seen_from:
        queryset = queryset.filter(last_seen__gte=filters.seen_from)
    if filters.seen_to:
        queryset = queryset.filter(last_seen__lte=filters.seen_to)
    if filters.target:
        seen_by = FindingOccurrence.objects.for_tenant(tenant_id).filter(
            scan__tenant_id=tenant_id, scan__target_value__iexact=filters.target).values("finding_id")
        queryset = queryset.filter(pk__in=seen_by)
    return queryset.order_by("-last_seen", "-pk")


def _severity_rank(prefix: str = "") -> Case:
    return Case(*[When(**{f"{prefix}severity": name}, then=Value(rank)) for name, rank in SEVERITY_RANK.items()],
                default=Value(0), output_field=IntegerField())


def scan_occurrence_list(*, tenant_id: int, scan: Scan, severity: str | None = None,
                         status: str | None = None) -> QuerySet[FindingOccurrence]:
    """The scan's findings as occurrences (with `detected_at` of this scan) joined to their finding; worst
    first, then highest CVSS. Filters apply to the finding's current severity and status."""
    queryset = (FindingOccurrence.objects.for_tenant(tenant_id).filter(scan=scan).select_related("finding")
                .filter(finding__tenant_id=tenant_id))
    if severity:
        queryset = queryset.filter(finding__severity=severity)
    if status:
        queryset = queryset.filter(finding__status=status)
    return queryset.annotate(rank=_severity_rank("finding__")).order_by(
        "-rank", F("finding__cvss_score").desc(nulls_last=True), "finding_id")


def scan_findings(*, tenant_id: int, scan: Scan, severity: str | None = None,
                  status: str | None = None) -> QuerySet[Finding]:
    """The findings a scan saw (for exports, compliance and diffs), in a stable order."""
    queryset = Finding.objects.for_tenant(tenant_id).filter(occurrence_rows__scan=scan)
    if severity:
        queryset = queryset.filter(severity=severity)
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("tool", "rule_id", "pk")


def findings_for_export(queryset: QuerySet[Finding]) -> QuerySet[Finding]:
    """Exports stream in tool/rule order (SARIF groups results by tool) without caching rows."""
    return queryset.order_by("tool", "rule_id", "pk")


def _exposure(tenant_id: int, scans: Sequence[Scan]) -> Exposure:
    if not scans:
        return Exposure()
    open_ports = (Service.objects.for_tenant(tenant_id).filter(scan__in=scans, state__in=OPEN_PORT_STATES)
                  .values("host__ip", "host__hostname", "port", "protocol").distinct().count())
    addresses = set(Host.objects.for_tenant(tenant_id).filter(scan__in=scans).values_list("ip", flat=True))
    addresses |= {scan.target_address for scan in scans}
    return Exposure(open_ports=open_ports, internet_facing=any(_is_global(value) for value in addresses))


def _is_global(value: str) -> bool:
    try:
        return ipaddress.ip_address(value).is_global
    except ValueError:
        return False


def _groups(queryset: QuerySet[Finding]) -> list[tuple[str, float | None, int]]:
    rows = (queryset.filter(status__in=COUNTED_STATUSES).order_by().values("severity", "cvss_score")
            .annotate(n=Count("pk")))
    return [(row["severity"], None if row["cvss_score"] is None else float(row["cvss_score"]), row["n"])
            for row in rows]


def scan_risk(*, tenant_id: int, scan: Scan) -> RiskScore:
    """The scan's risk score (findings.risk): its findings' current status, severity and CVSS, and the open
    ports and addresses it found. Three queries; writes nothing."""
    findings = Finding.objects.for_tenant(tenant_id).filter(occurrence_rows__scan=scan)
    return risk_score(_groups(findings), _exposure(tenant_id, [scan]))


def target_risk(*, tenant_id: int, target_value: str) -> RiskScore:
    """A target's risk: the open findings any scan of it saw, with the exposure its latest completed scan
    found. Writes nothing."""
    scans = Scan.objects.for_tenant(tenant_id).filter(target_value__iexact=target_value)
    latest = scans.filter(status=ScanStatus.COMPLETED).order_by("-created_at").first()
    findings = finding_list(tenant_id=tenant_id, filters=FindingFilters(target=target_value))
    return risk_score(_groups(findings), _exposure(tenant_id, [latest] if latest else []))
