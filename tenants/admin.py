from django.contrib import admin

from tenants.models import ApiKey, AuditLog, Plan, Tenant


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "max_concurrent_scans", "monthly_scan_limit", "schedules_enabled")


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("name", "plan", "is_active", "oem_enabled", "oem_credits", "created_at")
    list_filter = ("plan", "is_active", "oem_enabled")
    search_fields = ("name",)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("key_id", "tenant", "role", "extra_scopes", "created_at", "last_used_at", "revoked_at")
    list_filter = ("role", "tenant")
    search_fields = ("key_id", "name")
    readonly_fields = ("key_id", "secret_sha256", "created_at", "last_used_at")
    list_select_related = ("tenant",)


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ("created_at", "tenant", "surface", "action", "key_id", "status_code", "target", "outcome")
    list_filter = ("surface", "action", "status_code")
    search_fields = ("key_id", "target", "outcome", "scan_id")
    list_select_related = ("tenant",)
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
