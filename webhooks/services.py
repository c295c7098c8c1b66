"""Writes for webhooks: endpoints (register, change, delete, rotate the secret, ping), the outbox that the
scan event stream fills, and one delivery attempt. HTTP is sent only by webhook_deliver, inside a task on
the webhooks queue; everything else only writes rows and enqueues after commit.

Delivery states: pending → sending → succeeded | retrying → sending … | failed (refused, or a status that
is not retried) | dead (retries exhausted). Each move is a conditional UPDATE, so a task delivered twice
sends once. The payload shape is documented in webhooks/payloads.py, the signature in webhooks/crypto.py.
"""

from __future__ import annotations

import logging
import random
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from config.errors import Conflict, ValidationFailed
from tenants.models import Tenant
from webhooks.crypto import (SIGNATURE_HEADER, SecretUnreadable, secret_decrypt, secret_encrypt,
                             secret_generate, signature_header)
from webhooks.models import (CLAIMABLE_STATUSES, Delivery, DeliveryAttempt, DeliveryKind, DeliveryStatus,
                             Endpoint)
from webhooks.payloads import PING_EVENT, payload_body, payload_build, request_headers
from webhooks.retry import Verdict, backoff_s, verdict
from webhooks.selectors import (delivery_get, destination_load, endpoint_count, endpoint_get,
                                endpoints_for_event, scan_receivers)
from webhooks.ssrf import UrlRefused, UrlUnresolvable, url_parse, url_pin
from webhooks.tasks import webhook_deliver_task
from webhooks.transport import Outcome, post
from webhooks.validation import webhook_events_validate, webhook_headers_validate, webhook_url_validate

__all__ = [
    "EndpointWithSecret", "deliveries_create_for_event", "deliveries_reap", "endpoint_create",
    "endpoint_delete", "endpoint_ping", "endpoint_secret_rotate", "endpoint_update", "webhook_deliver",
    "webhook_events_validate", "webhook_headers_validate", "webhook_url_validate",
]

logger = logging.getLogger(__name__)

TERMINAL_EVENTS = ("scan.completed", "scan.failed", "scan.cancelled")
# An attempt in flight longer than this marks its destination as slow (see _defer).
SLOW_AFTER_S = 1.0
_DESTINATION_LOCK_SPACE = 0x4C4157  # "LAW": apart from the scans app's advisory lock spaces


@dataclass(frozen=True, slots=True)
class EndpointWithSecret:
    """An endpoint and its secret in clear: returned by create and rotate only, shown to the caller once."""

    endpoint: Endpoint
    secret: str


def endpoint_create(*, tenant_id: int, url: str, events: list[str],
                    description: str = "") -> EndpointWithSecret:
    """Register an endpoint with a new signing secret. Writes one Endpoint (the secret encrypted); enqueues
    nothing. Not idempotent. Refuses an unsafe URL (422), unknown events (400) and more than
    LANTERN_WEBHOOK_MAX_ENDPOINTS endpoints per tenant (409)."""
    clean_url = webhook_url_validate(url)
    clean_events = webhook_events_validate(events)
    secret = secret_generate()
    with transaction.atomic():
        Tenant.objects.select_for_update().filter(pk=tenant_id).first()  # serialises the limit check
        limit = settings.LANTERN_WEBHOOK_MAX_ENDPOINTS
        if endpoint_count(tenant_id=tenant_id) >= limit:
            raise Conflict(f"A tenant may register at most {limit} webhooks")
        endpoint = Endpoint.objects.create(tenant_id=tenant_id, url=clean_url, events=clean_events,
                                           description=description[:200],
                                           secret_encrypted=secret_encrypt(secret))
    return EndpointWithSecret(endpoint, secret)


def endpoint_update(*, tenant_id: int, endpoint_id: Any, url: str | None = None,
                    events: list[str] | None = None, description: str | None = None,
                    is_active: bool | None = None) -> Endpoint:
    """Change the given fields of the tenant's endpoint; re-enabling it clears its failure count. Writes the
    Endpoint; enqueues nothing. Idempotent."""
    endpoint = endpoint_get(tenant_id=tenant_id, endpoint_id=endpoint_id)
    changed = ["updated_at"]
    if url is not None:
        endpoint.url = webhook_url_validate(url)
        changed.append("url")
    if events is not None:
        endpoint.events = webhook_events_validate(events)
        changed.append("events")
    if description is not None:
        endpoint.description = description[:200]
        changed.append("description")
    if is_active is not None:
        if is_active and not endpoint.is_active:
            endpoint.consecutive_failures, endpoint.disabled_reason = 0, ""
            changed += ["consecutive_failures", "disabled_reason"]
        endpoint.is_active = is_active
        changed.append("is_active")
    # Only these columns: a secret rotated meanwhile must not be written back over.
    endpoint.save(update_fields=changed)
    return endpoint


