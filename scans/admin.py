"""Operators' admin for scans, their event stream, schedules and workers.

Scans are read-only here: cancel and re-run are actions that call the same services as the API
(scan_cancel, scan_create), so the admin cannot skip a check the API makes. Schedules are paused, resumed
and deleted through scans.schedules, which keeps the celery-beat entry in step."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from config.errors import DomainError
from engines.registry import ENGINES
from scans.models import TERMINAL_STATUSES, Scan, ScanEvent, ScanSchedule, Worker
from scans.schedules import schedule_delete, schedule_set_paused
from scans.services import SCAN_TYPES, ScanRequest, scan_cancel, scan_create
from tenants.admin import LargeTableAdmin, SurfaceFilter

# Surfaces whose scans cannot be run again as they were: an import scanned nothing, and a schedule's run
# re-run by hand is an ordinary native scan.
NOT_RERUNNABLE = {"import"}
RERUN_SURFACE = {"schedule": "native"}


class StaticChoicesFilter(admin.SimpleListFilter):
    """A filter over a fixed list, so the changelist does not SELECT DISTINCT over a large table."""

    values: tuple[str, ...] = ()

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(value, value) for value in self.values]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(**{self.parameter_name: self.value()}) if self.value() else queryset


class EngineFilter(StaticChoicesFilter):
    title = "engine"
    parameter_name = "engine"
    values = (*ENGINES, "sentinel")


class ScanTypeFilter(StaticChoicesFilter):
    title = "scan type"
    parameter_name = "scan_type"
    values = SCAN_TYPES


def rerun_request(scan: Scan) -> ScanRequest:
    """The request that produced `scan`, asked again: same target, plan inputs, priority and limits."""
    ports = scan.options.get("ports") if scan.scan_type and not scan.engine else None
    return ScanRequest(
        target=scan.target, target_type=scan.target_type, engine=scan.engine,
        options=None if scan.scan_type and not scan.engine else scan.options, scan_type=scan.scan_type,
        ports=ports, priority=scan.get_priority_display(), name=scan.name, tags=tuple(scan.tags),
        timeout_s=scan.timeout_s, surface=RERUN_SURFACE.get(scan.surface, scan.surface), profile=scan.profile,
        extra={**scan.extra, "rerun_of": str(scan.pk)},
    )


@admin.register(Scan)
class ScanAdmin(LargeTableAdmin):
    list_display = ("short_id", "tenant", "target_value", "runs", "status_badge", "progress_bar", "priority",
                    "duration", "created_at")
    list_filter = ("status", "priority", EngineFilter, ScanTypeFilter, SurfaceFilter, "tenant")
    search_fields = ("target_value", "name", "id")
    list_select_related = ("tenant",)
    ordering = ("-created_at",)
    readonly_fields = [f.name for f in Scan._meta.fields]
    actions = ("cancel", "rerun")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="scan", ordering="id")
    def short_id(self, scan: Scan) -> str:
        return str(scan.pk)[:8]

    @admin.display(description="runs")
    def runs(self, scan: Scan) -> str:
        return scan.engine or (f"profile {scan.profile}" if scan.profile else scan.scan_type)

    @admin.display(description="status", ordering="status")
    def status_badge(self, scan: Scan) -> str:
        colours = {"queued": "#4338ca", "running": "#1d4ed8", "completed": "#15803d", "failed": "#b91c1c",
                   "cancelled": "#6b7280"}
        return format_html('<strong style="color:{}">{}</strong>', colours.get(scan.status, "#111"), scan.status)

    @admin.display(description="progress", ordering="progress")
    def progress_bar(self, scan: Scan) -> str:
        return format_html('<progress max="100" value="{}" aria-label="{}% done">{}%</progress> {}%{}',
                           scan.progress, scan.progress, scan.progress, scan.progress,
                           f" · {scan.phase}" if scan.phase and not scan.is_terminal else "")

    @admin.display(description="duration")
    def duration(self, scan: Scan) -> str:
        if not scan.started_at:
            return "—"
        if not scan.completed_at:
            return "running"
        seconds = round((scan.completed_at - scan.started_at).total_seconds())
        return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"

    @admin.action(description="Cancel the selected scans")
    def cancel(self, request: HttpRequest, queryset: QuerySet[Scan]) -> None:
        done, refused = 0, []
        for tenant_id, scan_id in queryset.exclude(status__in=TERMINAL_STATUSES).values_list("tenant_id", "pk"):
            try:
                scan_cancel(tenant_id=tenant_id, scan_id=str(scan_id))
                done += 1
            except DomainError as exc:
                refused.append(f"{str(scan_id)[:8]}: {exc.message}")
        self.message_user(request, f"Cancellation requested for {done} scan(s).", messages.SUCCESS)
        if refused:
            self.message_user(request, "Not cancelled: " + "; ".join(refused), messages.WARNING)

    @admin.action(description="Re-run the selected scans")
    def rerun(self, request: HttpRequest, queryset: QuerySet[Scan]) -> None:
        created, refused = [], []
        for scan in queryset:
            if scan.surface in NOT_RERUNNABLE:
                refused.append(f"{str(scan.pk)[:8]}: an imported report cannot be run again")
                continue
            try:
                new = scan_create(tenant_id=scan.tenant_id, api_key_pk=None, request=rerun_request(scan))
            except DomainError as exc:
                refused.append(f"{str(scan.pk)[:8]}: {exc.message}")
                continue
            created.append(format_html('<a href="{}">{}</a>', reverse("admin:scans_scan_change", args=[new.pk]),
                                       str(new.pk)[:8]))
        if created:
            links = format_html_join(", ", "{}", ((link,) for link in created))
            self.message_user(request, format_html("Queued {} new scan(s): {}", len(created), links),
                              messages.SUCCESS)
        if refused:
            self.message_user(request, "Not re-run: " + "; ".join(refused), messages.WARNING)


@admin.register(ScanEvent)
class ScanEventAdmin(LargeTableAdmin):
    list_display = ("scan_id", "seq", "type", "created_at")
    list_filter = ("type",)
    readonly_fields = ("scan", "seq", "type", "payload", "created_at")
    ordering = ("-id",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(ScanSchedule)
class ScanScheduleAdmin(admin.ModelAdmin):
    list_display = ("target", "tenant", "runs", "frequency", "timing", "timezone", "paused", "next_run_at",
                    "last_run_at")
    list_filter = ("paused", "frequency", "tenant")
    search_fields = ("target",)
    list_select_related = ("tenant",)
    readonly_fields = [f.name for f in ScanSchedule._meta.fields]
    actions = ("pause", "resume")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="runs")
    def runs(self, schedule: ScanSchedule) -> str:
        return schedule.request.get("engine") or schedule.request.get("scan_type") or "—"

    @admin.display(description="at")
    def timing(self, schedule: ScanSchedule) -> str:
        day = ""
        if schedule.frequency == "weekly":
            day = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")[schedule.day_of_week or 0] + " "
        elif schedule.frequency == "monthly":
            day = f"day {schedule.day_of_month} "
        return f"{day}{schedule.hour:02d}:{schedule.minute:02d}"

    def _set_paused(self, request: HttpRequest, queryset: QuerySet[ScanSchedule], paused: bool) -> None:
        pairs = list(queryset.values_list("tenant_id", "uuid"))
        for tenant_id, schedule_uuid in pairs:
            schedule_set_paused(tenant_id=tenant_id, schedule_id=schedule_uuid, paused=paused)
        self.message_user(request, f"{'Paused' if paused else 'Resumed'} {len(pairs)} schedule(s).", messages.SUCCESS)

    @admin.action(description="Pause the selected schedules")
    def pause(self, request: HttpRequest, queryset: QuerySet[ScanSchedule]) -> None:
        self._set_paused(request, queryset, True)

    @admin.action(description="Resume the selected schedules")
    def resume(self, request: HttpRequest, queryset: QuerySet[ScanSchedule]) -> None:
        self._set_paused(request, queryset, False)

    def delete_model(self, request: HttpRequest, obj: ScanSchedule) -> None:
        schedule_delete(tenant_id=obj.tenant_id, schedule_id=obj.uuid)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ScanSchedule]) -> None:
        for tenant_id, schedule_uuid in list(queryset.values_list("tenant_id", "uuid")):
            schedule_delete(tenant_id=tenant_id, schedule_id=schedule_uuid)


@admin.register(Worker)
class WorkerAdmin(admin.ModelAdmin):
    """What each worker reported: its queues and engines with versions. Written by the workers only."""

    list_display = ("name", "queues", "engine_names", "last_seen", "engines_checked_at")
    readonly_fields = [f.name for f in Worker._meta.fields]

    @admin.display(description="engines")
    def engine_names(self, worker: Worker) -> str:
        return ", ".join(f"{name} {info.get('version', '')}".strip() for name, info in sorted(worker.engines.items()))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
