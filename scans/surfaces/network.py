"""Seed 004, the network scanning API: POST /api/v1/scans/start and POST /api/v1/scans/{id}/stop.

The rest of seed 004 is the native API, whose objects are the superset of seeds 003 and 004:
GET /api/v1/scans/{id} (progress_percent, hosts_found, ports_found, started_at, estimated_completion),
GET /api/v1/scans/{id}/result (devices with their ports), GET /api/v1/scans?page=&per_page=&status= and
the WebSocket /ws/scans/{id} ({"event", "data"}: host_found, port_found, scan_complete).

Translation rules (everything else is the services' job):
- `profile` is quick, normal (the default when omitted), deep, stealth or custom; the services compile it
  (scans/profiles.py). The custom fields (ports, timeout_ms, max_concurrent, enable_profiling,
  enable_cve_match) belong to the custom profile only: given with another profile they are a 400, rather
  than being silently ignored.
- `site_id` is stored as Scan.extra["site_id"] and echoed back.
- The answer is 201 {"id", "status", "target", "profile", "started_at", "created_at", "site_id"} with the
  scan as it actually is: a new scan waits for a worker, so status is queued and started_at null until a
  worker starts it (the seed's example shows a scan already running; Lantern queues first).
- Stop answers {"id", "status", "message"}: cancelled at once for a queued scan; a running scan stays
  running (cancel_requested) until its worker has stopped the tool. A finished scan is 409.
- Errors are the native {"error": {"code", "message", "field"?}}: seed 004 shows none and shares its paths
  with the native API.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from config.errors import ValidationFailed
from scans.api.serializers import STATUSES, iso
from scans.models import Scan
from scans.profiles import PROFILE_NAMES
from scans.services import ScanRequest, scan_cancel, scan_create
from tenants.api import TenantAPIView
from tenants.scopes import Scope

TAG = "seed 004: network scanning"
SURFACE = "network"
CUSTOM_FIELDS = ("ports", "timeout_ms", "max_concurrent", "enable_profiling", "enable_cve_match")


class NetworkScanStart(serializers.Serializer):
    target = serializers.CharField(help_text="An IP address, CIDR range or host name")
    profile = serializers.ChoiceField(choices=PROFILE_NAMES, default="normal")
    site_id = serializers.CharField(max_length=200, required=False)
    ports = serializers.ListField(child=serializers.IntegerField(), required=False,
                                  help_text="custom profile: the ports to scan")
    timeout_ms = serializers.IntegerField(required=False, help_text="custom profile: the scan's timeout")
    max_concurrent = serializers.IntegerField(required=False, help_text="custom profile: probes in flight")
    enable_profiling = serializers.BooleanField(required=False,
                                                help_text="custom profile: service/version detection")
    enable_cve_match = serializers.BooleanField(required=False,
                                                help_text="custom profile: match versions to known CVEs")


@extend_schema_field({"type": "string", "enum": list(STATUSES)}, component_name="NetworkScanStatus")
class ScanStatusField(serializers.CharField):
    """queued, running, completed, failed or cancelled."""


class NetworkScanStarted(serializers.Serializer):
    id = serializers.UUIDField()
    status = ScanStatusField()
    target = serializers.CharField()
    profile = serializers.ChoiceField(choices=PROFILE_NAMES)
    started_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    site_id = serializers.CharField(allow_null=True)


class NetworkScanStopped(serializers.Serializer):
    id = serializers.UUIDField()
    status = ScanStatusField()
    message = serializers.CharField()


class NetworkErrorDetail(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    field = serializers.CharField(required=False)
    details = serializers.JSONField(required=False)


class NetworkError(serializers.Serializer):
    error = NetworkErrorDetail()


def started_body(scan: Scan) -> dict[str, Any]:
    return {"id": str(scan.pk), "status": scan.status, "target": scan.target, "profile": scan.profile,
            "started_at": iso(scan.started_at), "created_at": iso(scan.created_at),
            "site_id": scan.extra.get("site_id")}


ERRORS = {400: NetworkError, 401: NetworkError, 403: NetworkError, 429: NetworkError}


class ScanStartApi(TenantAPIView):
    required_scopes = {"POST": (Scope.SCANS_CREATE,)}
    rate_class = {"POST": "scan_create"}

    @extend_schema(
        tags=[TAG], operation_id="network_scan_start", summary="Start a network scan with a profile",
        description="quick: top 100 ports, no profiling, 30 s. normal: top 1000 ports and device "
                    "profiling, 120 s. deep: all 65535 ports, full profiling and CVE match, 600 s. stealth: "
                    "SYN scan at a low rate, 1000 ports, 300 s. custom: the ports and limits given. The scan "
                    "is queued first: status queued and started_at null until a worker starts it.",
        request=NetworkScanStart, responses={201: NetworkScanStarted, **ERRORS, 422: NetworkError},
        examples=[
            OpenApiExample("Normal profile", request_only=True, value={
                "target": "192.168.1.0/24", "profile": "normal", "site_id": "optional-site-uuid"}),
            OpenApiExample("Custom profile", request_only=True, value={
                "target": "10.0.0.0/16", "profile": "custom", "ports": [22, 80, 443, 3389, 8080, 8443],
                "timeout_ms": 5000, "max_concurrent": 20, "enable_profiling": True,
                "enable_cve_match": False}),
            OpenApiExample("Started", response_only=True, status_codes=["201"], value={
                "id": "0b6f1c52-8d4e-4a51-9d1f-3f0f2a6c9e11", "status": "queued", "target": "192.168.1.0/24",
                "profile": "normal", "started_at": None, "created_at": "2026-03-15T10:30:00Z",
                "site_id": "optional-site-uuid"}),
        ],
    )
    def post(self, request: Request) -> Response:
        data = self.validate_input(NetworkScanStart, request.data)
        custom = {name: data[name] for name in CUSTOM_FIELDS if name in data}
        if custom and data["profile"] != "custom":
            raise ValidationFailed(f"{', '.join(custom)} apply only to the custom profile",
                                   field=next(iter(custom)))
        extra = {"site_id": data["site_id"]} if "site_id" in data else {}
        scan = scan_create(tenant_id=self.tenant_id, api_key_pk=self.auth.api_key_pk, request=ScanRequest(
            target=data["target"], profile=data["profile"], options=custom, surface=SURFACE, extra=extra))
        return Response(started_body(scan), status=201)


class ScanStopApi(TenantAPIView):
    required_scopes = {"POST": (Scope.SCANS_CANCEL,)}

    @extend_schema(tags=[TAG], operation_id="network_scan_stop", summary="Stop a scan", request=None,
                   responses={200: NetworkScanStopped, **ERRORS, 404: NetworkError, 409: NetworkError},
                   examples=[OpenApiExample("Stopped", response_only=True, status_codes=["200"], value={
                       "id": "0b6f1c52-8d4e-4a51-9d1f-3f0f2a6c9e11", "status": "cancelled",
                       "message": "Scan cancelled"})])
    def post(self, request: Request, scan_id: str) -> Response:
        scan = scan_cancel(tenant_id=self.tenant_id, scan_id=scan_id)
        message = "Scan cancelled" if scan.status == "cancelled" else "Stop requested; the scan is stopping"
        return Response({"id": str(scan.pk), "status": scan.status, "message": message})
