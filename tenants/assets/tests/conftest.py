"""Two tenants (the project's base world), the loopback DNS and HTTP servers, and the asset routes."""

import pytest
from django.urls import Resolver404, resolve

from tenants.assets.tests.loopback import dns_server, loopback_only, tls_web_server, web_server  # noqa: F401
from tests.conftest import client_for, tenant_a, tenant_b  # noqa: F401


def assets_routed() -> bool:
    try:
        resolve("/api/v1/assets", urlconf="config.urls")
    except Resolver404:
        return False
    return True


@pytest.fixture(autouse=True)
def _assets_world(settings, loopback_only):  # noqa: F811 (the imported fixture)
    """Every test here: verification talks to loopback only, and /api/v1/assets is routed (through
    tenants/assets/tests/urls.py until config/urls.py includes tenants.assets.urls)."""
    if not assets_routed():
        settings.ROOT_URLCONF = "tenants.assets.tests.urls"
