"""Routes of the seed surfaces, with their full paths: config/urls.py includes this at the root, BEFORE the
native `api/v1/` include, because the native `scans/<scan_id>` would otherwise read seed 004's
`scans/start` as a scan id."""

from django.urls import path

from scans.surfaces import ingest, multiengine, network, oem

urlpatterns = [
    path("api/v1/oem/on-demand-scan", oem.OemScanApi.as_view(), name="oem-on-demand-scan"),
    path("api/v1/oem/on-demand-scan/scan-status", oem.OemScanStatusApi.as_view(), name="oem-scan-status"),
    path("api/ingest/v1/scan", ingest.IngestScanApi.as_view(), name="ingest-scan"),
    path("scan-api/api/v1/scans", multiengine.MultiEngineScanCollectionApi.as_view(),
         name="multiengine-scans"),
    path("scan-api/api/v1/scans/<str:scan_id>", multiengine.MultiEngineScanDetailApi.as_view(),
         name="multiengine-scan"),
    path("scan-api/api/v1/scans/<str:scan_id>/cancel", multiengine.MultiEngineScanCancelApi.as_view(),
         name="multiengine-scan-cancel"),
    path("api/v1/scans/start", network.ScanStartApi.as_view(), name="network-scan-start"),
    path("api/v1/scans/<str:scan_id>/stop", network.ScanStopApi.as_view(), name="network-scan-stop"),
]
