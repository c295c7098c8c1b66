"""The scope matrix: every (route, method) of the API surfaces (/api/..., /scan-api/...), read from the live URL
resolver and each view's required_scopes, so a new endpoint is covered the day it is routed.

- a key holding every scope except the one(s) the operation needs gets 403 and nothing is created or changed;
- the same call with a key holding every scope gets past the scope check (so the 403 is the scope's doing);
- a revoked key, a wrong secret, a malformed key and no credentials get 401 everywhere, changing nothing;
- every view under /api/ or /scan-api/ is a TenantAPIView (the schema and docs views are public on purpose).
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from tenants.api import TenantAPIView
from tenants.permissions import HasScopes
from tenants.scopes import ALL_SCOPES
from tenants.services import api_key_revoke, tenant_set_oem
from tests.conftest import make_tenant
from tests.security.matrix import (OBJECT_ROUTES, PUBLIC_API_ROUTES, Call, all_routes, api_routes, build_world,
                                   content, send, snapshot)

NMAP_REPORT = b"""<?xml version="1.0"?><nmaprun scanner="nmap" args="nmap 127.0.0.1" start="1700000000">
<host><status state="up"/><address addr="127.0.0.1" addrtype="ipv4"/><ports><port protocol="tcp" portid="80">
<state state="open"/><service name="http"/></port></ports></host><runstats><finished time="1700000010"/>
</runstats></nmaprun>"""

# What each collection operation is sent: a valid request, so that without the scope check it would act.
COLLECTION_CALLS: dict[tuple[str, str], Call] = {
    ("api/v1/oem/on-demand-scan", "POST"): Call("POST", body={"type": "domain", "target": "acme.localhost"}),
    ("api/v1/oem/on-demand-scan/scan-status", "POST"): Call("POST", body={"scan_id": "{oem_scan_id}"}),
    ("api/ingest/v1/scan", "POST"): Call("POST", body={"target": "127.0.0.1"}),
    ("scan-api/api/v1/scans", "GET"): Call("GET"),
    ("scan-api/api/v1/scans", "POST"): Call("POST", body={"target": "127.0.0.1", "scanType": "nmap"}),
    ("api/v1/scans/start", "POST"): Call("POST", body={"target": "127.0.0.1", "profile": "normal"}),
    ("api/v1/engines", "GET"): Call("GET"),
    ("api/v1/scans", "GET"): Call("GET"),
    ("api/v1/scans", "POST"): Call("POST", body={"target": "127.0.0.1", "engine": "nmap", "authorized": True}),
    ("api/v1/scans/quota", "GET"): Call("GET"),
    ("api/v1/scans/import", "POST"): Call("POST", body="multipart"),
    ("api/v1/scans/schedules", "GET"): Call("GET"),
    ("api/v1/scans/schedules", "POST"): Call("POST", body={
        "target": "127.0.0.1", "scan_type": "quick", "frequency": "daily", "hour": 2}),
    ("api/v1/findings", "GET"): Call("GET"),
    ("api/v1/findings/export", "GET"): Call("GET", {"format": "json"}),
    ("api/v1/webhooks", "GET"): Call("GET"),
    ("api/v1/webhooks", "POST"): Call("POST", body={"url": "http://127.0.0.1:9/new", "events": ["scan.completed"]}),
    ("api/v1/assets", "GET"): Call("GET"),
    ("api/v1/assets", "POST"): Call("POST", body={"kind": "domain", "value": "new-asset.example"}),
    ("api/v1/ws-token", "POST"): Call("POST", body={}),
}


def operations() -> list[tuple[str, str, tuple[str, ...]]]:
    """(route template, method, required scopes) of every API operation."""
    found = []
    for route in api_routes():
        view = route.view_class
        if view is None or not issubclass(view, TenantAPIView):
            continue
        for method, scopes in sorted(view.required_scopes.items()):
            found.append((route.template, method, tuple(str(scope) for scope in scopes)))
    return found


OPERATIONS = operations()
ROUTES = {route.template: route for route in api_routes()}
IDS = [f"{template} {method}" for template, method, _ in OPERATIONS]


def call_for(template: str, method: str) -> Call:
    if template in OBJECT_ROUTES:
        return next(call for call in OBJECT_ROUTES[template] if call.method == method)
    assert (template, method) in COLLECTION_CALLS, (
        f"{method} {template} has no request in COLLECTION_CALLS of tests/security/test_scope_matrix.py: add one "
        "so that its scope check is proven")
    return COLLECTION_CALLS[(template, method)]


def request(client: APIClient, template: str, method: str, ids: dict[str, str]):
    route, call = ROUTES[template], call_for(template, method)
    url = route.url(**{param: ids[param] for param in route.params})
    if call.body == "multipart":
        return client.post(url, {"engine": "nmap", "file": SimpleUploadedFile("r.xml", NMAP_REPORT)},
                           format="multipart")
    if isinstance(call.body, dict):
        call = Call(call.method, call.query, {key: value.format(**ids) if isinstance(value, str) else value
                                              for key, value in call.body.items()})
    return send(client, call, url)


def test_every_view_under_the_api_prefixes_is_a_tenant_api_view():
    offenders = [f"{route.template} -> {route.view_class or route.callback}" for route in api_routes()
                 if route.view_class is None or not issubclass(route.view_class, TenantAPIView)]
    assert offenders == [], (f"views under /api/ or /scan-api/ that are not TenantAPIView (so no required_scopes "
                             f"is checked): {offenders}")


def test_the_public_api_views_are_exactly_the_schema_and_its_renderers():
    public = sorted(route.template for route in all_routes() if route.template in PUBLIC_API_ROUTES)
    assert public == sorted(PUBLIC_API_ROUTES)


def test_every_tenant_api_view_declares_the_scope_check_and_at_least_one_method():
    for route in api_routes():
        assert HasScopes in route.view_class.permission_classes or route.view_class.permission_classes == [
            HasScopes], route.template
        assert route.view_class.required_scopes, f"{route.template} declares no required_scopes"


def test_every_api_operation_has_a_request_in_the_matrix():
    missing = [f"{method} {template}" for template, method, _ in OPERATIONS
               if template not in OBJECT_ROUTES and (template, method) not in COLLECTION_CALLS]
    assert missing == [], f"operations without a request in the scope matrix: {missing}"


@pytest.fixture
def tenant(db):
    """acme, OEM-enabled (so OEM refusals below are the scope's), with objects of every kind."""
    holder = make_tenant("acme")
    tenant_set_oem(tenant_id=holder.tenant_id, enabled=True, credits=None)
    world = build_world(holder.tenant_id, "acmemark")
    make_tenant("globex")  # a second tenant, present as always
    return holder, world


@pytest.mark.parametrize("template, method, required", OPERATIONS, ids=IDS)
def test_a_key_with_every_scope_but_the_required_one_is_403_and_changes_nothing(tenant, template, method,
                                                                                required, client_for):
    holder, world = tenant
    lacking = make_tenant("acme", role="", scopes=tuple(sorted(str(s) for s in ALL_SCOPES - set(required))))
    before = snapshot(holder.tenant_id)

    response = request(client_for(lacking), template, method, world.ids())

    assert response.status_code == 403, (template, method, response.status_code, content(response)[:300])
    body = content(response)
    view = ROUTES[template].view_class
    if view.permission_classes[0] is HasScopes:  # seed 001's ingest asks for its reporter role first
        assert all(scope in body for scope in required), body
    assert snapshot(holder.tenant_id) == before


@pytest.mark.parametrize("template, method, required", OPERATIONS, ids=IDS)
def test_the_same_call_with_every_scope_gets_past_the_scope_check(tenant, template, method, required,
                                                                  client_for):
    holder, world = tenant
    full = make_tenant("acme", role="admin", scopes=("oem",))
    response = request(client_for(full), template, method, world.ids())
    assert response.status_code not in (401, 403), (template, method, content(response)[:300])
    assert response.status_code < 500


@pytest.mark.parametrize("credentials", ["revoked", "wrong-secret", "malformed", "none"])
@pytest.mark.parametrize("template, method, required", OPERATIONS, ids=IDS)
def test_a_revoked_wrong_malformed_or_missing_key_is_401_and_changes_nothing(tenant, template, method, required,
                                                                            credentials, client_for):
    holder, world = tenant
    if credentials == "revoked":
        revoked = make_tenant("acme", role="admin", scopes=("oem",))
        api_key_revoke(tenant_id=holder.tenant_id, key_id=revoked.key_id)
        client = client_for(revoked)
    elif credentials == "wrong-secret":
        client = client_for(f"lnt_{holder.key_id}.not-the-secret")
    elif credentials == "malformed":
        client = client_for("not-a-lantern-key")
    else:
        client = client_for(None)
    before = snapshot(holder.tenant_id)

    response = request(client, template, method, world.ids())

    assert response.status_code == 401, (template, method, response.status_code, content(response)[:300])
    assert "acmemark" not in content(response)
    assert snapshot(holder.tenant_id) == before


def test_the_matrix_is_not_empty():
    assert len(OPERATIONS) >= 40
