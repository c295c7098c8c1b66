"""Every findings API view is a TenantAPIView that names the scope of each method it serves
(tests/architecture checks the whole URL tree once config/urls.py includes these routes; this checks them
on their own)."""

from findings.api.urls import urlpatterns
from tenants.api import TenantAPIView


def test_every_findings_view_declares_scopes_for_each_method():
    missing = []
    for pattern in urlpatterns:
        view = pattern.callback.view_class
        assert issubclass(view, TenantAPIView), view
        for method in ("get", "post", "put", "patch", "delete"):
            if hasattr(view, method) and method.upper() not in view.required_scopes:
                missing.append(f"{view.__name__}.{method}")
    assert missing == []
    assert len(urlpatterns) == 8

