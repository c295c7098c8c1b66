"""Seed 003, the vulnerability and compliance scans API, which is Lantern's native API (scans/api): every
example of the document (targets swapped for loopback ones; the originals show the 422), the list envelope
and its counts and filters, create with frameworks / ports / authorized, detail, DELETE, quota, schedules
and the plans. Lantern's word for the document's `pending` is `queued` (accepted as an alias in filters)."""

from __future__ import annotations

import uuid

import pytest
from django.urls import Resolver404, resolve
from rest_framework.test import APIClient

from scans.models import Scan, ScanSchedule
from scans.services import ScanRequest, scan_create
from tenants.models import Plan
from tests.conftest import make_tenant

SCANS = "/api/v1/scans"
CREATE_EXAMPLE = {"target": "example.com", "scan_type": "full", "frameworks": ["soc2", "pci-dss"],
                  "ports": "1-1000", "authorized": True}
SCHEDULE_EXAMPLE = {"target": "example.com", "scan_type": "full", "frequency": "weekly", "day_of_week": 1,
                    "hour": 2, "timezone": "UTC"}
WEBHOOK_EXAMPLE = {"url": "https://your-server.com/webhook",
                   "events": ["scan.started", "scan.completed", "scan.failed", "vulnerability.critical"]}
LIST_ITEM_KEYS = {"id", "target", "scan_type", "status", "progress", "phase", "created_at", "completed_at",
                  "vulnerabilities_found", "critical_count", "high_count", "medium_count", "low_count"}
DETAIL_KEYS = {"id", "target", "scan_type", "status", "progress", "phase", "current_tool", "created_at",
               "started_at", "phases_completed", "phases_remaining"}
FULL_PHASES = ["discovery", "enumeration", "vulnerability_scanning", "web_analysis", "cloud_analysis",
               "threat_intelligence", "correlation", "ai_analysis", "remediation_planning", "reporting"]


def routed(path: str) -> bool:
    try:
        resolve(path)
    except Resolver404:
        return False
    return True


def create(client, **body):
    return client.post(SCANS, body, format="json")


def test_the_create_example_answers_the_documented_fields(tenant_a):
    response = APIClient().post(SCANS, {**CREATE_EXAMPLE, "target": "scanme.lantern.test"}, format="json",
                                headers={"Authorization": f"Bearer {tenant_a.key}"})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert {"id", "target", "scan_type", "status", "created_at", "estimated_duration"} <= set(body)
    assert (body["target"], body["scan_type"], body["status"]) == ("scanme.lantern.test", "full", "queued")
    # no comparable scan has completed yet: the estimate is the scan's timeout, which bounds it
    assert body["created_at"].endswith("Z") and body["estimated_duration"] == body["timeout"]
    scan = Scan.objects.get(pk=body["id"])
    assert scan.extra["frameworks"] == ["soc2", "pci-dss"] and scan.options == {"ports": "1-1000"}
    assert body["phases_remaining"] == FULL_PHASES


def test_the_original_create_example_target_is_refused_with_422(client_for, tenant_a):
    response = create(client_for(tenant_a), **CREATE_EXAMPLE)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_target" and "loopback-only" in response.json()[
        "error"]["message"]
    assert Scan.objects.count() == 0


@pytest.mark.parametrize("body, field", [
    ({"target": "127.0.0.1"}, "authorized"), ({"target": "127.0.0.1", "authorized": False}, "authorized"),
    ({"target": "127.0.0.1", "authorized": True, "scan_type": "deep"}, "scan_type"),
    ({"target": "127.0.0.1", "authorized": True, "frameworks": ["hipaa"]}, "frameworks"),
    ({"target": "127.0.0.1", "authorized": True, "ports": "1-70000"}, "ports"),
])
def test_authorized_is_required_and_fields_are_checked(client_for, tenant_a, body, field):
    response = create(client_for(tenant_a), **body)
    assert response.status_code == 400 and response.json()["error"]["field"].startswith(field)


