"""Console users act for a tenant through their membership (session, CSRF enforced); browsers get a
short-lived WebSocket token."""

import time

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from scans.services import ScanRequest, scan_create
from tenants.auth import ws_token_read
from tenants.models import Membership


@pytest.fixture
def console_user(tenant_a):
    user = User.objects.create_user("ops", password="pw-ops-123")
    Membership.objects.create(user=user, tenant_id=tenant_a.tenant_id, role="reporter")
    return user


def test_a_member_sees_only_their_tenants_scans(console_user, tenant_a, tenant_b):
    scan_create(tenant_id=tenant_b.tenant_id, api_key_pk=None, request=ScanRequest(target="127.0.0.1", engine="nmap"))
    mine = scan_create(tenant_id=tenant_a.tenant_id, api_key_pk=None,
                       request=ScanRequest(target="127.0.0.1", engine="nmap"))
    client = APIClient()
    client.force_login(console_user)
    body = client.get("/api/v1/scans").json()
    assert [item["id"] for item in body["items"]] == [str(mine.pk)]


def test_session_writes_need_the_csrf_token(console_user):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(console_user)
    response = client.post("/api/v1/scans", {"target": "127.0.0.1", "authorized": True}, format="json")
    assert response.status_code == 403 and "CSRF" in response.json()["error"]["message"]


def test_the_role_of_the_membership_limits_what_the_user_may_do(console_user, tenant_a):
    Membership.objects.filter(user=console_user).update(role="viewer")
    client = APIClient()
    client.force_login(console_user)
    assert client.post("/api/v1/scans", {"target": "127.0.0.1", "authorized": True}, format="json").status_code == 403


def test_a_user_without_membership_is_not_authenticated(db):
    client = APIClient()
    client.force_login(User.objects.create_user("stranger"))
    assert client.get("/api/v1/scans").status_code == 401


def test_ws_tokens_carry_the_tenant_and_expire(client_for, tenant_a, monkeypatch):
    body = client_for(tenant_a).post("/api/v1/ws-token").json()
    assert body["expires_in"] == 60
    context = ws_token_read(body["token"])
    assert context.tenant_id == tenant_a.tenant_id and context.key_id == tenant_a.key_id
    assert ws_token_read(body["token"] + "x") is None
    later = time.time() + 61
    monkeypatch.setattr(time, "time", lambda: later)
    assert ws_token_read(body["token"]) is None
