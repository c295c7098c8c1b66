from django.contrib import admin

from findings.models import Finding, KnownCve


@admin.register(Finding)
class FindingAdmin(admin.ModelAdmin):
    list_display = ("title", "tenant", "severity", "status", "tool", "affected_component", "last_seen",
                    "occurrences")
    list_filter = ("severity", "status", "tool")
    search_fields = ("title", "affected_component", "fingerprint")
    list_select_related = ("tenant",)


@admin.register(KnownCve)
class KnownCveAdmin(admin.ModelAdmin):
    """The local vulnerability database, loaded with `manage.py load_nvd`; read it here, reload feeds to
    change it."""

    list_display = ("cve_id", "severity", "cvss_score", "published", "last_modified", "loaded_at")
    search_fields = ("cve_id", "description")
    readonly_fields = [field.name for field in KnownCve._meta.fields]