def endpoint_delete(*, tenant_id: int, endpoint_id: Any) -> None:
    """Delete the tenant's endpoint and its delivery log; queued attempts then find nothing to send.
    Not idempotent (a second call is a 404)."""
    endpoint_get(tenant_id=tenant_id, endpoint_id=endpoint_id).delete()


def endpoint_secret_rotate(*, tenant_id: int, endpoint_id: Any,
                           overlap_s: int | None = None) -> EndpointWithSecret:
    """Give the endpoint a new secret. For `overlap_s` seconds (default LANTERN_WEBHOOK_SECRET_OVERLAP_S; 0
    for none) the old one still signs, as a second v1 signature; a previous secret from an earlier rotation
    is dropped. Writes the Endpoint; enqueues nothing. Not idempotent."""
    overlap = settings.LANTERN_WEBHOOK_SECRET_OVERLAP_S if overlap_s is None else overlap_s
    if not 0 <= overlap <= settings.LANTERN_WEBHOOK_SECRET_OVERLAP_MAX_S:
        raise ValidationFailed(
            f"overlap_seconds must be between 0 and {settings.LANTERN_WEBHOOK_SECRET_OVERLAP_MAX_S}",
            field="overlap_seconds")
    secret = secret_generate()
    now = timezone.now()
    with transaction.atomic():
        endpoint = endpoint_get(tenant_id=tenant_id, endpoint_id=endpoint_id)
        endpoint = Endpoint.objects.for_tenant(tenant_id).select_for_update().get(pk=endpoint.pk)
        if overlap:
            endpoint.previous_secret_encrypted = secret_encrypt(secret_decrypt(endpoint.secret_encrypted))
            endpoint.previous_secret_expires_at = now + timedelta(seconds=overlap)
        else:
            endpoint.previous_secret_encrypted, endpoint.previous_secret_expires_at = "", None
        endpoint.secret_encrypted, endpoint.secret_rotated_at = secret_encrypt(secret), now
        endpoint.save()
    return EndpointWithSecret(endpoint, secret)


def endpoint_ping(*, tenant_id: int, endpoint_id: Any) -> Delivery:
    """Queue a signed test delivery (event "ping") to the endpoint, active or not. Writes one Delivery;
    enqueues its task after commit. Not idempotent: every call is a new ping."""
    endpoint = endpoint_get(tenant_id=tenant_id, endpoint_id=endpoint_id)
    now = timezone.now()
    delivery = _delivery_new(tenant_id=tenant_id, kind=DeliveryKind.ENDPOINT, endpoint=endpoint,
                             url=endpoint.url, dedupe_key=f"ping:{uuid.uuid4()}", event=PING_EVENT,
                             scan_id=None, created_at=_iso(now), data={"webhook_id": str(endpoint.pk)})
    with transaction.atomic():
        delivery.save(force_insert=True)
        _enqueue(tenant_id=tenant_id, delivery_id=delivery.pk)
    return delivery


def deliveries_create_for_event(*, tenant_id: int, message: dict[str, Any]) -> list[Delivery]:
    """The outbox write for one scan event: a Delivery for each of the tenant's active endpoints subscribed to
    it and, for scan.completed / scan.failed / scan.cancelled, one for each per-scan receiver stored on the
    scan (Scan.extra "webhook" and "callback_url"). Enqueues each first attempt after commit; sends nothing.
    Idempotent: the same event for the same receiver is one row (a per-scan receiver is called once per
    scan)."""
    event, scan_id, seq = message["event"], message.get("scan_id"), message.get("seq")
    created_at, data = message.get("timestamp") or _iso(timezone.now()), message.get("data") or {}
    common = {"tenant_id": tenant_id, "event": event, "scan_id": scan_id, "created_at": created_at,
              "data": data}
    rows = [_delivery_new(kind=DeliveryKind.ENDPOINT, endpoint=endpoint, url=endpoint.url,
                          dedupe_key=f"endpoint:{endpoint.pk}:{scan_id}:{seq}:{event}", **common)
            for endpoint in endpoints_for_event(tenant_id=tenant_id, event=event)]
    receivers = scan_receivers(tenant_id=tenant_id, scan_id=scan_id) if event in TERMINAL_EVENTS else None
    if receivers:
        webhook, callback_url = receivers["webhook"], receivers["callback_url"]
        if isinstance(webhook, dict) and isinstance(webhook.get("url"), str) and webhook["url"]:
            rows.append(_delivery_new(kind=DeliveryKind.SCAN_WEBHOOK, url=webhook["url"],
                                      dedupe_key=f"scan_webhook:{scan_id}", **common))
        if isinstance(callback_url, str) and callback_url:
            rows.append(_delivery_new(kind=DeliveryKind.SCAN_CALLBACK, url=callback_url,
                                      dedupe_key=f"scan_callback:{scan_id}", **common))
    if not rows:
        return []
    with transaction.atomic():
        Delivery.objects.bulk_create(rows, ignore_conflicts=True)
        inserted = set(Delivery.objects.for_tenant(tenant_id).filter(pk__in=[row.pk for row in rows])
                       .values_list("pk", flat=True))
        created = [row for row in rows if row.pk in inserted]
        for row in created:
            _enqueue(tenant_id=tenant_id, delivery_id=row.pk)
    return created


