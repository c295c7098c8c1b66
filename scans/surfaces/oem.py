"""Seed 000, the OEM on-demand scan API: POST /api/v1/oem/on-demand-scan and .../scan-status.

Translation rules (everything else is the services' job):
- Access needs the `oem` scope on the key AND the OEM flag on the tenant; otherwise 403. A scan takes one
  OEM credit (scan_create with consume_oem_credit); no credit left is 403. Status checks take none.
- `type` domain → target type domain (IDN names accepted, stored as punycode); ip_range → network, so a
  bare IP becomes /32 (IPv6 /128). Malformed targets and targets the policy refuses are 422.
- What runs: a domain gets a sentinel scan at standard depth ("comprehensive attack surface discovery":
  ports and services, templates, OSINT; the plan keeps the engines that fit a domain); an IP range gets
  nmap over the top 1000 ports with service detection ("infrastructure discovery"; sentinel is not
  meant for networks, seed 002). Either enters at priority high, above the default normal of the other
  APIs (the seed's "priority 2, higher than standard scans").
- `query_tags` (at most 32 string values) go to Scan.extra["query_tags"] and to the audit log.
- Statuses: queued → queued, running → in_progress, completed → scan_completed, failed → failed, and
  Lantern's cancelled → failed too (the seed has no cancelled; a cancelled scan did not complete).
  completed_at is null unless the scan completed (scan_completed).
- `target` in answers is the target as queued: normalised (lower-case punycode, network/prefix).
- The status endpoint knows only scans created through this API: any other scan id is 404.
- Every request with a valid key is written to the tenant's audit log, refusals included. A request
  without a valid key cannot be attributed to a tenant; it is logged (warning) instead.
- Errors are `{"error": "<message>"}` with the native status codes; 429 carries Retry-After. Limits per key:
  5 submissions and 10 status checks a minute (tenant overrides raise them for high-volume partners).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from config.errors import NotFound
from config.exception_handler import exception_handler as native_exception_handler
from scans.models import Scan
from scans.selectors import scan_get
from scans.services import ScanRequest, scan_create
from scans.surfaces.audit import AuditedApiView, raw_text
from tenants.auth import AuthContext
from tenants.permissions import HasScopes
from tenants.scopes import Scope

logger = logging.getLogger(__name__)

TAG = "seed 000: OEM on-demand scan"
SURFACE = "oem"
TARGET_TYPES = {"domain": "domain", "ip_range": "network"}
PLANS = {"domain": ("sentinel", {"depth": "standard"}),
         "ip_range": ("nmap", {"topPorts": 1000, "serviceDetection": True})}
STATUSES = {"queued": "queued", "running": "in_progress", "completed": "scan_completed", "failed": "failed",
            "cancelled": "failed"}
MAX_TAGS = 32
MAX_TAG_KEY = 64
MAX_TAG_VALUE = 256
NOT_FOUND = "Scan ID not found"


class OemEnabled(BasePermission):
    """The partner flag on the tenant (tenant_set_oem); the key's oem scope is HasScopes' check."""

    message = "OEM access is not enabled for this account"

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, AuthContext) and request.auth.oem_enabled


class QueryTags(serializers.DictField):
    child = serializers.CharField(max_length=MAX_TAG_VALUE, allow_blank=True, trim_whitespace=False)

    def to_internal_value(self, data: Any) -> dict[str, str]:
        tags = super().to_internal_value(data)
        if len(tags) > MAX_TAGS:
            raise serializers.ValidationError(f"at most {MAX_TAGS} tags")
        if any(not key or len(key) > MAX_TAG_KEY or not key.isprintable() for key in tags):
            raise serializers.ValidationError(f"tag names must be 1 to {MAX_TAG_KEY} printable characters")
        return tags


class OemScanInput(serializers.Serializer):
    type = serializers.ChoiceField(choices=list(TARGET_TYPES), help_text="domain or ip_range")
    target = serializers.CharField(help_text="A domain name (IDN allowed) or a CIDR range; a bare IP is /32")
    query_tags = QueryTags(required=False, help_text="Key-value pairs for client-specific tracking")


class OemStatusInput(serializers.Serializer):
    scan_id = serializers.CharField(max_length=64, help_text="The scan_id returned by on-demand-scan")
    query_tags = QueryTags(required=False, help_text="Key-value pairs for client-specific tracking")


@extend_schema_field({"type": "string", "enum": ["success"]}, component_name="OemRequestStatus")
class SuccessField(serializers.CharField):
    """The request's status (always "success" in a 200), not the scan's."""


class OemQueued(serializers.Serializer):
    status = SuccessField()
    message = serializers.CharField()
    target = serializers.CharField()
    type = serializers.ChoiceField(choices=list(TARGET_TYPES))
    scan_id = serializers.UUIDField()
    timestamp = serializers.IntegerField()


class OemScanOutput(serializers.Serializer):
    response = OemQueued()


class OemScanInfo(serializers.Serializer):
    scan_id = serializers.UUIDField()
    target = serializers.CharField()
    status = serializers.ChoiceField(choices=sorted(set(STATUSES.values())))
    created_at = serializers.IntegerField()
    completed_at = serializers.IntegerField(allow_null=True)


class OemStatusBody(serializers.Serializer):
    status = SuccessField()
    scan_info = OemScanInfo()
    timestamp = serializers.IntegerField()


class OemStatusOutput(serializers.Serializer):
    response = OemStatusBody()


class OemError(serializers.Serializer):
    error = serializers.CharField()


def oem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """The native handler decides status and headers (Retry-After, WWW-Authenticate); this flattens its
    body to the seed's `{"error": "..."}`. An unexpected exception is a 500 in the same shape."""
    response = native_exception_handler(exc, context)
    if response is None:
        logger.exception("OEM request failed", exc_info=exc)
        return Response({"error": "Internal server error"}, status=500)
    message = NOT_FOUND if response.status_code == 404 else response.data["error"]["message"]
    response.data = {"error": message}
    return response


