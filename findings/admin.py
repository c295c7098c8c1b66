from django.contrib import admin

from findings.models import Finding


@admin.register(Finding)
class FindingAdmin(admin.ModelAdmin):
    list_display = ("title", "tenant", "severity", "status", "tool", "affected_component", "last_seen",
                    "occurrences")
    list_filter = ("severity", "status", "tool")
    search_fields = ("title", "affected_component", "fingerprint")
    list_select_related = ("tenant",)
