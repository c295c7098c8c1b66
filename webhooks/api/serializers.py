"""Request parsing and response shapes of the webhooks API. Outputs never carry tenant ids or secrets,
except the one-time `secret` of a create or rotate answer."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from webhooks.models import Delivery, DeliveryStatus, Endpoint


class WebhookCreateInput(serializers.Serializer):
    url = serializers.CharField(max_length=2048, trim_whitespace=False)
    events = serializers.ListField(child=serializers.CharField(max_length=64), min_length=1, max_length=20)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)


class WebhookUpdateInput(serializers.Serializer):
    url = serializers.CharField(max_length=2048, required=False, trim_whitespace=False)
    events = serializers.ListField(child=serializers.CharField(max_length=64), min_length=1, max_length=20,
                                   required=False)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = set(self.initial_data) - set(self.fields) if isinstance(self.initial_data, dict) else set()
        if unknown:
            raise serializers.ValidationError(f"unknown or read-only field(s): {', '.join(sorted(unknown))}")
        return attrs


class SecretRotateInput(serializers.Serializer):
    overlap_seconds = serializers.IntegerField(min_value=0, required=False)


class PageQuery(serializers.Serializer):
    page = serializers.IntegerField(min_value=1, max_value=1_000_000, default=1)
    per_page = serializers.IntegerField(min_value=1, max_value=100, default=20)


class DeliveryListQuery(PageQuery):
    status = serializers.ChoiceField(choices=DeliveryStatus.choices, required=False)


def _iso(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def endpoint_out(endpoint: Endpoint) -> dict[str, Any]:
    return {
        "id": str(endpoint.pk),
        "url": endpoint.url,
        "events": list(endpoint.events),
        "description": endpoint.description,
        "is_active": endpoint.is_active,
        "disabled_reason": endpoint.disabled_reason or None,
        "secret_rotated_at": _iso(endpoint.secret_rotated_at),
        "previous_secret_expires_at": _iso(endpoint.previous_secret_expires_at),
        "created_at": _iso(endpoint.created_at),
        "updated_at": _iso(endpoint.updated_at),
    }


def delivery_out(delivery: Delivery) -> dict[str, Any]:
    return {
        "id": str(delivery.pk),
        "event": delivery.event,
        "scan_id": str(delivery.scan_uuid) if delivery.scan_uuid else None,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "status_code": delivery.last_status_code,
        "latency_ms": delivery.last_latency_ms,
        "error": delivery.last_error or None,
        "created_at": _iso(delivery.created_at),
        "last_attempt_at": _iso(delivery.last_attempt_at),
        "next_attempt_at": _iso(delivery.next_attempt_at),
        "completed_at": _iso(delivery.completed_at),
        "attempt_log": [
            {"attempt": attempt.number, "status_code": attempt.status_code, "latency_ms": attempt.latency_ms,
             "error": attempt.error or None, "at": _iso(attempt.created_at)}
            for attempt in delivery.attempt_log.all()
        ],
    }


def page_envelope(items: list[dict[str, Any]], total: int, page: int, per_page: int) -> dict[str, Any]:
    return {"items": items, "total": total, "page": page, "per_page": per_page,
            "pages": -(-total // per_page) if total else 0}
