"""GET /scans/{id}/compliance: pass / fail / not_assessed per control, from the data tables."""

import pytest

from engines.records import Severity
from findings.compliance.tables import framework
from findings.models import Finding
from findings.tests.factories import ingest, make_scan, make_service, record



def statuses(body):
    return {control["id"]: control["status"] for control in body["controls"]}


def get(client, scan, framework_slug):
    response = client.get(f"/api/v1/scans/{scan.pk}/compliance", {"framework": framework_slug})
    assert response.status_code == 200, response.json()
    return response.json()


def test_an_nmap_only_scan_assesses_network_controls_and_no_others(client_for, tenant_a):
    scan = make_scan(tenant_a.tenant_id)
    make_service(scan, port=443, service="https")
    body = get(client_for(tenant_a), scan, "pci-dss")
    assert body["engines_ran"] == ["nmap"] and body["name"] == "PCI DSS v4.0.1"
    assert statuses(body) == {"1.3": "pass", "2.2": "pass", "4.2.1": "pass", "6.2.4": "not_assessed",
                              "6.3.3": "not_assessed", "8.3": "not_assessed", "11.3": "not_assessed"}
    assert body["summary"] == {"pass": 3, "fail": 0, "not_assessed": 4}


def test_exposed_services_fail_their_controls(client_for, tenant_a):
    scan = make_scan(tenant_a.tenant_id)
    make_service(scan, port=23, service="telnet")
    make_service(scan, port=6379, service="redis")
    make_service(scan, port=5432, service="postgresql", state="closed")
    body = get(client_for(tenant_a), scan, "soc2")
    assert statuses(body)["CC6.7"] == "fail" and statuses(body)["CC6.6"] == "fail"
    cc66 = next(control for control in body["controls"] if control["id"] == "CC6.6")
    assert cc66["services"] == [{"rule": "database-exposed", "title": "Database or cache service reachable from "
                                 "the scanner", "host": "127.0.0.1", "port": 6379, "protocol": "tcp",
                                 "service": "redis"}]


def test_findings_fail_the_controls_their_cwe_category_or_cve_map_to(client_for, tenant_a):
    plan = [{"phase": "web", "steps": [{"engine": "zap", "options": {}}, {"engine": "sslyze", "options": {}}]}]
    scan = make_scan(tenant_a.tenant_id, plan=plan, engine="")
    ingest(scan, record("xss", engine="zap", severity=Severity.MEDIUM, cwe_ids=("CWE-79",)),
           record("tls-old", engine="sslyze", severity=Severity.MEDIUM, category="tls"),
           record("cve", engine="nuclei", severity=Severity.CRITICAL, cve_ids=("CVE-2021-44228",)),
           record("note", engine="zap", severity=Severity.INFO, cwe_ids=("CWE-89",)))
    body = get(client_for(tenant_a), scan, "pci-dss")
    assert statuses(body) == {"1.3": "not_assessed", "2.2": "pass", "4.2.1": "fail", "6.2.4": "fail",
                              "6.3.3": "fail", "8.3": "pass", "11.3": "fail"}
    failing = {c["id"]: sorted(f["title"] for f in c["findings"]) for c in body["controls"] if c["findings"]}
    assert failing == {"4.2.1": ["Issue tls-old"], "6.2.4": ["Issue xss"], "6.3.3": ["Issue cve"],
                       "11.3": ["Issue cve"]}
    assert body["engines_ran"] == ["nuclei", "sslyze", "zap"]


def test_resolved_and_false_positive_findings_do_not_fail(client_for, tenant_a):
    plan = [{"phase": "web", "steps": [{"engine": "zap", "options": {}}]}]
    scan = make_scan(tenant_a.tenant_id, plan=plan, engine="")
    ingest(scan, record("xss", engine="zap", severity=Severity.HIGH, cwe_ids=("CWE-79",)),
           record("sqli", engine="zap", severity=Severity.HIGH, cwe_ids=("CWE-89",)))
    Finding.objects.filter(rule_id="xss").update(status="resolved")
    Finding.objects.filter(rule_id="sqli").update(status="false_positive")
    assert statuses(get(client_for(tenant_a), scan, "soc2"))["CC7.1"] == "pass"


def test_a_running_scan_counts_only_completed_phases(client_for, tenant_a):
    plan = [{"phase": "discovery", "steps": [{"engine": "nmap", "options": {}}]},
            {"phase": "web", "steps": [{"engine": "zap", "options": {}}]},
            {"phase": "cloud", "steps": [], "skipped": "no cloud inventory"}]
    scan = make_scan(tenant_a.tenant_id, plan=plan, status="running", phases_completed=["discovery"])
    assert get(client_for(tenant_a), scan, "soc2")["engines_ran"] == ["nmap"]


@pytest.mark.parametrize("query", [{}, {"framework": "hipaa"}])
def test_framework_is_required_and_checked(client_for, tenant_a, query):
    scan = make_scan(tenant_a.tenant_id)
    response = client_for(tenant_a).get(f"/api/v1/scans/{scan.pk}/compliance", query)
    assert response.status_code == 400 and response.json()["error"]["field"] == "framework"


def test_every_table_row_names_known_controls():
    for slug in ("soc2", "pci-dss"):
        table = framework(slug)
        assert len(table.controls) >= 6 and len(table.by_cwe) >= 40 and "cve" in table.by_category
