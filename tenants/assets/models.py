"""A tenant's registered assets: what it says it owns, and the proof that it does.

An asset is scannable (tenants/scope.py) only once `verified_at` is set: by a DNS TXT record or an HTTP
well-known file carrying the asset's token (tenants/assets/verification.py), or by an operator in the admin.
"""

from __future__ import annotations

import secrets
import uuid

from django.db import models

from tenants.models import TenantOwned


def new_verification_token() -> str:
    """128 random bits: unguessable, so finding it in a record proves the tenant put it there."""
    return f"lantern-verification={secrets.token_hex(16)}"


class Asset(TenantOwned):
    class Kind(models.TextChoices):
        DOMAIN = "domain"  # the name and all its subdomains
        IP = "ip"
        CIDR = "cidr"
        URL = "url"  # that origin, and paths under the URL's path
        IMAGE = "image"  # a registry/repository prefix of container image references

    class Method(models.TextChoices):
        DNS = "dns"
        HTTP = "http"
        OPERATOR = "operator"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    # Normalised by scans.targets: punycode names, compressed IPs, CIDR at its network address, canonical URL.
    value = models.CharField(max_length=1000)  # bounded so the unique btree index entry always fits
    name = models.CharField(max_length=200, blank=True)
    # Seed 002's sqlmap advice: level > 3 / risk > 2 only on targets the tenant marked non-production.
    production = models.BooleanField(default=True)
    token = models.CharField(max_length=64, default=new_verification_token, editable=False)
    verified_at = models.DateTimeField(null=True, blank=True)
    verification_method = models.CharField(max_length=8, choices=Method.choices, blank=True)
    verified_by = models.CharField(max_length=150, blank=True)  # the operator who approved it, if one did
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # The unique index also serves scope_check, which looks a tenant's assets up by kind and value.
        constraints = [models.UniqueConstraint(fields=["tenant", "kind", "value"],
                                               name="asset_tenant_kind_value")]

    @property
    def verified(self) -> bool:
        return self.verified_at is not None

    def __str__(self) -> str:
        state = "verified" if self.verified else "unverified"
        return f"{self.kind} {self.value} ({state})"
