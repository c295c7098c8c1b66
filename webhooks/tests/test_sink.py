"""The event sink: a scan event becomes outbox rows for the tenant's matching endpoints and, on completion,
for the scan's own webhook (seed 001, with its headers) and callbackUrl (seed 002); it only enqueues, and
delivering them does not let one tenant's slow receiver hold up another tenant's."""

from __future__ import annotations

import json
import time

import pytest

from scans import events as scan_events
from scans.services import ScanRequest, scan_create
from webhooks.crypto import signature_verify
from webhooks.models import Delivery, DeliveryKind, DeliveryStatus
from webhooks.services import endpoint_create
from webhooks.sinks import on_scan_event
from webhooks.tests.receiver import Receiver


def make_scan(tenant, **extra):
    request = ScanRequest(target="127.0.0.1", engine="nmap", options={"ports": "80"}, extra=extra)
    return scan_create(tenant_id=tenant.tenant_id, api_key_pk=None, request=request)


def completed(scan, seq=9):
    return {"scan_id": str(scan.pk), "seq": seq, "event": "scan.completed",
            "timestamp": "2026-03-06T10:00:00Z",
            "data": {"status": "completed", "devices_found": 1, "open_ports_total": 1, "duration": 2.5}}


def test_scan_completed_creates_deliveries_for_the_matching_endpoint_and_the_per_scan_webhook(
        tenant_a, tenant_b, outbox):
    with Receiver() as endpoint_receiver, Receiver() as scan_receiver:
        # given a subscribed and an unsubscribed endpoint, another tenant's one, and a scan with a webhook
        subscribed = endpoint_create(tenant_id=tenant_a.tenant_id, url=endpoint_receiver.url,
                                     events=["scan.started", "scan.completed"])
        endpoint_create(tenant_id=tenant_a.tenant_id, url=endpoint_receiver.url, events=["scan.failed"])
        endpoint_create(tenant_id=tenant_b.tenant_id, url=endpoint_receiver.url, events=["scan.completed"])
        scan = make_scan(tenant_a, webhook={"url": scan_receiver.url, "headers": [
            {"key": "Authorization", "value": "Bearer their-token"}, {"key": "X-Team", "value": "blue"}]})
        # when the scan completes
        with outbox.committed():
            on_scan_event(tenant_id=tenant_a.tenant_id, message=completed(scan))
        # then two deliveries wait in the outbox, enqueued, and nothing was sent by the sink
        rows = Delivery.objects.order_by("kind")
        assert [(d.kind, d.endpoint_id, d.event, d.tenant_id) for d in rows] == [
            (DeliveryKind.ENDPOINT, subscribed.endpoint.pk, "scan.completed", tenant_a.tenant_id),
            (DeliveryKind.SCAN_WEBHOOK, None, "scan.completed", tenant_a.tenant_id)]
        assert len(outbox.queued) == 2 and endpoint_receiver.count == scan_receiver.count == 0
        outbox.run()
        (signed,) = endpoint_receiver.wait_for(1)
        (custom,) = scan_receiver.wait_for(1)
    assert signature_verify(signed.headers["x-lantern-signature"], signed.body, subscribed.secret)
    assert custom.headers["authorization"] == "Bearer their-token" and custom.headers["x-team"] == "blue"
    assert "x-lantern-signature" not in custom.headers
    for request in (signed, custom):
        body = json.loads(request.body)
        assert (body["event"], body["scan_id"]) == ("scan.completed", str(scan.pk))
        assert body["data"]["devices_found"] == 1
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SUCCEEDED}


def test_the_same_event_twice_creates_nothing_more(tenant_a, outbox):
    endpoint_create(tenant_id=tenant_a.tenant_id, url="http://127.0.0.1:9/h", events=["scan.completed"])
    scan = make_scan(tenant_a, webhook={"url": "http://127.0.0.1:9/w", "headers": []})
    with outbox.committed():
        on_scan_event(tenant_id=tenant_a.tenant_id, message=completed(scan))
        on_scan_event(tenant_id=tenant_a.tenant_id, message=completed(scan))
    assert Delivery.objects.count() == 2 and len(outbox.queued) == 2


def test_the_per_scan_webhook_is_called_once_per_scan_and_only_on_completion(tenant_a, outbox):
    scan = make_scan(tenant_a, webhook={"url": "http://127.0.0.1:9/w"})
    started = {**completed(scan, seq=2), "event": "scan.started", "data": {}}
    cancelled = {**completed(scan, seq=10), "event": "scan.cancelled"}
    with outbox.committed():
        on_scan_event(tenant_id=tenant_a.tenant_id, message=started)
        assert Delivery.objects.count() == 0
        on_scan_event(tenant_id=tenant_a.tenant_id, message=completed(scan))
        on_scan_event(tenant_id=tenant_a.tenant_id, message=cancelled)
    expected = [(DeliveryKind.SCAN_WEBHOOK, "scan.completed")]
    assert list(Delivery.objects.values_list("kind", "event")) == expected