@pytest.mark.parametrize("scan_type", ["quick", "full", "compliance"])
def test_scan_types_default_to_full_and_report_the_full_scans_phases_in_order(client_for, tenant_a, scan_type):
    body = create(client_for(tenant_a), target="127.0.0.1", authorized=True, scan_type=scan_type).json()
    phases = body["phases_remaining"]
    assert body["scan_type"] == scan_type
    assert phases == FULL_PHASES if scan_type == "full" else [p for p in FULL_PHASES if p in phases] == phases
    assert (phases[0], phases[-1]) == ("discovery", "reporting")
    assert create(client_for(tenant_a), target="127.0.0.1", authorized=True).json()["scan_type"] == "full"


def test_list_envelope_counts_and_filters(client_for, tenant_a, tenant_b):
    client = client_for(tenant_a)
    ids = [create(client, target=target, authorized=True).json()["id"]
           for target in ("scanme.lantern.test", "127.0.0.1")]
    create(client_for(tenant_b), target="127.0.0.1", authorized=True)
    Scan.objects.filter(pk=ids[0]).update(status="completed", progress=100)
    body = client.get(SCANS).json()
    assert set(body) == {"items", "total", "page", "per_page", "pages"}
    assert (body["total"], body["page"], body["per_page"], body["pages"]) == (2, 1, 20, 1)
    assert all(LIST_ITEM_KEYS <= set(item) for item in body["items"])
    assert client.get(SCANS, {"status": "completed"}).json()["items"][0]["id"] == ids[0]
    assert [i["id"] for i in client.get(SCANS, {"status": "pending"}).json()["items"]] == [ids[1]]
    assert client.get(SCANS, {"status": "running"}).json()["total"] == 0
    assert client.get(SCANS, {"status": "failed"}).json()["total"] == 0
    assert client.get(SCANS, {"target": "scanme.lantern.test"}).json()["total"] == 1
    dated = client.get(SCANS, {"from_date": "2000-01-01T00:00:00Z", "to_date": "2999-01-01"}).json()
    assert dated["total"] == 2
    assert client.get(SCANS, {"page": 2, "per_page": 1}).json()["pages"] == 2
    assert client.get(SCANS, {"per_page": 100}).status_code == 200
    assert client.get(SCANS, {"per_page": 101}).status_code == 400


def test_a_page_number_past_any_offset_is_not_a_server_error(client_for, tenant_a):
    assert client_for(tenant_a).get(SCANS, {"page": 31224381950373460770291712}).status_code == 400


def test_the_detail_example_fields(client_for, tenant_a):
    scan_id = create(client_for(tenant_a), target="scanme.lantern.test", authorized=True).json()["id"]
    Scan.objects.filter(pk=scan_id).update(status="running", progress=45, phase="vulnerability_scanning",
                                           current_tool="nuclei",
                                           phases_completed=["discovery", "enumeration"])
    body = client_for(tenant_a).get(f"{SCANS}/{scan_id}").json()
    assert DETAIL_KEYS <= set(body)
    assert (body["status"], body["progress"], body["phase"], body["current_tool"]) == (
        "running", 45, "vulnerability_scanning", "nuclei")
    assert body["phases_completed"] == ["discovery", "enumeration"]
    assert body["phases_remaining"] == FULL_PHASES[2:]


def test_delete_cancels_with_the_documented_answer(client_for, tenant_a):
    scan_id = create(client_for(tenant_a), target="127.0.0.1", authorized=True).json()["id"]
    response = client_for(tenant_a).delete(f"{SCANS}/{scan_id}")
    assert response.json() == {"id": scan_id, "status": "cancelled", "message": "Scan cancelled successfully"}


def test_findings_of_a_scan_with_filters(client_for, tenant_a):
    scan_id = create(client_for(tenant_a), target="127.0.0.1", authorized=True).json()["id"]
    if not routed(f"{SCANS}/{scan_id}/findings"):
        pytest.skip("GET /api/v1/scans/{id}/findings is not routed: config/urls.py lacks findings.api.urls")
    client = client_for(tenant_a)
    body = client.get(f"{SCANS}/{scan_id}/findings").json()
    assert {"items", "total"} <= set(body) and body["total"] == 0
    for severity in ("critical", "high", "medium", "low", "info"):
        assert client.get(f"{SCANS}/{scan_id}/findings", {"severity": severity}).status_code == 200
    for status in ("open", "in_progress", "resolved", "false_positive"):
        assert client.get(f"{SCANS}/{scan_id}/findings", {"status": status}).status_code == 200


