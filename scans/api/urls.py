from django.urls import path

from scans.api.views import ScanCollectionApi, ScanDetailApi, ScanQuotaApi, ScanResultApi

urlpatterns = [
    path("scans", ScanCollectionApi.as_view(), name="scan-collection"),
    path("scans/quota", ScanQuotaApi.as_view(), name="scan-quota"),
    path("scans/<str:scan_id>", ScanDetailApi.as_view(), name="scan-detail"),
    path("scans/<str:scan_id>/result", ScanResultApi.as_view(), name="scan-result"),
]
