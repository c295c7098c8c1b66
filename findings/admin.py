"""Operators' admin for findings and the local vulnerability database.

Findings are read-only here; status changes are actions that call findings.services.finding_status_set, so
the transition table and the audit trail (FindingStatusChange) apply as they do to the API. The list stays
fast with a million findings: bounded counts, no DISTINCT-based filters, ordering on the primary key."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from config.errors import DomainError
from engines.registry import ENGINES
from findings.models import Finding, FindingOccurrence, FindingStatus, KnownCve
from findings.services import StatusChange, finding_status_set
from scans.admin import StaticChoicesFilter
from tenants.admin import LargeTableAdmin

SEVERITY_COLOURS = {"critical": ("#7a1020", "#fff"), "high": ("#c2410c", "#fff"), "medium": ("#fde68a", "#5c3b00"),
                    "low": ("#dbeafe", "#1e3a8a"), "info": ("#e5e7eb", "#374151")}
SEEN_BY_SHOWN = 20


class ToolFilter(StaticChoicesFilter):
    title = "tool"
    parameter_name = "tool"
    values = tuple(ENGINES)


@admin.register(Finding)
class FindingAdmin(LargeTableAdmin):
    list_display = ("title", "tenant", "severity_badge", "status", "tool", "affected_component", "last_seen",
                    "occurrences")
    list_filter = ("severity", "status", ToolFilter, "tenant")
    search_fields = ("title", "affected_component", "=fingerprint")
    list_select_related = ("tenant",)
    # The primary key orders the unfiltered list from its index; (tenant, -last_seen) needs a tenant filter.
    ordering = ("-pk",)
    readonly_fields = [f.name for f in Finding._meta.fields] + ["seen_by"]
    actions = ("mark_in_progress", "mark_resolved", "mark_false_positive", "reopen")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="severity", ordering="severity")
    def severity_badge(self, finding: Finding) -> str:
        background, colour = SEVERITY_COLOURS.get(finding.severity, ("#e5e7eb", "#111"))
        return format_html('<span style="background:{};color:{};padding:1px 8px;border-radius:9px;'
                           'font-weight:700">{}</span>', background, colour, finding.severity)

    @admin.display(description="seen by scans")
    def seen_by(self, finding: Finding) -> str:
        rows = (FindingOccurrence.objects.filter(finding=finding, tenant_id=finding.tenant_id)
                .order_by("-detected_at").values_list("scan_id", "detected_at")[:SEEN_BY_SHOWN])
        return format_html_join(", ", '<a href="{}">{}</a> ({})', (
            (reverse("admin:scans_scan_change", args=[scan_id]), str(scan_id)[:8], detected.strftime("%Y-%m-%d"))
            for scan_id, detected in rows)) or "—"

    def _set_status(self, request: HttpRequest, queryset: QuerySet[Finding], status: str) -> None:
        changed, refused = 0, 0
        actor = f"admin:{request.user.get_username()}"
        for tenant_id, finding_uuid in queryset.values_list("tenant_id", "uuid"):
            try:
                finding_status_set(tenant_id=tenant_id, finding_id=finding_uuid, actor=actor,
                                   change=StatusChange(status=status, note="changed in the admin"))
                changed += 1
            except DomainError:
                refused += 1
        self.message_user(request, f"{changed} finding(s) now {status}.", messages.SUCCESS)
        if refused:
            self.message_user(request, f"{refused} finding(s) cannot move to {status} from their status.",
                              messages.WARNING)

    @admin.action(description="Mark in progress")
    def mark_in_progress(self, request: HttpRequest, queryset: QuerySet[Finding]) -> None:
        self._set_status(request, queryset, FindingStatus.IN_PROGRESS)

    @admin.action(description="Mark resolved")
    def mark_resolved(self, request: HttpRequest, queryset: QuerySet[Finding]) -> None:
        self._set_status(request, queryset, FindingStatus.RESOLVED)

    @admin.action(description="Mark false positive")
    def mark_false_positive(self, request: HttpRequest, queryset: QuerySet[Finding]) -> None:
        self._set_status(request, queryset, FindingStatus.FALSE_POSITIVE)

    @admin.action(description="Reopen")
    def reopen(self, request: HttpRequest, queryset: QuerySet[Finding]) -> None:
        self._set_status(request, queryset, FindingStatus.OPEN)


@admin.register(KnownCve)
class KnownCveAdmin(LargeTableAdmin):
    """The local vulnerability database, loaded with `manage.py load_nvd`; read it here, reload feeds to
    change it."""

    list_display = ("cve_id", "severity", "cvss_score", "published", "last_modified", "loaded_at")
    search_fields = ("cve_id", "description")
    readonly_fields = [field.name for field in KnownCve._meta.fields]
