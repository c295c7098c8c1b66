"""Seed 001, the ingest scan endpoint: POST /api/ingest/v1/scan.

Translation rules (everything else is the services' job):
- Credentials: `Authorization: Bearer <key>` or the `api-key` + `api-secret` pair (X-API-Key works too);
  the key's role must be reporter or admin (403 otherwise). The gateway headers `user-id` and `groups`
  are never read: the tenant and the role come from the key alone.
- `target` must be an IP address or a host name (inferred as ip, domain or host); a CIDR range, a URL or
  an image is 400. The scan is what "About Scans" lists, compiled as one nmap step: the top 1000 TCP ports,
  service detection (-sV) and the ssl-cert and banner NSE scripts (certificates and banners).
- A new task answers 202 {"id", "status": "new"}. The same target again, while its task is queued or
  running or within LANTERN_REPEAT_WINDOW_S of completing, answers 200 with that task and its status:
  queued, running or done (= completed). A failed or cancelled task is never returned for a repeat: the
  repeat creates a new task (202, new). The webhook of a repeat is not stored (the existing task keeps its
  own).
- `webhook` {url, headers[{key, value}]}: the URL passes the SSRF guard and the headers the webhooks app's
  checks (webhooks.services); stored as Scan.extra["webhook"], called once when the scan ends.
- Results: GET /api/v1/scans/{id}/entities returns them as entities (port, service, certificate, banner)
  and associations.
- Every non-2xx answer carries `x-error` (the message, one ASCII line) and `x-error-id` (also in the body
  and the server log, for support), with the body {"error": {"code", "message", "field"?, "id"}}. The seed
  lists no 422, so refused targets and webhook URLs are 400 here.
- Every request with a valid key is written to the tenant's audit log, refusals included.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from config.errors import ValidationFailed
from config.exception_handler import exception_handler as native_exception_handler
from scans.services import ScanRequest, scan_submit
from scans.surfaces.audit import AuditedApiView, raw_text
from scans.targets import infer_type
from tenants.auth import AuthContext
from tenants.permissions import HasScopes
from tenants.scopes import Role, Scope
from webhooks.services import webhook_headers_validate, webhook_url_validate

logger = logging.getLogger(__name__)

TAG = "seed 001: ingest scan"
SURFACE = "ingest"
ROLES = (Role.REPORTER, Role.ADMIN)
TARGET_TYPES = ("ip", "domain", "host")
NMAP_OPTIONS = {"topPorts": 1000, "serviceDetection": True, "scriptScan": True,
                "scripts": ["ssl-cert", "banner"]}
STATUSES = {"queued": "queued", "running": "running", "completed": "done", "failed": "failed",
            "cancelled": "cancelled"}
MAX_HEADER_TEXT = 500


class ReporterRole(BasePermission):
    message = "This endpoint requires the reporter role"

    def has_permission(self, request: Request, view: Any) -> bool:
        if not isinstance(request.auth, AuthContext):
            raise NotAuthenticated("Authentication credentials were not provided.")
        return request.auth.role in ROLES


class IngestWebhookHeader(serializers.Serializer):
    key = serializers.CharField(trim_whitespace=False)
    value = serializers.CharField(allow_blank=True, trim_whitespace=False)


class IngestWebhook(serializers.Serializer):
    url = serializers.CharField(help_text="URL to call when the scan is complete")
    headers = IngestWebhookHeader(many=True, required=False,
                                  help_text="Headers to send with the webhook request")


class IngestScanInput(serializers.Serializer):
    target = serializers.CharField(help_text="The IP address or hostname (FQDN) to scan")
    webhook = IngestWebhook(required=False, help_text="Optional webhook for the scan's completion")


class IngestTask(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=["new", *dict.fromkeys(STATUSES.values())])


class IngestErrorDetail(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    field = serializers.CharField(required=False)
    details = serializers.JSONField(required=False)
    id = serializers.CharField(help_text="The same identifier as the x-error-id header")


class IngestError(serializers.Serializer):
    error = IngestErrorDetail()


def header_text(message: str) -> str:
    """The message as a header value: one line, ASCII (non-ASCII escaped), bounded."""
    line = " ".join(message.split())
    line = "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in line.encode("ascii", "backslashreplace")
                   .decode("ascii"))
    return line[:MAX_HEADER_TEXT]


def ingest_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """The native handler decides status and body; this adds the error id and the x-error headers, and
    answers 400 where the native API says 422. An unexpected exception is a 500 with the same headers."""
    response = native_exception_handler(exc, context)
    if response is None:
        logger.exception("ingest request failed", exc_info=exc)
        response = Response({"error": {"code": "server_error", "message": "Internal server error."}},
                            status=500)
    if response.status_code == 422:
        response.status_code = 400
    error_id = uuid.uuid4().hex
    error = {**response.data["error"], "id": error_id}
    response.data = {"error": error}
    response["x-error"] = header_text(error["message"])
    response["x-error-id"] = error_id
    logger.info("ingest error %s: %s %s", error_id, response.status_code, error["message"])
    return response


EXAMPLE_BODY = {"target": "203.0.113.1", "webhook": {
    "url": "https://your-webhook-url.com/callback",
    "headers": [{"key": "Authorization", "value": "Bearer your-token"}]}}
ERROR_HEADERS = [
    OpenApiParameter("x-error", str, OpenApiParameter.HEADER, response=[400, 401, 403, 429], required=True,
                     description="A description of the error"),
    OpenApiParameter("x-error-id", str, OpenApiParameter.HEADER, response=[400, 401, 403, 429], required=True,
                     description="A unique identifier of the error, for support"),
]


class IngestScanApi(AuditedApiView):
    permission_classes = [ReporterRole, HasScopes]
    required_scopes = {"POST": (Scope.SCANS_CREATE,)}
    rate_class = {"POST": "scan_create"}
    audit_surface = SURFACE
    audit_action = "scan"

    def get_exception_handler(self) -> Callable[[Exception, dict[str, Any]], Response]:
        return ingest_exception_handler

    @extend_schema(
        tags=[TAG], operation_id="ingest_scan", summary="Schedule a scan of an IP address or hostname",
        description="Port scan (top 1000 TCP ports), service detection and TLS certificate and banner "
                    "collection. 202 with status new for a new task; 200 with the existing task (queued, "
                    "running or done) for a target already queued, running or recently done. Needs the "
                    "reporter role. Results: GET /api/v1/scans/{id}/entities (entities and associations).",
        request=IngestScanInput, parameters=ERROR_HEADERS,
        responses={202: IngestTask, 200: IngestTask, 400: IngestError, 401: IngestError, 403: IngestError,
                   429: IngestError},
        examples=[
            OpenApiExample("Scan with a webhook", value=EXAMPLE_BODY, request_only=True),
            OpenApiExample("New task", value={"id": "a1b2c3d4-e5f6-7890-abcd-ef1234567890", "status": "new"},
                           response_only=True, status_codes=["202"]),
            OpenApiExample("Existing task", response_only=True, status_codes=["200"],
                           value={"id": "a1b2c3d4-e5f6-7890-abcd-ef1234567890", "status": "running"}),
        ],
    )
    def post(self, request: Request) -> Response:
        self.audit["target"] = raw_text(request.data, "target")
        data = self.validate_input(IngestScanInput, request.data)
        target_type = infer_type(data["target"].strip())
        if target_type not in TARGET_TYPES:
            raise ValidationFailed("target must be an IP address or a hostname (FQDN)", field="target")
        extra: dict[str, Any] = {}
        if "webhook" in data:
            webhook = data["webhook"]
            extra["webhook"] = {
                "url": webhook_url_validate(webhook["url"], field="webhook.url"),
                "headers": webhook_headers_validate(webhook.get("headers", []), field="webhook.headers"),
            }
        submitted = scan_submit(tenant_id=self.tenant_id, api_key_pk=self.auth.api_key_pk, reuse_recent=True,
                                request=ScanRequest(target=data["target"], target_type=target_type,
                                                    engine="nmap", options=NMAP_OPTIONS, surface=SURFACE,
                                                    extra=extra))
        scan = submitted.scan
        status = "new" if submitted.created else STATUSES[scan.status]
        self.audit.update(scan_id=scan.pk, outcome=status)
        return Response({"id": str(scan.pk), "status": status}, status=202 if submitted.created else 200)
