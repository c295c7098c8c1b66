"""Writes for a tenant's assets: register, edit, delete, verify ownership, operator approval.

Nothing here enqueues a task. Ownership checks do network I/O outside any transaction and then store their
outcome with one conditional UPDATE.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import status

from config.errors import Conflict, DomainError, ValidationFailed
from scans.targets import TargetError, TargetType, parse_target
from tenants.assets.models import Asset
from tenants.assets.selectors import asset_get
from tenants.assets.verification import CheckResult, dns_txt_check, http_file_check, http_origins
from tenants.scope import image_repository, max_network_prefix, url_path_clean
from tenants.selectors import tenant_get

MAX_VALUE_CHARS = 1000
_PARSE_AS = {Asset.Kind.DOMAIN: "domain", Asset.Kind.IP: "ip", Asset.Kind.CIDR: "network",
             Asset.Kind.URL: "url", Asset.Kind.IMAGE: "image"}


class VerificationFailed(DomainError):
    """The ownership check ran and did not find the token; the attempt is stored on the asset."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    code = "verification_failed"


def _normalised_url(value: str) -> str:
    parts = urlsplit(parse_target(value, "url").value)
    default = {"http": 80, "https": 443}[parts.scheme]
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port not in (None, default):
        netloc += f":{parts.port}"
    path = url_path_clean(parts.path, decode=False)
    return f"{parts.scheme}://{netloc}{path}"  # the query and fragment say nothing of scope


def _normalised_image(value: str) -> str:
    text = value.strip().lower().rstrip("/")
    head, _, last = text.rpartition("/")
    registry_with_port = not head and ":" in last and last.rsplit(":", 1)[1].isdigit() and (
        "." in last.rsplit(":", 1)[0] or last.startswith("localhost:"))
    parse_target(f"{text}/x" if registry_with_port else text, "image")
    if "@" in text or (":" in last and not registry_with_port):
        raise TargetError(f"'{value}' names a tag or digest; an image asset is a registry/repository prefix "
                          "such as registry.example.com/team")
    return text if registry_with_port else image_repository(text)


MAX_ASSET_PREFIX = {4: 8, 6: 32}  # the widest network one organisation can plausibly hold


def asset_value_normalise(*, kind: str, value: str) -> str:
    """The canonical form of an asset value (scans.targets rules: punycode names, compressed addresses,
    CIDR at its network address). Raises ValidationFailed naming `value`. Writes nothing."""
    try:
        if kind == Asset.Kind.URL:
            normalised = _normalised_url(value)
        elif kind == Asset.Kind.IMAGE:
            normalised = _normalised_image(value)
        elif kind in _PARSE_AS:
            normalised = parse_target(value, _PARSE_AS[Asset.Kind(kind)]).value
        else:
            raise ValidationFailed(f"kind must be one of {', '.join(Asset.Kind.values)}", field="kind")
    except TargetError as exc:
        raise ValidationFailed(str(exc), field="value") from None
    if len(normalised) > MAX_VALUE_CHARS:
        raise ValidationFailed(f"value is longer than {MAX_VALUE_CHARS} characters", field="value")
    if kind == Asset.Kind.CIDR:
        network = ipaddress.ip_network(normalised)
        widest = MAX_ASSET_PREFIX[network.version]
        if network.prefixlen < widest:
            # no tenant owns a /7 or the whole address space; approving one would put the internet in scope
            raise ValidationFailed(f"a cidr asset may be at most a /{widest} (IPv{network.version}), not "
                                   f"{normalised}", field="value")
    return normalised


def asset_create(*, tenant_id: int, kind: str, value: str, name: str = "", production: bool = True) -> Asset:
    """Register an unverified asset with a fresh verification token. Writes one Asset. Not idempotent: the
    same kind and value registered twice is a Conflict (409)."""
    normalised = asset_value_normalise(kind=kind, value=value)
    try:
        with transaction.atomic():
            return Asset.objects.create(tenant_id=tenant_id, kind=kind, value=normalised, name=name,
                                        production=production)
    except IntegrityError:
        raise Conflict(f"this tenant already registered the {kind} asset {normalised}",
                       field="value") from None


def asset_update(*, tenant_id: int, asset_id: Any, name: str | None = None,
                 production: bool | None = None) -> Asset:
    """Change an asset's name or production flag (kind and value are fixed: register a new asset instead,
    so a verification never outlives the value it proved). Writes the Asset. Idempotent."""
    asset = asset_get(tenant_id=tenant_id, asset_id=asset_id)
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = name
    if production is not None:
        changes["production"] = production
    if changes:
        Asset.objects.for_tenant(tenant_id).filter(pk=asset.pk).update(**changes, updated_at=timezone.now())
        asset.refresh_from_db()
    return asset


def asset_delete(*, tenant_id: int, asset_id: Any) -> None:
    """Delete the asset; targets it covered leave the tenant's scope at once. Writes (deletes) one Asset.
    Not idempotent in its answer: a second call is NotFound (404)."""
    asset = asset_get(tenant_id=tenant_id, asset_id=asset_id)
    Asset.objects.for_tenant(tenant_id).filter(pk=asset.pk).delete()


