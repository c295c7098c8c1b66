"""Plans, tenants and API keys. Every tenant-owned table elsewhere derives from TenantOwned."""

from __future__ import annotations

import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models

from tenants.scopes import Role


class Plan(models.Model):
    """A subscription plan; its limits apply to every tenant on it (seed 003: Startup / Professional /
    Enterprise). A null limit means unlimited. Operators edit these rows in the admin."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=64)
    max_concurrent_scans = models.PositiveIntegerField(null=True, blank=True)
    monthly_scan_limit = models.PositiveIntegerField(null=True, blank=True)
    schedules_enabled = models.BooleanField(default=False)
    # Requests per minute per API key, by endpoint class (tenants/ratelimit.py), e.g. {"read": 600}.
    rate_limits = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return self.name


class Tenant(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=100, unique=True)
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="tenants")
    is_active = models.BooleanField(default=True)
    # Seed 000: OEM partners need the flag and credits (null credits = unlimited).
    oem_enabled = models.BooleanField(default=False)
    oem_credits = models.PositiveIntegerField(null=True, blank=True)
    rate_limits = models.JSONField(default=dict, blank=True)  # per-tenant overrides of the plan's
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class TenantQuerySet(models.QuerySet):
    def for_tenant(self, tenant_id: int) -> TenantQuerySet:
        return self.filter(tenant_id=tenant_id)


class TenantOwned(models.Model):
    """Every tenant-owned row carries tenant_id itself, so scoping is one WHERE clause, never a join."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+", editable=False)

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True


class ApiKey(TenantOwned):
    """An API key: `key_id` is public (the `api-key` header of seed 001), the secret is stored only as a
    SHA-256 digest (the secret is 256 random bits, so a slow password hash would add nothing)."""

    key_id = models.CharField(max_length=32, unique=True)
    secret_sha256 = models.CharField(max_length=64)
    name = models.CharField(max_length=100, blank=True)
    role = models.CharField(max_length=16, choices=[(r.value, r.value) for r in Role], blank=True)
    extra_scopes = ArrayField(models.CharField(max_length=32), default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.key_id} ({self.role or 'scopes only'})"


class Membership(TenantOwned):
    """A console user's role in a tenant (session login). API keys need no membership: they carry their own."""

    user = models.ForeignKey("auth.User", on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=[(r.value, r.value) for r in Role], default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "tenant"], name="membership_uniq")]

    def __str__(self) -> str:
        return f"{self.user} in tenant {self.tenant_id} ({self.role})"


class AuditLog(TenantOwned):
    """Who asked what, when, and how it ended, for the surfaces that must keep such a log (seed 000's OEM
    audit log, seed 001's ingest). Append-only; read-only in the admin."""

    api_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    key_id = models.CharField(max_length=32, blank=True)  # kept when the key row is gone
    surface = models.CharField(max_length=16)
    action = models.CharField(max_length=64)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=500)
    status_code = models.PositiveSmallIntegerField()
    outcome = models.CharField(max_length=500, blank=True)
    scan_id = models.UUIDField(null=True, blank=True)
    target = models.CharField(max_length=2048, blank=True)
    query_tags = models.JSONField(default=dict, blank=True)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "surface", "-created_at"], name="audit_tenant_surface")]
from tenants.assets.models import Asset  # noqa: E402,F401