def unix(moment: Any) -> int | None:
    return int(moment.timestamp()) if moment else None


class OemApiView(AuditedApiView):
    """What both OEM endpoints share: the permission pair, the error shape and the audit entry."""

    permission_classes = [HasScopes, OemEnabled]
    audit_surface = SURFACE

    def get_exception_handler(self) -> Callable[[Exception, dict[str, Any]], Response]:
        return oem_exception_handler


DOMAIN_EXAMPLE = {"type": "domain", "target": "acme.com", "query_tags": {
    "client_name": "ACMECorp", "workspace": "production", "scan_priority": "high"}}
RANGE_EXAMPLE = {"type": "ip_range", "target": "8.8.8.0/24",
                 "query_tags": {"client_name": "ACMECorp", "workspace": "production"}}
SCAN_ID = "550e8400-e29b-41d4-a716-446655440000"
QUEUED_EXAMPLE = {"response": {
    "status": "success",
    "message": "On-demand scan request for 'acme.com' has been successfully queued for processing",
    "target": "acme.com", "type": "domain", "scan_id": SCAN_ID, "timestamp": 1683721587}}
STATUS_EXAMPLE = {"response": {"status": "success", "scan_info": {
    "scan_id": SCAN_ID, "target": "acme.com", "status": "scan_completed", "created_at": 1683721587,
    "completed_at": 1683728792}, "timestamp": 1683729000}}
RETRY_AFTER = OpenApiParameter("Retry-After", int, OpenApiParameter.HEADER, response=[429], required=True,
                               description="Seconds until the key's per-minute window lets a request through")


def _error(name: str, message: str, code: int) -> OpenApiExample:
    return OpenApiExample(name, value={"error": message}, response_only=True, status_codes=[str(code)])


