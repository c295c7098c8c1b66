"""Evaluate one framework's controls against a scan's findings and open services. Pure: reads nothing."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from findings.compliance.tables import Framework, ServiceRule

SEVERITY_RANK = {"critical": 4, "high": 3, "medium": 2, "low": 1, "info": 0}
FAILING_STATUSES = ("open", "in_progress")


class FindingLike(Protocol):
    uuid: Any
    title: str
    severity: str
    status: str
    tool: str
    category: str
    affected_component: str
    cve_ids: list[str]
    cwe_ids: list[str]


@dataclass(frozen=True, slots=True)
class OpenService:
    host: str
    port: int
    protocol: str
    service: str


def finding_controls(framework: Framework, finding: FindingLike) -> set[str]:
    """The controls a finding is evidence against (whatever its status), by CWE, category and CVE."""
    controls: set[str] = set()
    for cwe in finding.cwe_ids:
        controls |= framework.by_cwe.get(cwe.upper(), frozenset())
    controls |= framework.by_category.get(finding.category, frozenset())
    if finding.cve_ids:
        controls |= framework.by_category.get("cve", frozenset())
    rank = SEVERITY_RANK.get(finding.severity, 0)
    controls |= {c.id for c in framework.controls
                 if c.fails_on_severity and rank >= SEVERITY_RANK[c.fails_on_severity]}
    return controls


def _rule_matches(rule: ServiceRule, service: OpenService) -> bool:
    if service.service:
        return service.service.lower() in rule.services
    return service.port in rule.ports


def compliance_report(framework: Framework, *, engines_ran: Iterable[str], findings: Iterable[FindingLike],
                      services: Iterable[OpenService]) -> dict[str, Any]:
    """Per control: pass / fail / not_assessed, the engines that could assess it, and the evidence."""
    ran = set(engines_ran)
    failing: dict[str, list[dict[str, Any]]] = {control.id: [] for control in framework.controls}
    exposed: dict[str, list[dict[str, Any]]] = {control.id: [] for control in framework.controls}
    for finding in findings:
        if finding.status not in FAILING_STATUSES or SEVERITY_RANK.get(finding.severity, 0) < 1:
            continue
        item = {"id": str(finding.uuid), "title": finding.title, "severity": finding.severity,
                "status": finding.status, "tool": finding.tool, "affected_component": finding.affected_component}
        for control_id in finding_controls(framework, finding):
            failing[control_id].append(item)
    for service in services:
        for rule in framework.service_rules:
            if _rule_matches(rule, service):
                entry = {"rule": rule.id, "title": rule.title, "host": service.host, "port": service.port,
                         "protocol": service.protocol, "service": service.service or None}
                for control_id in rule.controls:
                    exposed[control_id].append(entry)
    controls = []
    for control in framework.controls:
        assessed_by = sorted(control.engines & ran)
        if failing[control.id] or exposed[control.id]:
            status = "fail"
        elif assessed_by:
            status = "pass"
        else:
            status = "not_assessed"
        controls.append({"id": control.id, "title": control.title, "status": status, "assessed_by": assessed_by,
                         "findings": failing[control.id], "services": exposed[control.id]})
    summary = {state: sum(1 for c in controls if c["status"] == state) for state in ("pass", "fail", "not_assessed")}
    return {"framework": framework.slug, "name": framework.name, "engines_ran": sorted(ran), "summary": summary,
            "controls": controls}
