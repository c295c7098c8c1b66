"""The routes the browser tests serve: the project's own (config.urls) plus the console and the findings
API, which config/urls.py may not include yet. Earlier patterns win, so once config/urls.py includes
both, this module adds nothing and the tests run against the project's real routing."""

from django.urls import include, path

from config.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    *project_urlpatterns,
    path("console/", include("scans.console.urls")),
    path("api/v1/", include("findings.api.urls")),
]
