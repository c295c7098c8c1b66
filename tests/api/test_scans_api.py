"""The native scan API (seed 003 paths) in-process: validation, envelopes, filters, cross-tenant 404s."""

import uuid

import pytest

from scans.models import Scan, ScanEvent
from scans.services import ScanRequest, scan_create

SCANS = "/api/v1/scans"


def create(client, **body):
    return client.post(SCANS, {"authorized": True, **body}, format="json")


def test_create_returns_201_with_the_detail_shape(client_for, tenant_a):
    response = create(client_for(tenant_a), target="127.0.0.1", engine="nmap", options={"ports": "22,80"},
                      name="first", tags=["lab"], priority="high")
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "queued" and body["progress"] == 0 and body["engine"] == "nmap"
    assert body["target"] == "127.0.0.1" and body["target_type"] == "ip" and body["priority"] == "high"
    assert body["options"]["ports"] == "22,80" and body["options"]["timing"] == "T3"
    assert body["phases_remaining"] == ["scan"] and body["tags"] == ["lab"] and body["name"] == "first"
    scan = Scan.objects.get(pk=body["id"])
    assert scan.tenant_id == tenant_a.tenant_id
    assert list(ScanEvent.objects.filter(scan=scan).values_list("seq", "type")) == [(1, "scan.queued")]


def test_a_full_scan_is_the_default_and_reports_its_phases(client_for, tenant_a):
    body = create(client_for(tenant_a), target="localhost").json()
    assert body["scan_type"] == "full"
    assert body["phases_remaining"][:3] == ["discovery", "enumeration", "vulnerability_scanning"]
    assert len(body["phases_remaining"]) == 10


@pytest.mark.parametrize("target", [
    "", "a" * 2049, "127.0.0.1; rm -rf /", "$(id)", "`id`", "127.0.0.1\nfoo", "-oN/tmp/x", "--script=x",
    "127.0.0.1\x00",
])
def test_hostile_targets_are_refused_and_nothing_is_stored(client_for, tenant_a, target):
    response = create(client_for(tenant_a), target=target)
    assert response.status_code in (400, 422)
    assert response.json()["error"]["field"] == "target"
    assert Scan.objects.count() == 0


@pytest.mark.parametrize("target", ["8.8.8.8", "example.com", "10.0.0.0/24", "https://app.example.com"])
def test_non_loopback_targets_are_a_422_under_the_dev_policy(client_for, tenant_a, target):
    response = create(client_for(tenant_a), target=target)
    assert response.status_code == 422
    assert "loopback-only" in response.json()["error"]["message"]
    assert Scan.objects.count() == 0


@pytest.mark.parametrize("body, field, fragment", [
    ({"target": "127.0.0.1", "authorized": False}, "authorized", "must be true"),
    ({"target": "127.0.0.1", "engine": "nmap", "options": {"bogus": 1}}, "options.bogus", "not an option"),
    ({"target": "127.0.0.1", "engine": "nmap", "options": {"timing": "T9"}}, "options.timing", "one of"),
    ({"target": "127.0.0.1", "engine": "nmap", "options": {"ports": "0-70000"}}, "options.ports", "outside"),
    ({"target": "127.0.0.1", "engine": "nmap", "options": {"serviceDetection": "yes"}},
     "options.serviceDetection", "true or false"),
    ({"target": "127.0.0.1", "engine": "nmap", "options": {"ports": "-oN /tmp/x"}}, "options.ports", "'-'"),
    ({"target": "127.0.0.1", "engine": "nmap", "options": {"scriptScan": True, "scripts": ["exploit"]}},
     "options.scripts[0]", "one of"),
    ({"target": "127.0.0.1", "engine": "nosuch"}, "engine", "unknown engine"),
    ({"target": "http://127.0.0.1/", "engine": "nmap"}, "target_type", "does not accept url"),
    ({"target": "127.0.0.1", "priority": "urgent"}, "priority", "valid choice"),
    ({"target": "127.0.0.1", "scan_type": "quick", "engine": "nmap"}, "engine", "not both"),
    ({"target": "127.0.0.1", "timeout": 0}, "timeout", "greater than or equal to 1"),
])
def test_invalid_requests_are_400_naming_the_field(client_for, tenant_a, body, field, fragment):
    response = client_for(tenant_a).post(SCANS, {"authorized": True, **body}, format="json")
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["field"] == field and fragment in error["message"]
    assert Scan.objects.count() == 0


def test_missing_authorized_is_400(client_for, tenant_a):
    response = client_for(tenant_a).post(SCANS, {"target": "127.0.0.1"}, format="json")
    assert response.status_code == 400 and response.json()["error"]["field"] == "authorized"


