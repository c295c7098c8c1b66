"""One authentication class, three credential forms; 401 for missing or wrong, 403 for a missing scope."""

import pytest

from tenants.services import api_key_revoke
from tests.conftest import make_tenant

LIST = "/api/v1/scans"


def test_x_api_key_header_authenticates(client_for, tenant_a):
    assert client_for(tenant_a).get(LIST).status_code == 200


def test_bearer_token_authenticates(client, tenant_a):
    assert client.get(LIST, HTTP_AUTHORIZATION=f"Bearer {tenant_a.key}").status_code == 200


def test_api_key_and_secret_pair_authenticates(client, tenant_a):
    response = client.get(LIST, HTTP_API_KEY=tenant_a.key_id, HTTP_API_SECRET=tenant_a.secret)
    assert response.status_code == 200


def test_api_key_pair_also_accepts_the_whole_key_as_api_key(client, tenant_a):
    response = client.get(LIST, HTTP_API_KEY=f"lnt_{tenant_a.key_id}.x", HTTP_API_SECRET=tenant_a.secret)
    assert response.status_code == 200


@pytest.mark.parametrize("headers", [
    {},
    {"HTTP_X_API_KEY": "lnt_0000000000000000.wrong"},
    {"HTTP_X_API_KEY": "not-a-key"},
    {"HTTP_AUTHORIZATION": "Bearer "},
    {"HTTP_AUTHORIZATION": "Basic dXNlcjpwYXNz"},
    {"HTTP_API_KEY": "0000000000000000"},
    {"HTTP_API_SECRET": "only-a-secret"},
])
def test_missing_or_wrong_credentials_are_401_with_a_json_error(client, tenant_a, headers):
    response = client.get(LIST, **headers)
    assert response.status_code == 401
    assert set(response.json()["error"]) >= {"code", "message"}
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_right_key_id_with_a_wrong_secret_is_401(client, tenant_a):
    response = client.get(LIST, HTTP_API_KEY=tenant_a.key_id, HTTP_API_SECRET=tenant_a.secret + "x")
    assert response.status_code == 401


def test_a_revoked_key_is_401(client_for, tenant_a):
    api_key_revoke(tenant_id=tenant_a.tenant_id, key_id=tenant_a.key_id)
    assert client_for(tenant_a).get(LIST).status_code == 401


def test_a_key_without_the_scope_is_403_and_creates_nothing(client_for, db):
    from scans.models import Scan

    lister = make_tenant("initech", role="", scopes=("scans:list",))
    response = client_for(lister).post(LIST, {"target": "127.0.0.1", "authorized": True}, format="json")
    assert response.status_code == 403
    assert "scans:create" in response.json()["error"]["message"]
    assert Scan.objects.count() == 0
    assert client_for(lister).get(LIST).status_code == 200


def test_a_viewer_cannot_cancel(client_for, db):
    viewer = make_tenant("hooli", role="viewer")
    response = client_for(viewer).delete("/api/v1/scans/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 403


def test_gateway_headers_sent_by_a_client_are_ignored(client_for, tenant_a, tenant_b):
    # seed 001: user-id and groups are set by the gateway, never trusted from a client
    response = client_for(tenant_a).get(LIST, HTTP_USER_ID=str(tenant_b.tenant_id), HTTP_GROUPS="admin")
    assert response.status_code == 200 and response.json()["total"] == 0


def test_last_used_is_recorded(client_for, tenant_a):
    from tenants.models import ApiKey

    client_for(tenant_a).get(LIST)
    assert ApiKey.objects.get(key_id=tenant_a.key_id).last_used_at is not None


def test_only_the_digest_of_the_secret_is_stored(tenant_a):
    from tenants.models import ApiKey

    stored = ApiKey.objects.filter(key_id=tenant_a.key_id).values().get()
    assert tenant_a.secret not in str(stored)
