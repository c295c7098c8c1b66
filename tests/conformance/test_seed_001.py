"""Seed 001, the ingest scan endpoint: the document's curl example (api-key + api-secret headers) with its
target and webhook URL swapped for loopback ones, Bearer auth, the reporter role, 202 new / 200 existing,
and x-error / x-error-id on every non-2xx answer."""

from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from scans.models import Scan
from scans.surfaces.ingest import header_text
from tenants.models import AuditLog
from tests.conftest import make_tenant

SCAN = "/api/ingest/v1/scan"
EXAMPLE = {"target": "203.0.113.1", "webhook": {
    "url": "https://your-webhook-url.com/callback",
    "headers": [{"key": "Authorization", "value": "Bearer your-token"}]}}
LOOPBACK_WEBHOOK = {**EXAMPLE["webhook"], "url": "http://127.0.0.1:9/callback"}


@pytest.fixture
def reporter(db):
    return make_tenant("ingestor", role="reporter")


def send(body, **headers):
    return APIClient().post(SCAN, body, format="json", headers=headers)


def key_pair(tenant) -> dict[str, str]:
    return {"api-key": tenant.key_id, "api-secret": tenant.secret}


def bearer(tenant) -> dict[str, str]:
    return {"Authorization": f"Bearer {tenant.key}"}


def assert_task(response, status_code: int, status: str) -> Scan:
    assert response.status_code == status_code, response.content
    body = response.json()
    assert set(body) == {"id", "status"} and body["status"] == status
    assert "x-error" not in response and "x-error-id" not in response
    return Scan.objects.get(pk=uuid.UUID(body["id"]))


def assert_error(response, status_code: int) -> dict:
    assert response.status_code == status_code, response.content
    error = response.json()["error"]
    assert {"code", "message", "id"} <= set(error)
    assert response["x-error"] == header_text(error["message"]) and response["x-error"].isascii()
    assert response["x-error-id"] == error["id"] and len(error["id"]) == 32
    return error


def test_the_curl_example_creates_a_new_task(reporter, webhooks_to_loopback):
    response = send({"target": "127.0.0.1", "webhook": LOOPBACK_WEBHOOK}, **key_pair(reporter))
    scan = assert_task(response, 202, "new")
    assert (scan.tenant_id, scan.surface, scan.engine, scan.target_type) == (
        reporter.tenant_id, "ingest", "nmap", "ip")
    # About Scans: port scan, service detection, TLS certificate (and banner) collection
    assert scan.options["topPorts"] == 1000 and scan.options["serviceDetection"] is True
    assert scan.options["scriptScan"] is True and scan.options["scripts"] == ["ssl-cert", "banner"]
    assert scan.extra["webhook"] == {"url": "http://127.0.0.1:9/callback",
                                     "headers": [{"key": "Authorization", "value": "Bearer your-token"}]}
    entry = AuditLog.objects.get()
    assert (entry.surface, entry.status_code, entry.scan_id, entry.target) == (
        "ingest", 202, scan.pk, "127.0.0.1")


def test_the_original_example_target_is_refused_with_400_and_error_headers(reporter, webhooks_to_loopback):
    error = assert_error(send({**EXAMPLE, "webhook": LOOPBACK_WEBHOOK}, **key_pair(reporter)), 400)
    assert error["field"] == "target" and "loopback-only" in error["message"]
    assert Scan.objects.count() == 0
    entry = AuditLog.objects.get()
    assert entry.status_code == 400 and entry.outcome.startswith(f"[{error['id']}]")


def test_bearer_authentication_works_too(reporter):
    assert_task(send({"target": "localhost"}, **bearer(reporter)), 202, "new")


def test_a_repeated_target_returns_the_existing_task_with_its_status(reporter):
    first = assert_task(send({"target": "127.0.0.1"}, **bearer(reporter)), 202, "new")
    assert assert_task(send({"target": "127.0.0.1"}, **key_pair(reporter)), 200, "queued") == first
    Scan.objects.filter(pk=first.pk).update(status="running")
    assert assert_task(send({"target": " 127.0.0.1 "}, **bearer(reporter)), 200, "running") == first
    Scan.objects.filter(pk=first.pk).update(status="completed", completed_at=first.created_at)
    assert assert_task(send({"target": "127.0.0.1"}, **bearer(reporter)), 200, "done") == first
    assert Scan.objects.count() == 1


@pytest.mark.parametrize("status", ["failed", "cancelled"])
def test_a_failed_or_cancelled_task_is_not_returned_a_new_one_is_created(reporter, status):
    first = assert_task(send({"target": "127.0.0.1"}, **bearer(reporter)), 202, "new")
    Scan.objects.filter(pk=first.pk).update(status=status)
    second = assert_task(send({"target": "127.0.0.1"}, **bearer(reporter)), 202, "new")
    assert second != first


