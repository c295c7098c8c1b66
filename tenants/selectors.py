"""Reads for tenants and API keys."""

from __future__ import annotations

import hmac

from tenants.models import ApiKey, Membership, Tenant
from tenants.services import secret_digest

# Compared against when the key id is unknown, so a miss costs the same as a wrong secret.
_DUMMY_DIGEST = secret_digest("lantern-no-such-key")


def api_key_verify(*, key_id: str, secret: str) -> ApiKey | None:
    """The active key with this id and secret, or None. Constant-time on the secret."""
    api_key = ApiKey.objects.select_related("tenant", "tenant__plan").filter(key_id=key_id).first()
    expected = api_key.secret_sha256 if api_key is not None else _DUMMY_DIGEST
    if not hmac.compare_digest(expected, secret_digest(secret)):
        return None
    if api_key is None or api_key.revoked_at is not None or not api_key.tenant.is_active:
        return None
    return api_key


def tenant_get(*, tenant_id: int) -> Tenant:
    return Tenant.objects.select_related("plan").get(pk=tenant_id)


def tenant_has_keys(*, tenant_id: int) -> bool:
    return ApiKey.objects.for_tenant(tenant_id).filter(revoked_at__isnull=True).exists()


def membership_for(*, user_id: int, tenant_uuid: str | None = None) -> Membership | None:
    """The user's membership in the given tenant, or their first one when none is named."""
    memberships = Membership.objects.select_related("tenant", "tenant__plan").filter(user_id=user_id,
                                                                                      tenant__is_active=True)
    if tenant_uuid:
        memberships = memberships.filter(tenant__uuid=tenant_uuid)
    return memberships.order_by("created_at").first()
