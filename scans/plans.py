"""Compile a request into a plan: ordered phases, each with engine steps or a reason it is skipped.

    [{"phase": "discovery", "steps": [{"engine": "nmap", "options": {...}}]},
     {"phase": "web_analysis", "steps": [], "skipped": "no web engine applies to an ip target"}]

The worker runs plans; it never looks at which API or scan type produced one.
"""

from __future__ import annotations

from typing import Any

from engines.registry import get_engine

Plan = list[dict[str, Any]]

# Seed 003's full scan reports these phases, in this order.
FULL_PHASES = ("discovery", "enumeration", "vulnerability_scanning", "web_analysis", "cloud_analysis",
               "threat_intelligence", "correlation", "ai_analysis", "remediation_planning", "reporting")
QUICK_TOP_PORTS = 100
FULL_DEFAULT_PORTS = "1-1000"

_SKIPPED = {
    "cloud_analysis": "no cloud account inventory is connected to this installation",
    "threat_intelligence": "no threat-intelligence feed is configured on this installation",
    "ai_analysis": "no AI model is configured on this installation",
}


def _internal(name: str) -> dict[str, Any]:
    return {"engine": name, "options": {}, "internal": True}


def plan_for_engine(engine: str, options: dict[str, Any]) -> Plan:
    """seed 002 scanType / native engine: one phase running one engine."""
    return [{"phase": "scan", "steps": [{"engine": engine, "options": options}]}]


def plan_for_scan_type(scan_type: str, *, target_type: str, ports: str | None) -> Plan:
    """seed 003 scan types, each phase doing real work with the engines and data this installation has:
    discovery finds open ports; enumeration identifies their services; vulnerability_scanning runs TLS
    analysis on TLS services, CVE matching on the versions found and nuclei where installed; web_analysis
    runs wapiti on the web services found; correlation, remediation_planning and reporting work on the
    findings. Phases with nothing to work with here (cloud, threat intelligence, AI) say why they are
    skipped. quick: top 100 ports, no web analysis. compliance: the checks the frameworks map."""
    nmap = get_engine("nmap")
    if target_type not in nmap.target_types:
        raise ValueError(f"scan_type {scan_type} needs a host, ip, network or domain target")
    port_choice = {"ports": ports} if ports else (
        {"topPorts": QUICK_TOP_PORTS} if scan_type == "quick" else {"ports": FULL_DEFAULT_PORTS})
    discovery = _nmap({**port_choice, "serviceDetection": False}, target_type)
    enumeration = _nmap({**port_choice, "serviceDetection": True}, target_type)
    vulnerability = [_internal("tls-services"), _internal("cve-match")]
    if target_type != "network":
        vulnerability.append({"engine": "nuclei", "options": get_engine("nuclei").validate_options(
            {}, target_type=target_type), "optional": True})
    plan: Plan = [
        {"phase": "discovery", "steps": [{"engine": "nmap", "options": discovery}]},
        {"phase": "enumeration", "steps": [{"engine": "nmap", "options": enumeration, "open_ports_only": True}]},
        {"phase": "vulnerability_scanning", "steps": vulnerability},
    ]
    if scan_type == "full":
        plan += [{"phase": "web_analysis", "steps": [_internal("web-services")]}]
        plan += [{"phase": phase, "steps": [], "skipped": _SKIPPED[phase]} for phase in
                 ("cloud_analysis", "threat_intelligence")]
        plan += [{"phase": "correlation", "steps": [_internal("correlate")]},
                 {"phase": "ai_analysis", "steps": [], "skipped": _SKIPPED["ai_analysis"]},
                 {"phase": "remediation_planning", "steps": [_internal("remediation-plan")]}]
    plan.append({"phase": "reporting", "steps": [_internal("report")]})
    return plan


def _nmap(options: dict[str, Any], target_type: str) -> dict[str, Any]:
    return get_engine("nmap").validate_options(options, target_type=target_type)


def plan_phases(plan: Plan) -> list[str]:
    return [phase["phase"] for phase in plan]


def plan_engines(plan: Plan, *, required_only: bool = False) -> list[str]:
    """The tools a plan runs (internal steps such as correlation are not tools)."""
    return [step["engine"] for phase in plan for step in phase["steps"]
            if not step.get("internal") and not (required_only and step.get("optional"))]
