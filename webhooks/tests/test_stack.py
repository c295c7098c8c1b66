"""End to end on the real stack (a Celery worker consuming the webhooks queue, daphne, the test database):
a real nmap scan of a loopback port whose scan.started and scan.completed reach a registered endpoint
signed, retries with real countdowns, dead-lettering, and one tenant's slow receiver not delaying another
tenant's delivery. Worker settings: webhooks/tests/stack_settings.py (backoff base 0.4 s, read timeout 4 s,
4 attempts, one attempt in flight per destination)."""

from __future__ import annotations

import json
import socket
import time

import httpx
import pytest

from tests.conftest import make_tenant
from webhooks.crypto import signature_verify
from webhooks.tests.receiver import Receiver

pytestmark = pytest.mark.django_db(transaction=True)


def api(stack, tenant) -> httpx.Client:
    return httpx.Client(base_url=stack["http"], headers={"X-API-Key": tenant.key}, timeout=10)


def register(client: httpx.Client, url: str, events=("scan.completed",)) -> dict:
    response = client.post("/api/v1/webhooks", json={"url": url, "events": list(events)})
    assert response.status_code == 201, response.text
    return response.json()


def settled_log(client: httpx.Client, endpoint_id: str, count: int, timeout: float = 30) -> list[dict]:
    """The delivery log once it holds `count` deliveries, none of them pending, sending or retrying."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        items = client.get(f"/api/v1/webhooks/{endpoint_id}/deliveries").json()["items"]
        if len(items) == count and all(i["status"] in ("succeeded", "failed", "dead") for i in items):
            return items
        time.sleep(0.2)
    raise AssertionError(f"deliveries not settled after {timeout} s: {items}")


def test_a_real_nmap_scan_sends_signed_scan_started_and_scan_completed(webhook_stack):
    tenant = make_tenant("acme")
    target = socket.socket()
    target.bind(("127.0.0.1", 0))
    target.listen(16)
    port = target.getsockname()[1]
    try:
        with Receiver() as receiver, api(webhook_stack, tenant) as client:
            endpoint = register(client, receiver.url, events=("scan.started", "scan.completed"))
            created = client.post("/api/v1/scans", json={
                "target": "127.0.0.1", "engine": "nmap", "authorized": True,
                "options": {"ports": str(port), "serviceDetection": False}})
            assert created.status_code == 201, created.text
            scan_id = created.json()["id"]
            requests = receiver.wait_for(2, timeout=90)
            log = settled_log(client, endpoint["id"], 2)
    finally:
        target.close()
    bodies = {json.loads(r.body)["event"]: json.loads(r.body) for r in requests}
    assert set(bodies) == {"scan.started", "scan.completed"}
    for request in requests:
        assert signature_verify(request.headers["x-lantern-signature"], request.body, endpoint["secret"])
    assert {b["scan_id"] for b in bodies.values()} == {scan_id}
    completed = bodies["scan.completed"]["data"]
    assert completed["status"] == "completed"
    assert (completed["devices_found"], completed["open_ports_total"]) == (1, 1)
    assert sorted((i["event"], i["status"], i["status_code"], i["attempts"]) for i in log) == [
        ("scan.completed", "succeeded", 200, 1), ("scan.started", "succeeded", 200, 1)]
    assert all(isinstance(i["latency_ms"], int) for i in log)


def test_the_worker_retries_with_growing_waits_until_the_receiver_accepts(webhook_stack):
    tenant = make_tenant("acme")
    with Receiver(fail_times=2, fail_status=503) as receiver, api(webhook_stack, tenant) as client:
        endpoint = register(client, receiver.url)
        assert client.post(f"/api/v1/webhooks/{endpoint['id']}/ping").status_code == 202
        first, second, third = receiver.wait_for(3, timeout=20)
        (entry,) = settled_log(client, endpoint["id"], 1)
    # waits are between half and all of 0.4 s, then of 0.8 s
    assert 0.2 <= second.at - first.at < 3 and 0.4 <= third.at - second.at < 4
    assert (entry["status"], entry["attempts"], entry["status_code"]) == ("succeeded", 3, 200)
    assert [a["status_code"] for a in entry["attempt_log"]] == [503, 503, 200]


def test_the_worker_dead_letters_after_the_bound_and_does_not_retry_a_404(webhook_stack):
    tenant = make_tenant("acme")
    with Receiver(status=500) as failing, Receiver(status=404) as gone, api(webhook_stack, tenant) as client:
        dead_endpoint, gone_endpoint = register(client, failing.url), register(client, gone.url)
        client.post(f"/api/v1/webhooks/{dead_endpoint['id']}/ping")
        client.post(f"/api/v1/webhooks/{gone_endpoint['id']}/ping")
        (dead,) = settled_log(client, dead_endpoint["id"], 1)
        (failed,) = settled_log(client, gone_endpoint["id"], 1)
        time.sleep(1)
        assert (failing.count, gone.count) == (4, 1)
    assert (dead["status"], dead["attempts"], dead["status_code"]) == ("dead", 4, 500)
    assert (failed["status"], failed["attempts"], failed["status_code"]) == ("failed", 1, 404)


def test_a_slow_receiver_does_not_delay_another_tenants_delivery(webhook_stack):
    slow_tenant, other_tenant = make_tenant("acme"), make_tenant("globex")
    with Receiver(delay_s=30) as slow, Receiver() as fast, \
            api(webhook_stack, slow_tenant) as slow_client, api(webhook_stack, other_tenant) as other_client:
        slow_endpoint = register(slow_client, slow.url)
        fast_endpoint = register(other_client, fast.url)
        for _ in range(4):
            slow_client.post(f"/api/v1/webhooks/{slow_endpoint['id']}/ping")
        slow.wait_for(1, timeout=10)  # a worker process is now waiting on the slow receiver
        asked = time.monotonic()
        other_client.post(f"/api/v1/webhooks/{fast_endpoint['id']}/ping")
        (request,) = fast.wait_for(1, timeout=10)
        waited = request.at - asked
        first_slow = None
        deadline = time.monotonic() + 15
        while first_slow is None and time.monotonic() < deadline:
            items = slow_client.get(f"/api/v1/webhooks/{slow_endpoint['id']}/deliveries").json()["items"]
            first_slow = next((i for i in items if i["attempt_log"]), None)
            time.sleep(0.2)
    # the other tenant's delivery did not wait for the slow one's 4 s read timeout, let alone its 30 s
    assert waited < 3, waited
    assert first_slow is not None
    attempt = first_slow["attempt_log"][0]
    assert attempt["error"] == "timed out: ReadTimeout" and 3500 <= attempt["latency_ms"] < 8000
