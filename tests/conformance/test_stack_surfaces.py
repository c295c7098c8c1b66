"""One scan through each seed surface on the real stack (daphne, a Celery worker, real nmap), against
servers this module opens on 127.0.0.1: each completes, and what it found reads back through the API."""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from engines.testing.tls import self_signed_certificate, tls_server
from tenants.services import tenant_set_oem
from tests.conftest import make_tenant
from tests.stack.conftest import live_stack  # noqa: F401  (the fixture, used by `stack`)

pytestmark = [pytest.mark.stack, pytest.mark.django_db(transaction=True)]
TLS_PORTS = (8443, 4443, 9443, 7443, 1443)  # in nmap's top 1000, which the ingest scan covers
# The ingest scan covers nmap's top 1000 ports; 127.0.0.2 keeps the machine's own 127.0.0.1 services (the
# database, the broker...) out of what it finds.
INGEST_ADDRESS = "127.0.0.2"


@pytest.fixture(scope="module")
def stack(live_stack):  # noqa: F811
    return live_stack


class _Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        body = b"<html><title>lantern surfaces</title></html>"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def http_server(ports: Iterable[int] = (0,)) -> Iterator[int]:
    """A small HTTP server on 127.0.0.1 (the first of `ports` that is free), so that nmap's service
    detection identifies it at once: a silent listener makes -sV wait out every probe's timeout."""
    for port in ports:
        try:
            server = ThreadingHTTPServer(("127.0.0.1", port), _Hello)
            break
        except OSError:
            continue
    else:
        pytest.skip(f"none of the ports {ports} is free")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def wait_done(client: httpx.Client, scan_id: str, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/scans/{scan_id}").json()
        if body["status"] in ("completed", "failed", "cancelled"):
            return body
        time.sleep(0.5)
    raise AssertionError(f"scan {scan_id} still {body['status']} after {timeout} s")


def open_ports(client: httpx.Client, scan_id: str) -> set[int]:
    result = client.get(f"/api/v1/scans/{scan_id}/result").json()
    return {p["port"] for device in result["devices"] for p in device["ports"] if p["state"] == "open"}


def test_an_oem_scan_of_a_loopback_range_completes(stack):
    partner = make_tenant("oem-live", scopes=("oem",))
    tenant_set_oem(tenant_id=partner.tenant_id, enabled=True, credits=None)
    # an ip_range scan covers nmap's top 1000 ports, which include 1025-1054
    with http_server(range(1025, 1055)) as port, httpx.Client(
            base_url=stack["http"], headers={"X-API-KEY": partner.key}, timeout=20) as client:
        queued = client.post("/api/v1/oem/on-demand-scan", json={"type": "ip_range", "target": "127.0.0.1"})
        assert queued.status_code == 200, queued.text
        scan_id = queued.json()["response"]["scan_id"]
        done = wait_done(client, scan_id)
        found = open_ports(client, scan_id)
        info = client.post("/api/v1/oem/on-demand-scan/scan-status", json={"scan_id": scan_id}).json()
    assert done["status"] == "completed", done["error"]
    assert port in found
    assert info["response"]["scan_info"]["status"] == "scan_completed"
    assert isinstance(info["response"]["scan_info"]["completed_at"], int)


def test_an_ingest_scan_collects_ports_services_and_the_tls_certificate(stack):
    reporter = make_tenant("ingest-live", role="reporter")
    port = next((p for p in TLS_PORTS if _free(INGEST_ADDRESS, p)), None)
    if port is None:
        pytest.skip(f"none of {TLS_PORTS} is free on {INGEST_ADDRESS}")
    headers = {"api-key": reporter.key_id, "api-secret": reporter.secret}
    # A short certificate path: nmap reports s_server's command line as the service's extrainfo, and
    # engines/nmap/parse.py does not clip version + extrainfo to Service.version's 200 characters yet.
    with tempfile.TemporaryDirectory(prefix="lt") as directory:
        certificate = self_signed_certificate(Path(directory))
        with tls_server(certificate, host=INGEST_ADDRESS, port=port), httpx.Client(
                base_url=stack["http"], headers=headers, timeout=20) as client:
            created = client.post("/api/ingest/v1/scan", json={"target": INGEST_ADDRESS})
            assert (created.status_code, created.json()["status"]) == (202, "new"), created.text
            scan_id = created.json()["id"]
            done = wait_done(client, scan_id, timeout=300)
            repeat = client.post("/api/ingest/v1/scan", json={"target": INGEST_ADDRESS})
            result = client.get(f"/api/v1/scans/{scan_id}/result").json()
    assert done["status"] == "completed", done["error"]
    assert (repeat.status_code, repeat.json()) == (200, {"id": scan_id, "status": "done"})
    assert port in {p["port"] for d in result["devices"] for p in d["ports"]}
    assert any(c["port"] == port and "lantern.test" in c["subject"] for c in result["certificates"])


def test_a_multi_engine_nmap_scan_completes(stack):
    tenant = make_tenant("multi-live")
    with http_server() as port, httpx.Client(base_url=stack["http"], headers={"X-API-Key": tenant.key},
                                             timeout=20) as client:
        created = client.post("/scan-api/api/v1/scans", json={
            "target": "127.0.0.1", "scanType": "nmap", "options": {"ports": str(port)}})
        assert created.status_code == 201, created.text
        scan_id = created.json()["data"]["id"]
        wait_done(client, scan_id)
        detail = client.get(f"/scan-api/api/v1/scans/{scan_id}").json()["data"]
        found = open_ports(client, scan_id)
    assert (detail["status"], detail["progress"]) == ("completed", 100), detail["error"]
    assert found == {port}


def test_a_network_scan_with_the_custom_profile_completes(stack):
    tenant = make_tenant("network-live")
    headers = {"Authorization": f"Bearer {tenant.key}"}
    with http_server() as port, httpx.Client(base_url=stack["http"], headers=headers, timeout=20) as client:
        started = client.post("/api/v1/scans/start", json={"target": "127.0.0.1", "profile": "custom",
                                                           "ports": [port], "site_id": "lab"})
        assert started.status_code == 201, started.text
        done = wait_done(client, started.json()["id"])
        result = client.get(f"/api/v1/scans/{done['id']}/result").json()
    assert done["status"] == "completed" and done["progress_percent"] == 100, done["error"]
    assert (result["devices_found"], result["open_ports_total"]) == (1, 1)
    assert result["devices"][0]["ports"][0]["port"] == port


def _free(address: str, port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex((address, port)) != 0
