"""Internal plan steps: work a phase does with what earlier phases found, rather than one tool on the
scan's target. Each takes the run state and a `run_step` callable that runs a derived engine step (with its
own target) through the normal runner, so derived steps stream events, obey cancellation and the scan's
timeout, and store their results like any other.

- tls-services      sslyze on every TLS service found (optional: skipped where sslyze is missing)
- web-services      wapiti on every HTTP(S) service found (at most MAX_WEB_SERVICES)
- cve-match         products/versions found against the local vulnerability database
- correlate         how many raw findings of several engines merged into how many (seed 002 correlate)
- remediation-plan  the scan's findings grouped by fix, worst first
- report            counts by severity, hosts, open ports, and per-framework compliance when asked
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Callable

from engines.registry import get_engine
from findings.models import Finding, FindingOccurrence
from scans.models import Scan, Service

MAX_WEB_SERVICES = 5
WEB_SERVICES = {"http", "https", "http-proxy", "http-alt", "https-alt"}
TLS_SERVICES = {"https", "ssl", "https-alt", "imaps", "pop3s", "smtps", "ldaps"}
SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}

RunStep = Callable[[dict[str, Any]], str]


def _save_extra(scan: Scan, **fields: Any) -> None:
    scan.refresh_from_db(fields=["extra"])  # derived steps may have added skipped_steps meanwhile
    scan.extra = {**scan.extra, **fields}
    Scan.objects.filter(pk=scan.pk).update(extra=scan.extra)


def _open_services(scan: Scan) -> list[Service]:
    return list(Service.objects.filter(scan=scan, state="open").select_related("host").order_by("port"))


def _address(service: Service, scan: Scan) -> str:
    return service.host.ip or scan.target_address or service.host.hostname


def tls_services(state, run_step: RunStep) -> None:
    scan = state.scan
    tls = [s for s in _open_services(scan) if s.service in TLS_SERVICES or s.port in (443, 8443)]
    for service in tls:
        host = scan.target_value if scan.target_type in ("domain", "host") else _address(service, scan)
        run_step({"engine": "sslyze", "optional": True,
                  "options": get_engine("sslyze").validate_options({"ports": str(service.port)}, target_type="ip"),
                  "target": host, "target_type": "host" if host == scan.target_value else "ip",
                  "address": _address(service, scan)})
    _save_extra(scan, tls_services_checked=[s.port for s in tls])


def web_services(state, run_step: RunStep) -> None:
    scan = state.scan
    web = [s for s in _open_services(scan) if s.service in WEB_SERVICES][:MAX_WEB_SERVICES]
    for service in web:
        scheme = "https" if service.service.startswith("https") or service.port in (443, 8443) else "http"
        address = _address(service, scan)
        host = f"[{address}]" if ":" in address else address
        run_step({"engine": "wapiti", "options": get_engine("wapiti").validate_options({}, target_type="url"),
                  "optional": True, "target": f"{scheme}://{host}:{service.port}/", "target_type": "url",
                  "address": address})
    _save_extra(scan, web_services_checked=[f"{s.port}/{s.service}" for s in web])


def cve_match(state, run_step: RunStep) -> None:
    from findings.vulndb.services import cve_findings_for_services

    state.raw_findings["cve-match"] = cve_findings_for_services(tenant_id=state.scan.tenant_id, scan=state.scan)


def correlate(state, run_step: RunStep) -> None:
    scan = state.scan
    distinct = FindingOccurrence.objects.filter(scan_id=scan.pk).count()
    raw = sum(state.raw_findings.values())
    _save_extra(scan, correlation={"raw_findings": raw, "distinct_findings": distinct,
                                   "merged": max(0, raw - distinct), "by_engine": dict(state.raw_findings)})


def _scan_findings(scan: Scan) -> list[Finding]:
    return list(Finding.objects.filter(tenant_id=scan.tenant_id, occurrence_rows__scan_id=scan.pk)
                .exclude(status="false_positive"))


def remediation_plan(state, run_step: RunStep) -> None:
    groups: dict[str, dict[str, Any]] = defaultdict(lambda: {"findings": 0, "components": set(), "worst": "info"})
    for finding in _scan_findings(state.scan):
        fix = finding.remediation.strip() or f"Review: {finding.title}"
        group = groups[fix]
        group["findings"] += 1
        group["components"].add(finding.affected_component)
        if SEVERITY_ORDER[finding.severity] < SEVERITY_ORDER[group["worst"]]:
            group["worst"] = finding.severity
    plan = sorted(({"remediation": fix[:1000], "severity": g["worst"], "findings": g["findings"],
                    "components": sorted(g["components"])[:20]} for fix, g in groups.items()),
                  key=lambda item: (SEVERITY_ORDER[item["severity"]], -item["findings"]))
    _save_extra(state.scan, remediation_plan=plan)


def report(state, run_step: RunStep) -> None:
    scan = state.scan
    counts = dict.fromkeys(SEVERITY_ORDER, 0)
    for finding in _scan_findings(scan):
        counts[finding.severity] += 1
    summary: dict[str, Any] = {"findings_by_severity": counts, "hosts": scan.hosts_found,
                               "open_ports": Service.objects.filter(scan=scan, state="open").count()}
    frameworks = scan.extra.get("frameworks") or []
    if frameworks:
        from findings.compliance.selectors import scan_compliance

        summary["compliance"] = {framework: scan_compliance(tenant_id=scan.tenant_id, scan=scan,
                                                            framework=framework).get("summary")
                                 for framework in frameworks}
    _save_extra(scan, report=summary)


INTERNAL_STEPS: dict[str, Callable[[Any, RunStep], None]] = {
    "tls-services": tls_services, "web-services": web_services, "cve-match": cve_match, "correlate": correlate,
    "remediation-plan": remediation_plan, "report": report,
}