def webhook_deliver(*, tenant_id: int, delivery_id: str) -> None:
    """Make one attempt of a delivery. Claims it (pending | retrying → sending, attempts + 1) by conditional
    update, so a duplicate task sends nothing; when its destination already has LANTERN_WEBHOOK_MAX_IN_FLIGHT
    attempts in flight, re-enqueues itself shortly instead. Writes one DeliveryAttempt and the outcome on the
    Delivery (and the endpoint's failure count); enqueues the next attempt with a countdown when the outcome
    is retryable and the bound allows, otherwise ends it failed or dead. Idempotent per claim."""
    delivery = delivery_get(tenant_id=tenant_id, delivery_id=delivery_id)
    if delivery is None or delivery.status not in CLAIMABLE_STATUSES:
        logger.info("webhook delivery %s: nothing to send (%s)", delivery_id, delivery and delivery.status)
        return
    now = timezone.now()
    busy = (Delivery.objects.filter(destination=OuterRef("destination"), status=DeliveryStatus.SENDING)
            .order_by().values("destination").annotate(n=Count("pk")).values("n"))
    with transaction.atomic(), connection.cursor() as cursor:
        # Claimers of one destination take turns here, so the in-flight cap holds exactly: under READ
        # COMMITTED the count below sees every claim committed before this lock was granted.
        cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                       [_DESTINATION_LOCK_SPACE, delivery.destination])
        claimed = (Delivery.objects.for_tenant(tenant_id)
                   .filter(pk=delivery.pk, status=delivery.status, attempts=delivery.attempts)
                   .annotate(busy=Coalesce(Subquery(busy), 0))
                   .filter(busy__lt=settings.LANTERN_WEBHOOK_MAX_IN_FLIGHT)
                   .update(status=DeliveryStatus.SENDING, attempts=F("attempts") + 1, claimed_at=now,
                           last_attempt_at=now))
    if not claimed:
        in_flight, oldest = destination_load(destination=delivery.destination)
        if in_flight >= settings.LANTERN_WEBHOOK_MAX_IN_FLIGHT:
            _defer(delivery, slow=oldest is not None and (now - oldest).total_seconds() > SLOW_AFTER_S)
        return
    delivery.status, delivery.attempts = DeliveryStatus.SENDING, delivery.attempts + 1
    outcome, result = _attempt(delivery)
    _settle(delivery, outcome, result)


