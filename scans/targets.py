"""Target parsing: one function turns what a client typed into a typed, normalised Target or refuses it.

Types (seed 002's table plus container images): domain, host, ip, network, url, image.
- domain/host: DNS names; IDN labels are stored as punycode (IDNA 2008 with UTS 46 mapping).
  A domain needs two labels or more and an alphabetic (or xn--) TLD; a host may be a single label.
- ip: an IPv4 or IPv6 literal. network: CIDR, normalised to its network address; a bare IP becomes /32 or
  /128 when the type is network (seed 000's ip_range rule).
- url: http or https with a host; no credentials in the URL.
- image: a container image reference ([registry[:port]/]path[:tag][@sha256:digest]).
Nothing here resolves a name or opens a connection.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit, urlunsplit

import idna


class TargetType(StrEnum):
    DOMAIN = "domain"
    HOST = "host"
    IP = "ip"
    NETWORK = "network"
    URL = "url"
    IMAGE = "image"


class TargetError(ValueError):
    """Why a target was refused; the message names the value and the reason."""


@dataclass(frozen=True, slots=True)
class Target:
    raw: str
    type: TargetType
    value: str  # normalised: punycode name, compressed IP, network/prefix, canonical URL, image ref
    host: str  # the network host inside it (name or IP literal); "" for an image without a registry

    @property
    def is_name(self) -> bool:
        return bool(self.host) and not _is_ip(self.host)


MAX_TARGET_CHARS = 2048
MAX_NAME_CHARS = 253
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_TLD = re.compile(r"^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$")
# Refused in every target before typing: whitespace, control characters and shell/quoting metacharacters.
# `&`, `=` and `?` stay legal because URL query strings need them; no target ever reaches a shell anyway.
_FORBIDDEN = re.compile(r"[\s\x00-\x1f\x7f;|`$<>\\\"'(){}^]")
_IMAGE = re.compile(
    r"^(?:(?P<registry>(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:]+\])"
    r"(?::[0-9]{1,5})?)/)?"
    r"(?P<path>[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[a-f0-9]{64}))?$"
)


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _check_characters(raw: str) -> None:
    if not raw:
        raise TargetError("target must not be empty")
    if len(raw) > MAX_TARGET_CHARS:
        raise TargetError(f"target is longer than {MAX_TARGET_CHARS} characters")
    if raw.startswith("-"):
        raise TargetError(f"'{_shown(raw)}' looks like a command-line option, not a target")
    if match := _FORBIDDEN.search(raw):
        raise TargetError(f"'{_shown(raw)}' contains a forbidden character {match.group()!r}")


def _shown(raw: str) -> str:
    """The value as quoted back in an error: control characters escaped, length bounded."""
    text = raw.encode("unicode_escape").decode("ascii")
    return text if len(text) <= 80 else text[:77] + "..."


def normalise_name(raw: str, *, require_domain: bool) -> str:
    """A DNS name as lower-case punycode; TargetError when it is not a valid name."""
    name = raw.rstrip(".")
    kind = "domain" if require_domain else "host name"
    try:
        ascii_name = idna.encode(name, uts46=True).decode("ascii") if not name.isascii() else name.lower()
    except idna.IDNAError as exc:
        raise TargetError(f"'{_shown(raw)}' is not a valid {kind}: {exc}") from None
    if not ascii_name or len(ascii_name) > MAX_NAME_CHARS:
        raise TargetError(f"'{_shown(raw)}' is not a valid {kind}")
    labels = ascii_name.split(".")
    if not all(_LABEL.match(label) for label in labels):
        raise TargetError(f"'{_shown(raw)}' is not a valid {kind}")
    if require_domain and (len(labels) < 2 or not _TLD.match(labels[-1])):
        raise TargetError(f"'{_shown(raw)}' is not a valid domain")
    if not require_domain and len(labels) > 1 and labels[-1].isdigit():
        raise TargetError(f"'{_shown(raw)}' is not a valid host name")
    return ascii_name


def _parse_ip(raw: str) -> Target:
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        raise TargetError(f"'{_shown(raw)}' is not a valid IP address") from None
    return Target(raw=raw, type=TargetType.IP, value=address.compressed, host=address.compressed)


def _parse_network(raw: str) -> Target:
    try:
        network = ipaddress.ip_network(raw, strict=False)
    except ValueError:
        raise TargetError(f"'{_shown(raw)}' is not valid CIDR notation") from None
    value = network.with_prefixlen
    return Target(raw=raw, type=TargetType.NETWORK, value=value, host=network.network_address.compressed)


def _parse_url(raw: str) -> Target:
    parts = urlsplit(raw)
    if parts.scheme not in {"http", "https"}:
        raise TargetError(f"'{_shown(raw)}' is not an http(s) URL")
    if parts.username or parts.password:
        raise TargetError("URLs with credentials are not accepted; use the engine's authentication option")
    try:
        port = parts.port
    except ValueError:
        raise TargetError(f"'{_shown(raw)}' has an invalid port") from None
    hostname = parts.hostname or ""
    if not hostname:
        raise TargetError(f"'{_shown(raw)}' has no host")
    host = ipaddress.ip_address(hostname).compressed if _is_ip(hostname) else normalise_name(
        hostname, require_domain=False)
    netloc_host = f"[{host}]" if ":" in host else host
    netloc = f"{netloc_host}:{port}" if port is not None else netloc_host
    value = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    return Target(raw=raw, type=TargetType.URL, value=value, host=host)


def _parse_image(raw: str) -> Target:
    match = _IMAGE.match(raw)
    if match is None:
        raise TargetError(f"'{_shown(raw)}' is not a valid container image reference")
    registry = match.group("registry") or ""
    host = registry.rsplit(":", 1)[0].strip("[]") if registry else ""
    return Target(raw=raw, type=TargetType.IMAGE, value=raw, host=host)


def _parse_name(raw: str, target_type: TargetType) -> Target:
    value = normalise_name(raw, require_domain=target_type is TargetType.DOMAIN)
    return Target(raw=raw, type=target_type, value=value, host=value)


def infer_type(raw: str) -> TargetType:
    """seed 002: "If you omit targetType, the API infers it from the target format"."""
    if "://" in raw:
        return TargetType.URL
    if "/" in raw and _looks_like_network(raw):
        return TargetType.NETWORK
    if _is_ip(raw):
        return TargetType.IP
    if "/" in raw or "@" in raw or (":" in raw and not raw.rsplit(":", 1)[1].isdigit()):
        return TargetType.IMAGE
    if "." not in raw.rstrip("."):
        return TargetType.HOST
    return TargetType.DOMAIN


def _looks_like_network(raw: str) -> bool:
    address, _, prefix = raw.partition("/")
    return _is_ip(address) and prefix.isdigit()


def parse_target(raw: object, target_type: str | None = None) -> Target:
    """Parse `raw` as `target_type` (inferred when None). Raises TargetError with a readable reason."""
    if not isinstance(raw, str):
        raise TargetError("target must be a string")
    text = raw.strip()
    _check_characters(text)
    if target_type is None:
        kind = infer_type(text)
    else:
        try:
            kind = TargetType(target_type)
        except ValueError:
            known = ", ".join(t.value for t in TargetType)
            raise TargetError(f"unknown target type {target_type!r}; known: {known}") from None
    if kind is TargetType.URL:
        return _parse_url(text)
    if kind is TargetType.NETWORK:
        return _parse_network(text)
    if kind is TargetType.IP:
        return _parse_ip(text)
    if kind is TargetType.IMAGE:
        return _parse_image(text)
    if kind is TargetType.HOST and _is_ip(text):
        return Target(raw=text, type=TargetType.HOST, value=ipaddress.ip_address(text).compressed,
                      host=ipaddress.ip_address(text).compressed)
    return _parse_name(text, kind)
