"""The leak matrix (STYLE C4, C5, C19): every route of every surface that addresses an object, read from the
live URL resolver, called by tenant a (acme) for tenant b's (globex) object with every method its view
supports. Each answer is the surface's own not-found, tells nothing of b's object (no id, no target, no name)
and changes nothing of b's; the owner, with the same call, does get past the lookup. A route with a path
parameter that OBJECT_ROUTES does not know fails test_every_route_with_a_path_parameter_is_in_the_matrix.
"""

from __future__ import annotations

import uuid

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from tenants.models import Membership, Tenant
from tenants.services import tenant_set_oem
from tests.conftest import make_tenant
from tests.security.matrix import OBJECT_ROUTES, all_routes, build_world, content, leaked, send, snapshot


B_TARGET = "127.66.77.88"  # loopback (the test policy), and found nowhere in tenant a's world

# Admin routes are staff-only (not tenant-facing); their object ids are checked by Django's own permissions.
UNCHECKED_PREFIXES = ("admin/",)


def routes_with_parameters():
    return [route for route in all_routes() if route.params and not route.template.startswith(UNCHECKED_PREFIXES)]


ROUTES = {route.template: route for route in routes_with_parameters()}
CASES = [(template, call) for template, calls in OBJECT_ROUTES.items() for call in calls]


def test_every_route_with_a_path_parameter_is_in_the_matrix():
    unknown = sorted(set(ROUTES) - set(OBJECT_ROUTES))
    assert unknown == [], (f"routes with a path parameter that the isolation matrix does not check: {unknown}; "
                           "add them to OBJECT_ROUTES in tests/security/test_isolation_matrix.py")


def test_the_matrix_names_no_route_that_is_gone():
    assert sorted(set(OBJECT_ROUTES) - set(ROUTES)) == []


@pytest.mark.parametrize("template", sorted(OBJECT_ROUTES))
def test_the_matrix_covers_every_method_of_each_route(template):
    route = ROUTES[template]
    assert sorted({call.method for call in OBJECT_ROUTES[template]}) == route.methods(), (
        f"{template}: the view serves {route.methods()}, the matrix calls "
        f"{sorted({call.method for call in OBJECT_ROUTES[template]})}")


# --- the surfaces' not-found answers ----------------------------------------------------------------------


def assert_not_found(template: str, response) -> None:
    assert response.status_code == 404, (template, response.status_code, response.content[:300])
    if template.startswith("console/"):
        return
    body = response.json()
    if template.startswith("scan-api/"):  # seed 002's envelope
        assert body == {"success": False, "error": {"code": "not_found", "message": body["error"]["message"]}}
    else:  # native and seed 004
        assert set(body) == {"error"} and body["error"]["code"] == "not_found"


@pytest.fixture
def worlds(tenant_a, tenant_b):
    """Tenant a owns objects of every kind too, so a leak cannot hide behind "a had nothing to show"."""
    build_world(tenant_a.tenant_id, "acmemark")
    return build_world(tenant_b.tenant_id, "globexsecret", B_TARGET)


@pytest.fixture
def member_client(tenant_a):
    user = User.objects.create_user("acme-admin", password="pw-acme-123")
    Membership.objects.create(user=user, tenant_id=tenant_a.tenant_id, role="admin")
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def owner_member_client(tenant_b):
    user = User.objects.create_user("globex-admin", password="pw-globex-123")
    Membership.objects.create(user=user, tenant_id=tenant_b.tenant_id, role="admin")
    client = APIClient()
    client.force_login(user)
    return client


@pytest.mark.parametrize("template, call", CASES, ids=[f"{t} {c.label()}" for t, c in CASES])
def test_another_tenants_object_is_404_tells_nothing_and_is_untouched(
        template, call, worlds, tenant_a, tenant_b, client_for, member_client, owner_member_client):
    route = ROUTES[template]
    url = route.url(**{param: worlds.ids()[param] for param in route.params})
    console = template.startswith("console/")
    before = snapshot(tenant_b.tenant_id)

    response = send(member_client if console else client_for(tenant_a), call, url)

    assert_not_found(template, response)
    assert leaked(content(response), worlds.secrets()) == []
    assert snapshot(tenant_b.tenant_id) == before
    # The same call by the owner gets past the lookup, so the 404 above is the tenant check's doing.
    if call.owner_probe:
        owner = send(owner_member_client if console else client_for(tenant_b), call, url)
        assert owner.status_code < 400, (template, owner.status_code, owner.content[:300])


@pytest.mark.parametrize("template, call", CASES, ids=[f"{t} {c.label()}" for t, c in CASES])
def test_another_tenants_id_and_an_unknown_id_get_the_same_answer(
        template, call, worlds, tenant_a, client_for, member_client):
    route = ROUTES[template]
    client = member_client if template.startswith("console/") else client_for(tenant_a)
    theirs = send(client, call, route.url(**{p: worlds.ids()[p] for p in route.params}))
    unknown = send(client, call, route.url(**{p: str(uuid.uuid4()) for p in route.params}))
    assert (theirs.status_code, content(theirs)) == (unknown.status_code, content(unknown))


# --- ids carried in a body or a query ---------------------------------------------------------------------


@pytest.fixture
def oem_a(tenant_a):
    partner = make_tenant("acme", scopes=("oem",))
    tenant_set_oem(tenant_id=partner.tenant_id, enabled=True, credits=None)
    return partner


def test_seed_000_status_of_another_tenants_oem_scan_is_the_documented_404(worlds, oem_a, tenant_b):
    before = snapshot(tenant_b.tenant_id)
    response = APIClient().post("/api/v1/oem/on-demand-scan/scan-status", {"scan_id": str(worlds.oem_scan.pk)},
                                format="json", headers={"X-API-KEY": oem_a.key})
    assert response.status_code == 404
    assert response.json() == {"error": "Scan ID not found"}
    assert snapshot(tenant_b.tenant_id) == before


