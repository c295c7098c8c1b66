"""The per-tenant target scope, on top of the installation-wide policy of scans/policy.py.

- scope_check: with LANTERN_SCOPE_ENFORCED, a target must lie inside one of the tenant's VERIFIED assets
  (Forbidden, 403, otherwise). Coverage: a domain covers its name, its subdomains (unless it was proven
  only by an HTTP file, which proves one host, as ACME's http-01 does) and URLs on them; an ip or cidr covers
  addresses, networks entirely inside it and URLs on those addresses; a url covers its origin and the paths
  under its path; an image covers the references under its registry/repository prefix.
- network_size_check: the largest network a plan may scan (LANTERN_MAX_NETWORK_PREFIX), always applied.
- asset_is_non_production: whether the most specific verified asset covering a target is marked
  non-production (seed 002: sqlmap level > 3 / risk > 2 only there).
- asset_get / asset_covers: for seed 002's assetId.
Nothing here resolves a name or opens a connection; nothing here writes.
"""

from __future__ import annotations

import ipaddress
import posixpath
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.db.models import Q

from config.errors import Forbidden
from scans.targets import Target, TargetType
from tenants.assets.models import Asset
from tenants.assets.selectors import asset_get, asset_list_matching
from tenants.selectors import tenant_get

__all__ = ["asset_covers", "asset_get", "asset_is_non_production", "assets_covering", "covering_kinds",
           "network_size_check", "scope_check"]

# The largest network (smallest prefix length) each plan may scan, for IPv4; IPv6 gets the same number of
# addresses. A plan missing here gets the strictest limit listed. Overridden by the setting of this name.
DEFAULT_MAX_NETWORK_PREFIX = {"startup": 24, "professional": 20, "enterprise": 16}
DEFAULT_PORTS = {"http": 80, "https": 443}
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def url_path_clean(path: str, *, decode: bool = True) -> str:
    """A URL path with dot segments removed and (by default) percent-escapes decoded first, so
    "/app/..%2fadmin" is "/admin" and a path prefix test cannot be walked out of. Stored asset values keep
    their escapes (decode=False): a decoded "%3F" would read back as the start of a query."""
    decoded = unquote(path or "/") if decode else (path or "/")
    cleaned = "/" + posixpath.normpath("/" + decoded.lstrip("/")).lstrip("/")  # normpath keeps a leading "//"
    return cleaned + "/" if decoded.endswith("/") and cleaned != "/" else cleaned


def image_repository(reference: str) -> str:
    """An image reference without digest and tag: "reg.io:5000/team/app:1.2@sha256:…" → "reg.io:5000/team/app"
    (the repository that an image asset's prefix is compared with)."""
    name = reference.split("@", 1)[0]
    head, _, last = name.rpartition("/")
    if ":" in last:
        last = last.rsplit(":", 1)[0]
    return f"{head}/{last}" if head else last


