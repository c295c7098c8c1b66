"""Reads for webhooks. Every function takes tenant_id: another tenant's endpoint is the same 404 as none."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.db.models import Count, Min, Prefetch, QuerySet

from config.errors import NotFound
from scans.models import Scan
from webhooks.models import Delivery, DeliveryAttempt, Endpoint


def _as_uuid(value: Any) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None


def endpoint_get(*, tenant_id: int, endpoint_id: Any) -> Endpoint:
    """The tenant's endpoint; NotFound when the id is malformed, unknown or another tenant's."""
    endpoint_uuid = _as_uuid(endpoint_id)
    endpoint = (Endpoint.objects.for_tenant(tenant_id).filter(pk=endpoint_uuid).first()
                if endpoint_uuid else None)
    if endpoint is None:
        raise NotFound("Webhook not found")
    return endpoint


def endpoint_list(*, tenant_id: int) -> QuerySet[Endpoint]:
    """The tenant's endpoints, newest first."""
    return Endpoint.objects.for_tenant(tenant_id).order_by("-created_at", "pk")


def endpoint_count(*, tenant_id: int) -> int:
    return Endpoint.objects.for_tenant(tenant_id).count()


def endpoints_for_event(*, tenant_id: int, event: str) -> list[Endpoint]:
    """The tenant's active endpoints subscribed to `event`."""
    return list(Endpoint.objects.for_tenant(tenant_id).filter(is_active=True, events__contains=[event])
                .order_by("created_at", "pk"))


def delivery_list(*, tenant_id: int, endpoint: Endpoint, status: str | None = None) -> QuerySet[Delivery]:
    """An endpoint's delivery log, newest first, each with its attempts (one extra query per page)."""
    queryset = Delivery.objects.for_tenant(tenant_id).filter(endpoint=endpoint)
    if status:
        queryset = queryset.filter(status=status)
    attempts = DeliveryAttempt.objects.for_tenant(tenant_id).order_by("number")
    return queryset.prefetch_related(Prefetch("attempt_log", queryset=attempts)).order_by("-created_at", "pk")


def delivery_get(*, tenant_id: int, delivery_id: Any) -> Delivery | None:
    delivery_uuid = _as_uuid(delivery_id)
    if delivery_uuid is None:
        return None
    return Delivery.objects.for_tenant(tenant_id).select_related("endpoint").filter(pk=delivery_uuid).first()


def destination_load(*, destination: str) -> tuple[int, datetime | None]:
    """(attempts to this destination in flight right now, when the oldest of them started), across tenants:
    a receiver is slow for everyone who calls it."""
    load = Delivery.objects.filter(destination=destination, status="sending").aggregate(
        count=Count("pk"), oldest=Min("claimed_at"))
    return load["count"], load["oldest"]


def scan_receivers(*, tenant_id: int, scan_id: Any) -> dict[str, Any] | None:
    """The per-scan receivers a scan was submitted with, from Scan.extra: {"webhook": {"url", "headers"}}
    (seed 001) and {"callback_url": ...} (seed 002); None when the scan is not the tenant's."""
    scan_uuid = _as_uuid(scan_id)
    if scan_uuid is None:
        return None
    extra = Scan.objects.for_tenant(tenant_id).filter(pk=scan_uuid).values_list("extra", flat=True).first()
    if extra is None:
        return None
    return {"webhook": extra.get("webhook"), "callback_url": extra.get("callback_url")}
