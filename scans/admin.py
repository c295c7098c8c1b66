from django.contrib import admin

from scans.models import Scan, ScanEvent


@admin.register(Scan)
class ScanAdmin(admin.ModelAdmin):
    list_display = ("id", "tenant", "target_value", "engine", "scan_type", "status", "priority", "progress",
                    "created_at", "completed_at")
    list_filter = ("status", "priority", "engine", "scan_type", "surface")
    search_fields = ("target_value", "name", "id")
    list_select_related = ("tenant",)
    readonly_fields = [f.name for f in Scan._meta.fields]


@admin.register(ScanEvent)
class ScanEventAdmin(admin.ModelAdmin):
    list_display = ("scan", "seq", "type", "created_at")
    list_filter = ("type",)
    readonly_fields = ("scan", "seq", "type", "payload", "created_at")
