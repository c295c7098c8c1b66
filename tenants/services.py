"""Writes for tenants and API keys."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from config.errors import NotFound, QuotaExhausted, ValidationFailed
from tenants.models import ApiKey, AuditLog, Plan, Tenant
from tenants.plans import plans_ensure
from tenants.scopes import Role, parse_scopes

KEY_PREFIX = "lnt"


@dataclass(frozen=True)
class IssuedKey:
    """A key as issued: the only moment the secret exists in clear."""

    api_key: ApiKey
    key: str  # "lnt_<key_id>.<secret>": for X-API-Key and Authorization: Bearer
    secret: str  # for the api-key / api-secret header pair (api-key = key_id)


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def tenant_get_or_create(*, name: str, plan_slug: str | None = None) -> tuple[Tenant, bool]:
    """The tenant named `name`, created on the given plan (default startup) if missing.
    An existing tenant is moved to `plan_slug` when one is given. Idempotent."""
    plans_ensure(Plan)  # a flushed test database or a fresh install may lack them
    plan = None
    if plan_slug is not None:
        try:
            plan = Plan.objects.get(slug=plan_slug)
        except Plan.DoesNotExist:
            known = ", ".join(Plan.objects.order_by("pk").values_list("slug", flat=True))
            raise ValidationFailed(f"unknown plan {plan_slug!r}; known plans: {known}", field="plan") from None
    tenant = Tenant.objects.select_for_update().filter(name=name).first()
    if tenant is None:
        tenant = Tenant.objects.create(name=name, plan=plan or Plan.objects.get(slug="startup"))
        return tenant, True
    if plan is not None and tenant.plan_id != plan.pk:
        tenant.plan = plan
        tenant.save(update_fields=["plan"])
    return tenant, False


def api_key_issue(*, tenant_id: int, role: str = "", scopes: tuple[str, ...] = (), name: str = "") -> IssuedKey:
    """Create a key for the tenant. Writes one ApiKey row holding only the secret's digest. Not idempotent."""
    if role and role not in {r.value for r in Role}:
        raise ValidationFailed(f"unknown role {role!r}; known roles: {', '.join(r.value for r in Role)}",
                               field="role")
    try:
        parse_scopes(list(scopes))
    except ValueError as exc:
        raise ValidationFailed(str(exc), field="scopes") from None
    if not role and not scopes:
        raise ValidationFailed("a key needs a role or at least one scope", field="role")
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    api_key = ApiKey.objects.create(
        tenant_id=tenant_id, key_id=key_id, secret_sha256=secret_digest(secret),
        role=role, extra_scopes=sorted(set(scopes)), name=name,
    )
    return IssuedKey(api_key=api_key, key=f"{KEY_PREFIX}_{key_id}.{secret}", secret=secret)


def api_key_revoke(*, tenant_id: int, key_id: str) -> ApiKey:
    """Revoke a key of the tenant (effective on the next request). Idempotent."""
    api_key = ApiKey.objects.for_tenant(tenant_id).filter(key_id=key_id).first()
    if api_key is None:
        raise NotFound("API key not found")
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key


def api_key_touch(*, api_key: ApiKey) -> None:
    """Record use at most once a minute, so a busy key does not write on every request (nor make a round trip:
    the key as just read says whether its last use is recent; the update re-checks, for concurrent requests)."""
    now = timezone.now()
    recent = now - timezone.timedelta(minutes=1)
    if api_key.last_used_at is not None and api_key.last_used_at > recent:
        return
    ApiKey.objects.filter(pk=api_key.pk).exclude(last_used_at__gt=recent).update(last_used_at=now)


def tenant_set_oem(*, tenant_id: int, enabled: bool, credits: int | None) -> Tenant:
    """Enable or disable the OEM API (seed 000) for a tenant and set its credits (None = unlimited)."""
    Tenant.objects.filter(pk=tenant_id).update(oem_enabled=enabled, oem_credits=credits)
    return Tenant.objects.select_related("plan").get(pk=tenant_id)


def tenant_oem_credit_consume(*, tenant_id: int) -> None:
    """Take one OEM credit (seed 000); unlimited (null) credits are not counted. Raises QuotaExhausted when
    none is left. One conditional UPDATE, so concurrent requests cannot overdraw."""
    tenant = Tenant.objects.only("oem_credits").get(pk=tenant_id)
    if tenant.oem_credits is None:
        return
    if not Tenant.objects.filter(pk=tenant_id, oem_credits__gt=0).update(oem_credits=F("oem_credits") - 1):
        raise QuotaExhausted("OEM credits exhausted")


def audit_record(*, tenant_id: int, api_key_pk: int | None, key_id: str, surface: str, action: str, method: str,
                 path: str, status_code: int, outcome: str = "", scan_id: str | None = None, target: str = "",
                 query_tags: dict | None = None, remote_addr: str | None = None) -> AuditLog:
    """Append one audit entry. Writes one AuditLog row. Not idempotent (every request is an entry)."""
    return AuditLog.objects.create(
        tenant_id=tenant_id, api_key_id=api_key_pk, key_id=key_id, surface=surface, action=action[:64],
        method=method[:8], path=path[:500], status_code=status_code, outcome=outcome[:500], scan_id=scan_id,
        target=target[:2048], query_tags=query_tags or {}, remote_addr=remote_addr,
    )
