"""POST /api/v1/scans/import: a report run elsewhere becomes a completed scan, processed like our own;
a malformed or mismatched file is a 400 that says what is wrong and stores nothing."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from findings.models import Finding
from scans.models import Host, Scan, Service

URL = "/api/v1/scans/import"
ENGINES = Path(__file__).resolve().parents[2] / "engines"


def upload(client, engine, fixture, **fields):
    path = ENGINES / engine / "tests" / "fixtures" / fixture
    return client.post(URL, {"engine": engine, "file": SimpleUploadedFile(path.name, path.read_bytes()), **fields},
                       format="multipart")


def test_a_nuclei_report_becomes_a_completed_scan_with_its_findings(client_for, tenant_a):
    response = upload(client_for(tenant_a), "nuclei", "scb_log4shell.jsonl", name="from CI")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["engine"], body["name"], body["progress"]) == ("completed", "nuclei", "from CI", 100)
    assert body["critical_count"] == 1 and body["vulnerabilities_found"] == 1
    finding = Finding.objects.get(tenant_id=tenant_a.tenant_id)
    assert finding.cve_ids == ["CVE-2021-44228"] and finding.severity == "critical"
    scans = client_for(tenant_a).get(f"/api/v1/scans/{body['id']}/result").json()
    assert scans["devices_found"] == 1


def test_an_nmap_report_gives_hosts_and_ports_and_a_given_target_wins(client_for, tenant_a):
    body = upload(client_for(tenant_a), "nmap", "scb_localhost.xml", target="localhost").json()
    assert body["target"] == "localhost" and (body["hosts_found"], body["ports_found"]) == (1, 4)
    assert Service.objects.filter(scan_id=body["id"], state="open").count() == 4


def test_reimporting_the_same_report_deduplicates_findings(client_for, tenant_a):
    client = client_for(tenant_a)
    upload(client, "zap", "dd_zap-results-first-scan.xml")
    upload(client, "zap", "dd_zap-results-first-scan.xml")
    assert Scan.objects.count() == 2 and Finding.objects.count() == 124
    assert set(Finding.objects.values_list("occurrences", flat=True)) == {2}


@pytest.mark.parametrize("engine, fixture, fragment", [
    ("nuclei", "../../../zap/tests/fixtures/dd_empty_2.9.0.xml", "not a valid nuclei report"),
    ("nikto", "../../../trivy/tests/fixtures/dd_scheme_2_no_vuln.json", "not a valid nikto report"),
    ("nmap", "../../../sqlmap/tests/fixtures/dd_sqlmap_one_vuln.csv", "not a valid nmap report"),
])
def test_a_mismatched_file_is_400_and_stores_nothing(client_for, tenant_a, engine, fixture, fragment):
    response = upload(client_for(tenant_a), engine, fixture)
    assert response.status_code == 400 and fragment in response.json()["error"]["message"]
    assert response.json()["error"]["field"] == "file"
    assert (Scan.objects.count(), Host.objects.count(), Finding.objects.count()) == (0, 0, 0)


def test_junk_and_unknown_engines_are_400(client_for, tenant_a):
    client = client_for(tenant_a)
    junk = client.post(URL, {"engine": "trivy", "file": SimpleUploadedFile("r.json", b"\x00\xff{{")},
                       format="multipart")
    assert junk.status_code == 400 and junk.json()["error"]["field"] == "file"
    unknown = client.post(URL, {"engine": "openvas", "file": SimpleUploadedFile("r.xml", b"<x/>")},
                          format="multipart")
    assert unknown.status_code == 400 and unknown.json()["error"]["field"] == "engine"
    missing = client.post(URL, {"engine": "nmap"}, format="multipart")
    assert missing.status_code == 400 and missing.json()["error"]["field"] == "file"
    assert Scan.objects.count() == 0


def test_a_report_without_hosts_needs_a_target(client_for, tenant_a):
    response = upload(client_for(tenant_a), "sqlmap", "dd_sqlmap_one_vuln.log")
    assert response.status_code == 400 and response.json()["error"]["field"] == "target"


def test_imports_do_not_use_quota_and_need_scans_create(client_for, tenant_a, db):
    from tests.conftest import make_tenant

    upload(client_for(tenant_a), "nmap", "scb_localhost.xml")
    assert client_for(tenant_a).get("/api/v1/scans/quota").json()["used_this_month"] == 0
    viewer = make_tenant("viewer-co", role="viewer")
    assert upload(client_for(viewer), "nmap", "scb_localhost.xml").status_code == 403


def test_a_tool_that_says_less_does_not_erase_what_another_found(tenant_a):
    from engines.records import ServiceRecord
    from scans.results import scan_results_store
    from scans.services import ScanRequest, scan_create

    scan = scan_create(tenant_id=tenant_a.tenant_id, api_key_pk=None,
                       request=ScanRequest(target="127.0.0.1", engine="nmap"))
    scan_results_store(scan=scan, records=[ServiceRecord(host="127.0.0.1", port=80, service="http",
                                                         product="nginx", version="1.25.3", cpes=("cpe:/a:x",))])
    scan_results_store(scan=scan, records=[ServiceRecord(host="127.0.0.1", port=80, service="http",
                                                         banner="Server: nginx", product="x" * 300)])
    service = Service.objects.get(scan=scan)
    assert (service.product, service.version, service.cpes, service.banner) == (
        "x" * 200, "1.25.3", ["cpe:/a:x"], "Server: nginx")
