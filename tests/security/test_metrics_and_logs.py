"""/metrics (Prometheus text, protected) and structured JSON logs with the scan's id and tenant."""

import json
import logging

import pytest
import redis
from django.conf import settings

from config.observability import KEY, JsonFormatter, ScanContextFilter, scan_log_context
from scans.services import ScanRequest, scan_create


@pytest.fixture(autouse=True)
def clean_metrics():
    redis.Redis.from_url(settings.LANTERN_RATE_REDIS_URL).delete(KEY)


def test_metrics_are_hidden_without_the_token(client, settings):
    settings.LANTERN_METRICS_TOKEN = "scrape-me"
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404


def test_metrics_report_scans_queues_and_api_latency(client, client_for, tenant_a, settings):
    settings.LANTERN_METRICS_TOKEN = "scrape-me"
    scan_create(tenant_id=tenant_a.tenant_id, api_key_pk=None,
                request=ScanRequest(target="127.0.0.1", engine="nmap", priority="high"))
    client_for(tenant_a).get("/api/v1/scans")
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-me")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain; version=0.0.4")
    text = response.content.decode()
    assert 'lantern_scans{status="queued",priority="high"} 1' in text
    assert 'lantern_scans_queued{queue="scans"} 1' in text
    assert "# TYPE lantern_http_request_seconds histogram" in text
    assert 'lantern_http_request_seconds_count{method="GET",route="scan-collection",status="2xx"} 1' in text
    assert 'lantern_broker_queue_depth{queue="scans"}' in text


def test_log_lines_are_json_with_the_scan_and_tenant_when_a_scan_runs():
    record = logging.LogRecord("scans.execution", logging.INFO, __file__, 1, "nmap %s", ("started",), None)
    with scan_log_context(scan_id="4caf6f21-2a7a-4a83-bbe1-4680861c7f3e", tenant_id=7):
        ScanContextFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "nmap started" and line["level"] == "INFO" and line["logger"] == "scans.execution"
    assert (line["scan_id"], line["tenant_id"]) == ("4caf6f21-2a7a-4a83-bbe1-4680861c7f3e", 7)
    outside = logging.LogRecord("x", logging.INFO, __file__, 1, "idle", (), None)
    ScanContextFilter().filter(outside)
    assert "scan_id" not in json.loads(JsonFormatter().format(outside))