def test_owner_reads_its_oem_scan_status_so_the_404_is_the_tenant_check(worlds, tenant_b):
    tenant_set_oem(tenant_id=tenant_b.tenant_id, enabled=True, credits=None)
    owner = make_tenant("globex", scopes=("oem",))
    response = APIClient().post("/api/v1/oem/on-demand-scan/scan-status", {"scan_id": str(worlds.oem_scan.pk)},
                                format="json", headers={"X-API-KEY": owner.key})
    assert response.status_code == 200


def test_a_diff_against_another_tenants_scan_is_refused_like_an_unknown_scan(worlds, tenant_a, client_for):
    mine = str(build_world(tenant_a.tenant_id, "acmeagain").scan.pk)
    client = client_for(tenant_a)
    theirs = client.get(f"/api/v1/scans/{mine}/diff", {"against": str(worlds.scan.pk)})
    unknown = client.get(f"/api/v1/scans/{mine}/diff", {"against": str(uuid.uuid4())})
    assert theirs.status_code == 404, theirs.content
    assert leaked(theirs.content.decode(), worlds.secrets()) == []
    assert theirs.json() == unknown.json()


def test_seed_002_create_with_another_tenants_asset_is_refused_like_an_unknown_asset(worlds, tenant_a, tenant_b,
                                                                                      client_for):
    before = snapshot(tenant_b.tenant_id)
    theirs = client_for(tenant_a).post("/scan-api/api/v1/scans", {
        "target": "127.0.0.1", "scanType": "nmap", "assetId": str(worlds.asset.uuid)}, format="json")
    other = str(uuid.uuid4())
    unknown = client_for(tenant_a).post("/scan-api/api/v1/scans", {
        "target": "127.0.0.1", "scanType": "nmap", "assetId": other}, format="json")
    assert theirs.status_code == 422 and theirs.json()["error"]["code"] == "asset_not_found"
    assert theirs.content.decode().replace(str(worlds.asset.uuid), "ID") == unknown.content.decode().replace(
        other, "ID")
    assert leaked(theirs.content.decode(), [s for s in worlds.secrets() if s != str(worlds.asset.uuid)]) == []
    assert snapshot(tenant_b.tenant_id) == before


@pytest.mark.parametrize("path", ["/api/v1/scans", "/scan-api/api/v1/scans?scanType=all", "/api/v1/findings",
                                  "/api/v1/findings/export?format=json", "/api/v1/findings/export?format=csv",
                                  "/api/v1/findings/export?format=sarif", "/api/v1/scans/schedules",
                                  "/api/v1/webhooks", "/api/v1/assets", "/api/v1/scans/quota"])
def test_collections_list_only_the_callers_own_objects(path, worlds, tenant_a, client_for):
    response = client_for(tenant_a).get(path)
    assert response.status_code == 200, response.content[:300]
    assert leaked(content(response), worlds.secrets()) == []


@pytest.mark.parametrize("path", ["/console/", "/console/schedules/", "/console/scans/new/"])
def test_console_pages_show_only_the_members_tenant(path, worlds, member_client):
    response = member_client.get(path)
    assert response.status_code == 200
    assert leaked(content(response), worlds.secrets()) == []


def test_console_tenant_switch_to_a_tenant_without_membership_is_ignored(worlds, tenant_b, member_client):
    tenant_b_uuid = str(Tenant.objects.get(pk=tenant_b.tenant_id).uuid)
    response = member_client.post("/console/tenant/", {"tenant": tenant_b_uuid})
    assert response.status_code == 302
    assert member_client.get(f"/console/scans/{worlds.scan.pk}/").status_code == 404
    page = member_client.get("/console/").content.decode()
    assert leaked(page, worlds.secrets()) == []


# --- WebSocket --------------------------------------------------------------------------------------------


def ws_close_code(path: str, key: str | None) -> int | None:
    async def connect() -> int | None:
        from config.asgi import application

        headers = [(b"x-api-key", key.encode())] if key else []
        socket = WebsocketCommunicator(application, path, headers=headers)
        connected, _ = await socket.connect()
        assert connected  # the consumer accepts, then closes with its code
        message = await socket.receive_output(timeout=5)
        await socket.disconnect()
        return message.get("code") if message["type"] == "websocket.close" else None

    return async_to_sync(connect)()


@pytest.mark.django_db(transaction=True)
def test_the_websocket_of_another_tenants_scan_closes_4404_like_an_unknown_scan():
    tenant_a, tenant_b = make_tenant("acme"), make_tenant("globex")
    world = build_world(tenant_b.tenant_id, "globexsecret", B_TARGET)
    assert ws_close_code(f"/ws/scans/{world.scan.pk}", tenant_a.key) == 4404
    assert ws_close_code(f"/ws/scans/{uuid.uuid4()}", tenant_a.key) == 4404
    assert ws_close_code(f"/ws/scans/{world.scan.pk}", None) == 4401


@pytest.mark.django_db(transaction=True)
def test_the_owner_gets_its_scans_events_over_the_websocket():
    tenant_b = make_tenant("globex")
    world = build_world(tenant_b.tenant_id, "globexsecret", B_TARGET)

    async def first_event() -> dict:
        from config.asgi import application

        socket = WebsocketCommunicator(application, f"/ws/scans/{world.scan.pk}",
                                       headers=[(b"x-api-key", tenant_b.key.encode())])
        connected, _ = await socket.connect()
        assert connected
        message = await socket.receive_json_from(timeout=5)
        await socket.disconnect()
        return message

    assert async_to_sync(first_event)()["event"] == "scan.queued"
