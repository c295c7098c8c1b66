from django.urls import path

from scans.api.views import ScanCollectionApi, ScanDetailApi, ScanQuotaApi, ScanResultApi

from scans.api.schedule_views import (ScheduleCollectionApi, ScheduleDetailApi, SchedulePauseApi,
                                      ScheduleResumeApi)

from scans.api.engine_views import EngineListApi
from scans.api.import_views import ScanImportApi

urlpatterns = [
    path("engines", EngineListApi.as_view(), name="engine-list"),
    path("scans", ScanCollectionApi.as_view(), name="scan-collection"),
    path("scans/quota", ScanQuotaApi.as_view(), name="scan-quota"),
    path("scans/import", ScanImportApi.as_view(), name="scan-import"),
    path("scans/schedules", ScheduleCollectionApi.as_view(), name="schedule-collection"),
    path("scans/schedules/<str:schedule_id>", ScheduleDetailApi.as_view(), name="schedule-detail"),
    path("scans/schedules/<str:schedule_id>/pause", SchedulePauseApi.as_view(), name="schedule-pause"),
    path("scans/schedules/<str:schedule_id>/resume", ScheduleResumeApi.as_view(), name="schedule-resume"),
    path("scans/<str:scan_id>", ScanDetailApi.as_view(), name="scan-detail"),
    path("scans/<str:scan_id>/result", ScanResultApi.as_view(), name="scan-result"),
]
