"""Scheduled scans (seed 003): POST/GET /api/v1/scans/schedules, DELETE /api/v1/scans/schedules/{id},
plus pause and resume. Each schedule's runs show next_run_at and the last runs with their scans."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from scans.api.schema import ERRORS, SCHEDULE_ID, ScheduleListOut, ScheduleOut
from scans.api.serializers import iso
from scans.models import Priority, ScanSchedule
from scans.schedules import schedule_create, schedule_delete, schedule_set_paused
from scans.selectors import schedule_get, schedule_list
from scans.services import ScanRequest
from tenants.api import TenantAPIView
from tenants.scopes import Scope

TAGS = ["schedules (native, seed 003)"]


class ScheduleInput(serializers.Serializer):
    target = serializers.CharField(max_length=2048, trim_whitespace=False)
    scan_type = serializers.ChoiceField(choices=["quick", "full", "compliance"], required=False)
    engine = serializers.CharField(max_length=32, required=False)
    options = serializers.JSONField(required=False)
    ports = serializers.CharField(max_length=4000, required=False)
    priority = serializers.ChoiceField(choices=[p.label for p in Priority], default="normal")
    frequency = serializers.ChoiceField(choices=ScanSchedule.Frequency.values)
    day_of_week = serializers.IntegerField(required=False, min_value=0, max_value=6,
                                           help_text="0 = Sunday … 6 = Saturday (weekly)")
    day_of_month = serializers.IntegerField(required=False, min_value=1, max_value=28, help_text="monthly")
    hour = serializers.IntegerField(min_value=0, max_value=23)
    minute = serializers.IntegerField(required=False, min_value=0, max_value=59, default=0)
    timezone = serializers.CharField(max_length=64, default="UTC")
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("engine") and attrs.get("scan_type"):
            raise serializers.ValidationError({"engine": "give either engine or scan_type, not both"})
        if not attrs.get("engine"):
            attrs.setdefault("scan_type", "full")
        return attrs


def schedule_body(schedule: ScanSchedule) -> dict[str, Any]:
    runs = [{"scheduled_for": iso(run.scheduled_for), "status": run.status, "reason": run.reason or None,
             "scan_id": str(run.scan_id) if run.scan_id else None}
            for run in getattr(schedule, "recent_runs", [])]
    request = schedule.request
    return {
        "id": str(schedule.uuid), "target": schedule.target, "scan_type": request.get("scan_type") or None,
        "engine": request.get("engine") or None, "frequency": schedule.frequency,
        "day_of_week": schedule.day_of_week, "day_of_month": schedule.day_of_month, "hour": schedule.hour,
        "minute": schedule.minute, "timezone": schedule.timezone, "paused": schedule.paused,
        "next_run_at": None if schedule.paused else iso(schedule.next_run_at),
        "last_run_at": iso(schedule.last_run_at), "created_at": iso(schedule.created_at), "recent_runs": runs,
    }


class ScheduleCollectionApi(TenantAPIView):
    required_scopes = {"GET": (Scope.SCHEDULES_MANAGE,), "POST": (Scope.SCHEDULES_MANAGE,)}

    @extend_schema(tags=TAGS, summary="List schedules", operation_id="schedules_list",
                   responses={200: ScheduleListOut, **ERRORS})
    def get(self, request):
        items = [schedule_body(s) for s in schedule_list(tenant_id=self.tenant_id)]
        return Response({"items": items, "total": len(items)})

    @extend_schema(tags=TAGS, request=ScheduleInput, summary="Create a schedule", operation_id="schedules_create",
                   responses={201: ScheduleOut, **ERRORS})
    def post(self, request):
        data = self.validate_input(ScheduleInput, request.data)
        schedule = schedule_create(
            tenant_id=self.tenant_id, api_key_pk=self.auth.api_key_pk,
            request=ScanRequest(target=data["target"], engine=data.get("engine", ""), options=data.get("options"),
                                scan_type=data.get("scan_type", ""), ports=data.get("ports"),
                                priority=data["priority"], name=data.get("name", "")),
            frequency=data["frequency"], day_of_week=data.get("day_of_week"),
            day_of_month=data.get("day_of_month"), hour=data["hour"], minute=data["minute"],
            timezone_name=data["timezone"],
        )
        return Response(schedule_body(schedule_get(tenant_id=self.tenant_id, schedule_id=schedule.uuid)),
                        status=201)


class ScheduleDetailApi(TenantAPIView):
    required_scopes = {"GET": (Scope.SCHEDULES_MANAGE,), "DELETE": (Scope.SCHEDULES_MANAGE,)}

    @extend_schema(tags=TAGS, summary="Get a schedule", operation_id="schedules_retrieve", parameters=[SCHEDULE_ID],
                   responses={200: ScheduleOut, **ERRORS})
    def get(self, request, schedule_id):
        return Response(schedule_body(schedule_get(tenant_id=self.tenant_id, schedule_id=schedule_id)))

    @extend_schema(tags=TAGS, summary="Delete a schedule", operation_id="schedules_delete", parameters=[SCHEDULE_ID],
                   responses={204: None, **ERRORS})
    def delete(self, request, schedule_id):
        schedule_delete(tenant_id=self.tenant_id, schedule_id=schedule_id)
        return Response(status=204)


class SchedulePauseApi(TenantAPIView):
    required_scopes = {"POST": (Scope.SCHEDULES_MANAGE,)}
    paused = True

    @extend_schema(tags=TAGS, request=None, summary="Pause (or resume) a schedule", parameters=[SCHEDULE_ID],
                   responses={200: ScheduleOut, **ERRORS})
    def post(self, request, schedule_id):
        schedule_set_paused(tenant_id=self.tenant_id, schedule_id=schedule_id, paused=self.paused)
        return Response(schedule_body(schedule_get(tenant_id=self.tenant_id, schedule_id=schedule_id)))


class ScheduleResumeApi(SchedulePauseApi):
    paused = False
