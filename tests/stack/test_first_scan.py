"""End to end on the real stack: a key from the operator command, HTTP through daphne, a real Celery worker,
real nmap against sockets this test opens on 127.0.0.1, live events over WebSocket."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.stack.conftest import ROOT

pytestmark = pytest.mark.django_db(transaction=True)


def make_key(stack, tenant: str, *args: str) -> str:
    out = subprocess.run([sys.executable, "manage.py", "create_api_key", "--tenant", tenant, *args, "--json"],
                         cwd=ROOT, env=stack["env"], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)["key"]


def listening_socket() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


def wait_for_status(client: httpx.Client, scan_id: str, wanted: set[str], timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/scans/{scan_id}").json()
        if body["status"] in wanted:
            return body
        time.sleep(0.2)
    raise AssertionError(f"scan {scan_id} still {body['status']} after {timeout} s")


def scan_processes(scan_id: str) -> list[str]:
    result = subprocess.run(["pgrep", "-f", f"lantern-{scan_id}"], capture_output=True, text=True)
    return result.stdout.split()


def test_a_scan_submitted_over_http_runs_nmap_and_streams_its_events(live_stack):
    key = make_key(live_stack, "acme")
    sock = listening_socket()
    port = sock.getsockname()[1]
    with httpx.Client(base_url=live_stack["http"], headers={"X-API-Key": key}, timeout=10) as client:
        created = client.post("/api/v1/scans", json={
            "target": "127.0.0.1", "engine": "nmap", "authorized": True,
            "options": {"ports": f"{port - 1}-{port + 1}", "serviceDetection": False}})
        assert created.status_code == 201, created.text
        scan_id = created.json()["id"]
        done = wait_for_status(client, scan_id, {"completed", "failed"})
        assert done["status"] == "completed", done["error"]
        assert (done["progress"], done["hosts_found"], done["ports_found"]) == (100, 1, 1)
        result = client.get(f"/api/v1/scans/{scan_id}/result").json()
    sock.close()
    assert result["devices_found"] == 1 and result["open_ports_total"] == 1
    assert result["devices"][0]["ip"] == "127.0.0.1"
    assert [(p["port"], p["state"]) for p in result["devices"][0]["ports"]] == [(port, "open")]

    # a late client replays the whole stream in order
    with connect(f"{live_stack['ws']}/ws/scans/{scan_id}", additional_headers={"X-API-Key": key}) as ws:
        events = []
        while not events or events[-1]["event"] != "scan_complete":
            events.append(json.loads(ws.recv(timeout=10)))
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    names = [e["event"] for e in events]
    assert names[:3] == ["scan.queued", "scan.started", "phase.started"] and names[-1] == "scan_complete"
    assert {"event": "port_found", "data": {"ip": "127.0.0.1", "port": port, "protocol": "tcp"}}.items() <= \
        next(e for e in events if e["event"] == "port_found").items()
    assert events[-1]["data"]["devices_found"] == 1 and events[-1]["data"]["open_ports_total"] == 1

    # a browser, which cannot set headers, uses a short-lived token instead
    token = httpx.post(f"{live_stack['http']}/api/v1/ws-token", headers={"X-API-Key": key}).json()["token"]
    with connect(f"{live_stack['ws']}/ws/scans/{scan_id}?token={token}") as ws:
        assert json.loads(ws.recv(timeout=10))["seq"] == 1

    # reconnecting with ?since= replays only what came after
    with connect(f"{live_stack['ws']}/ws/scans/{scan_id}?since={len(events) - 1}",
                 additional_headers={"Authorization": f"Bearer {key}"}) as ws:
        assert json.loads(ws.recv(timeout=10))["seq"] == len(events)


class _Hello(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        body = b"<html><title>lantern test</title></html>"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_a_full_scan_runs_every_phase_it_can_and_says_why_it_skips_the_others(live_stack):
    key = make_key(live_stack, "acme")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    server.request_queue_size = 128
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        with httpx.Client(base_url=live_stack["http"], headers={"X-API-Key": key}, timeout=10) as client:
            scan_id = client.post("/api/v1/scans", json={"target": "localhost", "scan_type": "full",
                                                        "ports": str(port), "authorized": True}).json()["id"]
            done = wait_for_status(client, scan_id, {"completed", "failed"}, timeout=120)
            result = client.get(f"/api/v1/scans/{scan_id}/result").json()
    finally:
        server.shutdown()
    assert done["status"] == "completed", done["error"]
    assert done["phases_completed"] == ["discovery", "enumeration", "vulnerability_scanning", "web_analysis",
                                        "correlation", "remediation_planning", "reporting"]
    assert set(done["phases_skipped"]) == {"cloud_analysis", "threat_intelligence", "ai_analysis"}
    nuclei = [step for step in done["steps_skipped"] if step["engine"] == "nuclei"]
    assert nuclei and "not installed" in nuclei[0]["reason"]
    ports = result["devices"][0]["ports"]
    assert ports[0]["port"] == port and ports[0]["service"] == "http"
    assert ports[0]["product"] == "BaseHTTPServer" and "Python" in ports[0]["version"]


def test_cancelling_a_running_scan_kills_nmap(live_stack):
    key = make_key(live_stack, "acme")
    with httpx.Client(base_url=live_stack["http"], headers={"X-API-Key": key}, timeout=10) as client:
        scan_id = client.post("/api/v1/scans", json={
            "target": "127.0.0.1", "engine": "nmap", "authorized": True,
            "options": {"ports": "1-65535", "timing": "T1", "serviceDetection": True}}).json()["id"]
        wait_for_status(client, scan_id, {"running"})
        deadline = time.monotonic() + 20
        while not scan_processes(scan_id) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert scan_processes(scan_id), "nmap never started"
        requested = time.monotonic()
        assert client.delete(f"/api/v1/scans/{scan_id}").status_code == 200
        done = wait_for_status(client, scan_id, {"cancelled", "completed", "failed"}, timeout=10)
        elapsed = time.monotonic() - requested
    assert done["status"] == "cancelled" and "cancelled" in done["error"]
    assert elapsed < 5
    assert scan_processes(scan_id) == []


def test_websocket_refuses_other_tenants_and_bad_keys(live_stack):
    owner = make_key(live_stack, "acme")
    stranger = make_key(live_stack, "globex")
    with httpx.Client(base_url=live_stack["http"], headers={"X-API-Key": owner}, timeout=10) as client:
        scan_id = client.post("/api/v1/scans", json={"target": "127.0.0.1", "engine": "nmap", "authorized": True,
                                                    "options": {"ports": "1"}}).json()["id"]
        wait_for_status(client, scan_id, {"completed", "failed"})
    for headers, code in (({"X-API-Key": stranger}, 4404), ({"X-API-Key": "lnt_0.bad"}, 4401), ({}, 4401)):
        with connect(f"{live_stack['ws']}/ws/scans/{scan_id}", additional_headers=headers) as ws:
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=10)
        assert closed.value.rcvd.code == code


def test_the_api_docs_and_their_assets_are_served_by_daphne_offline(live_stack):
    with httpx.Client(base_url=live_stack["http"], timeout=10) as client:
        page = client.get("/api/docs/")
        assert page.status_code == 200
        assets = [part.split('"')[0] for part in page.text.split('src="')[1:]]
        assert assets and all(asset.startswith("/static/") for asset in assets)
        for asset in assets:
            assert client.get(asset).status_code == 200, asset
        assert client.get("/api/schema/").status_code == 200
        assert client.get("/static/admin/css/base.css").status_code == 200


def test_the_worker_reports_its_engines_and_their_versions(live_stack):
    key = make_key(live_stack, "acme")
    deadline = time.monotonic() + 30
    with httpx.Client(base_url=live_stack["http"], headers={"X-API-Key": key}, timeout=10) as client:
        while True:
            engines = {item["name"]: item for item in client.get("/api/v1/engines").json()["items"]}
            if engines["nmap"]["available"] or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    nmap = engines["nmap"]["available_on"][0]
    assert nmap["version"].startswith("7.") and "scans" in nmap["queues"]
    assert engines["sqlmap"]["available"] and engines["trivy"]["available"]
    assert not engines["zap"]["available"] and not engines["nuclei"]["available"]
