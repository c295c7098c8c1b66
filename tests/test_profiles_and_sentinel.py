"""Seed 004 profiles and seed 002 sentinel compile to plans that mean exactly what their rows say."""

import pytest

from config.errors import ValidationFailed
from scans.plans import plan_engines
from scans.services import ScanRequest, scan_request_check

TENANT: dict[str, int] = {}


@pytest.fixture(autouse=True)
def tenant(tenant_a):
    """The request check reads the tenant's plan and assets."""
    TENANT["id"] = tenant_a.tenant_id


def check(**fields):
    return scan_request_check(ScanRequest(target="127.0.0.1", **fields), tenant_id=TENANT["id"])


def nmap_options(checked):
    return checked.plan[0]["steps"][0]["options"]


@pytest.mark.parametrize("profile, expected, timeout_s, cve", [
    ("quick", {"topPorts": 100, "serviceDetection": False}, 30, False),
    ("normal", {"topPorts": 1000, "serviceDetection": True}, 120, False),
    ("deep", {"ports": "1-65535", "serviceDetection": True, "osDetection": True}, 600, True),
    ("stealth", {"topPorts": 1000, "scanTechnique": "syn", "timing": "T2", "maxRate": 100}, 300, False),
])
def test_each_profile_is_its_row(profile, expected, timeout_s, cve):
    checked = check(profile=profile)
    assert expected.items() <= nmap_options(checked).items()
    assert checked.timeout_s == timeout_s
    assert ("cve_match" in [phase["phase"] for phase in checked.plan]) is cve


def test_custom_profile_maps_every_field():
    checked = check(profile="custom", options={"ports": [443, 22, 80], "timeout_ms": 5000, "max_concurrent": 20,
                                               "enable_profiling": True, "enable_cve_match": True})
    options = nmap_options(checked)
    assert (options["ports"], options["maxParallelism"], options["serviceDetection"]) == ("22,80,443", 20, True)
    assert checked.timeout_s == 5 and checked.plan[-1]["phase"] == "cve_match"


@pytest.mark.parametrize("custom, field", [
    ({}, "ports"), ({"ports": [0]}, "ports"), ({"ports": ["22"]}, "ports"),
    ({"ports": [22], "timeout_ms": 10}, "timeout_ms"), ({"ports": [22], "max_concurrent": 0}, "max_concurrent"),
    ({"ports": [22], "enable_profiling": "yes"}, "enable_profiling"),
])
def test_custom_profile_refuses_bad_fields_by_name(custom, field):
    with pytest.raises(ValidationFailed) as caught:
        check(profile="custom", options=custom)
    assert caught.value.field == field


def test_stealth_needs_a_privileged_worker_and_uses_a_syn_scan():
    from engines.registry import get_engine

    options = nmap_options(check(profile="stealth"))
    nmap = get_engine("nmap")
    assert nmap.needs_privileges(options)


@pytest.mark.parametrize("depth, target, engines", [
    ("quick", "127.0.0.1", ["nmap", "nuclei"]),
    ("standard", "localhost", ["nmap", "nuclei"]),  # a host: harvester wants a domain, zap/nikto a URL
    ("standard", "http://127.0.0.1:8080/", ["nuclei", "zap", "nikto"]),
    ("deep", "http://127.0.0.1:8080/", ["nikto", "nuclei", "sqlmap", "sslscan", "sslyze", "testssl", "trivy",
                                        "wapiti", "zap"]),
])
def test_sentinel_picks_engines_by_depth_and_target_type(depth, target, engines):
    checked = scan_request_check(ScanRequest(target=target, engine="sentinel", options={"depth": depth}),
                                 tenant_id=TENANT["id"])
    assert plan_engines(checked.plan) == engines
    assert all(step.get("optional") for phase in checked.plan for step in phase["steps"]
               if not step.get("internal"))
    assert checked.plan[-1]["phase"] == "correlation"


def test_sentinel_runs_the_engines_given_and_refuses_unknown_ones():
    checked = check(engine="sentinel", options={"engines": ["nmap"], "correlate": True})
    assert plan_engines(checked.plan) == ["nmap"] and checked.plan[-1].get("skipped")
    with pytest.raises(ValidationFailed) as caught:
        check(engine="sentinel", options={"depth": "extreme"})
    assert caught.value.field == "options.depth"