def deliveries_reap(*, now: Any = None, batch: int = 500) -> dict[str, int]:
    """Recover deliveries whose task was lost: an attempt stuck in `sending` past the task's hard limit (its
    worker died) goes back to `retrying`, and unfinished deliveries overdue by LANTERN_WEBHOOK_REAP_GRACE_S
    (a broker lost their message) are enqueued again. Writes those rows; enqueues their tasks after commit.
    Idempotent: a duplicate task finds nothing to claim."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.LANTERN_WEBHOOK_TASK_HARD_LIMIT_S + 60)
    overdue = now - timedelta(seconds=settings.LANTERN_WEBHOOK_REAP_GRACE_S)
    counts = {"reset": 0, "requeued": 0}
    lost = Delivery.objects.filter(status=DeliveryStatus.SENDING, claimed_at__lt=stale)
    waiting = Delivery.objects.filter(status__in=CLAIMABLE_STATUSES, next_attempt_at__lt=overdue)
    for name, queryset, before in (("reset", lost, {"claimed_at__lt": stale}),
                                   ("requeued", waiting, {"next_attempt_at__lt": overdue})):
        for tenant_id, pk, status in queryset.values_list("tenant_id", "pk", "status")[:batch]:
            with transaction.atomic():
                moved = (Delivery.objects.for_tenant(tenant_id).filter(pk=pk, status=status, **before)
                         .update(status=DeliveryStatus.RETRYING if name == "reset" else status,
                                 next_attempt_at=now))
                if moved:
                    counts[name] += 1
                    _enqueue(tenant_id=tenant_id, delivery_id=pk)
    return counts


def _iso(moment: Any) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _delivery_new(*, tenant_id: int, kind: str, url: str, dedupe_key: str, event: str, scan_id: str | None,
                  created_at: str, data: dict[str, Any], endpoint: Endpoint | None = None) -> Delivery:
    delivery_id = uuid.uuid4()
    if endpoint is not None:
        destination = f"endpoint:{endpoint.pk}"
    else:
        try:
            parsed = url_parse(url)
            destination = f"{parsed.raw_host.decode('ascii')}:{parsed.port or 0}".lower()
        except UrlRefused:
            destination = "invalid"
    return Delivery(id=delivery_id, tenant_id=tenant_id, endpoint=endpoint, kind=kind,
                    dedupe_key=dedupe_key[:200], scan_uuid=scan_id, event=event, url=url[:2048],
                    destination=destination[:300], next_attempt_at=timezone.now(),
                    payload=payload_build(delivery_id=delivery_id, event=event, created_at=created_at,
                                          scan_id=scan_id, data=data))


def _enqueue(*, tenant_id: int, delivery_id: uuid.UUID, countdown: float | None = None) -> None:
    kwargs = {"tenant_id": tenant_id, "delivery_id": str(delivery_id)}
    webhook_deliver_task.apply_async_on_commit(kwargs=kwargs, countdown=countdown)


def _defer(delivery: Delivery, *, slow: bool) -> None:
    """Try again later without counting an attempt: the destination has its fill of attempts in flight.
    Behind a slow receiver the wait is about one read timeout, so waiting deliveries do not spin the queue."""
    wait = random.uniform(0.5, 1.5) * (settings.LANTERN_WEBHOOK_READ_TIMEOUT_S if slow else 0.2)
    with transaction.atomic():
        if (Delivery.objects.for_tenant(delivery.tenant_id).filter(pk=delivery.pk, status=delivery.status)
                .update(next_attempt_at=timezone.now() + timedelta(seconds=wait))):
            _enqueue(tenant_id=delivery.tenant_id, delivery_id=delivery.pk, countdown=wait)


def _signing_secrets(endpoint: Endpoint) -> list[str]:
    """The current secret, then the previous one while its rotation overlap lasts."""
    secrets_ = [secret_decrypt(endpoint.secret_encrypted)]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret_encrypted and expires and expires > timezone.now():
        secrets_.append(secret_decrypt(endpoint.previous_secret_encrypted))
    return secrets_


def _headers(delivery: Delivery, body: bytes) -> dict[str, str]:
    headers = request_headers(event=delivery.event, delivery_id=delivery.pk, attempt=delivery.attempts)
    if delivery.kind == DeliveryKind.SCAN_WEBHOOK:
        receivers = scan_receivers(tenant_id=delivery.tenant_id, scan_id=delivery.scan_uuid) or {}
        webhook = receivers.get("webhook")
        if not isinstance(webhook, dict):
            raise ValidationFailed("the scan and its webhook no longer exist")
        for header in webhook_headers_validate(webhook.get("headers") or []):
            headers[header["key"]] = header["value"]
    if delivery.endpoint is not None:
        headers[SIGNATURE_HEADER] = signature_header(_signing_secrets(delivery.endpoint), body)
    return headers


def _attempt(delivery: Delivery) -> tuple[Outcome, Verdict]:
    """Resolve and check the URL again (pinning the address), then POST. Refusals are final. An endpoint's
    delivery goes to the endpoint's current URL (a corrected URL takes the pending retries along) and stops
    once the endpoint is disabled, except a ping."""
    body = payload_body(delivery.payload)
    endpoint = delivery.endpoint
    if endpoint is not None:
        if not endpoint.is_active and delivery.event != PING_EVENT:
            return Outcome(None, 0, "refused: the webhook is disabled"), Verdict.FAILED
        delivery.url = endpoint.url
    try:
        pinned = url_pin(delivery.url, https_only=delivery.kind == DeliveryKind.SCAN_CALLBACK)
        headers = _headers(delivery, body)
    except UrlRefused as exc:
        return Outcome(None, 0, f"refused: {exc}"[:500]), Verdict.FAILED
    except (ValidationFailed, SecretUnreadable) as exc:
        return Outcome(None, 0, f"refused: {getattr(exc, 'message', exc)}"[:500]), Verdict.FAILED
    except UrlUnresolvable as exc:
        return Outcome(None, 0, str(exc)[:500]), Verdict.RETRY
    started = timezone.now()
    try:
        outcome = post(pinned, body, headers)
    except SoftTimeLimitExceeded:
        elapsed = round((timezone.now() - started).total_seconds() * 1000)
        outcome = Outcome(None, elapsed, "timed out: task time limit")
    return outcome, verdict(outcome)


def _settle(delivery: Delivery, outcome: Outcome, result: Verdict) -> None:
    """Record the attempt and move the delivery on: succeeded, retrying (next attempt enqueued), failed or
    dead. The update is conditional on this claim, so a reaper that took the row back meanwhile wins."""
    now, attempt = timezone.now(), delivery.attempts
    fields: dict[str, Any] = {"last_status_code": outcome.status_code, "last_latency_ms": outcome.latency_ms,
                              "last_error": outcome.error[:500], "next_attempt_at": None, "completed_at": now,
                              "url": delivery.url}
    countdown = None
    status: str = DeliveryStatus.SUCCEEDED if result == Verdict.SUCCEEDED else DeliveryStatus.FAILED
    if result == Verdict.RETRY:
        wait = backoff_s(attempt, retry_after_s=outcome.retry_after_s)
        window_end = delivery.created_at + timedelta(seconds=settings.LANTERN_WEBHOOK_RETRY_WINDOW_S)
        if attempt < settings.LANTERN_WEBHOOK_MAX_ATTEMPTS and now + timedelta(seconds=wait) <= window_end:
            status, countdown = DeliveryStatus.RETRYING, wait
            fields.update(next_attempt_at=now + timedelta(seconds=wait), completed_at=None)
        else:
            status = DeliveryStatus.DEAD
    try:
        _settle_write(delivery, outcome, status, fields, countdown)
    except IntegrityError:
        logger.info("webhook delivery %s was deleted during its attempt", delivery.pk)
        return
    logger.info("webhook delivery %s attempt %s: %s (%s)", delivery.pk, attempt, status,
                outcome.status_code or outcome.error)


def _settle_write(delivery: Delivery, outcome: Outcome, status: str, fields: dict[str, Any],
                  countdown: float | None) -> None:
    """The attempt row, the delivery's new state, its next task and the endpoint's count, in one transaction
    (a delivery deleted meanwhile makes it fail at commit: IntegrityError)."""
    attempt = delivery.attempts
    with transaction.atomic():
        DeliveryAttempt.objects.create(tenant_id=delivery.tenant_id, delivery_id=delivery.pk, number=attempt,
                                       status_code=outcome.status_code, latency_ms=outcome.latency_ms,
                                       error=outcome.error[:500], response_excerpt=outcome.excerpt)
        moved = (Delivery.objects.for_tenant(delivery.tenant_id)
                 .filter(pk=delivery.pk, status=DeliveryStatus.SENDING, attempts=attempt)
                 .update(status=status, **fields))
        if not moved:
            return
        if countdown is not None:
            _enqueue(tenant_id=delivery.tenant_id, delivery_id=delivery.pk, countdown=countdown)
        if delivery.endpoint is not None and status != DeliveryStatus.RETRYING:
            _endpoint_track(delivery, succeeded=status == DeliveryStatus.SUCCEEDED)


def _endpoint_track(delivery: Delivery, *, succeeded: bool) -> None:
    """Consecutive final failures of an endpoint; LANTERN_WEBHOOK_DISABLE_AFTER of them disable it."""
    endpoints = Endpoint.objects.for_tenant(delivery.tenant_id).filter(pk=delivery.endpoint_id)
    if succeeded:
        if delivery.endpoint is not None and delivery.endpoint.consecutive_failures:
            endpoints.update(consecutive_failures=0)
        return
    endpoints.update(consecutive_failures=F("consecutive_failures") + 1)
    threshold = settings.LANTERN_WEBHOOK_DISABLE_AFTER
    if threshold and endpoints.filter(is_active=True, consecutive_failures__gte=threshold).update(
            is_active=False, disabled_reason=f"disabled after {threshold} failed deliveries in a row"):
        logger.warning("webhook endpoint %s disabled after %s failed deliveries", delivery.endpoint_id,
                       threshold)
