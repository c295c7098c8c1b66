"""config/urls.py routes every seed surface path to its surface view, the surfaces before the native
api/v1/ include (the native `scans/<scan_id>` would otherwise swallow `scans/start`)."""

from tests.conformance.conftest import project_routes_surfaces


def test_config_urls_routes_every_surface_path_to_its_view():
    assert project_routes_surfaces() == []
