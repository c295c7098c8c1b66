"""Seed 004 profiles and seed 002 sentinel scans, compiled into plans (see scans/plans.py).

Profiles, each exactly its row of seed 004:
  quick    top 100 ports, no profiling, 30 s
  normal   top 1000 ports + device profiling (service/version detection), 120 s
  deep     all 65535 ports + full profiling (versions, OS guess, default safe scripts) + CVE match, 600 s
  stealth  SYN scan at a low rate (T2, at most 100 packets/s), 1000 ports, 300 s
  custom   `ports` (a list), `timeout_ms` (the scan's whole timeout), `max_concurrent` (probes in flight),
           `enable_profiling`, `enable_cve_match`
CVE matching runs after discovery, against the local vulnerability database (manage.py load_nvd).

Sentinel (seed 002) picks engines by depth and target type, or runs the `engines` given:
  quick     nmap + nuclei
  standard  nmap + nuclei + harvester + zap or nikto
  deep      every registered engine that accepts the target type
Engines that do not accept the target type are left out; a chosen engine that no worker has is skipped
with its reason instead of failing the whole scan.
"""

from __future__ import annotations

import math
from typing import Any

from engines.options import Option, OptionSchema
from engines.registry import ENGINES, get_engine
from scans.plans import Plan

PROFILES: dict[str, dict[str, Any]] = {
    "quick": {"nmap": {"topPorts": 100, "serviceDetection": False}, "timeout_s": 30, "cve": False},
    "normal": {"nmap": {"topPorts": 1000, "serviceDetection": True}, "timeout_s": 120, "cve": False},
    "deep": {"nmap": {"ports": "1-65535", "serviceDetection": True, "osDetection": True, "scriptScan": True,
                      "scripts": ["default", "safe"]}, "timeout_s": 600, "cve": True},
    "stealth": {"nmap": {"topPorts": 1000, "serviceDetection": False, "scanTechnique": "syn", "timing": "T2",
                         "maxRate": 100}, "timeout_s": 300, "cve": False},
}
PROFILE_NAMES = (*PROFILES, "custom")

SENTINEL_DEPTHS = {
    "quick": ("nmap", "nuclei"),
    "standard": ("nmap", "nuclei", "harvester", "zap", "nikto"),
}
SENTINEL_SCHEMA = OptionSchema((
    Option("depth", str, "standard", "Assessment depth", choices=("quick", "standard", "deep")),
    Option("engines", list, [], "Engines to include (default: chosen by depth and target type)",
           choices=tuple(sorted(ENGINES))),
    Option("correlate", bool, True, "Correlate findings across engines"),
    Option("riskScore", bool, True, "Calculate an aggregated risk score"),
))
CVE_PHASE = {"phase": "cve_match", "steps": [{"engine": "cve-match", "options": {}, "internal": True}]}


class ProfileError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def plan_for_profile(profile: str, *, target_type: str, custom: dict[str, Any]) -> tuple[Plan, int]:
    """(plan, timeout in seconds) for a seed 004 profile. Raises ProfileError naming the bad field."""
    nmap = get_engine("nmap")
    if target_type not in nmap.target_types:
        raise ProfileError("target", f"profiles scan hosts and networks, not {target_type} targets")
    if profile == "custom":
        options, timeout_s, cve = _custom(custom)
    elif profile in PROFILES:
        row = PROFILES[profile]
        options, timeout_s, cve = dict(row["nmap"]), row["timeout_s"], row["cve"]
    else:
        raise ProfileError("profile", f"profile must be one of {', '.join(PROFILE_NAMES)}")
    plan: Plan = [{"phase": "discovery", "steps": [
        {"engine": "nmap", "options": nmap.validate_options(options, target_type=target_type)}]}]
    if cve:
        plan.append(CVE_PHASE)
    return plan, timeout_s


def _custom(custom: dict[str, Any]) -> tuple[dict[str, Any], int, bool]:
    ports = custom.get("ports")
    if not isinstance(ports, list) or not ports or len(ports) > 1000 or not all(
            isinstance(p, int) and not isinstance(p, bool) and 1 <= p <= 65535 for p in ports):
        raise ProfileError("ports", "the custom profile needs ports: a list of 1 to 1000 port numbers")
    options: dict[str, Any] = {"ports": ",".join(str(p) for p in sorted(set(ports))),
                               "serviceDetection": _flag(custom, "enable_profiling", False)}
    timeout_ms = custom.get("timeout_ms", 120_000)
    if isinstance(timeout_ms, bool) or not isinstance(timeout_ms, int) or not 1000 <= timeout_ms <= 86_400_000:
        raise ProfileError("timeout_ms", "timeout_ms must be an integer from 1000 to 86400000")
    max_concurrent = custom.get("max_concurrent")
    if max_concurrent is not None:
        if isinstance(max_concurrent, bool) or not isinstance(max_concurrent, int) or not 1 <= max_concurrent <= 1024:
            raise ProfileError("max_concurrent", "max_concurrent must be an integer from 1 to 1024")
        options["maxParallelism"] = max_concurrent
    return options, math.ceil(timeout_ms / 1000), _flag(custom, "enable_cve_match", False)


def _flag(custom: dict[str, Any], name: str, default: bool) -> bool:
    value = custom.get(name, default)
    if not isinstance(value, bool):
        raise ProfileError(name, f"{name} must be true or false")
    return value


SENTINEL_TARGET_TYPES = ("url", "host", "domain", "ip")  # seed 002's table


def plan_for_sentinel(options: dict[str, Any], *, target_type: str) -> Plan:
    """Seed 002 sentinel: one phase per chosen engine (each step optional), then correlation."""
    if target_type not in SENTINEL_TARGET_TYPES:
        raise ProfileError("target_type", f"sentinel scans {', '.join(SENTINEL_TARGET_TYPES)} targets, "
                                          f"not {target_type}")
    depth = options["depth"]
    wanted = options.get("engines") or (
        SENTINEL_DEPTHS[depth] if depth in SENTINEL_DEPTHS else tuple(sorted(ENGINES)))
    chosen = [name for name in wanted if target_type in get_engine(name).target_types]
    if not chosen:
        raise ProfileError("options.engines", f"no sentinel engine accepts a {target_type} target")
    plan: Plan = [{"phase": f"{name}", "steps": [
        {"engine": name, "options": get_engine(name).validate_options({}, target_type=target_type),
         "optional": True}]} for name in chosen]
    if options["correlate"] and len(chosen) > 1:
        plan.append({"phase": "correlation", "steps": [{"engine": "correlate", "options": {}, "internal": True}]})
    elif options["correlate"]:
        plan.append({"phase": "correlation", "steps": [], "skipped": "only one engine applies to this target"})
    return plan
