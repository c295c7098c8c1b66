"""Native scan API (seed 003's paths). Each view: parse → service/selector → render."""

from __future__ import annotations

import math

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from config.errors import ValidationFailed
from findings.selectors import scan_risk
from scans.api.schema import (ERRORS, SCAN_ID, CancelOut, QuotaOut, ResultOut, ScanDetailOut, ScanListOut)
from scans.api.serializers import (ScanCreateInput, ScanListQuery, iso, scan_detail, scan_result,
                                   scan_summary)
from scans.quota import quota_get
from scans.selectors import (scan_certificates, scan_devices, scan_estimated_duration, scan_get, scan_list)
from scans.services import ScanRequest, scan_cancel, scan_submit
from tenants.api import TenantAPIView
from tenants.scopes import Scope

TAGS = ["scans (native, seed 003)"]


class ScanCollectionApi(TenantAPIView):
    required_scopes = {"GET": (Scope.SCANS_LIST,), "POST": (Scope.SCANS_CREATE,)}
    rate_class = {"POST": "scan_create"}

    @extend_schema(tags=TAGS, parameters=[ScanListQuery], summary="List scans", operation_id="scans_list",
                   responses={200: ScanListOut, **ERRORS})
    def get(self, request):
        query = self.validate_input(ScanListQuery, request.query_params)
        scans = scan_list(tenant_id=self.tenant_id, status=query.get("status"), target=query.get("target"),
                          created_from=query.get("from_date"), created_to=query.get("to_date"))
        total = scans.count()
        page, per_page = query["page"], query["per_page"]
        items = scans[(page - 1) * per_page : page * per_page]
        return Response({"items": [scan_summary(scan) for scan in items], "total": total, "page": page,
                         "per_page": per_page, "pages": math.ceil(total / per_page) if total else 0})

    @extend_schema(tags=TAGS, request=ScanCreateInput, summary="Create a scan", operation_id="scans_create",
                   parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False)],
                   responses={201: ScanDetailOut, 200: ScanDetailOut, **ERRORS})
    def post(self, request):
        data = self.validate_input(ScanCreateInput, request.data)
        key = request.headers.get("Idempotency-Key", "").strip()
        if len(key) > 200:
            raise ValidationFailed("Idempotency-Key must be at most 200 characters", field="Idempotency-Key")
        submitted = scan_submit(tenant_id=self.tenant_id, api_key_pk=self.auth.api_key_pk, idempotency_key=key,
                                request=ScanRequest(
            target=data["target"], target_type=data.get("target_type"), engine=data.get("engine", ""),
            options=data.get("options"), scan_type=data.get("scan_type", ""), ports=data.get("ports"),
            priority=data["priority"], name=data.get("name", ""), tags=tuple(data.get("tags", ())),
            timeout_s=data.get("timeout"), extra={"frameworks": data.get("frameworks", [])},
        ))
        scan = scan_get(tenant_id=self.tenant_id, scan_id=submitted.scan.pk)
        body = scan_detail(scan)
        body["estimated_duration"] = scan_estimated_duration(scan=scan)
        return Response(body, status=201 if submitted.created else 200)


class ScanQuotaApi(TenantAPIView):
    required_scopes = {"GET": (Scope.SCANS_READ,)}

    @extend_schema(tags=TAGS, summary="Monthly scan quota", operation_id="scans_quota",
                   responses={200: QuotaOut, **ERRORS})
    def get(self, request):
        quota = quota_get(tenant_id=self.tenant_id)
        return Response({"plan": quota.plan, "monthly_limit": quota.monthly_limit,
                         "used_this_month": quota.used_this_month, "remaining": quota.remaining,
                         "resets_at": iso(quota.resets_at)})


class ScanDetailApi(TenantAPIView):
    required_scopes = {"GET": (Scope.SCANS_READ,), "DELETE": (Scope.SCANS_CANCEL,)}

    @extend_schema(tags=TAGS, summary="Get a scan", operation_id="scans_retrieve", parameters=[SCAN_ID],
                   responses={200: ScanDetailOut, **ERRORS})
    def get(self, request, scan_id):
        scan = scan_get(tenant_id=self.tenant_id, scan_id=scan_id)
        body = scan_detail(scan)
        risk = scan_risk(tenant_id=self.tenant_id, scan=scan)
        body["risk_score"], body["risk"] = risk.score, risk.as_dict()
        return Response(body)

    @extend_schema(tags=TAGS, summary="Cancel a scan", operation_id="scans_cancel", parameters=[SCAN_ID],
                   responses={200: CancelOut, **ERRORS})
    def delete(self, request, scan_id):
        scan = scan_cancel(tenant_id=self.tenant_id, scan_id=scan_id)
        message = "Scan cancelled successfully" if scan.status == "cancelled" else "Cancellation requested"
        return Response({"id": str(scan.pk), "status": "cancelled", "message": message})


class ScanResultApi(TenantAPIView):
    required_scopes = {"GET": (Scope.SCANS_READ,)}

    @extend_schema(tags=TAGS, summary="Hosts, ports and certificates of a scan (seed 004 devices)",
                   operation_id="scans_result", parameters=[SCAN_ID], responses={200: ResultOut, **ERRORS})
    def get(self, request, scan_id):
        scan = scan_get(tenant_id=self.tenant_id, scan_id=scan_id)
        return Response(scan_result(scan, scan_devices(tenant_id=self.tenant_id, scan=scan),
                                    scan_certificates(tenant_id=self.tenant_id, scan=scan)))
