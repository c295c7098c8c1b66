"""Reads of a tenant's assets. Every query is scoped by tenant_id; nothing here writes."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Q, QuerySet

from config.errors import NotFound
from tenants.assets.models import Asset


def _as_uuid(value: Any) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None


def asset_get(*, tenant_id: int, asset_id: Any) -> Asset:
    """The tenant's asset with this UUID. Raises NotFound (404) alike for a missing asset, another tenant's
    asset and a value that is not a UUID, so the answer never tells one from the other."""
    asset_uuid = _as_uuid(asset_id)
    asset = Asset.objects.for_tenant(tenant_id).filter(uuid=asset_uuid).first() if asset_uuid else None
    if asset is None:
        raise NotFound("Asset not found")
    return asset


def asset_list(*, tenant_id: int, kind: str | None = None, verified: bool | None = None,
               production: bool | None = None, search: str | None = None) -> QuerySet[Asset]:
    """The tenant's assets, newest first, filtered by kind, verification state, production flag and a
    case-insensitive substring of the value or name."""
    queryset = Asset.objects.for_tenant(tenant_id)
    if kind:
        queryset = queryset.filter(kind=kind)
    if verified is not None:
        queryset = queryset.filter(verified_at__isnull=not verified)
    if production is not None:
        queryset = queryset.filter(production=production)
    if search:
        queryset = queryset.filter(Q(value__icontains=search) | Q(name__icontains=search))
    return queryset.order_by("-created_at", "-pk")


def asset_list_matching(*, tenant_id: int, condition: Q) -> list[Asset]:
    """The tenant's assets that satisfy `condition` (tenants/scope.py's coarse pre-filter by kind and
    value; the exact coverage test runs in Python on this short list)."""
    return list(Asset.objects.for_tenant(tenant_id).filter(condition))
