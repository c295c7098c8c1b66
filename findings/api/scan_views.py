"""Findings-side views of one scan: its findings, compliance report, export, diff and entities. The scan is
resolved by scans.selectors.scan_get, so another tenant's scan is a 404 with no data."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from findings.api.serializers import (
    ComplianceQuery,
    DiffQuery,
    ScanExportQuery,
    ScanFindingsQuery,
    finding_summary,
    iso,
    occurrence_items,
    page_body,
)
from findings.api.streaming import EXPORT_RESPONSES, JsonErrorsNegotiation, export_response
from findings.compliance.selectors import scan_compliance
from findings.diff.selectors import ScanDiff, scan_diff
from findings.entities.selectors import scan_entities
from findings.selectors import findings_for_export, page_of, scan_findings, scan_occurrence_list
from scans.selectors import scan_get
from tenants.api import TenantAPIView
from tenants.scopes import Scope

TAGS = ["findings"]
OBJECT = {200: OpenApiTypes.OBJECT}


class ScanFindingsApi(TenantAPIView):
    required_scopes = {"GET": (Scope.FINDINGS_READ,)}

    @extend_schema(tags=TAGS, responses=OBJECT, parameters=[ScanFindingsQuery],
                   summary="A scan's findings (seed 003)")
    def get(self, request, scan_id):
        query = self.validate_input(ScanFindingsQuery, request.query_params)
        scan = scan_get(tenant_id=self.tenant_id, scan_id=scan_id)
        occurrences = scan_occurrence_list(tenant_id=self.tenant_id, scan=scan, severity=query.get("severity"),
                                           status=query.get("status"))
        page = page_of(occurrences, page=query["page"], per_page=query["per_page"])
        return Response(page_body(page, occurrence_items(page.items)))


class ScanComplianceApi(TenantAPIView):
    required_scopes = {"GET": (Scope.FINDINGS_READ,)}

    @extend_schema(tags=TAGS, responses=OBJECT, parameters=[ComplianceQuery],
                   summary="A scan's compliance report: per control pass, fail or not_assessed")
    def get(self, request, scan_id):
        query = self.validate_input(ComplianceQuery, request.query_params)
        scan = scan_get(tenant_id=self.tenant_id, scan_id=scan_id)
        return Response(scan_compliance(tenant_id=self.tenant_id, scan=scan, framework=query["framework"]))


class ScanExportApi(TenantAPIView):
    required_scopes = {"GET": (Scope.FINDINGS_READ,)}
    content_negotiation_class = JsonErrorsNegotiation

    @extend_schema(tags=TAGS, responses=EXPORT_RESPONSES, parameters=[ScanExportQuery],
                   summary="Export a scan's findings (SARIF 2.1.0, CSV or JSON), streamed")
    def get(self, request, scan_id):
        query = self.validate_input(ScanExportQuery, request.query_params)
        scan = scan_get(tenant_id=self.tenant_id, scan_id=scan_id)
        findings = findings_for_export(scan_findings(tenant_id=self.tenant_id, scan=scan,
                                                     severity=query.get("severity"), status=query.get("status")))
        return export_response(findings, export_format=query["format"], filename=f"lantern-scan-{scan.pk}")


def _port(port: Any) -> dict[str, Any]:
    return {"host": port.host, "port": port.port, "protocol": port.protocol, "service": port.service or None}


def diff_body(diff: ScanDiff) -> dict[str, Any]:
    groups = {"new": diff.new, "reopened": diff.reopened, "unchanged": diff.unchanged, "fixed": diff.fixed}
    against = diff.against
    return {
        "scan_id": str(diff.scan.pk),
        "against": {"id": str(against.pk), "created_at": iso(against.created_at),
                    "completed_at": iso(against.completed_at)} if against else None,
        "counts": {name: len(items) for name, items in groups.items()}
        | {"ports_opened": len(diff.ports_opened), "ports_closed": len(diff.ports_closed)},
        "findings": {name: [finding_summary(f) for f in items] for name, items in groups.items()},
        "ports": {"opened": [_port(p) for p in diff.ports_opened], "closed": [_port(p) for p in diff.ports_closed]},
    }


class ScanDiffApi(TenantAPIView):
    required_scopes = {"GET": (Scope.FINDINGS_READ,)}

    @extend_schema(tags=TAGS, responses=OBJECT, parameters=[DiffQuery],
                   summary="What changed since the previous comparable scan (or ?against=<scan id>)")
    def get(self, request, scan_id):
        query = self.validate_input(DiffQuery, request.query_params)
        scan = scan_get(tenant_id=self.tenant_id, scan_id=scan_id)
        return Response(diff_body(scan_diff(tenant_id=self.tenant_id, scan=scan, against=query.get("against"))))


class ScanEntitiesApi(TenantAPIView):
    required_scopes = {"GET": (Scope.SCANS_READ,)}

    @extend_schema(tags=TAGS, responses=OBJECT,
                   summary="A scan's results as entities and associations (seed 001)")
    def get(self, request, scan_id):
        scan = scan_get(tenant_id=self.tenant_id, scan_id=scan_id)
        return Response(scan_entities(tenant_id=self.tenant_id, scan=scan))