def test_quota_fields(client_for, tenant_a):
    create(client_for(tenant_a), target="127.0.0.1", authorized=True)
    body = client_for(tenant_a).get(f"{SCANS}/quota").json()
    assert set(body) == {"plan", "monthly_limit", "used_this_month", "remaining", "resets_at"}
    assert (body["plan"], body["monthly_limit"], body["used_this_month"], body["remaining"]) == (
        "professional", 150, 1, 149)
    assert body["resets_at"].endswith("T00:00:00Z")


def test_the_plans_of_the_rate_limit_table(db):
    make_tenant("plans")
    plans = {p.slug: (p.max_concurrent_scans, p.monthly_scan_limit, p.schedules_enabled)
             for p in Plan.objects.all()}
    assert plans == {"startup": (1, 25, False), "professional": (3, 150, True),
                     "enterprise": (None, None, True)}


def test_the_monthly_limit_is_enforced(client_for, db):
    startup = make_tenant("small", plan="startup")
    for _ in range(25):
        scan_create(tenant_id=startup.tenant_id, api_key_pk=None, request=ScanRequest(target="127.0.0.1",
                                                                                      engine="nmap"))
    response = create(client_for(startup), target="127.0.0.1", authorized=True)
    assert response.status_code == 403 and response.json()["error"]["code"] == "quota_exhausted"


def test_the_schedule_example_create_list_delete(client_for, tenant_a):
    client = client_for(tenant_a)
    assert client.post(f"{SCANS}/schedules", SCHEDULE_EXAMPLE, format="json").status_code == 422
    created = client.post(f"{SCANS}/schedules", {**SCHEDULE_EXAMPLE, "target": "scanme.lantern.test"},
                          format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["frequency"], body["day_of_week"], body["hour"], body["timezone"], body["scan_type"]) == (
        "weekly", 1, 2, "UTC", "full")
    assert body["next_run_at"]
    assert [s["id"] for s in client.get(f"{SCANS}/schedules").json()["items"]] == [body["id"]]
    assert client.delete(f"{SCANS}/schedules/{body['id']}").status_code == 204
    assert ScanSchedule.objects.count() == 0


def test_schedules_are_for_professional_and_enterprise(client_for, db):
    startup = make_tenant("small", plan="startup")
    response = client_for(startup).post(f"{SCANS}/schedules", {**SCHEDULE_EXAMPLE, "target": "127.0.0.1"},
                                        format="json")
    assert response.status_code == 403


def test_the_webhook_example_registers_for_scan_events(client_for, tenant_a, webhooks_to_loopback):
    if not routed("/api/v1/webhooks"):
        pytest.skip("POST /api/v1/webhooks is not routed: config/urls.py lacks webhooks.api.urls")
    body = {**WEBHOOK_EXAMPLE, "url": "http://127.0.0.1:9/webhook"}
    response = client_for(tenant_a).post("/api/v1/webhooks", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["events"] == WEBHOOK_EXAMPLE["events"]


@pytest.mark.parametrize("method, suffix", [("get", ""), ("delete", ""), ("get", "/result")])
def test_another_tenants_scan_is_404_and_untouched(client_for, tenant_a, tenant_b, method, suffix):
    theirs = create(client_for(tenant_b), target="127.0.0.1", authorized=True).json()["id"]
    response = getattr(client_for(tenant_a), method)(f"{SCANS}/{theirs}{suffix}")
    assert response.status_code == 404 and set(response.json()) == {"error"}
    assert theirs not in response.content.decode()
    assert Scan.objects.get(pk=theirs).status == "queued"


def test_an_unknown_scan_id_is_404(client_for, tenant_a):
    assert client_for(tenant_a).get(f"{SCANS}/{uuid.uuid4()}").status_code == 404
