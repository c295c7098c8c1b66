"""Delivery against a real HTTP receiver on 127.0.0.1: signatures, retries with exponential backoff and
jitter, what is retried and what is not, dead-lettering, rotation overlap, timeouts, duplicate tasks, the
per-destination in-flight cap, disabling failing endpoints and the reaper. Tasks run in-process through the
outbox fixture, which records each countdown instead of waiting it."""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tests.conftest import make_tenant
from webhooks.crypto import signature_verify
from webhooks.models import Delivery, DeliveryAttempt, DeliveryStatus, Endpoint
from webhooks.services import (deliveries_create_for_event, deliveries_reap, endpoint_create, endpoint_ping,
                               endpoint_secret_rotate, endpoint_update, webhook_deliver)
from webhooks.tests.receiver import Receiver

BASE = 0.05  # LANTERN_WEBHOOK_BACKOFF_BASE_S in webhooks/tests/conftest.py


def event_message(event="scan.completed", seq=7, data=None, scan_id=None):
    return {"scan_id": scan_id or str(uuid.uuid4()), "seq": seq, "event": event,
            "timestamp": "2026-03-06T10:00:00.000000Z", "data": data or {"status": "completed"}}


@pytest.fixture
def send(tenant_a, outbox):
    """Register an endpoint at `url`, queue one event for it, run the outbox; (endpoint+secret, delivery)."""
    def run(url, *, event="scan.completed", rounds=100):
        created = endpoint_create(tenant_id=tenant_a.tenant_id, url=url, events=[event])
        with outbox.committed():
            deliveries_create_for_event(tenant_id=tenant_a.tenant_id, message=event_message(event))
        outbox.run(limit=rounds)
        return created, Delivery.objects.get(endpoint=created.endpoint)

    return run


def test_a_delivery_is_signed_and_carries_the_documented_payload(send):
    with Receiver() as receiver:
        created, delivery = send(receiver.url)
        (request,) = receiver.wait_for(1)
    assert signature_verify(request.headers["x-lantern-signature"], request.body, created.secret)
    assert not signature_verify(request.headers["x-lantern-signature"], request.body + b" ", created.secret)
    assert request.headers["x-lantern-signature"].count("v1=") == 1
    body = json.loads(request.body)
    assert body == {"id": str(delivery.pk), "event": "scan.completed", "scan_id": str(delivery.scan_uuid),
                    "created_at": "2026-03-06T10:00:00.000000Z", "data": {"status": "completed"}}
    assert request.headers["content-type"] == "application/json"
    assert (request.headers["x-lantern-event"], request.headers["x-lantern-delivery"],
            request.headers["x-lantern-attempt"]) == ("scan.completed", str(delivery.pk), "1")
    assert request.headers["user-agent"] == "Lantern-Webhooks/1.0"
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SUCCEEDED, 1)
    assert delivery.last_status_code == 200
    assert delivery.completed_at is not None and delivery.next_attempt_at is None


def test_failures_are_retried_with_exponential_backoff_and_jitter_until_accepted(send, outbox):
    with Receiver(fail_times=3, fail_status=503) as receiver:
        created, delivery = send(receiver.url)
        requests = receiver.wait_for(4)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SUCCEEDED, 4)
    # the same id and the same bytes every time
    assert [json.loads(r.body)["id"] for r in requests] == [str(delivery.pk)] * 4
    assert len({r.body for r in requests}) == 1
    assert [r.headers["x-lantern-attempt"] for r in requests] == ["1", "2", "3", "4"]
    assert all(signature_verify(r.headers["x-lantern-signature"], r.body, created.secret) for r in requests)
    first, *retries = outbox.countdowns
    assert first is None
    # after attempt n the wait is between half and all of BASE * 2**(n-1)
    for n, countdown in enumerate(retries, start=1):
        ceiling = BASE * 2 ** (n - 1)
        assert ceiling / 2 <= countdown <= ceiling
    log = list(DeliveryAttempt.objects.filter(delivery=delivery).values_list("number", "status_code"))
    assert log == [(1, 503), (2, 503), (3, 503), (4, 200)]


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_408_429_and_5xx_are_retried(send, outbox, status):
    with Receiver(fail_times=1, fail_status=status) as receiver:
        _, delivery = send(receiver.url)
    assert (delivery.status, delivery.attempts, receiver.count) == (DeliveryStatus.SUCCEEDED, 2, 2)


@pytest.mark.parametrize("status", [301, 302, 400, 401, 403, 404, 410, 422])
def test_other_3xx_and_4xx_fail_at_once_without_retry(send, outbox, status):
    with Receiver(status=status) as receiver:
        _, delivery = send(receiver.url)
    assert (delivery.status, delivery.attempts, receiver.count) == (DeliveryStatus.FAILED, 1, 1)
    assert delivery.last_status_code == status and outbox.countdowns == [None]