def asset_methods(asset: Asset) -> list[str]:
    """The verification methods that apply to the asset's kind; "operator" means an approval in the admin."""
    if asset.kind == Asset.Kind.DOMAIN:
        return [Asset.Method.DNS, Asset.Method.HTTP]
    if asset.kind == Asset.Kind.URL:
        literal = parse_target(urlsplit(asset.value).hostname or "").type is not TargetType.DOMAIN
        return [Asset.Method.HTTP] if literal else [Asset.Method.DNS, Asset.Method.HTTP]
    if asset.kind in (Asset.Kind.IP, Asset.Kind.CIDR):
        return [Asset.Method.HTTP, Asset.Method.OPERATOR]
    return [Asset.Method.OPERATOR]


def _http_host(tenant_id: int, asset: Asset, host: str | None) -> str:
    """The host whose well-known file proves the asset: the domain, the URL's host, the IP, or for a cidr
    the host the tenant names (default its network address)."""
    if asset.kind == Asset.Kind.URL:
        return urlsplit(asset.value).hostname or ""
    if asset.kind != Asset.Kind.CIDR:
        return asset.value
    network = ipaddress.ip_network(asset.value)
    limit = max_network_prefix(tenant_get(tenant_id=tenant_id).plan.slug, network.version)
    if network.prefixlen < limit:
        raise ValidationFailed(f"{asset.value} is larger than a /{limit}: one host's file cannot prove a "
                               "network that size; ask an operator to approve it", field="method")
    if not host:
        return network.network_address.compressed
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValidationFailed(f"host must be an IP address inside {asset.value}", field="host") from None
    if address.version != network.version or address not in network:
        raise ValidationFailed(f"host {host} is not inside {asset.value}", field="host")
    return address.compressed


def _check(tenant_id: int, asset: Asset, method: str, host: str | None) -> CheckResult:
    if asset.kind == Asset.Kind.IMAGE:
        raise ValidationFailed("image assets are verified only by an operator's approval in the admin",
                               field="method")
    if method not in asset_methods(asset) or method == Asset.Method.OPERATOR:
        usable = [m for m in asset_methods(asset) if m != Asset.Method.OPERATOR]
        raise ValidationFailed(f"a {asset.kind} asset is verified by {' or '.join(usable)} "
                               "(or an operator's approval)", field="method")
    if host and asset.kind != Asset.Kind.CIDR:
        raise ValidationFailed("host applies only to the http verification of a cidr asset", field="host")
    if method == Asset.Method.DNS:
        domain = asset.value if asset.kind == Asset.Kind.DOMAIN else urlsplit(asset.value).hostname or ""
        return dns_txt_check(domain=domain, token=asset.token)
    target_host = _http_host(tenant_id, asset, host)
    if asset.kind == Asset.Kind.URL:
        parts = urlsplit(asset.value)
        origins = [(parts.scheme, parts.port or {"http": 80, "https": 443}[parts.scheme])]
    else:
        origins = http_origins()
    return http_file_check(host=target_host, token=asset.token, origins=origins)


def asset_verify(*, tenant_id: int, asset_id: Any, method: str, host: str | None = None) -> Asset:
    """Run the ownership check and store its outcome on the asset (last_checked_at, last_error and, on
    success, verified_at and verification_method). A definitive failure (no record, wrong token, HTTP 4xx)
    revokes an earlier verification made by the same method; transient trouble (timeouts, a server down)
    revokes nothing. Raises VerificationFailed (422) after storing a failure. Writes one Asset; safe to
    repeat (idempotent apart from last_checked_at)."""
    asset = asset_get(tenant_id=tenant_id, asset_id=asset_id)
    result = _check(tenant_id, asset, method, host)  # network I/O: no transaction or row lock held
    now = timezone.now()
    rows = Asset.objects.for_tenant(tenant_id).filter(pk=asset.pk)
    if result.ok:
        rows.update(verified_at=now, verification_method=method, verified_by="", last_checked_at=now,
                    last_error="", updated_at=now)
        asset.refresh_from_db()
        return asset
    with transaction.atomic():
        rows.update(last_checked_at=now, last_error=result.error[:500], updated_at=now)
        if result.definitive:
            rows.filter(verification_method=method).update(verified_at=None, verification_method="")
    raise VerificationFailed(f"ownership of {asset.value} not verified by {method}: {result.error}",
                             field="method", details={"asset_id": str(asset.uuid), "method": method,
                                                      "definitive": result.definitive})


def asset_approve(*, asset_pks: list[int], operator: str) -> int:
    """Operator approval (the admin's action, across tenants): mark the unverified assets among `asset_pks`
    verified by `operator`. Writes those Assets; returns how many changed. Idempotent: an asset already
    verified keeps its original proof."""
    now = timezone.now()
    return Asset.objects.filter(pk__in=asset_pks, verified_at__isnull=True).update(
        verified_at=now, verification_method=Asset.Method.OPERATOR, verified_by=operator[:150], last_error="",
        last_checked_at=now, updated_at=now)


def asset_revoke(*, asset_pks: list[int]) -> int:
    """Operator revocation (the admin's action): clear the verification of `asset_pks`, taking their targets
    out of scope. Writes those Assets; returns how many changed. Idempotent."""
    return Asset.objects.filter(pk__in=asset_pks, verified_at__isnull=False).update(
        verified_at=None, verification_method="", verified_by="", updated_at=timezone.now())
