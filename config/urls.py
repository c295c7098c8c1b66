from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from tenants.api_views import WsTokenApi
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from config.metrics_view import metrics

urlpatterns = [
    path("", RedirectView.as_view(url="/console/", permanent=False)),
    path("console/", include("scans.console.urls")),
    path("metrics", metrics, name="metrics"),
    path("admin/", admin.site.urls),
    # The seed surfaces first: the native `scans/<scan_id>` would read seed 004's `scans/start` as an id.
    path("", include("scans.surfaces.urls")),
    path("api/v1/", include("scans.api.urls")),
    path("api/v1/", include("findings.api.urls")),
    path("api/v1/", include("webhooks.api.urls")),
    path("api/v1/", include("tenants.assets.urls")),
    path("api/v1/ws-token", WsTokenApi.as_view(), name="ws-token"),
    path("api/schema/", SpectacularAPIView.as_view(authentication_classes=[], permission_classes=[]),
         name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema", authentication_classes=[],
                                                     permission_classes=[]), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema", authentication_classes=[],
                                                    permission_classes=[]), name="api-redoc"),
]