def test_a_retry_after_header_is_honoured_within_the_cap(send, outbox, settings):
    settings.LANTERN_WEBHOOK_BACKOFF_MAX_S = 30
    with Receiver(fail_times=1, fail_status=429, response_headers={"Retry-After": "12"}) as receiver:
        send(receiver.url)
    assert outbox.countdowns[1] == 12


def test_a_delivery_is_dead_after_the_attempt_bound(send, outbox, settings):
    settings.LANTERN_WEBHOOK_MAX_ATTEMPTS = 4
    with Receiver(status=500) as receiver:
        created, delivery = send(receiver.url)
    assert (delivery.status, delivery.attempts, receiver.count) == (DeliveryStatus.DEAD, 4, 4)
    assert delivery.completed_at is not None and outbox.queued == []
    assert DeliveryAttempt.objects.filter(delivery=delivery).count() == 4
    assert Endpoint.objects.get(pk=created.endpoint.pk).consecutive_failures == 1


def test_a_delivery_is_dead_once_its_next_try_would_leave_the_retry_window(send, settings):
    settings.LANTERN_WEBHOOK_RETRY_WINDOW_S = 0
    with Receiver(status=503) as receiver:
        _, delivery = send(receiver.url)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DEAD, 1)


def test_connection_refused_is_retried(send, settings):
    settings.LANTERN_WEBHOOK_MAX_ATTEMPTS = 2
    with Receiver() as closed:
        url = closed.url
    _, delivery = send(url)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DEAD, 2)
    assert delivery.last_error.startswith("network error: ConnectError")
    assert delivery.last_status_code is None


def test_a_slow_receiver_times_out_after_the_read_timeout_not_its_30_seconds(send, settings):
    settings.LANTERN_WEBHOOK_MAX_ATTEMPTS = 1
    with Receiver(delay_s=30) as receiver:
        started = time.monotonic()
        _, delivery = send(receiver.url)
        elapsed = time.monotonic() - started
    assert elapsed < 5
    assert (delivery.status, delivery.last_error) == (DeliveryStatus.DEAD, "timed out: ReadTimeout")
    assert 900 <= delivery.last_latency_ms < 3000


def test_during_a_rotation_overlap_both_secrets_sign(tenant_a, outbox):
    with Receiver() as receiver:
        old = endpoint_create(tenant_id=tenant_a.tenant_id, url=receiver.url, events=["scan.completed"])
        new = endpoint_secret_rotate(tenant_id=tenant_a.tenant_id, endpoint_id=old.endpoint.pk,
                                     overlap_s=3600)
        with outbox.committed():
            endpoint_ping(tenant_id=tenant_a.tenant_id, endpoint_id=old.endpoint.pk)
        outbox.run()
        # after the overlap only the new secret signs
        Endpoint.objects.filter(pk=old.endpoint.pk).update(
            previous_secret_expires_at=timezone.now() - timedelta(seconds=1))
        with outbox.committed():
            endpoint_ping(tenant_id=tenant_a.tenant_id, endpoint_id=old.endpoint.pk)
        outbox.run()
        during, after = receiver.wait_for(2)
    header = during.headers["x-lantern-signature"]
    t, v1_new, v1_old = header.split(",")
    assert t.startswith("t=") and v1_new.startswith("v1=") and v1_old.startswith("v1=")
    assert signature_verify(f"{t},{v1_new}", during.body, new.secret)
    assert signature_verify(f"{t},{v1_old}", during.body, old.secret)
    assert not signature_verify(f"{t},{v1_old}", during.body, new.secret)
    assert after.headers["x-lantern-signature"].count("v1=") == 1
    assert signature_verify(after.headers["x-lantern-signature"], after.body, new.secret)
    assert not signature_verify(after.headers["x-lantern-signature"], after.body, old.secret)


def test_rotation_without_overlap_stops_the_old_secret_at_once(tenant_a, outbox):
    with Receiver() as receiver:
        old = endpoint_create(tenant_id=tenant_a.tenant_id, url=receiver.url, events=["scan.completed"])
        new = endpoint_secret_rotate(tenant_id=tenant_a.tenant_id, endpoint_id=old.endpoint.pk, overlap_s=0)
        with outbox.committed():
            endpoint_ping(tenant_id=tenant_a.tenant_id, endpoint_id=old.endpoint.pk)
        outbox.run()
        (request,) = receiver.wait_for(1)
    assert signature_verify(request.headers["x-lantern-signature"], request.body, new.secret)
    assert not signature_verify(request.headers["x-lantern-signature"], request.body, old.secret)


