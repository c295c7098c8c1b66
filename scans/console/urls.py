"""Console routes, included at /console/ by config/urls.py. Objects are addressed by UUID, as in the API."""

from django.urls import path

from scans.console import views

app_name = "console"

urlpatterns = [
    path("login/", views.ConsoleLoginView.as_view(), name="login"),
    path("logout/", views.ConsoleLogoutView.as_view(), name="logout"),
    path("tenant/", views.tenant_switch, name="tenant-switch"),
    path("", views.dashboard, name="dashboard"),
    path("scans/new/", views.scan_new, name="scan-new"),
    path("scans/<uuid:scan_id>/", views.scan_detail, name="scan-detail"),
    path("schedules/", views.schedules, name="schedules"),
]
