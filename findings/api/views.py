"""Tenant-wide findings API: list across scans, one finding (read and status change), export.
Each view: parse -> selector/service -> render. Another tenant's finding is a 404 with no data."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from findings.api.serializers import (
    FindingExportQuery,
    FindingListQuery,
    FindingPatchInput,
    filters_from,
    finding_detail,
    finding_item,
    page_body,
)
from findings.api.streaming import EXPORT_RESPONSES, JsonErrorsNegotiation, export_response
from findings.selectors import finding_get, finding_list, finding_page, finding_status_history, findings_for_export
from findings.services import StatusChange, finding_status_set
from tenants.api import TenantAPIView
from tenants.scopes import Scope

TAGS = ["findings"]
OBJECT = {200: OpenApiTypes.OBJECT}


class FindingListApi(TenantAPIView):
    required_scopes = {"GET": (Scope.FINDINGS_READ,)}

    @extend_schema(tags=TAGS, responses=OBJECT, operation_id="findings_list", parameters=[FindingListQuery],
                   summary="List the tenant's findings across scans")
    def get(self, request):
        query = self.validate_input(FindingListQuery, request.query_params)
        page = finding_page(tenant_id=self.tenant_id, filters=filters_from(query), page=query["page"],
                            per_page=query["per_page"])
        return Response(page_body(page, [finding_item(finding) for finding in page.items]))


class FindingExportApi(TenantAPIView):
    required_scopes = {"GET": (Scope.FINDINGS_READ,)}
    content_negotiation_class = JsonErrorsNegotiation

    @extend_schema(tags=TAGS, responses=EXPORT_RESPONSES, parameters=[FindingExportQuery],
                   summary="Export the tenant's findings (SARIF 2.1.0, CSV or JSON), streamed")
    def get(self, request):
        query = self.validate_input(FindingExportQuery, request.query_params)
        findings = findings_for_export(finding_list(tenant_id=self.tenant_id, filters=filters_from(query)))
        return export_response(findings, export_format=query["format"], filename="lantern-findings")


class FindingDetailApi(TenantAPIView):
    """PATCH changes the status (findings:write). Allowed: open -> in_progress | resolved | false_positive;
    in_progress -> open | resolved | false_positive; resolved -> open; false_positive -> open. The same status
    again is a no-op (200); any other move is 409. Who (the API key id) and when are recorded."""

    required_scopes = {"GET": (Scope.FINDINGS_READ,), "PATCH": (Scope.FINDINGS_WRITE,)}

    @extend_schema(tags=TAGS, responses=OBJECT, summary="Get a finding with its status history")
    def get(self, request, finding_id):
        finding = finding_get(tenant_id=self.tenant_id, finding_id=finding_id)
        history = finding_status_history(tenant_id=self.tenant_id, finding=finding)
        return Response(finding_detail(finding, history))

    @extend_schema(tags=TAGS, responses=OBJECT, request=FindingPatchInput,
                   summary="Change a finding's status, with a note")
    def patch(self, request, finding_id):
        data = self.validate_input(FindingPatchInput, request.data)
        finding = finding_status_set(tenant_id=self.tenant_id, finding_id=finding_id, actor=self.auth.key_id,
                                     change=StatusChange(status=data["status"], note=data["note"]))
        history = finding_status_history(tenant_id=self.tenant_id, finding=finding)
        return Response(finding_detail(finding, history))