def test_a_duplicate_task_sends_nothing_more(tenant_a, outbox):
    with Receiver() as receiver:
        created = endpoint_create(tenant_id=tenant_a.tenant_id, url=receiver.url, events=["scan.completed"])
        with outbox.committed():
            delivery = endpoint_ping(tenant_id=tenant_a.tenant_id, endpoint_id=created.endpoint.pk)
        kwargs, _ = outbox.queued[0]
        outbox.run()
        with outbox.committed():
            webhook_deliver(**kwargs)
            webhook_deliver(tenant_id=tenant_a.tenant_id, delivery_id=str(uuid.uuid4()))
    assert receiver.count == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SUCCEEDED, 1)


def test_another_tenants_id_in_a_task_finds_nothing(tenant_a, tenant_b, outbox):
    with Receiver() as receiver:
        created = endpoint_create(tenant_id=tenant_a.tenant_id, url=receiver.url, events=["scan.completed"])
        with outbox.committed():
            delivery = endpoint_ping(tenant_id=tenant_a.tenant_id, endpoint_id=created.endpoint.pk)
        webhook_deliver(tenant_id=tenant_b.tenant_id, delivery_id=str(delivery.pk))
    assert receiver.count == 0
    assert Delivery.objects.get().status == DeliveryStatus.PENDING


def test_a_busy_destination_defers_without_counting_an_attempt(tenant_a, outbox, settings):
    settings.LANTERN_WEBHOOK_MAX_IN_FLIGHT = 1
    with Receiver() as receiver:
        created = endpoint_create(tenant_id=tenant_a.tenant_id, url=receiver.url, events=["scan.completed"])
        with outbox.committed():
            busy = endpoint_ping(tenant_id=tenant_a.tenant_id, endpoint_id=created.endpoint.pk)
            waiting = endpoint_ping(tenant_id=tenant_a.tenant_id, endpoint_id=created.endpoint.pk)
        # a busy but fast destination: try again in a moment
        Delivery.objects.filter(pk=busy.pk).update(status=DeliveryStatus.SENDING, claimed_at=timezone.now())
        outbox.queued = [q for q in outbox.queued if q[0]["delivery_id"] == str(waiting.pk)]
        outbox.run_one()
        assert receiver.count == 0
        waiting.refresh_from_db()
        assert (waiting.status, waiting.attempts) == (DeliveryStatus.PENDING, 0)
        (deferred,) = outbox.queued
        assert deferred[0]["delivery_id"] == str(waiting.pk) and 0.1 <= deferred[1] <= 0.3
        # a destination whose attempt has hung for 5 s: wait about a read timeout (1 s here)
        Delivery.objects.filter(pk=busy.pk).update(claimed_at=timezone.now() - timedelta(seconds=5))
        outbox.run_one()
        (deferred,) = outbox.queued
        assert 0.5 <= deferred[1] <= 1.5 and Delivery.objects.get(pk=waiting.pk).attempts == 0
        Delivery.objects.filter(pk=busy.pk).update(status=DeliveryStatus.SUCCEEDED)
        outbox.run()
    waiting.refresh_from_db()
    assert (waiting.status, waiting.attempts, receiver.count) == (DeliveryStatus.SUCCEEDED, 1, 1)


def test_an_endpoint_failing_in_a_row_is_disabled_and_a_success_resets_the_count(
        tenant_a, outbox, settings):
    settings.LANTERN_WEBHOOK_DISABLE_AFTER = 3
    with Receiver(status=410) as receiver:
        created = endpoint_create(tenant_id=tenant_a.tenant_id, url=receiver.url, events=["scan.completed"])
        endpoint_id = created.endpoint.pk
        for _ in range(2):
            with outbox.committed():
                endpoint_ping(tenant_id=tenant_a.tenant_id, endpoint_id=endpoint_id)
        outbox.run()
        assert Endpoint.objects.get(pk=endpoint_id).consecutive_failures == 2
        receiver.status = 200
        with outbox.committed():
            endpoint_ping(tenant_id=tenant_a.tenant_id, endpoint_id=endpoint_id)
        outbox.run()
        assert Endpoint.objects.get(pk=endpoint_id).consecutive_failures == 0
        receiver.status = 410
        for _ in range(3):
            with outbox.committed():
                endpoint_ping(tenant_id=tenant_a.tenant_id, endpoint_id=endpoint_id)
        outbox.run()
    endpoint = Endpoint.objects.get(pk=endpoint_id)
    assert (endpoint.is_active, endpoint.consecutive_failures) == (False, 3)
    assert endpoint.disabled_reason == "disabled after 3 failed deliveries in a row"
    with outbox.committed():
        created_now = deliveries_create_for_event(tenant_id=tenant_a.tenant_id, message=event_message())
    assert created_now == []  # a disabled endpoint gets no new deliveries


