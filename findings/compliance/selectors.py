"""Reads behind the compliance report of a scan."""

from __future__ import annotations

from typing import Any

from findings.compliance.evaluate import OpenService, compliance_report
from findings.compliance.tables import framework as framework_table
from findings.models import Finding, KnownCve
from scans.models import Scan, ScanStatus, Service
from scans.plans import plan_engines

CVE_MATCH = "cve-match"


def scan_engines_ran(*, tenant_id: int, scan: Scan) -> set[str]:
    """Engines that ran for the scan: the steps of its completed phases (all of its non-skipped phases once it
    completed), the tools of the findings it holds, and cve-match when an nmap step with service detection
    ran and a vulnerability database is loaded (CVE matching runs on that step's services)."""
    completed = set(scan.phases_completed)
    phases = [p for p in scan.plan if not p.get("skipped")
              and (scan.status == ScanStatus.COMPLETED or p.get("phase") in completed)]
    ran = set(plan_engines(phases))
    ran |= set(Finding.objects.for_tenant(tenant_id).filter(occurrence_rows__scan=scan)
               .order_by().values_list("tool", flat=True).distinct())
    version_probe = any(step.get("engine") == "nmap" and (step.get("options") or {}).get("serviceDetection")
                        for phase in phases for step in phase.get("steps", []))
    if version_probe and KnownCve.objects.exists():
        ran.add(CVE_MATCH)
    return ran


def scan_compliance(*, tenant_id: int, scan: Scan, framework: str) -> dict[str, Any]:
    """The scan's report for one framework (see findings.compliance). Four queries; writes nothing."""
    table = framework_table(framework)
    findings = (Finding.objects.for_tenant(tenant_id).filter(occurrence_rows__scan=scan)
                .only("uuid", "title", "severity", "status", "tool", "category", "affected_component", "cve_ids",
                      "cwe_ids").order_by("pk"))
    services = [OpenService(host=ip or hostname, port=port, protocol=protocol, service=name)
                for ip, hostname, port, protocol, name in Service.objects.for_tenant(tenant_id)
                .filter(scan=scan, state="open").order_by("host__ip", "port")
                .values_list("host__ip", "host__hostname", "port", "protocol", "service")]
    report = compliance_report(table, engines_ran=scan_engines_ran(tenant_id=tenant_id, scan=scan),
                               findings=findings, services=services)
    return {"scan_id": str(scan.pk), **report}
