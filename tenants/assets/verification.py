"""Ownership checks: a DNS TXT record or an HTTP well-known file that carries an asset's token.

Both are plain functions returning a CheckResult; they write nothing (tenants/assets/services.py stores the
outcome). Traffic goes only where the installation's target policy (scans/policy.py) admits a scan: under
the loopback policy of development and tests that is 127.0.0.0/8, ::1 and the pinned LANTERN_LOOPBACK_NAMES,
and a pinned name is connected to at its pinned address, never resolved. DNS queries go to the resolvers in
LANTERN_VERIFY_DNS_SERVERS ("address" or "address:port"; empty = the system's).
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import dns.exception
import dns.nameserver
import dns.resolver
import httpx
from django.conf import settings

from scans.policy import admit
from scans.targets import TargetError, parse_target

CHALLENGE_LABEL = "_lantern-challenge"
WELL_KNOWN_PATH = "/.well-known/lantern-verification.txt"
MAX_REDIRECTS = 3
DEFAULT_PORTS = {"http": 80, "https": 443}
# Defaults of the settings of the same names (config/settings/parts/scans.py).
DEFAULT_HTTP_PORTS = {"https": 443, "http": 80}  # the schemes tried for domain, ip and cidr assets, in order
DEFAULT_TIMEOUT_S = 5.0
DEFAULT_MAX_BODY_BYTES = 16 * 1024
DEFAULT_CA_FILE = ""  # "": the CA bundle httpx trusts by default; a path: an installation's own CA


@dataclass(frozen=True, slots=True)
class CheckResult:
    ok: bool
    error: str = ""
    # False for trouble that says nothing about ownership (a timeout, a server down, a resolver failure):
    # such a failure does not revoke an earlier verification.
    definitive: bool = True


def _setting(name: str, default: object) -> object:
    return getattr(settings, name, default)


def _timeout_s() -> float:
    return float(_setting("LANTERN_VERIFY_TIMEOUT_S", DEFAULT_TIMEOUT_S))  # type: ignore[arg-type]


def dns_nameservers() -> list[dns.nameserver.Nameserver]:
    """LANTERN_VERIFY_DNS_SERVERS as nameservers: "192.0.2.53", "192.0.2.53:5353", "[2001:db8::53]:53"."""
    servers: list[dns.nameserver.Nameserver] = []
    for entry in _setting("LANTERN_VERIFY_DNS_SERVERS", []):  # type: ignore[attr-defined]
        text = str(entry).strip()
        if text.startswith("["):
            address, _, port = text[1:].partition("]:")
            address = address.rstrip("]")
        elif text.count(":") == 1:
            address, _, port = text.partition(":")
        else:
            address, port = text, ""
        ipaddress.ip_address(address)  # a resolver is an address: naming one would need a resolver
        servers.append(dns.nameserver.Do53Nameserver(address, int(port) if port else 53))
    return servers


def dns_txt_check(*, domain: str, token: str) -> CheckResult:
    """Whether a TXT record at _lantern-challenge.<domain> contains the token."""
    qname = f"{CHALLENGE_LABEL}.{domain}"
    try:
        servers = dns_nameservers()
        resolver = dns.resolver.Resolver(configure=not servers)
        if servers:
            resolver.nameservers = servers
        resolver.timeout = resolver.lifetime = _timeout_s()
        answer = resolver.resolve(qname, "TXT", search=False)
    except dns.resolver.NXDOMAIN:
        return CheckResult(False, f"no TXT record at {qname} (the name does not exist)")
    except dns.resolver.NoAnswer:
        return CheckResult(False, f"no TXT record at {qname}")
    except (dns.exception.DNSException, OSError, ValueError) as exc:
        return CheckResult(False, f"DNS lookup of {qname} failed: {exc}"[:500], definitive=False)
    texts = [b"".join(record.strings).decode("utf-8", "replace") for record in answer]
    if any(token in text for text in texts):
        return CheckResult(True)
    return CheckResult(False, f"the TXT record at {qname} does not contain this asset's token")


class _Refused(Exception):
    """The host may not be contacted (target policy or deny-list) or cannot be resolved."""

    def __init__(self, message: str, *, definitive: bool = True):
        super().__init__(message)
        self.definitive = definitive


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _netloc(host: str, scheme: str, port: int) -> str:
    return _bracketed(host) if DEFAULT_PORTS.get(scheme) == port else f"{_bracketed(host)}:{port}"


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def connect_address(host: str) -> str:
    """The address to connect to for `host`: the policy's pinned address, the literal itself, or the name
    resolved once here (and then used, so a second resolution cannot rebind it). Every address is admitted
    by scans.policy first; raises _Refused otherwise."""
    try:
        admitted = admit(parse_target(host))
    except TargetError as exc:
        raise _Refused(f"{host} may not be contacted: {exc}") from None
    if admitted.pinned_address:
        return admitted.pinned_address
    if _is_address(host):
        return ipaddress.ip_address(host).compressed
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise _Refused(f"{host} could not be resolved: {exc}", definitive=False) from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    for address in addresses:
        try:
            admit(parse_target(address, "ip"))
        except TargetError as exc:
            raise _Refused(f"{host} resolves to an address that may not be contacted: {exc}") from None
    if not addresses:
        raise _Refused(f"{host} has no address", definitive=False)
    return addresses[0]


def _read_capped(response: httpx.Response) -> str:
    limit = int(_setting("LANTERN_VERIFY_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES))  # type: ignore[call-overload]
    body = bytearray()
    for chunk in response.iter_raw():  # undecoded: a compressed body cannot expand past the cap
        body.extend(chunk)
        if len(body) >= limit:
            break
    return bytes(body[:limit]).decode("utf-8", "replace")


def _fetch(client: httpx.Client, *, host: str, address: str, scheme: str, port: int,
           token: str) -> CheckResult:
    """GET the well-known file from `address`, sending `host` as Host (and SNI); redirects are followed only
    while they stay on the same host."""
    path = WELL_KNOWN_PATH
    for _ in range(MAX_REDIRECTS + 1):
        shown = f"{scheme}://{_netloc(host, scheme, port)}{path}"
        extensions = {"sni_hostname": host} if scheme == "https" and not _is_address(host) else {}
        try:
            url = f"{scheme}://{_netloc(address, scheme, port)}{path}"
            headers = {"Host": _netloc(host, scheme, port)}
            with client.stream("GET", url, headers=headers, extensions=extensions) as response:
                if response.is_redirect:
                    location = urlsplit(urljoin(shown, response.headers.get("location", "")))
                    same_host = (location.hostname or "").lower() == host.lower()
                    if not same_host or location.scheme not in DEFAULT_PORTS:
                        return CheckResult(False, f"{shown} redirects to another host; redirects must stay "
                                                  f"on {host}")
                    scheme, port = location.scheme, location.port or DEFAULT_PORTS[location.scheme]
                    path = (location.path or "/") + (f"?{location.query}" if location.query else "")
                    continue
                if response.status_code != 200:
                    return CheckResult(False, f"{shown} answered HTTP {response.status_code}",
                                       definitive=response.status_code < 500
                                       and response.status_code not in (408, 429))
                body = _read_capped(response)
        except httpx.HTTPError as exc:
            return CheckResult(False, f"{shown} could not be fetched: {type(exc).__name__}: {exc}"[:500],
                               definitive=False)
        if token in body:
            return CheckResult(True)
        return CheckResult(False, f"{shown} does not contain this asset's token")
    return CheckResult(False, f"too many redirects fetching the verification file from {host}")


def http_file_check(*, host: str, token: str, origins: list[tuple[str, int]]) -> CheckResult:
    """Whether <scheme>://<host>:<port>/.well-known/lantern-verification.txt contains the token, for the first
    (scheme, port) of `origins` that has it. Every failure is reported; the outcome is definitive only when
    every origin answered definitively."""
    try:
        address = connect_address(host)
    except _Refused as exc:
        return CheckResult(False, str(exc)[:500], definitive=exc.definitive)
    failures: list[CheckResult] = []
    timeout = httpx.Timeout(_timeout_s())
    ca_file = str(_setting("LANTERN_VERIFY_CA_FILE", DEFAULT_CA_FILE))
    verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=ca_file) if ca_file else True
    # trust_env=False: no proxy from the environment may carry the request somewhere else.
    with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False, verify=verify,
                      headers={"User-Agent": "Lantern-Verification/1", "Accept": "text/plain",
                               "Accept-Encoding": "identity"}) as client:
        for scheme, port in origins:
            result = _fetch(client, host=host, address=address, scheme=scheme, port=port, token=token)
            if result.ok:
                return result
            failures.append(result)
    if not failures:
        return CheckResult(False, "no HTTP origin is configured to check (LANTERN_VERIFY_HTTP_PORTS)",
                           definitive=False)
    return CheckResult(False, "; ".join(failure.error for failure in failures)[:500],
                       definitive=all(failure.definitive for failure in failures))


def http_origins() -> list[tuple[str, int]]:
    """The (scheme, port) pairs tried for domain, ip and cidr assets (LANTERN_VERIFY_HTTP_PORTS, in order)."""
    ports: dict[str, int] = _setting("LANTERN_VERIFY_HTTP_PORTS", DEFAULT_HTTP_PORTS)  # type: ignore[assignment]
    return [(scheme, int(port)) for scheme, port in ports.items() if scheme in DEFAULT_PORTS and port]
