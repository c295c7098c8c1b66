"""Webhook endpoints a tenant registers, and the delivery outbox: one Delivery per (receiver, event), one
DeliveryAttempt per HTTP try. Endpoint secrets are stored encrypted (webhooks/crypto.py), never in clear."""

from __future__ import annotations

import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from tenants.models import TenantOwned


class Endpoint(TenantOwned):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    url = models.CharField(max_length=2048)
    events = ArrayField(models.CharField(max_length=32))
    description = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    # Fernet tokens; the previous secret still signs until previous_secret_expires_at (rotation overlap).
    secret_encrypted = models.TextField()
    previous_secret_encrypted = models.TextField(blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    secret_rotated_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "-created_at"], name="webhook_endpoint_recent")]

    def __str__(self) -> str:
        return self.url


class DeliveryKind(models.TextChoices):
    ENDPOINT = "endpoint"  # a registered endpoint (seed 003 /webhooks)
    SCAN_WEBHOOK = "scan_webhook"  # seed 001's per-scan webhook {url, headers}
    SCAN_CALLBACK = "scan_callback"  # seed 002's callbackUrl


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"
    SENDING = "sending"
    RETRYING = "retrying"
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # refused or answered with a status that is not retried
    DEAD = "dead"  # retries exhausted


CLAIMABLE_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)
FINAL_STATUSES = (DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED, DeliveryStatus.DEAD)


class Delivery(TenantOwned):
    """One event for one receiver. `payload` is the exact JSON body (its `id` is this row's id); the body is
    re-serialised canonically at each attempt, so every attempt sends the same bytes."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(Endpoint, null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="deliveries")
    kind = models.CharField(max_length=16, choices=DeliveryKind.choices)
    # Makes outbox writes idempotent: the same event for the same receiver is one row.
    dedupe_key = models.CharField(max_length=200)
    scan_uuid = models.UUIDField(null=True, blank=True)
    event = models.CharField(max_length=32)
    url = models.CharField(max_length=2048)
    destination = models.CharField(max_length=300)  # what the in-flight cap counts: endpoint id or host:port
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_latency_ms = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "dedupe_key"], name="webhook_delivery_dedupe"),
        ]
        indexes = [
            models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_log"),
            # The in-flight count and the reaper look only at unfinished rows.
            models.Index(fields=["destination"], name="webhook_delivery_sending",
                         condition=Q(status="sending")),
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due",
                         condition=Q(status__in=["pending", "retrying", "sending"])),
        ]
        verbose_name_plural = "deliveries"

    def __str__(self) -> str:
        return f"{self.event} → {self.url} ({self.status})"


class DeliveryAttempt(TenantOwned):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField()
    error = models.CharField(max_length=500, blank=True)
    response_excerpt = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_number_uniq"),
        ]
        ordering = ["delivery", "number"]
