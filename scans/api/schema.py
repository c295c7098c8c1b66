"""Response shapes of the native API for the OpenAPI schema (documentation only: the views build plain
dicts in scans/api/serializers.py; tests check that both agree)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

SCAN_ID = OpenApiParameter("scan_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="Scan id")
SCHEDULE_ID = OpenApiParameter("schedule_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="Schedule id")


class ErrorBody(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    field = serializers.CharField(required=False)
    details = serializers.JSONField(required=False)


class ErrorOut(serializers.Serializer):
    error = ErrorBody()


ERRORS = {status: ErrorOut for status in (400, 401, 403, 404, 409, 422, 429, 503)}


class ScanSummaryOut(serializers.Serializer):
    id = serializers.UUIDField()
    target = serializers.CharField()
    scan_type = serializers.CharField(allow_null=True)
    engine = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(choices=["queued", "running", "completed", "failed", "cancelled"])
    priority = serializers.ChoiceField(choices=["low", "normal", "high", "critical"])
    progress = serializers.IntegerField(min_value=0, max_value=100)
    phase = serializers.CharField(allow_null=True)
    name = serializers.CharField(allow_blank=True)
    tags = serializers.ListField(child=serializers.CharField())
    created_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)
    critical_count = serializers.IntegerField()
    high_count = serializers.IntegerField()
    medium_count = serializers.IntegerField()
    low_count = serializers.IntegerField()
    info_count = serializers.IntegerField()
    vulnerabilities_found = serializers.IntegerField()


class ScanDetailOut(ScanSummaryOut):
    target_input = serializers.CharField()
    target_type = serializers.CharField()
    options = serializers.JSONField()
    current_tool = serializers.CharField(allow_null=True)
    progress_percent = serializers.IntegerField()
    hosts_found = serializers.IntegerField()
    ports_found = serializers.IntegerField()
    started_at = serializers.DateTimeField(allow_null=True)
    estimated_completion = serializers.DateTimeField(
        allow_null=True, help_text="When the scan should end, from measured durations of its plan's steps (the "
        "running step's own rate when its engine reports a percentage); null until those steps have run once.")
    phases_completed = serializers.ListField(child=serializers.CharField())
    phases_skipped = serializers.DictField(child=serializers.CharField())
    phases_remaining = serializers.ListField(child=serializers.CharField())
    steps_skipped = serializers.ListField(child=serializers.DictField())
    timeout = serializers.IntegerField()
    error = serializers.CharField(allow_null=True)
    risk_score = serializers.FloatField(required=False)
    risk = serializers.JSONField(required=False)
    estimated_duration = serializers.IntegerField(
        required=False, allow_null=True, help_text="Seconds the scan should take: the sum of its plan steps' "
        "measured durations, or its timeout until every step has been measured.")


class ScanListOut(serializers.Serializer):
    items = ScanSummaryOut(many=True)
    total = serializers.IntegerField()
    page = serializers.IntegerField()
    per_page = serializers.IntegerField()
    pages = serializers.IntegerField()


class CancelOut(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    message = serializers.CharField()


class QuotaOut(serializers.Serializer):
    plan = serializers.CharField()
    monthly_limit = serializers.IntegerField(allow_null=True)
    used_this_month = serializers.IntegerField()
    remaining = serializers.IntegerField(allow_null=True)
    resets_at = serializers.DateTimeField()


class PortOut(serializers.Serializer):
    port = serializers.IntegerField()
    protocol = serializers.CharField()
    state = serializers.CharField()
    service = serializers.CharField(allow_null=True)
    product = serializers.CharField(allow_null=True)
    version = serializers.CharField(allow_null=True)


class DeviceOut(serializers.Serializer):
    ip = serializers.CharField(allow_null=True)
    mac = serializers.CharField(allow_null=True)
    hostname = serializers.CharField(allow_null=True)
    vendor = serializers.CharField(allow_null=True)
    os_guess = serializers.CharField(allow_null=True)
    ports = PortOut(many=True)


class ResultOut(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    devices_found = serializers.IntegerField()
    open_ports_total = serializers.IntegerField()
    duration_seconds = serializers.IntegerField(allow_null=True)
    devices = DeviceOut(many=True)
    certificates = serializers.ListField(child=serializers.DictField())


class EngineOut(serializers.Serializer):
    name = serializers.CharField()
    category = serializers.CharField()
    description = serializers.CharField()
    target_types = serializers.ListField(child=serializers.CharField())
    options = serializers.JSONField(help_text="JSON Schema of the engine's options")
    defaults = serializers.JSONField()
    default_timeout = serializers.IntegerField()
    available = serializers.BooleanField()
    available_on = serializers.ListField(child=serializers.DictField())


class EngineListOut(serializers.Serializer):
    items = EngineOut(many=True)
    total = serializers.IntegerField()


class ScheduleOut(serializers.Serializer):
    id = serializers.UUIDField()
    target = serializers.CharField()
    scan_type = serializers.CharField(allow_null=True)
    engine = serializers.CharField(allow_null=True)
    frequency = serializers.ChoiceField(choices=["daily", "weekly", "monthly"])
    day_of_week = serializers.IntegerField(allow_null=True)
    day_of_month = serializers.IntegerField(allow_null=True)
    hour = serializers.IntegerField()
    minute = serializers.IntegerField()
    timezone = serializers.CharField()
    paused = serializers.BooleanField()
    next_run_at = serializers.DateTimeField(allow_null=True)
    last_run_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    recent_runs = serializers.ListField(child=serializers.DictField())


class ScheduleListOut(serializers.Serializer):
    items = ScheduleOut(many=True)
    total = serializers.IntegerField()


class WsTokenOut(serializers.Serializer):
    token = serializers.CharField()
    expires_in = serializers.IntegerField()
