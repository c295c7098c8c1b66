"""The project's base world (tenants acme and globex with admin keys) plus console users: one member of
acme per role, and a staff user with no membership."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from tenants.models import Membership
from tests.conftest import TenantKey, tenant_a, tenant_b  # noqa: F401  (fixtures)

PASSWORD = "pw-console-123"


def member(username: str, tenant: TenantKey, role: str = "admin") -> User:
    user = User.objects.create_user(username, password=PASSWORD)
    Membership.objects.create(user=user, tenant_id=tenant.tenant_id, role=role)
    return user


@pytest.fixture
def ops(tenant_a) -> User:
    return member("ops", tenant_a)


@pytest.fixture
def viewer(tenant_a) -> User:
    return member("watcher", tenant_a, role="viewer")


@pytest.fixture
def staff_only(db) -> User:
    return User.objects.create_user("root", password=PASSWORD, is_staff=True, is_superuser=True)