def _address(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or DEFAULT_PORTS.get(parts.scheme, 0)


def _target_network(target: Target) -> IPNetwork | None:
    """The addresses a target sends traffic to, when they are literal: a network, or one address."""
    if target.type is TargetType.NETWORK:
        return ipaddress.ip_network(target.value)
    if target.type is TargetType.IMAGE:
        return None
    address = _address(target.host)
    return ipaddress.ip_network(address) if address is not None else None


def _target_name(target: Target) -> str | None:
    if target.type in (TargetType.NETWORK, TargetType.IMAGE) or not target.host or _address(target.host):
        return None
    return target.host.lower().rstrip(".")


def covers_subdomains(asset: Asset) -> bool:
    """An HTTP file proves control of one host only; DNS (or an operator) proves the whole zone."""
    return asset.verification_method != Asset.Method.HTTP


def _url_covers(asset_value: str, target: Target) -> bool:
    if target.type is not TargetType.URL or _origin(asset_value) != _origin(target.value):
        return False
    prefix = url_path_clean(urlsplit(asset_value).path)
    path = url_path_clean(urlsplit(target.value).path)
    if prefix.endswith("/"):
        return path.startswith(prefix) or path == prefix.rstrip("/")
    return path == prefix or path.startswith(prefix + "/")


def asset_covers(asset: Asset, target: Target) -> bool:
    """Whether the asset's claim covers the target, verified or not (scope_check adds that condition)."""
    if asset.kind == Asset.Kind.DOMAIN:
        name = _target_name(target)
        if name is None:
            return False
        return name == asset.value or (covers_subdomains(asset) and name.endswith("." + asset.value))
    if asset.kind in (Asset.Kind.IP, Asset.Kind.CIDR):
        network = _target_network(target)
        owned = ipaddress.ip_network(asset.value)
        if network is None or network.version != owned.version:
            return False
        return network.subnet_of(owned)  # type: ignore[arg-type]  # same version, checked above
    if asset.kind == Asset.Kind.URL:
        return _url_covers(asset.value, target)
    if asset.kind == Asset.Kind.IMAGE and target.type is TargetType.IMAGE:
        repository = image_repository(target.value.lower())
        return repository == asset.value or repository.startswith(asset.value + "/")
    return False


def covering_kinds(target: Target) -> tuple[str, ...]:
    """The asset kinds that could cover this target, for the refusal message and the pre-filter."""
    if target.type is TargetType.IMAGE:
        return (Asset.Kind.IMAGE,)
    network = _target_network(target)
    if target.type is TargetType.NETWORK:
        assert network is not None
        single = network.prefixlen == network.max_prefixlen
        return (Asset.Kind.CIDR, Asset.Kind.IP) if single else (Asset.Kind.CIDR,)
    literal = (Asset.Kind.IP, Asset.Kind.CIDR) if network is not None else (Asset.Kind.DOMAIN,)
    return (Asset.Kind.URL, *literal) if target.type is TargetType.URL else literal


def _matching(tenant_id: int, target: Target) -> list[Asset]:
    """The tenant's assets that might cover the target: a coarse, indexed pre-filter by kind and value."""
    condition = Q(pk__in=[])
    kinds = covering_kinds(target)
    network = _target_network(target)
    if Asset.Kind.DOMAIN in kinds:
        labels = (_target_name(target) or "").split(".")
        condition |= Q(kind=Asset.Kind.DOMAIN, value__in=[".".join(labels[i:]) for i in range(len(labels))])
    if Asset.Kind.IP in kinds and network is not None:
        condition |= Q(kind=Asset.Kind.IP, value=network.network_address.compressed)
    if Asset.Kind.CIDR in kinds:
        condition |= Q(kind=Asset.Kind.CIDR)
    if Asset.Kind.URL in kinds:
        scheme, host, _ = _origin(target.value)
        netloc = f"[{host}]" if ":" in host else host
        condition |= Q(kind=Asset.Kind.URL, value__startswith=f"{scheme}://{netloc}")
    if Asset.Kind.IMAGE in kinds:
        condition |= Q(kind=Asset.Kind.IMAGE)
    return asset_list_matching(tenant_id=tenant_id, condition=condition)


def assets_covering(*, tenant_id: int, target: Target) -> list[Asset]:
    """The tenant's assets, verified or not, whose claim covers the target. Reads only."""
    return [asset for asset in _matching(tenant_id, target) if asset_covers(asset, target)]


def _article(kind: str) -> str:
    return f"an {kind}" if kind in ("ip", "image") else f"a {kind}"


def scope_check(*, tenant_id: int, target: Target) -> None:
    """Raise Forbidden (403) unless a verified asset of the tenant covers the target. Reads only."""
    matching = _matching(tenant_id, target)
    covering = [asset for asset in matching if asset_covers(asset, target)]
    if any(asset.verified for asset in covering):
        return
    kinds = covering_kinds(target)
    message = (f"target '{target.value}' is outside this tenant's verified assets; register and verify "
               f"{' or '.join(_article(kind) for kind in kinds)} asset that covers it")
    unverified = [asset for asset in covering if not asset.verified]
    http_parents = [asset for asset in matching if asset.kind == Asset.Kind.DOMAIN and asset.verified
                    and not covers_subdomains(asset)]
    if unverified:
        message += f" (asset {unverified[0].value} covers it but is not verified yet)"
    elif http_parents:
        message += (f" (domain {http_parents[0].value} was verified by an HTTP file, which covers that host "
                    "only; verify it by DNS to cover its subdomains)")
    raise Forbidden(message, field="target", details={
        "target": target.value, "covering_kinds": [str(kind) for kind in kinds],
        "unverified_assets": [str(asset.uuid) for asset in unverified]})


def _specificity(asset: Asset) -> int:
    if asset.kind == Asset.Kind.URL:
        return 100_000 + len(urlsplit(asset.value).path)
    if asset.kind in (Asset.Kind.IP, Asset.Kind.CIDR):
        return 10_000 + ipaddress.ip_network(asset.value).prefixlen
    return len(asset.value)


def asset_is_non_production(*, tenant_id: int, target: Target) -> bool:
    """True when the most specific verified asset covering the target is marked non-production (a tie
    counts as production). Unverified assets never lower the bar. Reads only."""
    covering = [asset for asset in assets_covering(tenant_id=tenant_id, target=target) if asset.verified]
    if not covering:
        return False
    best = max(_specificity(asset) for asset in covering)
    return not any(asset.production for asset in covering if _specificity(asset) == best)


def max_network_prefix(plan_slug: str, version: int) -> int:
    """The smallest prefix length (largest network) a plan may scan: LANTERN_MAX_NETWORK_PREFIX for IPv4,
    the same number of addresses for IPv6; a plan not listed gets the strictest limit listed."""
    limits: dict[str, int] = getattr(settings, "LANTERN_MAX_NETWORK_PREFIX", DEFAULT_MAX_NETWORK_PREFIX)
    limit_v4 = limits.get(plan_slug, max(limits.values()))
    return limit_v4 if version == 4 else 128 - (32 - limit_v4)


def network_size_check(*, tenant_id: int, target: Target) -> None:
    """Raise Forbidden (403) when a network target is larger than the tenant's plan may scan. Applies
    whether or not scope is enforced. Reads only."""
    if target.type is not TargetType.NETWORK:
        return
    network = ipaddress.ip_network(target.value)
    plan = tenant_get(tenant_id=tenant_id).plan
    limit = max_network_prefix(plan.slug, network.version)
    if network.prefixlen < limit:
        raise Forbidden(
            f"network {network.with_prefixlen} is larger than the {plan.name} plan allows: networks of "
            f"/{limit} ({2 ** (network.max_prefixlen - limit)} addresses) or smaller; split it into smaller "
            "scans",
            field="target", details={"plan": plan.slug, "max_prefix": limit},
        )
