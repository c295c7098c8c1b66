"""The OpenAPI document: it still renders, documents every surface operation under its seed's tag, with
the seed documents' examples and the error answers (and their headers) each surface gives."""

from __future__ import annotations

import json

import pytest

SURFACE_OPERATIONS = {
    ("/api/v1/oem/on-demand-scan", "post"): "seed 000: OEM on-demand scan",
    ("/api/v1/oem/on-demand-scan/scan-status", "post"): "seed 000: OEM on-demand scan",
    ("/api/ingest/v1/scan", "post"): "seed 001: ingest scan",
    ("/scan-api/api/v1/scans", "post"): "seed 002: multi-engine scan API",
    ("/scan-api/api/v1/scans", "get"): "seed 002: multi-engine scan API",
    ("/scan-api/api/v1/scans/{scan_id}", "get"): "seed 002: multi-engine scan API",
    ("/scan-api/api/v1/scans/{scan_id}/cancel", "post"): "seed 002: multi-engine scan API",
    ("/api/v1/scans/start", "post"): "seed 004: network scanning",
    ("/api/v1/scans/{scan_id}/stop", "post"): "seed 004: network scanning",
}
# Strings that appear only in the seed documents' examples.
SEED_EXAMPLE_TEXT = {
    ("/api/v1/oem/on-demand-scan", "post"): ["ACMECorp", "8.8.8.0/24", "has been successfully queued",
                                            "'invalid-domain' is not a valid domain"],
    ("/api/v1/oem/on-demand-scan/scan-status", "post"): ["track_123", "scan_completed", "Scan ID not found"],
    ("/api/ingest/v1/scan", "post"): ["203.0.113.1", "your-webhook-url.com", "a1b2c3d4-e5f6"],
    ("/scan-api/api/v1/scans", "post"): ["Weekly network audit", "2026-03-06T10:00:00Z", "dnsdumpster",
                                         "BEUSTQ"],
    ("/api/v1/scans/start", "post"): ["optional-site-uuid", "3389", "enable_cve_match"],
}


@pytest.fixture
def schema(client) -> dict:
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def test_the_schema_renders_with_every_surface_operation_under_its_seed_tag(schema):
    for (path, method), tag in SURFACE_OPERATIONS.items():
        assert schema["paths"][path][method]["tags"] == [tag], (path, method)
    tags = {tag for item in schema["paths"].values() for op in item.values() for tag in op.get("tags", [])}
    assert {"seed 000: OEM on-demand scan", "seed 001: ingest scan", "seed 002: multi-engine scan API",
            "scans (native, seed 003)", "seed 004: network scanning"} <= tags


def test_operation_ids_are_unique(schema):
    ids = [op["operationId"] for item in schema["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("operation", list(SEED_EXAMPLE_TEXT))
def test_the_seed_examples_are_in_the_document(schema, operation):
    path, method = operation
    text = json.dumps(schema["paths"][path][method])
    for fragment in SEED_EXAMPLE_TEXT[operation]:
        assert fragment in text, fragment


def test_error_answers_and_their_headers_are_documented(schema):
    oem = schema["paths"]["/api/v1/oem/on-demand-scan"]["post"]["responses"]
    assert {"200", "400", "401", "403", "422", "429"} <= set(oem)
    assert "Retry-After" in oem["429"]["headers"]
    assert "404" in schema["paths"]["/api/v1/oem/on-demand-scan/scan-status"]["post"]["responses"]
    ingest = schema["paths"]["/api/ingest/v1/scan"]["post"]["responses"]
    assert {"200", "202", "400", "401", "403"} <= set(ingest)
    for code in ("400", "401", "403"):
        assert {"x-error", "x-error-id"} <= set(ingest[code]["headers"])
    create = schema["paths"]["/scan-api/api/v1/scans"]["post"]["responses"]
    assert {"201", "400", "401", "403", "422"} <= set(create)
