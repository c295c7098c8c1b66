"""Seed 002, the multi-engine scan API under /scan-api/api/v1/: create, list, get and cancel scans.

Translation rules (everything else is the services' job):
- Fields are camelCase; answers are {"success": true, "data": ...}; errors are
  {"success": false, "error": {"code", "message", "field"?}} with the native status codes and codes.
- `scanType` is the engine (nmap, zap, trivy, nuclei, nikto, sqlmap, wapiti, harvester, sublist3r, and the
  other registered engines) or `sentinel`; the engine validates `options` against its own table (defaults,
  limits, the sqlmap caps) and `targetType` (inferred when omitted) against its target types.
- `config` ("engine-specific configuration overrides") is merged over `options`, key by key, and the
  result is validated as the engine's options: an unknown key in either is a 400 naming it
  (`config.<key>` when it came from config).
- `assetId` must name one of the tenant's registered assets (tenants.assets, verified or not): it is
  stored as Scan.extra["asset_id"]. Another tenant's asset, an unknown one or a malformed id is 422
  asset_not_found (a body field that names nothing, not a missing resource). Whether the target is in
  scope is the services' check, not the link's.
- `callbackUrl` must be https (the SSRF guard also refuses private and metadata addresses); it is stored as
  Scan.extra["callback_url"] and called once when the scan ends.
- List: GET scans?scanType=&status=&page=&limit= answers {"success": true, "data": [...], "pagination":
  {"page", "limit", "total", "pages"}}. scanType defaults to nmap, as the seed's table says; scanType=all
  lists every engine. limit is 1-100 (default 20); status takes Lantern's words (pending = queued).
- Cancel: POST scans/{id}/cancel answers the scan as it now is: cancelled at once when it was queued,
  still running with cancelRequested true while its worker stops the tool. A finished scan is 409.
- Statuses are Lantern's: queued, running, completed, failed, cancelled.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from config.errors import DomainError, NotFound
from config.exception_handler import exception_handler as native_exception_handler
from scans.api.serializers import STATUS_ALIASES, STATUSES, iso
from scans.models import Priority, Scan
from scans.selectors import scan_get, scan_list
from scans.services import ScanRequest, scan_cancel, scan_create
from tenants.api import TenantAPIView
from tenants.assets.selectors import asset_get
from tenants.scopes import Scope
from webhooks.services import webhook_url_validate

logger = logging.getLogger(__name__)

TAG = "seed 002: multi-engine scan API"
SURFACE = "multiengine"
TARGET_TYPES = ("host", "url", "domain", "ip", "network", "image")
FIELD_NAMES = {"engine": "scanType", "target_type": "targetType", "timeout_s": "timeout"}
ALL_ENGINES = "all"
MAX_PAGE = 1_000_000  # keeps (page - 1) * limit inside PostgreSQL's OFFSET range


class AssetNotFound(DomainError):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    code = "asset_not_found"


class MultiEngineScanCreate(serializers.Serializer):
    target = serializers.CharField(help_text="Scan target (URL, host, domain, IP, or CIDR)")
    scanType = serializers.CharField(max_length=32, help_text="Scan engine, or sentinel")
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    targetType = serializers.ChoiceField(choices=TARGET_TYPES, required=False,
                                         help_text="Inferred from the target when omitted")
    priority = serializers.ChoiceField(choices=[p.label for p in Priority], default="normal")
    options = serializers.DictField(required=False, help_text="Engine-specific scan options")
    config = serializers.DictField(required=False, help_text="Overrides merged over options")
    tags = serializers.ListField(child=serializers.CharField(max_length=64), required=False, max_length=32)
    timeout = serializers.IntegerField(required=False, help_text="Max scan duration in seconds")
    assetId = serializers.CharField(max_length=200, required=False,
                                    help_text="A registered asset (GET /api/v1/assets) to link the scan to")
    callbackUrl = serializers.CharField(max_length=2048, required=False,
                                        help_text="HTTPS URL for a one-off completion callback")


class MultiEngineScanListQuery(serializers.Serializer):
    scanType = serializers.CharField(max_length=32, default="nmap",
                                     help_text="Filter by scan engine (default nmap; all for every engine)")
    status = serializers.ChoiceField(choices=[*STATUSES, *STATUS_ALIASES], required=False)
    page = serializers.IntegerField(min_value=1, max_value=MAX_PAGE, default=1)
    limit = serializers.IntegerField(min_value=1, max_value=100, default=20)


@extend_schema_field({"type": "string", "enum": list(STATUSES)}, component_name="MultiEngineScanStatus")
class ScanStatusField(serializers.CharField):
    """queued, running, completed, failed or cancelled."""


class MultiEngineScan(serializers.Serializer):
    id = serializers.UUIDField()
    scanType = serializers.CharField(allow_null=True)
    name = serializers.CharField(allow_blank=True)
    target = serializers.CharField()
    status = ScanStatusField()
    priority = serializers.ChoiceField(choices=[p.label for p in Priority])
    progress = serializers.IntegerField()
    tags = serializers.ListField(child=serializers.CharField())
    createdAt = serializers.DateTimeField()


class MultiEngineScanDetail(MultiEngineScan):
    targetType = serializers.CharField()
    options = serializers.DictField()
    phase = serializers.CharField(allow_null=True)
    currentTool = serializers.CharField(allow_null=True)
    timeout = serializers.IntegerField()
    cancelRequested = serializers.BooleanField()
    startedAt = serializers.DateTimeField(allow_null=True)
    completedAt = serializers.DateTimeField(allow_null=True)
    error = serializers.CharField(allow_null=True)


class MultiEngineScanEnvelope(serializers.Serializer):
    success = serializers.BooleanField()
    data = MultiEngineScan()


class MultiEngineScanDetailEnvelope(serializers.Serializer):
    success = serializers.BooleanField()
    data = MultiEngineScanDetail()


class MultiEnginePagination(serializers.Serializer):
    page = serializers.IntegerField()
    limit = serializers.IntegerField()
    total = serializers.IntegerField()
    pages = serializers.IntegerField()


class MultiEngineScanListEnvelope(serializers.Serializer):
    success = serializers.BooleanField()
    data = MultiEngineScan(many=True)
    pagination = MultiEnginePagination()


class MultiEngineErrorDetail(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    field = serializers.CharField(required=False)


class MultiEngineError(serializers.Serializer):
    success = serializers.BooleanField()
    error = MultiEngineErrorDetail()


def camel_field(name: str, config: dict[str, Any]) -> str:
    """A service's field name in this API's words: engine → scanType, options.x → config.x when x came
    from config."""
    head, _, rest = name.partition(".")
    if head == "options" and rest.split("[")[0] in config:
        return f"config.{rest}"
    return FIELD_NAMES.get(head, head) + (f".{rest}" if rest else "")


def multiengine_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """The native handler decides status, code and headers; this wraps its body in the seed's envelope.
    An unexpected exception is a 500 in the same envelope."""
    response = native_exception_handler(exc, context)
    if response is None:
        logger.exception("multi-engine API request failed", exc_info=exc)
        response = Response({"error": {"code": "server_error", "message": "Internal server error."}},
                            status=500)
    native = response.data["error"]
    error = {"code": native["code"], "message": native["message"]}
    if native.get("field"):
        error["field"] = camel_field(native["field"], getattr(context.get("view"), "config_keys", {}))
    response.data = {"success": False, "error": error}
    return response


def scan_data(scan: Scan) -> dict[str, Any]:
    return {"id": str(scan.pk), "scanType": scan.engine or None, "name": scan.name, "target": scan.target,
            "status": scan.status, "priority": scan.get_priority_display(), "progress": scan.progress,
            "tags": scan.tags, "createdAt": iso(scan.created_at)}


def scan_detail_data(scan: Scan) -> dict[str, Any]:
    return {**scan_data(scan), "targetType": scan.target_type, "options": scan.options,
            "phase": scan.phase or None, "currentTool": scan.current_tool or None, "timeout": scan.timeout_s,
            "cancelRequested": scan.cancel_requested, "startedAt": iso(scan.started_at),
            "completedAt": iso(scan.completed_at), "error": scan.error_reason or None}


class MultiEngineApiView(TenantAPIView):
    config_keys: dict[str, Any] = {}

    def get_exception_handler(self) -> Callable[[Exception, dict[str, Any]], Response]:
        return multiengine_exception_handler


ERRORS = {400: MultiEngineError, 401: MultiEngineError, 403: MultiEngineError, 429: MultiEngineError}
CREATE_EXAMPLE = {"target": "example.com", "scanType": "nmap", "name": "Weekly network audit",
                  "targetType": "domain", "priority": "normal",
                  "options": {"ports": "1-1024", "timing": "T3"}, "tags": ["production", "weekly"],
                  "timeout": 3600}
CREATED_EXAMPLE = {"success": True, "data": {
    "id": "a1b2c3d4-e5f6-7890-abcd-ef1234567890", "scanType": "nmap", "name": "Weekly network audit",
    "target": "example.com", "status": "queued", "priority": "normal", "progress": 0,
    "tags": ["production", "weekly"], "createdAt": "2026-03-06T10:00:00Z"}}
ENGINE_EXAMPLES = [
    ("Nmap", {"target": "192.168.1.0/24", "scanType": "nmap", "options": {
        "ports": "1-65535", "timing": "T4", "serviceDetection": True, "osDetection": True, "scriptScan": True,
        "scripts": ["vuln", "safe"]}}),
    ("ZAP", {"target": "https://app.example.com", "scanType": "zap", "options": {
        "scanPolicy": "full", "spiderMaxDepth": 5, "ajaxSpider": True, "activeScan": True,
        "contextInclude": ["https://app.example.com/.*"],
        "contextExclude": ["https://app.example.com/logout"]}}),
    ("Trivy", {"target": "registry.example.com/myapp:latest", "scanType": "trivy", "options": {
        "scanners": ["vuln", "misconfig", "secret"], "severity": ["CRITICAL", "HIGH"],
        "ignoreUnfixed": True}}),
    ("Nuclei", {"target": "https://api.example.com", "scanType": "nuclei", "options": {
        "templates": ["cves", "vulnerabilities", "misconfigurations"],
        "severity": ["critical", "high", "medium"], "concurrency": 25, "rateLimit": 150}}),
    ("Nikto", {"target": "https://www.example.com", "scanType": "nikto",
               "options": {"tuning": "1234", "maxTime": "600s", "ssl": True}}),
    ("SQLMap", {"target": "https://app.example.com/search?q=test", "scanType": "sqlmap", "options": {
        "level": 3, "risk": 2, "technique": "BEUSTQ", "dbs": True, "batch": True}}),
    ("Wapiti", {"target": "https://app.example.com", "scanType": "wapiti", "options": {
        "modules": ["xss", "sql", "exec", "file", "crlf"], "scope": "domain", "maxDepth": 5}}),
    ("theHarvester", {"target": "example.com", "scanType": "harvester", "options": {
        "sources": ["google", "bing", "linkedin", "shodan", "crtsh"], "limit": 500, "dnsLookup": True}}),
    ("Sublist3r", {"target": "example.com", "scanType": "sublist3r", "options": {
        "engines": ["google", "bing", "yahoo", "virustotal", "dnsdumpster"], "bruteforce": True,
        "ports": "80,443,8080,8443", "threads": 30}}),
    ("Sentinel", {"target": "example.com", "scanType": "sentinel", "priority": "high", "options": {
        "depth": "standard", "engines": ["nmap", "nuclei", "harvester", "sublist3r"], "correlate": True,
        "riskScore": True}}),
]


class MultiEngineScanCollectionApi(MultiEngineApiView):
    required_scopes = {"GET": (Scope.SCANS_LIST,), "POST": (Scope.SCANS_CREATE,)}
    rate_class = {"POST": "scan_create"}

    @extend_schema(
        tags=[TAG], operation_id="multiengine_scan_create", summary="Create a scan",
        request=MultiEngineScanCreate,
        responses={201: MultiEngineScanEnvelope, **ERRORS, 409: MultiEngineError, 422: MultiEngineError},
        examples=[OpenApiExample("Create a scan", value=CREATE_EXAMPLE, request_only=True),
                  *[OpenApiExample(name, value=body, request_only=True) for name, body in ENGINE_EXAMPLES],
                  OpenApiExample("Created", value=CREATED_EXAMPLE, response_only=True, status_codes=["201"]),
                  OpenApiExample("Unknown asset", response_only=True, status_codes=["422"], value={
                      "success": False, "error": {"code": "asset_not_found", "message": "asset not found"}})],
    )
    def post(self, request: Request) -> Response:
        data = self.validate_input(MultiEngineScanCreate, request.data)
        self.config_keys = data.get("config", {})
        extra: dict[str, Any] = {}
        if "assetId" in data:
            try:
                extra["asset_id"] = str(asset_get(tenant_id=self.tenant_id, asset_id=data["assetId"]).uuid)
            except NotFound:
                raise AssetNotFound(f"asset not found: {data['assetId'][:80]!r} is not one of your "
                                    "registered assets", field="assetId") from None
        if "callbackUrl" in data:
            extra["callback_url"] = webhook_url_validate(data["callbackUrl"], https_only=True,
                                                         field="callbackUrl")
        scan = scan_create(tenant_id=self.tenant_id, api_key_pk=self.auth.api_key_pk, request=ScanRequest(
            target=data["target"], target_type=data.get("targetType"), engine=data["scanType"],
            options={**data.get("options", {}), **self.config_keys}, priority=data["priority"],
            name=data.get("name", ""), tags=tuple(data.get("tags", ())), timeout_s=data.get("timeout"),
            surface=SURFACE, extra=extra,
        ))
        return Response({"success": True, "data": scan_data(scan)}, status=201)

    @extend_schema(tags=[TAG], operation_id="multiengine_scan_list", summary="List scans",
                   parameters=[MultiEngineScanListQuery],
                   responses={200: MultiEngineScanListEnvelope, **ERRORS})
    def get(self, request: Request) -> Response:
        query = self.validate_input(MultiEngineScanListQuery, request.query_params)
        engine = None if query["scanType"] == ALL_ENGINES else query["scanType"]
        status_filter = STATUS_ALIASES.get(query.get("status", ""), query.get("status"))
        scans = scan_list(tenant_id=self.tenant_id, status=status_filter, engine=engine)
        total = scans.count()
        page, limit = query["page"], query["limit"]
        items = scans[(page - 1) * limit: page * limit]
        return Response({"success": True, "data": [scan_data(scan) for scan in items],
                         "pagination": {"page": page, "limit": limit, "total": total,
                                        "pages": math.ceil(total / limit)}})


class MultiEngineScanDetailApi(MultiEngineApiView):
    required_scopes = {"GET": (Scope.SCANS_READ,)}

    @extend_schema(tags=[TAG], operation_id="multiengine_scan_get", summary="Get a scan",
                   responses={200: MultiEngineScanDetailEnvelope, **ERRORS, 404: MultiEngineError})
    def get(self, request: Request, scan_id: str) -> Response:
        return Response({"success": True, "data": scan_detail_data(scan_get(tenant_id=self.tenant_id,
                                                                            scan_id=scan_id))})


class MultiEngineScanCancelApi(MultiEngineApiView):
    required_scopes = {"POST": (Scope.SCANS_CANCEL,)}

    @extend_schema(tags=[TAG], operation_id="multiengine_scan_cancel",
                   summary="Cancel a running or queued scan", request=None,
                   responses={200: MultiEngineScanDetailEnvelope, **ERRORS, 404: MultiEngineError,
                              409: MultiEngineError})
    def post(self, request: Request, scan_id: str) -> Response:
        scan = scan_cancel(tenant_id=self.tenant_id, scan_id=scan_id)
        return Response({"success": True, "data": scan_detail_data(scan)})
