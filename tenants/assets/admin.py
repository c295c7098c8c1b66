"""Operators see every tenant's assets and approve (or revoke) ownership: the only way to verify an image
asset, and the alternative to an HTTP file for ip and cidr assets. Tenants register assets through the API."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from tenants.assets.models import Asset
from tenants.assets.services import asset_approve, asset_revoke


@admin.register(Asset)
class AssetAdmin(admin.ModelAdmin):
    list_display = ("value", "kind", "tenant", "production", "verified_at", "verification_method",
                    "verified_by", "last_error", "created_at")
    list_filter = ("kind", "verification_method", "production", "tenant")
    search_fields = ("value", "name", "uuid")
    list_select_related = ("tenant",)
    readonly_fields = ("uuid", "tenant", "kind", "value", "name", "production", "token", "verified_at",
                       "verification_method", "verified_by", "last_checked_at", "last_error", "created_at",
                       "updated_at")
    actions = ("approve", "revoke")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Approve ownership (operator verification)", permissions=["change"])
    def approve(self, request: HttpRequest, queryset: QuerySet[Asset]) -> None:
        count = asset_approve(asset_pks=list(queryset.values_list("pk", flat=True)),
                              operator=request.user.get_username())
        self.message_user(request, f"{count} asset(s) approved.", messages.SUCCESS)

    @admin.action(description="Revoke ownership verification", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[Asset]) -> None:
        count = asset_revoke(asset_pks=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} asset(s) revoked.", messages.WARNING)
