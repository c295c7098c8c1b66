"""Which worker runs what: reports, GET /api/v1/engines, refusal when no live worker has an engine, and
engine-specific queues."""

from datetime import timedelta

import pytest
from django.utils import timezone

from scans.dispatch import scan_claim_next
from scans.models import Scan, Worker
from scans.services import ScanRequest, scan_create
from scans.workers import engine_versions, worker_report

SCANS = "/api/v1/scans"
BODY = {"target": "127.0.0.1", "engine": "nmap", "options": {"ports": "80"}, "authorized": True}


def test_engine_versions_reports_the_installed_tools():
    found = engine_versions()
    assert found["nmap"]["version"].startswith("7.") and found["nmap"]["path"].endswith("nmap")
    assert "nuclei" not in found and "zap" not in found  # cannot be installed on this machine


def test_the_engine_list_shows_schemas_defaults_and_workers(client_for, tenant_a):
    worker_report(name="w1@host", queues=["scans", "default"], engines={"nmap": {"version": "7.93", "path": "x"}})
    body = client_for(tenant_a).get("/api/v1/engines").json()
    by_name = {item["name"]: item for item in body["items"]}
    assert {"nmap", "zap", "trivy", "nuclei", "nikto", "sqlmap", "wapiti", "harvester", "sublist3r",
            "sentinel"} <= set(by_name)
    nmap = by_name["nmap"]
    assert nmap["defaults"]["ports"] == "1-1024" and nmap["defaults"]["timing"] == "T3"
    assert nmap["options"]["properties"]["timing"]["enum"] == ["T0", "T1", "T2", "T3", "T4", "T5"]
    assert nmap["available"] and nmap["available_on"][0]["version"] == "7.93"
    assert by_name["zap"]["available"] is False
    assert by_name["sentinel"]["defaults"] == {"depth": "standard", "engines": [], "correlate": True,
                                               "riskScore": True}


def test_a_scan_for_an_engine_no_live_worker_has_is_422(client_for, tenant_a, settings):
    settings.LANTERN_REQUIRE_LIVE_ENGINES = True
    client = client_for(tenant_a)
    refused = client.post(SCANS, BODY, format="json")
    assert refused.status_code == 422 and "no live worker can run nmap" in refused.json()["error"]["message"]
    worker_report(name="w1@host", queues=["scans"], engines={"nmap": {"version": "7.93", "path": "x"}})
    assert client.post(SCANS, BODY, format="json").status_code == 201
    Worker.objects.update(last_seen=timezone.now() - timedelta(seconds=settings.LANTERN_WORKER_STALE_S + 1))
    assert client.post(SCANS, BODY, format="json").status_code == 422
    assert Scan.objects.count() == 1


def test_an_engine_with_its_own_queue_is_claimed_only_from_it(tenant_a, settings):
    settings.LANTERN_ENGINE_QUEUES = {"trivy": "scans.trivy"}
    scan = scan_create(tenant_id=tenant_a.tenant_id, api_key_pk=None,
                       request=ScanRequest(target="localhost:5000/app:1", engine="trivy",
                                           options={"scanners": ["secret"]}))
    assert scan.queue == "scans.trivy"
    assert scan_claim_next(worker="general", queue="scans") is None
    assert scan_claim_next(worker="trivy-host", queue="scans.trivy") == str(scan.pk)


@pytest.mark.parametrize("queues, ok", [(["scans.trivy"], True), (["scans"], False)])
def test_the_live_worker_must_serve_the_scans_queue(tenant_a, settings, queues, ok):
    settings.LANTERN_REQUIRE_LIVE_ENGINES = True
    settings.LANTERN_ENGINE_QUEUES = {"trivy": "scans.trivy"}
    worker_report(name="w@h", queues=queues, engines={"trivy": {"version": "0.76.0", "path": "x"}})
    request = ScanRequest(target="localhost:5000/app:1", engine="trivy", options={"scanners": ["secret"]})
    if ok:
        scan_create(tenant_id=tenant_a.tenant_id, api_key_pk=None, request=request)
    else:
        from config.errors import TargetInvalid

        with pytest.raises(TargetInvalid, match="no worker serves that queue"):
            scan_create(tenant_id=tenant_a.tenant_id, api_key_pk=None, request=request)