def test_malformed_json_is_400_with_a_json_error(client_for, tenant_a):
    response = client_for(tenant_a).post(SCANS, '{"target": "127.0.0.1",', content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed"
    assert Scan.objects.count() == 0


def _scan(tenant, target="127.0.0.1", **kwargs):
    return scan_create(tenant_id=tenant.tenant_id, api_key_pk=None,
                       request=ScanRequest(target=target, engine="nmap", **kwargs))


def test_list_envelope_pagination_and_counts(client_for, tenant_a, tenant_b):
    for _ in range(3):
        _scan(tenant_a)
    _scan(tenant_b)
    body = client_for(tenant_a).get(SCANS, {"per_page": 2, "page": 2}).json()
    assert (body["total"], body["page"], body["per_page"], body["pages"]) == (3, 2, 2, 2)
    assert len(body["items"]) == 1
    item = body["items"][0]
    assert {"id", "target", "scan_type", "status", "progress", "phase", "created_at", "completed_at",
            "vulnerabilities_found", "critical_count", "high_count", "medium_count", "low_count"} <= set(item)


def test_list_filters_status_alias_target_and_dates(client_for, tenant_a):
    first = _scan(tenant_a, target="127.0.0.1")
    _scan(tenant_a, target="127.0.0.2")
    Scan.objects.filter(pk=first.pk).update(status="running")
    client = client_for(tenant_a)
    assert client.get(SCANS, {"status": "pending"}).json()["total"] == 1
    assert client.get(SCANS, {"status": "running"}).json()["items"][0]["id"] == str(first.pk)
    assert client.get(SCANS, {"target": "127.0.0.2"}).json()["total"] == 1
    assert client.get(SCANS, {"from_date": "2999-01-01T00:00:00Z"}).json()["total"] == 0
    assert client.get(SCANS, {"to_date": "2999-01-01"}).json()["total"] == 2


@pytest.mark.parametrize("query, field", [({"per_page": 101}, "per_page"), ({"page": 0}, "page"),
                                          ({"status": "bogus"}, "status"), ({"from_date": "yesterday"}, "from_date")])
def test_bad_list_parameters_are_400(client_for, tenant_a, query, field):
    response = client_for(tenant_a).get(SCANS, query)
    assert response.status_code == 400 and response.json()["error"]["field"] == field


@pytest.mark.parametrize("method, suffix", [("get", ""), ("delete", ""), ("get", "/result")])
def test_another_tenants_scan_is_404_and_untouched(client_for, tenant_a, tenant_b, method, suffix):
    theirs = _scan(tenant_b)
    response = getattr(client_for(tenant_a), method)(f"{SCANS}/{theirs.pk}{suffix}")
    assert response.status_code == 404
    assert str(theirs.pk) not in response.content.decode()
    theirs.refresh_from_db()
    assert theirs.status == "queued" and not theirs.cancel_requested


@pytest.mark.parametrize("scan_id", ["not-a-uuid", str(uuid.uuid4())])
def test_unknown_or_malformed_ids_are_404(client_for, tenant_a, scan_id):
    assert client_for(tenant_a).get(f"{SCANS}/{scan_id}").status_code == 404


def test_cancel_of_a_queued_scan_is_immediate_and_idempotent(client_for, tenant_a):
    scan = _scan(tenant_a)
    client = client_for(tenant_a)
    first = client.delete(f"{SCANS}/{scan.pk}")
    assert first.status_code == 200
    assert first.json() == {"id": str(scan.pk), "status": "cancelled", "message": "Scan cancelled successfully"}
    assert client.delete(f"{SCANS}/{scan.pk}").status_code == 200
    assert client.get(f"{SCANS}/{scan.pk}").json()["status"] == "cancelled"
    assert list(ScanEvent.objects.filter(scan=scan).values_list("type", flat=True)) == [
        "scan.queued", "scan.cancelled"]


def test_cancel_of_a_finished_scan_is_409(client_for, tenant_a):
    scan = _scan(tenant_a)
    Scan.objects.filter(pk=scan.pk).update(status="completed")
    assert client_for(tenant_a).delete(f"{SCANS}/{scan.pk}").status_code == 409


def test_openapi_schema_and_docs_are_served_offline(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"/api/v1/scans" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "swagger-ui" in html and "cdn" not in html.lower() and "//unpkg" not in html


def test_list_counts_come_from_the_scan_row_kept_by_ingest(client_for, tenant_a):
    from datetime import datetime, timezone

    from engines.records import FindingRecord, Severity
    from findings.services import findings_ingest

    scan = _scan(tenant_a)
    findings_ingest(tenant_id=tenant_a.tenant_id, scan_id=str(scan.pk), seen_at=datetime.now(timezone.utc),
                    records=[FindingRecord(engine="nuclei", rule_id=f"r{i}", title="t", location=f"http://h/{i}",
                                           severity=severity) for i, severity in
                             enumerate([Severity.CRITICAL, Severity.HIGH, Severity.HIGH, Severity.INFO])])
    item = client_for(tenant_a).get(SCANS).json()["items"][0]
    assert (item["critical_count"], item["high_count"], item["info_count"], item["vulnerabilities_found"]) == (
        1, 2, 1, 3)
