"""Read-only admin for endpoints and their delivery log. Secrets (encrypted or not) are never shown, and
operators change endpoints through the API like tenants do, so the SSRF guard always applies."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from webhooks.models import Delivery, DeliveryAttempt, Endpoint

_SECRET_FIELDS = {"secret_encrypted", "previous_secret_encrypted"}


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    fields = ("number", "status_code", "latency_ms", "error", "response_excerpt", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Endpoint)
class EndpointAdmin(ReadOnlyAdmin):
    list_display = ("id", "tenant", "url", "is_active", "consecutive_failures", "created_at")
    list_filter = ("is_active",)
    search_fields = ("url", "id", "description")
    list_select_related = ("tenant",)
    fields = [f.name for f in Endpoint._meta.fields if f.name not in _SECRET_FIELDS]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ("id", "tenant", "event", "kind", "url", "status", "attempts", "last_status_code",
                    "last_latency_ms", "created_at")
    list_filter = ("status", "kind", "event")
    search_fields = ("id", "url", "scan_uuid")
    list_select_related = ("tenant",)
    fields = [f.name for f in Delivery._meta.fields]
    inlines = [DeliveryAttemptInline]
