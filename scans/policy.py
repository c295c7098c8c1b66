"""The target policy: which parsed targets this installation may scan. It never resolves a name.

- "loopback" (development and tests): only 127.0.0.0/8 and ::1, `localhost`, `*.localhost` and the names
  pinned in LANTERN_LOOPBACK_NAMES ("name=127.0.0.2"). Everything else is refused, so a mistake fails loudly
  instead of scanning the internet.
- "public" (production): any valid target that is not on the deny-list.
The deny-list (cloud metadata addresses, the platform's own hosts) applies under both.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import cache

from django.conf import settings

from scans.targets import Target, TargetError, TargetType

LOOPBACK_V4 = ipaddress.ip_network("127.0.0.0/8")
LOOPBACK_V6 = ipaddress.ip_network("::1/128")


@dataclass(frozen=True, slots=True)
class Admitted:
    """A target the policy admits, and the address a tool must use for it (None: the tool may resolve)."""

    target: Target
    pinned_address: str | None


@cache
def _pinned_names(entries: tuple[str, ...]) -> dict[str, str]:
    pinned: dict[str, str] = {}
    for entry in entries:
        name, _, address = entry.partition("=")
        parsed = ipaddress.ip_address(address.strip())
        if not _is_loopback(parsed):
            raise ValueError(f"LANTERN_LOOPBACK_NAMES: {address} is not a loopback address")
        pinned[name.strip().lower()] = parsed.compressed
    return pinned


def _is_loopback(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return address in LOOPBACK_V4 if address.version == 4 else address in LOOPBACK_V6


def _denied(target: Target) -> str | None:
    host = target.host.lower()
    if host and host in {name.lower() for name in settings.LANTERN_DENY_NAMES}:
        return f"'{host}' is on the deny-list"
    networks = [ipaddress.ip_network(n) for n in settings.LANTERN_DENY_NETWORKS]
    if target.type is TargetType.NETWORK:
        scanned = ipaddress.ip_network(target.value)
        if any(scanned.version == n.version and scanned.overlaps(n) for n in networks):
            return f"{target.value} overlaps a denied network"
    elif host:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return None
        if any(address in n for n in networks if n.version == address.version):
            return f"{address} is a denied address (cloud metadata or platform host)"
    return None


def _loopback_address(target: Target) -> str | None:
    """The loopback address a target stands for under the loopback policy, or None if it is not one."""
    if target.type is TargetType.NETWORK:
        network = ipaddress.ip_network(target.value)
        inside = network.subnet_of(LOOPBACK_V4) if network.version == 4 else network.subnet_of(LOOPBACK_V6)
        return network.network_address.compressed if inside else None
    host = target.host.lower()
    if not host:
        return None
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if host == "localhost" or host.endswith(".localhost"):
            return "127.0.0.1"
        return _pinned_names(tuple(settings.LANTERN_LOOPBACK_NAMES)).get(host)
    return address.compressed if _is_loopback(address) else None


def admit(target: Target) -> Admitted:
    """Admit the target under the configured policy or raise TargetError saying why not."""
    if reason := _denied(target):
        raise TargetError(f"target refused: {reason}")
    policy = settings.LANTERN_TARGET_POLICY
    if policy == "loopback":
        address = _loopback_address(target)
        if address is None:
            raise TargetError(
                f"target '{target.value}' is outside this installation's loopback-only target policy: "
                "only 127.0.0.0/8, ::1, localhost and configured test names may be scanned here"
            )
        pinned = None if target.type is TargetType.NETWORK else address
        return Admitted(target=target, pinned_address=pinned)
    if policy == "public":
        return Admitted(target=target, pinned_address=None)
    raise TargetError(f"unknown LANTERN_TARGET_POLICY {policy!r}")