def test_a_seed_002_callback_url_gets_the_completion(tenant_a, outbox):
    with Receiver() as receiver:
        scan = make_scan(tenant_a, callback_url=receiver.url)
        with outbox.committed():
            on_scan_event(tenant_id=tenant_a.tenant_id, message={**completed(scan), "event": "scan.failed"})
        outbox.run()
        (request,) = receiver.wait_for(1)
    assert json.loads(request.body)["event"] == "scan.failed"
    assert Delivery.objects.get().kind == DeliveryKind.SCAN_CALLBACK


def test_a_plain_http_callback_to_a_public_host_is_refused_at_delivery(tenant_a, outbox):
    scan = make_scan(tenant_a, callback_url="http://hooks.example.test/cb")
    with outbox.committed():
        on_scan_event(tenant_id=tenant_a.tenant_id, message=completed(scan))
    outbox.run()
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.last_error) == (DeliveryStatus.FAILED,
                                                      "refused: the URL must use https://")


def test_per_scan_headers_are_checked_again_before_sending(tenant_a, outbox):
    with Receiver() as receiver:
        headers = [{"key": "Host", "value": "evil"}]
        scan = make_scan(tenant_a, webhook={"url": receiver.url, "headers": headers})
        with outbox.committed():
            on_scan_event(tenant_id=tenant_a.tenant_id, message=completed(scan))
        outbox.run()
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED and "Host header cannot be set" in delivery.last_error
    assert receiver.count == 0


def test_another_tenants_scan_id_brings_no_per_scan_delivery(tenant_a, tenant_b, outbox):
    scan = make_scan(tenant_b, webhook={"url": "http://127.0.0.1:9/w"})
    with outbox.committed():
        on_scan_event(tenant_id=tenant_a.tenant_id, message=completed(scan))
    assert Delivery.objects.count() == 0


def test_events_recorded_on_the_stream_reach_the_sink_after_commit(tenant_a, outbox, settings):
    settings.LANTERN_EVENT_SINKS = ["webhooks.sinks.on_scan_event"]
    scan_events._sinks.cache_clear()
    try:
        endpoint_create(tenant_id=tenant_a.tenant_id, url="http://127.0.0.1:9/h", events=["progress"])
        scan = make_scan(tenant_a)
        with outbox.committed():
            event = scan_events.event_record(tenant_id=tenant_a.tenant_id, scan_id=scan.pk, type="progress",
                                             payload={"progress": 40})
            assert Delivery.objects.count() == 0  # nothing before the commit
    finally:
        scan_events._sinks.cache_clear()
    delivery = Delivery.objects.get()
    assert delivery.payload == {"id": str(delivery.pk), "event": "progress", "scan_id": str(scan.pk),
                                "created_at": event.created_at.isoformat().replace("+00:00", "Z"),
                                "data": {"progress": 40}}
    assert len(outbox.queued) == 1


def test_a_slow_receiver_does_not_hold_up_another_tenants_delivery(tenant_a, tenant_b, outbox):
    # given tenant a's receiver sleeps 30 s and tenant b's answers at once, both queued on one worker
    with Receiver(delay_s=30) as slow, Receiver() as fast:
        endpoint_create(tenant_id=tenant_a.tenant_id, url=slow.url, events=["scan.completed"])
        endpoint_create(tenant_id=tenant_b.tenant_id, url=fast.url, events=["scan.completed"])
        scan_a, scan_b = make_scan(tenant_a), make_scan(tenant_b)
        with outbox.committed():
            on_scan_event(tenant_id=tenant_a.tenant_id, message=completed(scan_a))
            on_scan_event(tenant_id=tenant_b.tenant_id, message=completed(scan_b))
        # when the worker takes a's delivery first, then b's
        started = time.monotonic()
        outbox.run_one()
        outbox.run_one()
        (request,) = fast.wait_for(1, timeout=1)
        # then b's arrives after a's read timeout (1 s here), not after a's 30 s, and a's waits for a retry
        assert request.at - started < 3
    slow_delivery = Delivery.objects.get(tenant_id=tenant_a.tenant_id)
    assert slow_delivery.status == DeliveryStatus.RETRYING
    assert slow_delivery.last_error == "timed out: ReadTimeout"
    assert Delivery.objects.get(tenant_id=tenant_b.tenant_id).status == DeliveryStatus.SUCCEEDED


@pytest.mark.parametrize("webhook", [None, "http://127.0.0.1:9/w", {"headers": []}, {"url": ""}])
def test_malformed_scan_webhooks_are_ignored(tenant_a, outbox, webhook):
    scan = make_scan(tenant_a, webhook=webhook)
    with outbox.committed():
        on_scan_event(tenant_id=tenant_a.tenant_id, message=completed(scan))
    assert Delivery.objects.count() == 0
