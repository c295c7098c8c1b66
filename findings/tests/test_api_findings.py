"""GET /scans/{id}/findings, GET /findings, GET/PATCH /findings/{id}: envelopes, filters, query counts,
status transitions, and another tenant's objects answered 404 with no data."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from engines.records import Severity
from findings.models import Finding, FindingStatusChange
from findings.tests.factories import ingest, make_scan, record
from tests.conftest import make_tenant

FINDINGS = "/api/v1/findings"


def scan_url(scan, suffix="findings"):
    return f"/api/v1/scans/{scan.pk}/{suffix}"


@pytest.fixture
def world(tenant_a, tenant_b):
    """acme: one scan with four findings; globex: one scan with a finding named like acme's."""
    ours = make_scan(tenant_a.tenant_id)
    ingest(ours, record("crit", severity=Severity.CRITICAL, cvss_score=9.8, cve_ids=("CVE-2021-44228",)),
           record("high", severity=Severity.HIGH, engine="zap", host="127.0.0.2"),
           record("low", severity=Severity.LOW),
           record("info", severity=Severity.INFO))
    theirs = make_scan(tenant_b.tenant_id)
    ingest(theirs, record("crit", severity=Severity.CRITICAL, title="globex secret title"))
    return ours, theirs


def test_scan_findings_envelope_and_worst_first_order(client_for, tenant_a, world):
    ours, _ = world
    body = client_for(tenant_a).get(scan_url(ours)).json()
    assert (body["total"], body["page"], body["per_page"], body["pages"]) == (4, 1, 20, 1)
    assert [item["rule_id"] for item in body["items"]] == ["crit", "high", "low", "info"]
    item = body["items"][0]
    assert {key: item[key] for key in ("title", "severity", "cvss_score", "status", "tool", "cve_ids")} == {
        "title": "Issue crit", "severity": "critical", "cvss_score": 9.8, "status": "open", "tool": "nuclei",
        "cve_ids": ["CVE-2021-44228"]}
    assert item["affected_component"] == "127.0.0.1:80/tcp" and item["detected_at"].endswith("Z")
    assert uuid.UUID(item["id"]) == Finding.objects.get(tenant_id=tenant_a.tenant_id, rule_id="crit").uuid


def test_scan_findings_filters_and_pages(client_for, tenant_a, world):
    ours, _ = world
    client = client_for(tenant_a)
    Finding.objects.filter(rule_id="low").update(status="resolved")
    assert [i["rule_id"] for i in client.get(scan_url(ours), {"severity": "high"}).json()["items"]] == ["high"]
    assert [i["rule_id"] for i in client.get(scan_url(ours), {"status": "resolved"}).json()["items"]] == ["low"]
    page = client.get(scan_url(ours), {"per_page": 3, "page": 2}).json()
    assert (page["total"], page["pages"], [i["rule_id"] for i in page["items"]]) == (4, 2, ["info"])
    assert client.get(scan_url(ours), {"page": 9}).json()["items"] == []


def test_scan_findings_list_is_five_queries(client_for, tenant_a, world, django_assert_num_queries):
    ours, _ = world
    client = client_for(tenant_a)
    with django_assert_num_queries(5):  # key lookup, key touch, scan, count, page
        assert client.get(scan_url(ours)).status_code == 200


@pytest.mark.parametrize("query, field", [({"severity": "urgent"}, "severity"), ({"status": "closed"}, "status"),
                                          ({"per_page": 101}, "per_page"), ({"page": 0}, "page")])
def test_scan_findings_bad_parameters_are_400(client_for, tenant_a, world, query, field):
    response = client_for(tenant_a).get(scan_url(world[0]), query)
    assert response.status_code == 400 and response.json()["error"]["field"] == field


@pytest.mark.parametrize("suffix", ["findings", "compliance?framework=soc2", "export?format=json", "diff",
                                    "entities"])
def test_another_tenants_scan_is_404_with_no_data(client_for, tenant_a, world, suffix):
    _, theirs = world
    response = client_for(tenant_a).get(scan_url(theirs, suffix))
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Scan not found"}}


@pytest.mark.parametrize("scan_id", ["nope", str(uuid.uuid4())])
def test_unknown_scans_are_404(client_for, tenant_a, scan_id):
    assert client_for(tenant_a).get(f"/api/v1/scans/{scan_id}/findings").status_code == 404


def test_tenant_list_holds_only_the_tenants_findings(client_for, tenant_a, tenant_b, world):
    body = client_for(tenant_a).get(FINDINGS).json()
    assert (body["total"], body["pages"]) == (4, 1)
    assert "globex secret title" not in str(body)
    assert client_for(tenant_b).get(FINDINGS).json()["total"] == 1


def test_tenant_list_filters(client_for, tenant_a, world):
    client = client_for(tenant_a)
    second = make_scan(tenant_a.tenant_id, target="127.0.0.9")
    ingest(second, record("other", engine="sqlmap", host="127.0.0.9"))
    Finding.objects.filter(rule_id="other").update(last_seen=timezone.now() - timedelta(days=10))

    def rules(**query):
        return sorted(item["rule_id"] for item in client.get(FINDINGS, query).json()["items"])

    assert rules(severity="critical", status="open") == ["crit"]
    assert rules(tool="zap") == ["high"]
    assert rules(host="127.0.0.2") == ["high"]
    assert rules(cve="cve-2021-44228") == ["crit"]
    assert rules(target="127.0.0.9") == ["other"]
    assert rules(to_date=(timezone.now() - timedelta(days=5)).isoformat()) == ["other"]
    assert rules(from_date=(timezone.now() - timedelta(days=5)).isoformat()) == ["crit", "high", "info", "low"]