def test_another_tenants_task_for_the_same_target_is_not_returned(reporter):
    other = make_tenant("other-ingestor", role="reporter")
    theirs = assert_task(send({"target": "127.0.0.1"}, **bearer(other)), 202, "new")
    mine = assert_task(send({"target": "127.0.0.1"}, **bearer(reporter)), 202, "new")
    assert mine != theirs and mine.tenant_id == reporter.tenant_id


@pytest.mark.parametrize("role, scopes, allowed", [
    ("reporter", (), True), ("admin", (), True), ("viewer", (), False), ("", ("scans:create",), False),
])
def test_the_reporter_role_is_required(db, role, scopes, allowed):
    tenant = make_tenant(f"role-{role or 'none'}", role=role, scopes=scopes)
    response = send({"target": "127.0.0.1"}, **bearer(tenant))
    if allowed:
        assert_task(response, 202, "new")
    else:
        assert "reporter role" in assert_error(response, 403)["message"]
        assert Scan.objects.count() == 0
        assert AuditLog.objects.get().status_code == 403


def test_gateway_headers_from_the_client_are_ignored(db, reporter):
    viewer = make_tenant("viewer-co", role="viewer")
    refused = send({"target": "127.0.0.1"}, **bearer(viewer), **{"user-id": "1", "groups": "reporter,admin"})
    assert_error(refused, 403)
    scan = assert_task(send({"target": "127.0.0.1"}, **key_pair(reporter),
                            **{"user-id": "someone-else", "groups": "globex"}), 202, "new")
    assert scan.tenant_id == reporter.tenant_id


@pytest.mark.parametrize("headers", [
    {}, {"api-key": "nosuchkey"}, {"api-secret": "secret"}, {"api-key": "nosuchkey", "api-secret": "secret"},
    {"Authorization": "Bearer lnt_nosuch.secret"}, {"Authorization": "Bearer garbage"},
])
def test_missing_or_wrong_credentials_are_401_with_error_headers(db, headers):
    assert_error(send({"target": "127.0.0.1"}, **headers), 401)


def test_a_wrong_secret_is_401(reporter):
    assert_error(send({"target": "127.0.0.1"}, **{"api-key": reporter.key_id, "api-secret": "wrong"}), 401)


@pytest.mark.parametrize("body, field", [
    ({}, "target"), ({"target": ""}, "target"), ({"target": "127.0.0.0/24"}, "target"),
    ({"target": "http://127.0.0.1/"}, "target"), ({"target": "127.0.0.1; id"}, "target"),
    ({"target": "127.0.0.1", "webhook": {}}, "webhook.url"),
    ({"target": "127.0.0.1", "webhook": {"url": "ftp://127.0.0.1/x"}}, "webhook.url"),
    ({"target": "127.0.0.1", "webhook": {"url": "http://10.1.2.3/hook"}}, "webhook.url"),
    ({"target": "127.0.0.1", "webhook": {"url": "http://127.0.0.1:9/", "headers": [{"key": "X-A",
                                                                                 "value": "a\r\nB: c"}]}},
     "webhook.headers[0].value"),
    ({"target": "127.0.0.1", "webhook": {"url": "http://127.0.0.1:9/", "headers": [{"key": "Host",
                                                                                 "value": "x"}]}},
     "webhook.headers[0].key"),
    ({"target": "127.0.0.1", "webhook": {"url": "http://127.0.0.1:9/", "headers": [{"value": "x"}]}},
     "webhook.headers"),
])
def test_invalid_input_is_400_naming_the_field(reporter, webhooks_to_loopback, body, field):
    error = assert_error(send(body, **bearer(reporter)), 400)
    assert error["field"].startswith(field)
    assert Scan.objects.count() == 0


def test_malformed_json_is_400_with_error_headers(reporter):
    response = APIClient().post(SCAN, '{"target": ', content_type="application/json",
                                headers=bearer(reporter))
    assert assert_error(response, 400)["code"] == "malformed"


def test_a_non_ascii_message_becomes_an_ascii_header(reporter):
    error = assert_error(send({"target": "bücher.example"}, **bearer(reporter)), 400)
    assert "xn--bcher-kva.example" in error["message"]
    assert send({"target": "ex\u00e4mple.com\u2028x"}, **bearer(reporter))["x-error"].isascii()


def test_other_methods_answer_with_error_headers(reporter):
    response = APIClient().get(SCAN, headers=bearer(reporter))
    assert_error(response, response.status_code)
    assert response.status_code in (403, 405)