def test_the_reaper_recovers_lost_attempts_and_lost_messages(tenant_a, outbox):
    created = endpoint_create(tenant_id=tenant_a.tenant_id, url="http://127.0.0.1:9/h",
                              events=["scan.completed"])
    with outbox.committed():
        lost_attempt = endpoint_ping(tenant_id=tenant_a.tenant_id, endpoint_id=created.endpoint.pk)
        lost_message = endpoint_ping(tenant_id=tenant_a.tenant_id, endpoint_id=created.endpoint.pk)
        on_time = endpoint_ping(tenant_id=tenant_a.tenant_id, endpoint_id=created.endpoint.pk)
    outbox.queued.clear()
    long_ago = timezone.now() - timedelta(hours=2)
    Delivery.objects.filter(pk=lost_attempt.pk).update(status=DeliveryStatus.SENDING, claimed_at=long_ago,
                                                       attempts=1)
    Delivery.objects.filter(pk=lost_message.pk).update(next_attempt_at=long_ago)
    with outbox.committed():
        assert deliveries_reap() == {"reset": 1, "requeued": 1}
    requeued = sorted(q[0]["delivery_id"] for q in outbox.queued)
    assert requeued == sorted([str(lost_attempt.pk), str(lost_message.pk)])
    assert Delivery.objects.get(pk=lost_attempt.pk).status == DeliveryStatus.RETRYING
    assert Delivery.objects.get(pk=on_time.pk).status == DeliveryStatus.PENDING
    with outbox.committed():
        assert deliveries_reap() == {"reset": 0, "requeued": 0}  # nothing is re-enqueued twice


def test_a_deleted_endpoints_queued_delivery_sends_nothing(tenant_a, outbox):
    with Receiver() as receiver:
        created = endpoint_create(tenant_id=tenant_a.tenant_id, url=receiver.url, events=["scan.completed"])
        with outbox.committed():
            endpoint_ping(tenant_id=tenant_a.tenant_id, endpoint_id=created.endpoint.pk)
        created.endpoint.delete()
        outbox.run()
    assert receiver.count == 0 and Delivery.objects.count() == 0


def test_pending_retries_follow_a_corrected_url_and_stop_when_the_webhook_is_disabled(tenant_a, outbox):
    with Receiver(status=503) as wrong, Receiver() as right:
        created = endpoint_create(tenant_id=tenant_a.tenant_id, url=wrong.url, events=["scan.completed"])
        endpoint_id = created.endpoint.pk
        with outbox.committed():
            first = endpoint_ping(tenant_id=tenant_a.tenant_id, endpoint_id=endpoint_id)
            deliveries_create_for_event(tenant_id=tenant_a.tenant_id, message=event_message())
        outbox.run(limit=2)  # both fail once on the wrong URL and wait for a retry
        endpoint_update(tenant_id=tenant_a.tenant_id, endpoint_id=endpoint_id, url=right.url)
        outbox.run_one()  # the ping's retry goes to the corrected URL
        endpoint_update(tenant_id=tenant_a.tenant_id, endpoint_id=endpoint_id, is_active=False)
        outbox.run()
    assert (wrong.count, right.count) == (2, 1)
    first.refresh_from_db()
    assert (first.status, first.url, first.attempts) == (DeliveryStatus.SUCCEEDED, right.url, 2)
    event = Delivery.objects.exclude(pk=first.pk).get()
    assert (event.status, event.last_error) == (DeliveryStatus.FAILED, "refused: the webhook is disabled")


@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_keep_to_the_in_flight_cap(outbox, settings):
    # given four deliveries to a receiver that takes 0.5 s per request, at most one in flight per destination
    settings.LANTERN_WEBHOOK_MAX_IN_FLIGHT = 1
    settings.LANTERN_WEBHOOK_READ_TIMEOUT_S = 5
    tenant = make_tenant("acme")
    with Receiver(delay_s=0.5) as receiver:
        created = endpoint_create(tenant_id=tenant.tenant_id, url=receiver.url, events=["scan.completed"])
        pings = [endpoint_ping(tenant_id=tenant.tenant_id, endpoint_id=created.endpoint.pk) for _ in range(4)]
        outbox.queued.clear()

        # when four workers take them at the same moment
        def work(delivery):
            try:
                webhook_deliver(tenant_id=tenant.tenant_id, delivery_id=str(delivery.pk))
            finally:
                connection.close()

        threads = [threading.Thread(target=work, args=(ping,)) for ping in pings]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # then one was sent and three wait for their turn without an attempt counted
        assert receiver.count == 1
    states = sorted(Delivery.objects.values_list("status", "attempts"))
    assert states == [("pending", 0)] * 3 + [("succeeded", 1)]
    assert len(outbox.queued) == 3