def test_tenant_list_is_four_queries_with_every_filter(client_for, tenant_a, world, django_assert_num_queries):
    client = client_for(tenant_a)
    query = {"severity": "critical", "status": "open", "tool": "nuclei", "host": "127.0.0.1", "target": "127.0.0.1",
             "cve": "CVE-2021-44228", "from_date": "2000-01-01T00:00:00Z", "to_date": "2999-01-01T00:00:00Z"}
    with django_assert_num_queries(4):  # key lookup, key touch, count, page
        body = client.get(FINDINGS, query).json()
    assert [item["rule_id"] for item in body["items"]] == ["crit"]


@pytest.mark.parametrize("query, field", [({"cve": "log4shell"}, "cve"), ({"from_date": "yesterday"}, "from_date"),
                                          ({"per_page": 0}, "per_page")])
def test_tenant_list_bad_parameters_are_400(client_for, tenant_a, query, field):
    response = client_for(tenant_a).get(FINDINGS, query)
    assert response.status_code == 400 and response.json()["error"]["field"] == field


def test_finding_detail(client_for, tenant_a, world):
    finding = Finding.objects.get(tenant_id=tenant_a.tenant_id, rule_id="crit")
    body = client_for(tenant_a).get(f"{FINDINGS}/{finding.uuid}").json()
    assert body["id"] == str(finding.uuid) and body["status_history"] == [] and body["evidence"] == ""
    assert body["occurrences"] == 1 and body["rule_id"] == "crit"


def test_another_tenants_finding_is_404_for_read_and_write_and_untouched(client_for, tenant_a, world):
    theirs = Finding.objects.get(title="globex secret title")
    client = client_for(tenant_a)
    for response in (client.get(f"{FINDINGS}/{theirs.uuid}"),
                     client.patch(f"{FINDINGS}/{theirs.uuid}", {"status": "resolved"}, format="json")):
        assert response.status_code == 404
        assert response.json() == {"error": {"code": "not_found", "message": "Finding not found"}}
    theirs.refresh_from_db()
    assert theirs.status == "open" and FindingStatusChange.objects.count() == 0


def test_patch_records_who_when_and_the_note(client_for, tenant_a, world):
    finding = Finding.objects.get(tenant_id=tenant_a.tenant_id, rule_id="crit")
    client = client_for(tenant_a)
    response = client.patch(f"{FINDINGS}/{finding.uuid}", {"status": "in_progress", "note": "ticket SEC-1"},
                            format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "in_progress" and body["status_changed_by"] == tenant_a.key_id
    assert [(h["from"], h["to"], h["note"], h["changed_by"]) for h in body["status_history"]] == [
        ("open", "in_progress", "ticket SEC-1", tenant_a.key_id)]
    client.patch(f"{FINDINGS}/{finding.uuid}", {"status": "resolved"}, format="json")
    finding.refresh_from_db()
    assert finding.status == "resolved" and finding.status_changed_at is not None
    assert list(FindingStatusChange.objects.order_by("pk").values_list("to_status", flat=True)) == [
        "in_progress", "resolved"]


@pytest.mark.parametrize("start, target", [("resolved", "in_progress"), ("resolved", "false_positive"),
                                           ("false_positive", "resolved"), ("false_positive", "in_progress")])
def test_disallowed_transitions_are_409_and_change_nothing(client_for, tenant_a, world, start, target):
    finding = Finding.objects.get(tenant_id=tenant_a.tenant_id, rule_id="crit")
    Finding.objects.filter(pk=finding.pk).update(status=start)
    response = client_for(tenant_a).patch(f"{FINDINGS}/{finding.uuid}", {"status": target}, format="json")
    assert response.status_code == 409 and response.json()["error"]["field"] == "status"
    finding.refresh_from_db()
    assert finding.status == start and FindingStatusChange.objects.count() == 0


def test_patch_to_the_same_status_is_a_no_op(client_for, tenant_a, world):
    finding = Finding.objects.get(tenant_id=tenant_a.tenant_id, rule_id="crit")
    response = client_for(tenant_a).patch(f"{FINDINGS}/{finding.uuid}", {"status": "open"}, format="json")
    assert response.status_code == 200 and FindingStatusChange.objects.count() == 0


def test_patch_needs_findings_write(client_for, tenant_a, world):
    viewer = make_tenant("acme", role="viewer")
    finding = Finding.objects.get(tenant_id=tenant_a.tenant_id, rule_id="crit")
    client = client_for(viewer)
    assert client.get(f"{FINDINGS}/{finding.uuid}").status_code == 200
    response = client.patch(f"{FINDINGS}/{finding.uuid}", {"status": "resolved"}, format="json")
    assert response.status_code == 403
    finding.refresh_from_db()
    assert finding.status == "open" and FindingStatusChange.objects.count() == 0


def test_patch_validates_the_status(client_for, tenant_a, world):
    finding = Finding.objects.get(tenant_id=tenant_a.tenant_id, rule_id="crit")
    response = client_for(tenant_a).patch(f"{FINDINGS}/{finding.uuid}", {"status": "closed"}, format="json")
    assert response.status_code == 400 and response.json()["error"]["field"] == "status"


def test_unauthenticated_requests_are_401(client_for, world):
    assert client_for(None).get(FINDINGS).status_code == 401
