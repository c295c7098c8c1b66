"""The SSRF guard: which receiver URLs Lantern will call, and the one address it connects to.

A URL is resolved once (`resolve`, the only function that touches DNS, which tests replace); every address
the name resolves to must be public, otherwise the URL is refused. The connection then goes to the first of
those checked addresses (webhooks/transport.py sends Host and TLS SNI of the name), so a DNS answer that
changes between the check and the connect (rebinding) cannot redirect it. Refused: loopback (unless
LANTERN_WEBHOOK_ALLOW_LOOPBACK, which allows 127.0.0.0/8 and ::1 and nothing else), private, link-local,
CGNAT, multicast, reserved, unspecified and other special-purpose ranges, cloud metadata addresses and names
(LANTERN_DENY_NETWORKS / LANTERN_DENY_NAMES), and IPv6 forms that embed such an IPv4 address.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_URL_LENGTH = 2048
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_METADATA_NETWORKS = ("169.254.169.254/32", "169.254.170.2/32", "100.100.100.200/32", "fd00:ec2::254/128")
_METADATA_NAMES = ("metadata.google.internal", "metadata", "instance-data", "instance-data.ec2.internal")


class UrlRefused(ValueError):
    """The URL is malformed or points somewhere Lantern never calls. Permanent."""


class UrlUnresolvable(Exception):
    """The name did not resolve right now. Transient at delivery time."""


@dataclass(frozen=True, slots=True)
class PinnedUrl:
    url: str  # as validated
    scheme: str
    host: str  # ASCII (IDNA) name or address literal, without brackets
    port: int
    address: str  # the checked address the connection goes to
    request_url: str  # url with the address in place of the name
    host_header: str


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to, in resolver order. Raises UrlUnresolvable."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise UrlUnresolvable(f"{host} does not resolve ({exc})") from None
    addresses: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise UrlUnresolvable(f"{host} has no address")
    return addresses


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 translation form carries (mapped, NAT64, 6to4), if any."""
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if any(address in network for network in _NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def _metadata_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    listed = [*_METADATA_NETWORKS, *getattr(settings, "LANTERN_DENY_NETWORKS", [])]
    return [ipaddress.ip_network(network, strict=False) for network in listed]


def _refusal(address: IPAddress, *, loopback_ok: bool) -> str | None:
    if any(address in network for network in _metadata_networks()):
        return "a cloud metadata address"
    if address.is_loopback:
        return None if loopback_ok else "a loopback address"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if isinstance(address, ipaddress.IPv4Address) and address in _CGNAT:
        return "a carrier-grade NAT (shared) address"
    if address.is_reserved:
        return "a reserved address"
    if address.is_private:
        return "a private address"
    if not address.is_global:
        return "a special-purpose, non-public address"
    return None


def address_refusal(address: IPAddress) -> str | None:
    """Why Lantern does not call this address ("a private address"), or None when it may."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.teredo:
            return "a Teredo tunnel address"
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            # The translated IPv4 address decides, and never as loopback: the setting allows only
            # 127.0.0.0/8 and ::1 themselves.
            reason = _refusal(embedded, loopback_ok=False)
            if reason or address.sixtofour is None:
                return reason
    return _refusal(address, loopback_ok=settings.LANTERN_WEBHOOK_ALLOW_LOOPBACK)


def url_parse(url: str, *, https_only: bool = False) -> httpx.URL:
    """The URL parsed and checked for form: http(s), a host, no credentials, no control characters.
    `https_only` still lets http reach a loopback literal or localhost when loopback is allowed."""
    if not isinstance(url, str) or not url.strip():
        raise UrlRefused("the URL is empty")
    if len(url) > MAX_URL_LENGTH:
        raise UrlRefused(f"the URL is longer than {MAX_URL_LENGTH} characters")
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in url):
        raise UrlRefused("the URL contains spaces or control characters")
    if urlsplit(url).scheme.lower() not in {"http", "https"}:
        raise UrlRefused("the URL must start with https:// or http://")
    try:
        parsed = httpx.URL(url)
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
    except (httpx.InvalidURL, ValueError) as exc:
        raise UrlRefused(f"the URL is malformed ({exc})") from None
    if parsed.userinfo:
        raise UrlRefused("the URL must not carry a user name or password")
    if not parsed.raw_host:
        raise UrlRefused("the URL has no host")
    if not 0 < port < 65536:
        raise UrlRefused("the URL's port is out of range")
    if https_only and parsed.scheme != "https" and not _loopback_exempt(parsed.raw_host.decode("ascii")):
        raise UrlRefused("the URL must use https://")
    return parsed.copy_with(fragment=None)


def _loopback_exempt(host: str) -> bool:
    if not settings.LANTERN_WEBHOOK_ALLOW_LOOPBACK:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_pin(url: str, *, https_only: bool = False) -> PinnedUrl:
    """Parse, resolve once and check every address; the PinnedUrl says where to connect.
    Raises UrlRefused (permanent) or UrlUnresolvable (transient)."""
    parsed = url_parse(url, https_only=https_only)
    host = parsed.raw_host.decode("ascii")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    denied_names = {name.lower().rstrip(".") for name in (*_METADATA_NAMES,
                                                          *getattr(settings, "LANTERN_DENY_NAMES", []))}
    if host.lower().rstrip(".") in denied_names:
        raise UrlRefused(f"{host} is a cloud metadata name")
    addresses = resolve(host, port)
    for address in addresses:
        reason = address_refusal(address)
        if reason and host == str(address):
            raise UrlRefused(f"{host} is {reason}")
        if reason:
            raise UrlRefused(f"{host} resolves to {address}, which is {reason}")
    address = addresses[0]
    return PinnedUrl(url=str(parsed), scheme=parsed.scheme, host=host, port=port, address=str(address),
                     request_url=str(parsed.copy_with(host=str(address))),
                     host_header=parsed.netloc.decode("ascii"))
