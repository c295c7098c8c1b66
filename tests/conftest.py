"""The base world of every test: two tenants, acme and globex, each with an admin key."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from tenants.services import api_key_issue, tenant_get_or_create


@dataclass
class TenantKey:
    tenant_id: int
    name: str
    key: str
    key_id: str
    secret: str


def make_tenant(name: str, *, plan: str = "professional", role: str = "admin",
                scopes: tuple[str, ...] = ()) -> TenantKey:
    tenant, _ = tenant_get_or_create(name=name, plan_slug=plan)
    issued = api_key_issue(tenant_id=tenant.pk, role=role, scopes=scopes)
    return TenantKey(tenant.pk, tenant.name, issued.key, issued.api_key.key_id, issued.secret)


@pytest.fixture
def tenant_a(db) -> TenantKey:
    return make_tenant("acme")


@pytest.fixture
def tenant_b(db) -> TenantKey:
    return make_tenant("globex")


@pytest.fixture
def client_for():
    def build(tenant_key: TenantKey | str | None) -> APIClient:
        client = APIClient()
        if tenant_key is not None:
            key = tenant_key if isinstance(tenant_key, str) else tenant_key.key
            client.credentials(HTTP_X_API_KEY=key)
        return client

    return build