class OemScanApi(OemApiView):
    required_scopes = {"POST": (Scope.OEM,)}
    rate_class = {"POST": "oem_submit"}
    audit_action = "on_demand_scan"

    @extend_schema(
        tags=[TAG], operation_id="oem_on_demand_scan", summary="Trigger an on-demand scan",
        description="Queue a scan of a domain or an IP range at OEM priority. Needs the oem scope and OEM "
                    "access on the account; takes one OEM credit. 5 requests per minute per key.",
        request=OemScanInput, parameters=[RETRY_AFTER],
        responses={200: OemScanOutput, 400: OemError, 401: OemError, 403: OemError, 422: OemError,
                   429: OemError},
        examples=[
            OpenApiExample("Domain scan", value=DOMAIN_EXAMPLE, request_only=True),
            OpenApiExample("IP range scan", value=RANGE_EXAMPLE, request_only=True),
            OpenApiExample("Single IP address (becomes /32)", value={"type": "ip_range", "target": "8.8.8.8"},
                           request_only=True),
            OpenApiExample("Queued", value=QUEUED_EXAMPLE, response_only=True, status_codes=["200"]),
            _error("Invalid domain", "'invalid-domain' is not a valid domain", 422),
            _error("OEM not enabled", "OEM access is not enabled for this account", 403),
            _error("Credits exhausted", "OEM credits exhausted", 403),
        ],
    )
    def post(self, request: Request) -> Response:
        self.audit["target"] = raw_text(request.data, "target")
        data = self.validate_input(OemScanInput, request.data)
        self.audit["query_tags"] = data.get("query_tags", {})
        engine, options = PLANS[data["type"]]
        scan = scan_create(tenant_id=self.tenant_id, api_key_pk=self.auth.api_key_pk, request=ScanRequest(
            target=data["target"], target_type=TARGET_TYPES[data["type"]], engine=engine, options=options,
            priority="high", surface=SURFACE, consume_oem_credit=True,
            extra={"query_tags": data.get("query_tags", {}), "oem_type": data["type"]},
        ))
        self.audit.update(scan_id=scan.pk, outcome="queued")
        return Response({"response": {
            "status": "success",
            "message": f"On-demand scan request for '{scan.target_value}' has been successfully queued for "
                       "processing",
            "target": scan.target_value,
            "type": data["type"],
            "scan_id": str(scan.pk),
            "timestamp": unix(scan.created_at),
        }})


def scan_info(scan: Scan) -> dict[str, Any]:
    status = STATUSES[scan.status]
    return {"scan_id": str(scan.pk), "target": scan.target_value, "status": status,
            "created_at": unix(scan.created_at),
            "completed_at": unix(scan.completed_at) if status == "scan_completed" else None}


class OemScanStatusApi(OemApiView):
    required_scopes = {"POST": (Scope.OEM,)}
    rate_class = {"POST": "oem_status"}
    audit_action = "scan_status"

    @extend_schema(
        tags=[TAG], operation_id="oem_scan_status", summary="Status of an on-demand scan",
        description="queued, in_progress, scan_completed or failed (a cancelled scan is failed). Takes no "
                    "credit. 10 requests per minute per key.",
        request=OemStatusInput, parameters=[RETRY_AFTER],
        responses={200: OemStatusOutput, 400: OemError, 401: OemError, 403: OemError, 404: OemError,
                   429: OemError},
        examples=[
            OpenApiExample("Status request", request_only=True, value={
                "scan_id": SCAN_ID, "query_tags": {"client_name": "ACMECorp", "tracking_id": "track_123"}}),
            OpenApiExample("Completed", value=STATUS_EXAMPLE, response_only=True, status_codes=["200"]),
            _error("Unknown scan", NOT_FOUND, 404),
        ],
    )
    def post(self, request: Request) -> Response:
        data = self.validate_input(OemStatusInput, request.data)
        self.audit["query_tags"] = data.get("query_tags", {})
        scan = scan_get(tenant_id=self.tenant_id, scan_id=data["scan_id"])
        if scan.surface != SURFACE:
            raise NotFound(NOT_FOUND)
        info = scan_info(scan)
        self.audit.update(scan_id=scan.pk, target=scan.target_value, outcome=info["status"])
        return Response({"response": {"status": "success", "scan_info": info,
                                      "timestamp": unix(timezone.now())}})
