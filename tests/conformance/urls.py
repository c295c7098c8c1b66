"""The project's routes with the seed surfaces included first, exactly as config/urls.py should include
them. conftest.py uses it only while config/urls.py does not route the surfaces yet."""

from django.urls import include, path

from config.urls import urlpatterns as project_urlpatterns

urlpatterns = [path("", include("scans.surfaces.urls")), *project_urlpatterns]
