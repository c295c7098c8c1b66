"""The surfaces' translation tables and error reshaping, without routing: every Lantern status has a word
in each seed, each surface keeps its error shape even for an unexpected exception, and the helpers that
put client text into headers and the audit log keep it safe."""

from __future__ import annotations

import pytest
from rest_framework.exceptions import NotFound as DrfNotFound
from rest_framework.exceptions import Throttled
from rest_framework.test import APIRequestFactory

from config.errors import TargetInvalid
from scans.models import ScanStatus
from scans.surfaces import ingest, multiengine, oem
from scans.surfaces.audit import raw_text
from tenants.models import AuditLog
from tenants.services import tenant_set_oem
from tests.conftest import make_tenant


def test_every_lantern_status_has_a_word_in_each_seed():
    assert set(oem.STATUSES) == set(ingest.STATUSES) == set(ScanStatus.values)
    assert set(oem.STATUSES.values()) == {"queued", "in_progress", "scan_completed", "failed"}
    assert ingest.STATUSES["completed"] == "done"


def test_oem_errors_are_one_string_and_keep_retry_after():
    response = oem.oem_exception_handler(Throttled(wait=12), {})
    assert response.status_code == 429 and response["Retry-After"] == "12"
    assert list(response.data) == ["error"] and isinstance(response.data["error"], str)
    assert oem.oem_exception_handler(DrfNotFound(), {}).data == {"error": "Scan ID not found"}
    assert oem.oem_exception_handler(RuntimeError("boom"), {}).status_code == 500


def test_ingest_errors_get_an_id_and_headers_and_422_becomes_400():
    response = ingest.ingest_exception_handler(TargetInvalid("'x' is not a valid domain", field="target"), {})
    assert response.status_code == 400
    error = response.data["error"]
    assert (error["code"], error["field"], response["x-error"]) == ("invalid_target", "target",
                                                                    "'x' is not a valid domain")
    assert response["x-error-id"] == error["id"]
    crashed = ingest.ingest_exception_handler(RuntimeError("boom"), {})
    assert crashed.status_code == 500 and crashed["x-error"] == "Internal server error."


@pytest.mark.parametrize("message, header", [
    ("line one\r\nline two", "line one line two"), ("bücher\x00", "b\\xfccher?"), ("x" * 600, "x" * 500),
])
def test_header_text_is_one_bounded_ascii_line(message, header):
    assert ingest.header_text(message) == header


def test_multiengine_errors_use_the_envelope_and_camel_case_fields():
    response = multiengine.multiengine_exception_handler(TargetInvalid("bad", field="target_type"), {})
    assert response.data == {"success": False, "error": {"code": "invalid_target", "message": "bad",
                                                         "field": "targetType"}}
    crashed = multiengine.multiengine_exception_handler(RuntimeError("boom"), {})
    assert crashed.status_code == 500 and crashed.data["success"] is False


@pytest.mark.parametrize("field, config, shown", [
    ("engine", {}, "scanType"), ("options.timing", {}, "options.timing"), ("options.timing", {"timing": 1},
                                                                          "config.timing"),
    ("options.scripts[0]", {"scripts": []}, "config.scripts[0]"), ("timeout_s", {}, "timeout"),
    ("target", {}, "target"),
])
def test_service_field_names_in_seed_002_words(field, config, shown):
    assert multiengine.camel_field(field, config) == shown


def test_raw_text_is_bounded_and_has_no_nul():
    assert raw_text({"target": "a\x00b" + "c" * 3000}, "target") == "a\ufffdb" + "c" * 2045
    assert raw_text(["not", "an", "object"], "target") == raw_text({"target": 5}, "target") == ""


def test_an_unexpected_failure_is_a_500_in_the_oem_shape_and_still_audited(db, monkeypatch):
    partner = make_tenant("crash", scopes=("oem",))
    tenant_set_oem(tenant_id=partner.tenant_id, enabled=True, credits=None)

    def crash(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(oem, "scan_create", crash)
    request = APIRequestFactory().post("/api/v1/oem/on-demand-scan",
                                       {"type": "domain", "target": "a.localhost"}, format="json",
                                       HTTP_X_API_KEY=partner.key)
    response = oem.OemScanApi.as_view()(request)
    assert (response.status_code, response.data) == (500, {"error": "Internal server error"})
    entry = AuditLog.objects.get()
    assert (entry.status_code, entry.outcome, entry.target) == (500, "Internal server error", "a.localhost")
