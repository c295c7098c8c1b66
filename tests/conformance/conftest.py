"""Fixtures of the seed conformance tests.

The surfaces must be routed by config/urls.py (scans.surfaces.urls included before the native api/v1/).
Until that include exists, these tests run against tests/conformance/urls.py, which composes the project's
routes the way config/urls.py should; test_routes.py fails until config/urls.py does it itself."""

from __future__ import annotations

import uuid

import pytest
from django.urls import Resolver404, resolve

from scans.surfaces import ingest, multiengine, network, oem
from tenants.services import tenant_set_oem
from tests.conftest import TenantKey, make_tenant

ANY_ID = str(uuid.uuid4())
SURFACE_ROUTES = {
    "/api/v1/oem/on-demand-scan": oem.OemScanApi,
    "/api/v1/oem/on-demand-scan/scan-status": oem.OemScanStatusApi,
    "/api/ingest/v1/scan": ingest.IngestScanApi,
    "/scan-api/api/v1/scans": multiengine.MultiEngineScanCollectionApi,
    f"/scan-api/api/v1/scans/{ANY_ID}": multiengine.MultiEngineScanDetailApi,
    f"/scan-api/api/v1/scans/{ANY_ID}/cancel": multiengine.MultiEngineScanCancelApi,
    "/api/v1/scans/start": network.ScanStartApi,
    f"/api/v1/scans/{ANY_ID}/stop": network.ScanStopApi,
}


def project_routes_surfaces() -> list[str]:
    """The surface paths that config/urls.py does not (yet) send to their surface view."""
    wrong = []
    for path, view in SURFACE_ROUTES.items():
        try:
            match = resolve(path, urlconf="config.urls")
        except Resolver404:
            wrong.append(path)
            continue
        if getattr(match.func, "view_class", None) is not view:
            wrong.append(path)
    return wrong


@pytest.fixture
def oem_partner(db) -> TenantKey:
    """A tenant with OEM access (unlimited credits) and an admin key that also holds the oem scope."""
    partner = make_tenant("oem-partner", scopes=("oem",))
    tenant_set_oem(tenant_id=partner.tenant_id, enabled=True, credits=None)
    return partner


@pytest.fixture
def webhooks_to_loopback(settings):
    """Lets webhook and callback URLs point at 127.0.0.1 (as in development), so no test resolves or calls a
    public name."""
    settings.LANTERN_WEBHOOK_ALLOW_LOOPBACK = True
