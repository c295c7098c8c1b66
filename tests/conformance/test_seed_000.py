"""Seed 000, the OEM on-demand scan API: every example of the document, sent as its curl sends it (the
X-API-KEY header), with scanned targets swapped for loopback ones; the original targets show the 422."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import pytest
from rest_framework.test import APIClient

from scans.models import Priority, Scan
from scans.services import ScanRequest, scan_create
from tenants.models import AuditLog
from tenants.services import tenant_set_oem
from tests.conftest import make_tenant

SUBMIT = "/api/v1/oem/on-demand-scan"
STATUS = "/api/v1/oem/on-demand-scan/scan-status"
DOMAIN_EXAMPLE = {"type": "domain", "target": "acme.com", "query_tags": {
    "client_name": "ACMECorp", "workspace": "production", "scan_priority": "high"}}
RANGE_EXAMPLE = {"type": "ip_range", "target": "8.8.8.0/24",
                 "query_tags": {"client_name": "ACMECorp", "workspace": "production"}}
STATUS_EXAMPLE = {"scan_id": "550e8400-e29b-41d4-a716-446655440000",
                  "query_tags": {"client_name": "ACMECorp", "tracking_id": "track_123"}}


def post(key: str | None, path: str, body, **headers):
    if key is not None:
        headers["X-API-KEY"] = key
    return APIClient().post(path, body, format="json", headers=headers)


def submit(partner, **body):
    return post(partner.key, SUBMIT, body)


def assert_queued(response, *, target: str, type_: str) -> Scan:
    assert response.status_code == 200, response.json()
    body = response.json()
    assert list(body) == ["response"]
    queued = body["response"]
    assert set(queued) == {"status", "message", "target", "type", "scan_id", "timestamp"}
    assert queued["status"] == "success"
    assert queued["message"] == (f"On-demand scan request for '{target}' has been successfully queued for "
                                 "processing")
    assert (queued["target"], queued["type"]) == (target, type_)
    assert isinstance(queued["timestamp"], int) and abs(queued["timestamp"] - time.time()) < 60
    return Scan.objects.get(pk=uuid.UUID(queued["scan_id"]))


def assert_error(response, status: int, message: str | None = None) -> str:
    assert response.status_code == status, response.content
    body = response.json()
    assert list(body) == ["error"] and isinstance(body["error"], str)
    if message is not None:
        assert body["error"] == message
    return body["error"]


def test_the_domain_example_is_queued_at_oem_priority_with_its_tags(oem_partner):
    response = post(oem_partner.key, SUBMIT, {**DOMAIN_EXAMPLE, "target": "acme.localhost"})
    scan = assert_queued(response, target="acme.localhost", type_="domain")
    assert (scan.tenant_id, scan.surface, scan.target_type) == (oem_partner.tenant_id, "oem", "domain")
    assert scan.priority == Priority.HIGH > Priority.NORMAL
    assert scan.engine == "sentinel" and scan.options["depth"] == "standard"
    assert scan.extra["query_tags"] == DOMAIN_EXAMPLE["query_tags"]
    entry = AuditLog.objects.get(tenant_id=oem_partner.tenant_id)
    assert (entry.surface, entry.action, entry.status_code, entry.scan_id) == (
        "oem", "on_demand_scan", 200, scan.pk)
    assert entry.query_tags == DOMAIN_EXAMPLE["query_tags"] and entry.target == "acme.localhost"


def test_an_oem_scan_outranks_a_standard_scan_of_the_same_tenant(oem_partner):
    standard = scan_create(tenant_id=oem_partner.tenant_id, api_key_pk=None,
                           request=ScanRequest(target="127.0.0.1", engine="nmap"))
    oem_scan = assert_queued(submit(oem_partner, type="ip_range", target="127.0.0.1"), target="127.0.0.1/32",
                             type_="ip_range")
    assert oem_scan.priority > standard.priority


def test_the_ip_range_example_is_queued(oem_partner):
    response = post(oem_partner.key, SUBMIT, {**RANGE_EXAMPLE, "target": "127.0.0.0/24"})
    scan = assert_queued(response, target="127.0.0.0/24", type_="ip_range")
    assert scan.target_type == "network" and scan.extra["query_tags"] == RANGE_EXAMPLE["query_tags"]
    assert scan.engine == "nmap" and scan.options["topPorts"] == 1000 and scan.options["serviceDetection"]


@pytest.mark.parametrize("example", [DOMAIN_EXAMPLE, RANGE_EXAMPLE,
                                     {"type": "domain", "target": "example.com"},
                                     {"type": "ip_range", "target": "10.0.0.0/24"}])
def test_the_original_example_targets_are_refused_by_the_loopback_policy_with_422(oem_partner, example):
    message = assert_error(post(oem_partner.key, SUBMIT, example), 422)
    assert "loopback-only" in message
    assert Scan.objects.count() == 0
    assert AuditLog.objects.get().status_code == 422


@pytest.mark.parametrize("target, queued", [("127.0.0.1", "127.0.0.1/32"), ("::1", "::1/128"),
                                            ("127.0.0.9/24", "127.0.0.0/24")])
def test_a_single_ip_becomes_a_32_or_128_range(oem_partner, target, queued):
    assert_queued(submit(oem_partner, type="ip_range", target=target), target=queued, type_="ip_range")


def test_the_single_ip_example_is_converted_before_the_policy_refuses_it(oem_partner):
    message = assert_error(submit(oem_partner, type="ip_range", target="8.8.8.8"), 422)
    assert "'8.8.8.8/32'" in message


def test_the_documented_invalid_domain_error(oem_partner):
    assert_error(submit(oem_partner, type="domain", target="invalid-domain"), 422,
                 "'invalid-domain' is not a valid domain")


@pytest.mark.parametrize("target, queued", [("bücher.localhost", "xn--bcher-kva.localhost"),
                                            ("Shop.Acme.Localhost", "shop.acme.localhost"),
                                            ("scanme.lantern.test", "scanme.lantern.test")])
def test_idn_and_subdomains_are_valid_domains(oem_partner, target, queued):
    assert_queued(submit(oem_partner, type="domain", target=target), target=queued, type_="domain")


@pytest.mark.parametrize("body", [
    {"type": "ip_range", "target": "127.0.0.1/33"}, {"type": "ip_range", "target": "localhost"},
    {"type": "domain", "target": "127.0.0.1"}, {"type": "domain", "target": "acme.localhost; id"},
])
def test_malformed_targets_are_422(oem_partner, body):
    assert_error(submit(oem_partner, **body), 422)
    assert Scan.objects.count() == 0


@pytest.mark.parametrize("body", [
    {"target": "acme.localhost"}, {"type": "domain"}, {}, {"type": "host", "target": "acme.localhost"},
    {"type": "domain", "target": ""}, {"type": "domain", "target": "acme.localhost", "query_tags": ["a"]},
    {"type": "domain", "target": "acme.localhost", "query_tags": {"nested": {"a": 1}}},
    {"type": "domain", "target": "acme.localhost", "query_tags": {f"k{i}": "v" for i in range(33)}},
    {"type": "domain", "target": "acme.localhost", "query_tags": {"k" * 65: "v"}},
    {"type": "domain", "target": "acme.localhost", "query_tags": {"k": "v" * 257}},
])
def test_missing_or_invalid_parameters_are_400(oem_partner, body):
    assert_error(submit(oem_partner, **body), 400)
    assert Scan.objects.count() == 0
    assert AuditLog.objects.get().status_code == 400


def test_malformed_json_is_400(oem_partner):
    response = APIClient().post(SUBMIT, '{"type": "domain",', content_type="application/json",
                                headers={"X-API-KEY": oem_partner.key})
    assert "Malformed" in assert_error(response, 400)


@pytest.mark.parametrize("key", [None, "lnt_nosuchkey.secret", "garbage"])
def test_missing_or_invalid_keys_are_401(db, key):
    assert_error(post(key, SUBMIT, {"type": "domain", "target": "acme.localhost"}), 401)
    assert_error(post(key, STATUS, STATUS_EXAMPLE), 401)
    assert AuditLog.objects.count() == 0  # no tenant to attribute it to: logged, not audited


def test_a_key_without_the_oem_scope_is_403(db):
    partner = make_tenant("no-scope")
    tenant_set_oem(tenant_id=partner.tenant_id, enabled=True, credits=None)
    assert "oem" in assert_error(submit(partner, type="domain", target="acme.localhost"), 403)
    assert_error(post(partner.key, STATUS, STATUS_EXAMPLE), 403)
    assert Scan.objects.count() == 0
    assert list(AuditLog.objects.values_list("status_code", flat=True)) == [403, 403]


def test_a_tenant_without_oem_access_is_403(db):
    partner = make_tenant("not-enabled", scopes=("oem",))
    assert_error(submit(partner, type="domain", target="acme.localhost"), 403,
                 "OEM access is not enabled for this account")
    assert Scan.objects.count() == 0


def test_each_scan_takes_a_credit_and_none_left_is_403(oem_partner):
    tenant_set_oem(tenant_id=oem_partner.tenant_id, enabled=True, credits=1)
    assert_queued(submit(oem_partner, type="domain", target="acme.localhost"), target="acme.localhost",
                  type_="domain")
    assert_error(submit(oem_partner, type="domain", target="acme.localhost"), 403, "OEM credits exhausted")
    assert Scan.objects.count() == 1


def test_submissions_are_limited_to_5_a_minute_per_key_with_retry_after(oem_partner):
    codes = [submit(oem_partner, type="ip_range", target="127.0.0.1").status_code for _ in range(5)]
    refused = submit(oem_partner, type="ip_range", target="127.0.0.1")
    assert codes == [200] * 5
    assert_error(refused, 429)
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert Scan.objects.count() == 5
    assert AuditLog.objects.filter(status_code=429).count() == 1


def test_status_checks_are_limited_to_10_a_minute_and_take_no_credit(oem_partner):
    scan = assert_queued(submit(oem_partner, type="ip_range", target="127.0.0.1"), target="127.0.0.1/32",
                         type_="ip_range")
    tenant_set_oem(tenant_id=oem_partner.tenant_id, enabled=True, credits=0)
    codes = [post(oem_partner.key, STATUS, {"scan_id": str(scan.pk)}).status_code for _ in range(10)]
    refused = post(oem_partner.key, STATUS, {"scan_id": str(scan.pk)})
    assert codes == [200] * 10
    assert_error(refused, 429)
    assert int(refused["Retry-After"]) >= 1


def test_the_status_example_answers_the_documented_envelope(oem_partner):
    scan = assert_queued(submit(oem_partner, **{**DOMAIN_EXAMPLE, "target": "acme.localhost"}),
                         target="acme.localhost", type_="domain")
    response = post(oem_partner.key, STATUS, {**STATUS_EXAMPLE, "scan_id": str(scan.pk)})
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["response"] and set(body["response"]) == {"status", "scan_info", "timestamp"}
    assert body["response"]["status"] == "success"
    assert abs(body["response"]["timestamp"] - time.time()) < 60
    assert body["response"]["scan_info"] == {"scan_id": str(scan.pk), "target": "acme.localhost",
                                             "status": "queued",
                                             "created_at": int(scan.created_at.timestamp()),
                                             "completed_at": None}
    entry = AuditLog.objects.filter(action="scan_status").get()
    assert entry.query_tags == STATUS_EXAMPLE["query_tags"] and entry.scan_id == scan.pk


@pytest.mark.parametrize("status, shown, completed", [
    ("queued", "queued", False), ("running", "in_progress", False), ("completed", "scan_completed", True),
    ("failed", "failed", False), ("cancelled", "failed", False),
])
def test_status_values_and_completed_at(oem_partner, status, shown, completed):
    scan = assert_queued(submit(oem_partner, type="ip_range", target="127.0.0.1"), target="127.0.0.1/32",
                         type_="ip_range")
    finished = 1683728792
    Scan.objects.filter(pk=scan.pk).update(status=status,
                                           completed_at=datetime.fromtimestamp(finished, tz=UTC))
    info = post(oem_partner.key, STATUS, {"scan_id": str(scan.pk)}).json()["response"]["scan_info"]
    assert info["status"] == shown
    assert info["completed_at"] == (finished if completed else None)


@pytest.mark.parametrize("body", [{}, {"scan_id": ""}, {"query_tags": {"a": "b"}}])
def test_a_status_check_without_scan_id_is_400(oem_partner, body):
    assert_error(post(oem_partner.key, STATUS, body), 400)


def test_the_documented_404_for_unknown_and_foreign_scan_ids(oem_partner, tenant_b):
    assert_error(post(oem_partner.key, STATUS, STATUS_EXAMPLE), 404, "Scan ID not found")
    assert_error(post(oem_partner.key, STATUS, {"scan_id": "not-a-uuid"}), 404, "Scan ID not found")
    native = scan_create(tenant_id=oem_partner.tenant_id, api_key_pk=None,
                         request=ScanRequest(target="127.0.0.1", engine="nmap"))
    assert_error(post(oem_partner.key, STATUS, {"scan_id": str(native.pk)}), 404, "Scan ID not found")


def test_another_tenants_oem_scan_is_404_without_data(oem_partner):
    other = make_tenant("other-partner", scopes=("oem",))
    tenant_set_oem(tenant_id=other.tenant_id, enabled=True, credits=None)
    theirs = assert_queued(submit(other, type="domain", target="secret.localhost"), target="secret.localhost",
                           type_="domain")
    response = post(oem_partner.key, STATUS, {"scan_id": str(theirs.pk)})
    assert_error(response, 404, "Scan ID not found")
    assert "secret" not in response.content.decode() and str(theirs.pk) not in response.content.decode()
