"""Operators' admin for plans, tenants, console memberships, API keys and the audit log.

API keys are issued through tenants.services.api_key_issue (the secret is shown once, on the page that
issues it, and stored only as a digest) and revoked through api_key_revoke. The paginator below is shared by
the admin of every large table (scans, findings, audit log)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.functional import cached_property
from django.utils.html import format_html

from config.errors import DomainError
from scans.models import Scan
from scans.quota import month_bounds
from tenants.models import ApiKey, AuditLog, Membership, Plan, Tenant
from tenants.scopes import Role, Scope, effective_scopes
from tenants.services import api_key_issue, api_key_revoke


class BoundedCountPaginator(Paginator):
    """A paginator that never counts a huge table exactly: an unfiltered list reads PostgreSQL's row
    estimate (pg_class.reltuples), a filtered one counts at most COUNT_CAP rows. With a million findings an
    exact COUNT(*) per page view is the slowest query of the page; an estimate is enough to page."""

    COUNT_CAP = 10_000

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet):
            return super().count
        if not queryset.query.where:
            estimate = _estimated_rows(queryset.model._meta.db_table)
            if estimate > self.COUNT_CAP:
                return estimate
        return queryset.order_by()[: self.COUNT_CAP + 1].count()


def _estimated_rows(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)", [table])
        row = cursor.fetchone()
    return max(int(row[0]), 0) if row and row[0] is not None else 0


class LargeTableAdmin(admin.ModelAdmin):
    """List pages that stay fast on large tables: bounded counts and no second unfiltered count."""

    paginator = BoundedCountPaginator
    show_full_result_count = False
    list_per_page = 50


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "max_concurrent_scans", "monthly_scan_limit", "schedules_enabled")


class MembershipInline(admin.TabularInline):
    model = Membership
    fields = ("user", "role", "created_at")
    readonly_fields = ("created_at",)
    autocomplete_fields = ("user",)
    extra = 0


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("name", "plan", "limits", "usage_this_month", "allowed_scope", "is_active", "oem_enabled",
                    "oem_credits", "created_at")
    list_filter = ("plan", "is_active", "oem_enabled")
    search_fields = ("name",)
    list_select_related = ("plan",)
    readonly_fields = ("uuid", "limits", "usage_this_month", "allowed_scope", "created_at")
    inlines = (MembershipInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tenant]:
        # Usage is a correlated subquery in the page's one query, not a query per row (scans have no reverse
        # accessor on Tenant: related_name="+"). Same rule as scans.quota.quota_get: imports do not count.
        start, _ = month_bounds()
        used = (Scan.objects.filter(tenant=OuterRef("pk"), created_at__gte=start).exclude(surface="import")
                .order_by().values("tenant").annotate(n=Count("pk")).values("n"))
        return super().get_queryset(request).annotate(
            scans_this_month=Coalesce(Subquery(used, output_field=IntegerField()), 0))

    @admin.display(description="limits")
    def limits(self, tenant: Tenant) -> str:
        plan = tenant.plan
        concurrent = plan.max_concurrent_scans if plan.max_concurrent_scans is not None else "∞"
        monthly = plan.monthly_scan_limit if plan.monthly_scan_limit is not None else "∞"
        return f"{concurrent} concurrent, {monthly}/month, schedules {'on' if plan.schedules_enabled else 'off'}"

    @admin.display(description="scans this month", ordering="scans_this_month")
    def usage_this_month(self, tenant: Tenant) -> str:
        used = getattr(tenant, "scans_this_month", None) or 0
        limit = tenant.plan.monthly_scan_limit
        if limit is None:
            return f"{used} (unlimited)"
        return f"{used} / {limit}"

    @admin.display(description="allowed target scope")
    def allowed_scope(self, tenant: Tenant) -> str:
        """What this installation lets the tenant scan: the target policy and the global deny-list (a
        per-tenant verified scope, when enforced, narrows it further)."""
        policy = settings.LANTERN_TARGET_POLICY
        where = "loopback only (127.0.0.0/8, ::1, localhost)" if policy == "loopback" else "public targets"
        denied = ", ".join(settings.LANTERN_DENY_NETWORKS)
        scoped = "; verified scope enforced" if getattr(settings, "LANTERN_SCOPE_ENFORCED", False) else ""
        return f"{where}; never {denied}{scoped}"


class MembershipForm(forms.ModelForm):
    """`tenant` is not editable on tenant-owned rows (TenantOwned), so the form asks for it on its own and
    only when the membership is created."""

    tenant_choice = forms.ModelChoiceField(queryset=Tenant.objects.order_by("name"), label="Tenant")

    class Meta:
        model = Membership
        fields = ("user", "role")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["tenant_choice"].initial = self.instance.tenant_id
            self.fields["tenant_choice"].disabled = True


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    """Console access: a user, a tenant and a role. Staff without a membership see only the admin."""

    form = MembershipForm
    list_display = ("user", "tenant", "role", "created_at")
    list_filter = ("role", "tenant")
    search_fields = ("user__username", "user__email", "tenant__name")
    list_select_related = ("user", "tenant")
    autocomplete_fields = ("user",)
    fields = ("user", "tenant_choice", "role")

    def save_model(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        if not change:
            obj.tenant = form.cleaned_data["tenant_choice"]
        super().save_model(request, obj, form, change)


class ApiKeyIssueForm(forms.Form):
    tenant = forms.ModelChoiceField(queryset=Tenant.objects.filter(is_active=True).order_by("name"))
    name = forms.CharField(max_length=100, required=False)
    role = forms.ChoiceField(choices=[("", "— scopes only —")] + [(r.value, r.value) for r in Role], required=False)
    scopes = forms.MultipleChoiceField(choices=[(s.value, s.value) for s in Scope], required=False,
                                       widget=forms.CheckboxSelectMultiple,
                                       help_text="Extra scopes on top of the role's (the oem scope is never "
                                                 "granted by a role).")


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("key_id", "name", "tenant", "role", "scopes", "created_at", "last_used_at", "state")
    list_filter = ("role", ("revoked_at", admin.EmptyFieldListFilter), "tenant")
    search_fields = ("key_id", "name", "tenant__name")
    list_select_related = ("tenant",)
    readonly_fields = ("key_id", "tenant", "role", "extra_scopes", "scopes", "secret_sha256", "created_at",
                       "last_used_at", "revoked_at")
    fields = ("name", *readonly_fields)
    actions = ("revoke",)

    @admin.display(description="effective scopes")
    def scopes(self, key: ApiKey) -> str:
        return ", ".join(sorted(effective_scopes(key.role, tuple(key.extra_scopes))))

    @admin.display(description="state", ordering="revoked_at")
    def state(self, key: ApiKey) -> str:
        if key.revoked_at:
            return format_html('<span style="color:#b42318">revoked {}</span>', key.revoked_at.strftime("%Y-%m-%d"))
        return "active"

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> HttpResponse:
        """Issue a key through the service and show its secret once; nothing else ever shows it."""
        if not self.has_add_permission(request):
            return super().add_view(request, form_url, extra_context)
        form = ApiKeyIssueForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                issued = api_key_issue(tenant_id=form.cleaned_data["tenant"].pk, role=form.cleaned_data["role"],
                                       scopes=tuple(form.cleaned_data["scopes"]), name=form.cleaned_data["name"])
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                self.log_addition(request, issued.api_key, [{"added": {}}])
                # admin_site.admin_view marks every admin page never_cache, so the secret is not cached.
                return TemplateResponse(request, "console/admin/apikey_issued.html", {
                    **self.admin_site.each_context(request), "opts": self.opts, "issued": issued,
                    "title": "API key issued"})
        return TemplateResponse(request, "console/admin/apikey_issue.html", {
            **self.admin_site.each_context(request), "opts": self.opts, "form": form, "title": "Issue an API key",
            "add": True, "has_view_permission": True})

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        keys = list(queryset.filter(revoked_at__isnull=True).values_list("tenant_id", "key_id"))
        for tenant_id, key_id in keys:
            api_key_revoke(tenant_id=tenant_id, key_id=key_id)
        self.message_user(request, f"Revoked {len(keys)} key(s).", messages.SUCCESS)


class SurfaceFilter(admin.SimpleListFilter):
    """The API surfaces, listed without a SELECT DISTINCT over the whole table."""

    title = "surface"
    parameter_name = "surface"
    SURFACES = ("native", "oem", "ingest", "multiengine", "network", "schedule", "import")

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(surface, surface) for surface in self.SURFACES]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(surface=self.value()) if self.value() else queryset


@admin.register(AuditLog)
class AuditLogAdmin(LargeTableAdmin):
    """Read-only. No date_hierarchy and no DISTINCT-based filters: on a table of millions of rows each of
    those is a full scan per page view; the surfaces are a fixed list instead."""

    list_display = ("created_at", "tenant", "surface", "action", "key_id", "status_code", "target", "outcome")
    list_filter = (SurfaceFilter, "tenant")
    search_fields = ("key_id", "target", "outcome", "scan_id")
    list_select_related = ("tenant",)
    ordering = ("-created_at",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

import tenants.assets.admin  # noqa: E402,F401  (registers the asset admin)
