"""Quotas, repeated submissions and back-pressure, through the native API."""

from datetime import timedelta

import pytest
from django.utils import timezone

from scans.models import Scan
from scans.quota import month_bounds
from scans.services import ScanRequest, scan_submit
from tenants.models import Tenant
from tenants.services import tenant_set_oem
from tests.conftest import make_tenant

SCANS = "/api/v1/scans"
BODY = {"target": "127.0.0.1", "engine": "nmap", "options": {"ports": "80"}, "authorized": True}


def test_quota_shape_as_seed_003_shows(client_for, tenant_a):
    for _ in range(2):
        client_for(tenant_a).post(SCANS, BODY, format="json")
    body = client_for(tenant_a).get(f"{SCANS}/quota").json()
    start, following = month_bounds()
    assert body == {"plan": "professional", "monthly_limit": 150, "used_this_month": 2, "remaining": 148,
                    "resets_at": following.isoformat().replace("+00:00", "Z")}


def test_unlimited_plans_report_null_limits(client_for, db):
    body = client_for(make_tenant("bigco", plan="enterprise")).get(f"{SCANS}/quota").json()
    assert (body["monthly_limit"], body["remaining"]) == (None, None)


def test_an_exhausted_quota_is_403_with_a_message_and_stores_nothing(client_for, db):
    tenant = make_tenant("tiny", plan="startup")
    for _ in range(25):
        assert client_for(tenant).post(SCANS, BODY, format="json").status_code == 201
    response = client_for(tenant).post(SCANS, BODY, format="json")
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "quota_exhausted" and "25 of 25" in error["message"]
    assert Scan.objects.filter(tenant_id=tenant.tenant_id).count() == 25


def test_last_months_scans_do_not_count(client_for, db):
    tenant = make_tenant("tiny", plan="startup")
    for _ in range(25):
        client_for(tenant).post(SCANS, BODY, format="json")
    start, _ = month_bounds()
    Scan.objects.update(created_at=start - timedelta(seconds=1))
    assert client_for(tenant).post(SCANS, BODY, format="json").status_code == 201


def test_the_same_idempotency_key_returns_the_same_scan_with_200(client_for, tenant_a):
    client = client_for(tenant_a)
    first = client.post(SCANS, BODY, format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    again = client.post(SCANS, BODY, format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"] and Scan.objects.count() == 1


def test_an_idempotency_key_reused_for_another_request_is_409(client_for, tenant_a):
    client = client_for(tenant_a)
    client.post(SCANS, BODY, format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    other = client.post(SCANS, {**BODY, "target": "127.0.0.2"}, format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    assert other.status_code == 409 and Scan.objects.count() == 1


def test_idempotency_keys_are_per_tenant(client_for, tenant_a, tenant_b):
    a = client_for(tenant_a).post(SCANS, BODY, format="json", HTTP_IDEMPOTENCY_KEY="k")
    b = client_for(tenant_b).post(SCANS, BODY, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert (a.status_code, b.status_code) == (201, 201) and a.json()["id"] != b.json()["id"]


def test_recent_repeats_return_the_existing_scan_until_the_window_passes(tenant_a, settings):
    request = ScanRequest(target="127.0.0.1", target_type="ip", engine="nmap", surface="ingest")
    first = scan_submit(tenant_id=tenant_a.tenant_id, api_key_pk=None, request=request, reuse_recent=True)
    inferred = ScanRequest(target="127.0.0.1", engine="nmap", surface="ingest")
    again = scan_submit(tenant_id=tenant_a.tenant_id, api_key_pk=None, request=inferred, reuse_recent=True)
    assert first.created and not again.created and again.scan.pk == first.scan.pk
    Scan.objects.filter(pk=first.scan.pk).update(
        status="completed", completed_at=timezone.now() - timedelta(seconds=settings.LANTERN_REPEAT_WINDOW_S + 1))
    later = scan_submit(tenant_id=tenant_a.tenant_id, api_key_pk=None, request=request, reuse_recent=True)
    assert later.created and later.scan.pk != first.scan.pk


def test_a_failed_scan_is_not_reused(tenant_a):
    request = ScanRequest(target="127.0.0.1", engine="nmap", surface="ingest")
    first = scan_submit(tenant_id=tenant_a.tenant_id, api_key_pk=None, request=request, reuse_recent=True)
    Scan.objects.filter(pk=first.scan.pk).update(status="failed")
    assert scan_submit(tenant_id=tenant_a.tenant_id, api_key_pk=None, request=request, reuse_recent=True).created


@pytest.mark.parametrize("bound, tenant_bound", [(2, 100), (100, 2)])
def test_backpressure_is_429_with_retry_after(client_for, tenant_a, settings, bound, tenant_bound):
    settings.LANTERN_BACKLOG_MAX, settings.LANTERN_TENANT_BACKLOG_MAX = bound, tenant_bound
    client = client_for(tenant_a)
    assert [client.post(SCANS, BODY, format="json").status_code for _ in range(2)] == [201, 201]
    refused = client.post(SCANS, BODY, format="json")
    assert refused.status_code == 429 and refused["Retry-After"] == str(settings.LANTERN_BACKLOG_RETRY_AFTER_S)
    assert Scan.objects.count() == 2


def test_oem_credits_are_consumed_and_refused_when_gone(tenant_a):
    tenant_set_oem(tenant_id=tenant_a.tenant_id, enabled=True, credits=1)
    request = ScanRequest(target="127.0.0.1", engine="nmap", surface="oem", consume_oem_credit=True)
    scan_submit(tenant_id=tenant_a.tenant_id, api_key_pk=None, request=request)
    assert Tenant.objects.get(pk=tenant_a.tenant_id).oem_credits == 0
    from config.errors import QuotaExhausted

    with pytest.raises(QuotaExhausted, match="OEM credits exhausted"):
        scan_submit(tenant_id=tenant_a.tenant_id, api_key_pk=None, request=request)
    assert Scan.objects.count() == 1
