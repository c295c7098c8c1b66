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

_NOT_YET = {
    "vulnerability_scanning": "no vulnerability engine is installed on this platform yet",
    "web_analysis": "no web application engine is installed on this platform yet",
    "cloud_analysis": "no cloud inventory is connected to this platform",
    "threat_intelligence": "no threat-intelligence feed is configured",
    "correlation": "only one engine ran, so there is nothing to correlate",
    "ai_analysis": "no AI model is configured on this platform",
    "remediation_planning": "no findings engine ran, so there is nothing to plan",
    "reporting": "reports are produced on request from the results",
}


def plan_for_engine(engine: str, options: dict[str, Any]) -> Plan:
    """seed 002 scanType / native engine: one phase running one engine."""
    return [{"phase": "scan", "steps": [{"engine": engine, "options": options}]}]


def plan_for_scan_type(scan_type: str, *, target_type: str, ports: str | None) -> Plan:
    """seed 003 scan types. quick: top ports, no version probes. full: the named phases; discovery finds
    open ports, enumeration identifies their services; each phase with no engine for it says why."""
    nmap = get_engine("nmap")
    if target_type not in nmap.target_types:
        raise ValueError(f"scan_type {scan_type} needs a host, ip, network or domain target")
    if scan_type == "quick":
        options = {"ports": ports} if ports else {"topPorts": QUICK_TOP_PORTS}
        return [{"phase": "discovery", "steps": [{"engine": "nmap", "options": _nmap(
            {**options, "serviceDetection": False}, target_type)}]}]
    discovery = _nmap({"ports": ports or FULL_DEFAULT_PORTS, "serviceDetection": False}, target_type)
    enumeration = _nmap({"ports": ports or FULL_DEFAULT_PORTS, "serviceDetection": True}, target_type)
    plan: Plan = [
        {"phase": "discovery", "steps": [{"engine": "nmap", "options": discovery}]},
        {"phase": "enumeration", "steps": [{"engine": "nmap", "options": enumeration, "open_ports_only": True}]},
    ]
    remaining = FULL_PHASES[2:]
    if scan_type == "compliance":
        remaining = ("reporting",)
    plan += [{"phase": phase, "steps": [], "skipped": _NOT_YET[phase]} for phase in remaining]
    return plan


def _nmap(options: dict[str, Any], target_type: str) -> dict[str, Any]:
    return get_engine("nmap").validate_options(options, target_type=target_type)


def plan_phases(plan: Plan) -> list[str]:
    return [phase["phase"] for phase in plan]


def plan_engines(plan: Plan, *, required_only: bool = False) -> list[str]:
    """The tools a plan runs (internal steps such as correlation are not tools)."""
    return [step["engine"] for phase in plan for step in phase["steps"]
            if not step.get("internal") and not (required_only and step.get("optional"))]
