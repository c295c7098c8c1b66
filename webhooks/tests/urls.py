"""The project's routes plus the webhooks API, for tests and the test stack until config/urls.py includes
webhooks.api.urls itself (then the first match wins and nothing changes)."""

from django.urls import include, path

from config.urls import urlpatterns as project_urlpatterns

urlpatterns = [path("api/v1/", include("webhooks.api.urls")), *project_urlpatterns]
