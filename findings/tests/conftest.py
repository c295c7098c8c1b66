"""The project's base world (tenants acme and globex with admin keys, an API client per key) for the findings
tests, which live beside the app rather than under tests/."""

from tests.conftest import TenantKey, client_for, make_tenant, tenant_a, tenant_b  # noqa: F401
