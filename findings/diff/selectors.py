"""Scan diff: a read, safe to call from the API and when a scheduled run completes (it writes nothing).

Baseline: `against` when given (a scan of the same tenant: another tenant's is the same 404 as none), else
the previous completed scan of the same target and plan signature: same target_value, engine, scan_type
and profile, created before this one. With no baseline every finding is new and every open port opened.

Classification of findings (by identity, i.e. fingerprint, so a finding keeps its id across scans):
  new        seen by this scan, not by the baseline, and by no scan created before this one
  reopened   seen by this scan, not by the baseline, but by an earlier scan (it had gone and came back)
  unchanged  seen by both
  fixed      seen by the baseline, not by this scan
Ports are (host, port, protocol) of Service rows in state open.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from findings.models import Finding, FindingOccurrence
from findings.selectors import SEVERITY_RANK
from scans.models import Scan, ScanStatus, Service
from scans.selectors import scan_get


@dataclass(frozen=True, slots=True)
class Port:
    host: str
    port: int
    protocol: str
    service: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class ScanDiff:
    scan: Scan
    against: Scan | None
    new: list[Finding]
    reopened: list[Finding]
    unchanged: list[Finding]
    fixed: list[Finding]
    ports_opened: list[Port]
    ports_closed: list[Port]


def scan_previous(*, tenant_id: int, scan: Scan) -> Scan | None:
    """The latest completed scan of the same target and plan signature created before `scan`."""
    return (Scan.objects.for_tenant(tenant_id)
            .filter(target_value=scan.target_value, engine=scan.engine, scan_type=scan.scan_type,
                    profile=scan.profile, status=ScanStatus.COMPLETED, created_at__lt=scan.created_at)
            .exclude(pk=scan.pk).order_by("-created_at").first())


def _finding_ids(tenant_id: int, scan: Scan | None) -> set[int]:
    if scan is None:
        return set()
    return set(FindingOccurrence.objects.for_tenant(tenant_id).filter(scan=scan)
               .values_list("finding_id", flat=True))


def _open_ports(tenant_id: int, scan: Scan | None) -> dict[Port, Port]:
    if scan is None:
        return {}
    rows = (Service.objects.for_tenant(tenant_id).filter(scan=scan, state="open")
            .values_list("host__ip", "host__hostname", "port", "protocol", "service"))
    ports = [Port(host=ip or hostname, port=port, protocol=protocol, service=name)
             for ip, hostname, port, protocol, name in rows]
    return {port: port for port in ports}


def _port_order(port: Port) -> tuple[str, int, str]:
    return port.host, port.port, port.protocol


def scan_diff(*, tenant_id: int, scan: Scan, against: Any = None) -> ScanDiff:
    """Compare `scan` with `against` (a Scan, a scan id, or None for the previous comparable scan)."""
    if against is None:
        baseline = scan_previous(tenant_id=tenant_id, scan=scan)
    elif isinstance(against, Scan):
        baseline = scan_get(tenant_id=tenant_id, scan_id=against.pk)
    else:
        baseline = scan_get(tenant_id=tenant_id, scan_id=against)
    current, previous = _finding_ids(tenant_id, scan), _finding_ids(tenant_id, baseline)
    appeared = current - previous
    excluded = [scan.pk] + ([baseline.pk] if baseline else [])
    seen_before = set(FindingOccurrence.objects.for_tenant(tenant_id)
                      .filter(finding_id__in=appeared, scan__created_at__lt=scan.created_at)
                      .exclude(scan_id__in=excluded).values_list("finding_id", flat=True)) if appeared else set()
    rows = {f.pk: f for f in Finding.objects.for_tenant(tenant_id).filter(pk__in=current | previous)
            .order_by("pk")} if current or previous else {}

    def pick(ids: set[int]) -> list[Finding]:
        """Worst first, then in the order the findings were first stored."""
        return sorted((rows[pk] for pk in ids if pk in rows), key=lambda f: (-SEVERITY_RANK[f.severity], f.pk))

    now_open, before_open = _open_ports(tenant_id, scan), _open_ports(tenant_id, baseline)
    return ScanDiff(
        scan=scan, against=baseline,
        new=pick(appeared - seen_before), reopened=pick(appeared & seen_before),
        unchanged=pick(current & previous), fixed=pick(previous - current),
        ports_opened=sorted((now_open[p] for p in now_open.keys() - before_open.keys()), key=_port_order),
        ports_closed=sorted((before_open[p] for p in before_open.keys() - now_open.keys()), key=_port_order),
    )
