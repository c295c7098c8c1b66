"""Findings API routes, included under /api/v1/ (config/urls.py). `findings/export` precedes
`findings/<id>` so that the word export is never read as an id."""

from django.urls import path

from findings.api.scan_views import (
                                     ScanComplianceApi,
                                     ScanDiffApi,
                                     ScanEntitiesApi,
                                     ScanExportApi,
                                     ScanFindingsApi,
)
from findings.api.views import FindingDetailApi, FindingExportApi, FindingListApi

urlpatterns = [
    path("findings", FindingListApi.as_view(), name="finding-list"),
    path("findings/export", FindingExportApi.as_view(), name="finding-export"),
    path("findings/<str:finding_id>", FindingDetailApi.as_view(), name="finding-detail"),
    path("scans/<str:scan_id>/findings", ScanFindingsApi.as_view(), name="scan-findings"),
    path("scans/<str:scan_id>/compliance", ScanComplianceApi.as_view(), name="scan-compliance"),
    path("scans/<str:scan_id>/export", ScanExportApi.as_view(), name="scan-export"),
    path("scans/<str:scan_id>/diff", ScanDiffApi.as_view(), name="scan-diff"),
    path("scans/<str:scan_id>/entities", ScanEntitiesApi.as_view(), name="scan-entities"),
]
