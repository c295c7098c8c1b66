"""Two tenants (the project's base world), the loopback DNS and HTTP servers, and the asset routes."""

import pytest

from tenants.assets.tests.loopback import dns_server, loopback_only, tls_web_server, web_server  # noqa: F401
from tests.conftest import client_for, tenant_a, tenant_b  # noqa: F401


@pytest.fixture(autouse=True)
def _assets_world(settings, loopback_only):  # noqa: F811 (the imported fixture)
    """Every test here: verification talks to loopback only."""
    return settings
