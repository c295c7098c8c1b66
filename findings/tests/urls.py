"""The URLs the findings API tests run against: the native scans API and the findings API under /api/v1/,
as config/urls.py includes them, so these tests do not depend on that file's state."""

from django.urls import include, path

urlpatterns = [
    path("api/v1/", include("findings.api.urls")),
    path("api/v1/", include("scans.api.urls")),
]
