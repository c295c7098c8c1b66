"""Seed 004, the network scanning API: start (each profile, the custom example), status, result (devices),
stop, list and the WebSocket events, sent as the document sends them (Authorization: Bearer) with targets
swapped for loopback ones; the original targets show the 422. GET /scans/{id}, /result and the list are
the native API, whose objects carry seed 004's fields."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from rest_framework.test import APIClient

from scans.events import event_record
from scans.models import Host, Scan, Service
from tests.conftest import make_tenant

START = "/api/v1/scans/start"
SCANS = "/api/v1/scans"
START_EXAMPLE = {"target": "192.168.1.0/24", "profile": "normal", "site_id": "optional-site-uuid"}
CUSTOM_EXAMPLE = {"target": "10.0.0.0/16", "profile": "custom", "ports": [22, 80, 443, 3389, 8080, 8443],
                  "timeout_ms": 5000, "max_concurrent": 20, "enable_profiling": True,
                  "enable_cve_match": False}
STATUS_KEYS = {"id", "status", "progress_percent", "hosts_found", "ports_found", "started_at",
               "estimated_completion"}


@pytest.fixture
def bearer(tenant_a) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tenant_a.key}")
    return client


def start(client, **body):
    return client.post(START, body, format="json")


def started(response) -> Scan:
    assert response.status_code == 201, response.json()
    body = response.json()
    assert {"id", "status", "target", "profile", "started_at"} <= set(body)
    assert body["status"] == "queued" and body["started_at"] is None  # Lantern queues first
    return Scan.objects.get(pk=uuid.UUID(body["id"]))


def engines(scan: Scan) -> list[str]:
    return [step["engine"] for phase in scan.plan for step in phase["steps"]]


def nmap_options(scan: Scan) -> dict:
    return next(step["options"] for phase in scan.plan for step in phase["steps"] if step["engine"] == "nmap")


def test_the_start_example_answers_the_documented_fields(bearer, tenant_a):
    response = start(bearer, **{**START_EXAMPLE, "target": "127.0.0.0/24"})
    scan = started(response)
    body = response.json()
    assert (body["target"], body["profile"], body["site_id"]) == (
        "127.0.0.0/24", "normal", "optional-site-uuid")
    assert body["created_at"].endswith("Z")
    assert (scan.tenant_id, scan.surface, scan.profile) == (tenant_a.tenant_id, "network", "normal")
    assert scan.extra == {"site_id": "optional-site-uuid"}


@pytest.mark.parametrize("example", [START_EXAMPLE, CUSTOM_EXAMPLE])
def test_the_original_example_targets_are_refused_with_422(bearer, example):
    response = start(bearer, **example)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_target"
    assert Scan.objects.count() == 0


def test_the_custom_profile_example(db):
    # the example scans a /16: the Enterprise plan's largest network (Professional stops at /20)
    enterprise = APIClient()
    enterprise.credentials(HTTP_AUTHORIZATION=f"Bearer {make_tenant('netrecon-ent', plan='enterprise').key}")
    scan = started(start(enterprise, **{**CUSTOM_EXAMPLE, "target": "127.0.0.0/16"}))
    options = nmap_options(scan)
    assert options["ports"] == "22,80,443,3389,8080,8443" and options["maxParallelism"] == 20
    assert options["serviceDetection"] is True and scan.timeout_s == 5
    assert engines(scan) == ["nmap"]  # enable_cve_match false


@pytest.mark.parametrize("profile, ports, timeout_s, cve", [
    ("quick", {"topPorts": 100}, 30, False), ("normal", {"topPorts": 1000}, 120, False),
    ("deep", {"ports": "1-65535"}, 600, True),
    ("stealth", {"topPorts": 1000, "scanTechnique": "syn"}, 300, False),
])
def test_each_profile_row_of_the_table(bearer, profile, ports, timeout_s, cve):
    scan = started(start(bearer, target="127.0.0.1", profile=profile))
    assert ports.items() <= nmap_options(scan).items() and scan.timeout_s == timeout_s
    assert ("cve-match" in engines(scan)) is cve


def test_profile_defaults_to_normal(bearer):
    assert started(start(bearer, target="127.0.0.1")).profile == "normal"


@pytest.mark.parametrize("body, field", [
    ({"target": "127.0.0.1", "profile": "turbo"}, "profile"),
    ({"target": "127.0.0.1", "profile": "quick", "ports": [22]}, "ports"),
    ({"target": "127.0.0.1", "profile": "custom"}, "ports"),
    ({"target": "127.0.0.1", "profile": "custom", "ports": [0]}, "ports"),
    ({"target": "127.0.0.1", "profile": "custom", "ports": [22], "timeout_ms": 1}, "timeout_ms"),
    ({"target": "127.0.0.1", "profile": "custom", "ports": [22], "max_concurrent": 0}, "max_concurrent"),
    ({"target": "http://127.0.0.1/", "profile": "quick"}, "target"),
    ({"profile": "quick"}, "target"),
])
def test_invalid_start_requests_are_400(bearer, body, field):
    response = start(bearer, **body)
    assert response.status_code == 400, response.json()
    assert response.json()["error"]["field"] == field
    assert Scan.objects.count() == 0


def test_status_shows_seed_004_fields(bearer):
    scan = started(start(bearer, target="127.0.0.0/24"))
    began = datetime(2026, 3, 15, 10, 30, tzinfo=UTC)
    Scan.objects.filter(pk=scan.pk).update(status="running", progress=45, hosts_found=12, ports_found=37,
                                           started_at=began,
                                           estimated_completion=began + timedelta(seconds=135))
    body = bearer.get(f"{SCANS}/{scan.pk}").json()
    assert STATUS_KEYS <= set(body)
    assert {key: body[key] for key in STATUS_KEYS} == {
        "id": str(scan.pk), "status": "running", "progress_percent": 45, "hosts_found": 12, "ports_found": 37,
        "started_at": "2026-03-15T10:30:00Z", "estimated_completion": "2026-03-15T10:32:15Z"}


def test_result_lists_devices_with_their_ports(bearer, tenant_a):
    scan = started(start(bearer, target="127.0.0.0/24"))
    began = datetime(2026, 3, 15, 10, 30, tzinfo=UTC)
    Scan.objects.filter(pk=scan.pk).update(status="completed", started_at=began,
                                           completed_at=began + timedelta(seconds=95))
    host = Host.objects.create(tenant_id=tenant_a.tenant_id, scan=scan, ip="127.0.0.1",
                               mac="AA:BB:CC:DD:EE:FF", hostname="gateway.local", vendor="Cisco Systems",
                               os_guess="IOS 15.x")
    for port, name in ((22, "ssh"), (443, "https")):
        Service.objects.create(tenant_id=tenant_a.tenant_id, scan=scan, host=host, port=port, protocol="tcp",
                               state="open", service=name)
    Service.objects.create(tenant_id=tenant_a.tenant_id, scan=scan, host=host, port=25, state="closed")
    body = bearer.get(f"{SCANS}/{scan.pk}/result").json()
    assert {"id", "status", "devices_found", "open_ports_total", "duration_seconds", "devices"} <= set(body)
    assert (body["status"], body["devices_found"], body["open_ports_total"], body["duration_seconds"]) == (
        "completed", 1, 2, 95)
    device = body["devices"][0]
    assert {key: device[key] for key in ("ip", "mac", "hostname", "vendor", "os_guess")} == {
        "ip": "127.0.0.1", "mac": "AA:BB:CC:DD:EE:FF", "hostname": "gateway.local", "vendor": "Cisco Systems",
        "os_guess": "IOS 15.x"}
    assert [{k: p[k] for k in ("port", "protocol", "state", "service")} for p in device["ports"]] == [
        {"port": 22, "protocol": "tcp", "state": "open", "service": "ssh"},
        {"port": 443, "protocol": "tcp", "state": "open", "service": "https"}]


def test_stop_a_queued_and_a_running_scan(bearer):
    queued = started(start(bearer, target="127.0.0.1"))
    response = bearer.post(f"{SCANS}/{queued.pk}/stop")
    assert response.status_code == 200
    assert response.json() == {"id": str(queued.pk), "status": "cancelled", "message": "Scan cancelled"}
    assert bearer.get(f"{SCANS}/{queued.pk}").json()["status"] == "cancelled"
    running = started(start(bearer, target="127.0.0.1"))
    Scan.objects.filter(pk=running.pk).update(status="running")
    assert bearer.post(f"{SCANS}/{running.pk}/stop").json()["status"] == "running"
    assert Scan.objects.get(pk=running.pk).cancel_requested is True
    Scan.objects.filter(pk=running.pk).update(status="completed")
    assert bearer.post(f"{SCANS}/{running.pk}/stop").status_code == 409


def test_the_list_example_and_status_values(bearer):
    ids = [str(started(start(bearer, target="127.0.0.1")).pk) for _ in range(3)]
    for scan_id, status in zip(ids, ("completed", "failed", "cancelled")):
        Scan.objects.filter(pk=scan_id).update(status=status)
    body = bearer.get(f"{SCANS}?page=1&per_page=25&status=completed").json()
    assert (body["page"], body["per_page"], body["total"]) == (1, 25, 1) and body["items"][0]["id"] == ids[0]
    started(start(bearer, target="127.0.0.1"))
    for status, count in (("queued", 1), ("running", 0), ("completed", 1), ("failed", 1), ("cancelled", 1)):
        assert bearer.get(SCANS, {"status": status}).json()["total"] == count


def test_another_tenants_scan_is_404_and_untouched(client_for, tenant_a, tenant_b):
    theirs = started(start(client_for(tenant_b), target="127.0.0.1"))
    for response in (client_for(tenant_a).post(f"{SCANS}/{theirs.pk}/stop"),
                     client_for(tenant_a).get(f"{SCANS}/{theirs.pk}"),
                     client_for(tenant_a).get(f"{SCANS}/{theirs.pk}/result")):
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
        assert str(theirs.pk) not in response.content.decode()
    assert Scan.objects.get(pk=theirs.pk).status == "queued"


def test_a_key_without_scans_create_cannot_start_or_stop(client_for, tenant_a):
    viewer = make_tenant("viewer-net", role="viewer")
    assert start(client_for(viewer), target="127.0.0.1").status_code == 403
    scan = started(start(client_for(tenant_a), target="127.0.0.1"))
    assert APIClient().post(f"{SCANS}/{scan.pk}/stop").status_code == 401
    assert Scan.objects.get(pk=scan.pk).status == "queued"


@pytest.mark.django_db(transaction=True)
def test_the_websocket_streams_host_found_port_found_and_scan_complete(tenant_a):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tenant_a.key}")
    scan = started(start(client, target="127.0.0.1"))
    for kind, data in (("host_found", {"ip": "127.0.0.1", "mac": "AA:BB:CC:11:22:33"}),
                       ("port_found", {"ip": "127.0.0.1", "port": 80, "service": "HTTP"}),
                       ("scan.completed", {"devices_found": 1, "duration": 95})):
        event_record(tenant_id=tenant_a.tenant_id, scan_id=scan.pk, type=kind, payload=data)

    async def receive_all() -> list[dict]:
        from config.asgi import application

        socket = WebsocketCommunicator(application, f"/ws/scans/{scan.pk}",
                                       headers=[(b"authorization", f"Bearer {tenant_a.key}".encode())])
        connected, _ = await socket.connect()
        assert connected
        messages = [await socket.receive_json_from(timeout=5) for _ in range(4)]
        await socket.disconnect()
        return messages

    events = [(m["event"], m["data"]) for m in async_to_sync(receive_all)()]
    assert events[1:] == [("host_found", {"ip": "127.0.0.1", "mac": "AA:BB:CC:11:22:33"}),
                          ("port_found", {"ip": "127.0.0.1", "port": 80, "service": "HTTP"}),
                          ("scan_complete", {"devices_found": 1, "duration": 95})]
