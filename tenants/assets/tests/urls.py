"""The project's routes plus Asset Management, as config/urls.py should include them. The tests use it only
while config/urls.py does not route /api/v1/assets yet."""

from django.urls import include, path

from config.urls import urlpatterns as project_urlpatterns

urlpatterns = [*project_urlpatterns, path("api/v1/", include("tenants.assets.urls"))]
