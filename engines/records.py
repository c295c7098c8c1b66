"""Normalised records that every engine parser yields.

Parsers are pure functions from a file (or a stream) to an iterator of these frozen records. They import
nothing from Django, read no settings and touch no database: the scans and findings services store them.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urlsplit, urlunsplit
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Severity(StrEnum):
    """Lantern's one severity scale; every tool's scale maps onto it."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]

    @classmethod
    def from_cvss(cls, score: float | None) -> Severity:
        """CVSS v3 qualitative rating: 9.0+ critical, 7.0+ high, 4.0+ medium, 0.1+ low, else info."""
        if score is None or score <= 0:
            return cls.INFO
        if score >= 9.0:
            return cls.CRITICAL
        if score >= 7.0:
            return cls.HIGH
        if score >= 4.0:
            return cls.MEDIUM
        return cls.LOW


_SEVERITY_RANK = {
    Severity.CRITICAL: 4,
    Severity.HIGH: 3,
    Severity.MEDIUM: 2,
    Severity.LOW: 1,
    Severity.INFO: 0,
}


@dataclass(frozen=True, slots=True)
class HostRecord:
    """A host the tool saw. `ip` may be empty when a tool only reports a name (OSINT tools)."""

    ip: str
    hostname: str = ""
    mac: str = ""
    vendor: str = ""
    os_guess: str = ""
    state: str = "up"


@dataclass(frozen=True, slots=True)
class ServiceRecord:
    """A port on a host, with what runs there when the tool identified it."""

    host: str  # ip (or hostname when the tool gives no ip)
    port: int
    protocol: str = "tcp"
    state: str = "open"
    service: str = ""
    product: str = ""
    version: str = ""
    banner: str = ""
    cpes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CertificateRecord:
    """An X.509 certificate presented by a TLS service (the leaf unless `chain_position` > 0)."""

    host: str
    port: int | None
    subject: str
    issuer: str
    sans: tuple[str, ...] = ()
    not_before: datetime | None = None
    not_after: datetime | None = None
    key_type: str = ""
    key_bits: int | None = None
    signature_algorithm: str = ""
    fingerprint_sha256: str = ""
    serial: str = ""
    chain_position: int = 0


@dataclass(frozen=True, slots=True)
class AssetRecord:
    """Something discovered that is not a host yet: a subdomain, an e-mail address, a URL."""

    kind: str  # "subdomain" | "email" | "url" | "ip"
    value: str
    source: str = ""


@dataclass(frozen=True, slots=True)
class FindingRecord:
    """One issue a tool reported.

    `location` is the affected component as the tool names it (a URL, `package@version`, a file path);
    `host`/`port`/`protocol` place it on the network when the tool says where.
    """

    engine: str
    rule_id: str
    title: str
    severity: Severity
    host: str = ""
    port: int | None = None
    protocol: str = ""
    location: str = ""
    cvss_score: float | None = None
    cve_ids: tuple[str, ...] = ()
    cwe_ids: tuple[str, ...] = ()
    description: str = ""
    remediation: str = ""
    evidence: str = ""
    references: tuple[str, ...] = ()
    category: str = ""
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def component(self) -> str:
        """The affected component in one normalised string (what the fingerprint is keyed on)."""
        if self.location:
            return self.location.strip().lower()
        if self.host and self.port is not None:
            return f"{self.host.lower()}:{self.port}/{self.protocol or 'tcp'}"
        return self.host.lower()

    @property
    def issue_key(self) -> str:
        """What the issue is, independent of the tool when the issue has a public id (a CVE)."""
        if self.cve_ids:
            return min(cve.upper() for cve in self.cve_ids)
        return f"{self.engine}:{self.rule_id}".lower()

    @property
    def fingerprint(self) -> str:
        """sha256(issue_key | component): stable across runs, equal across tools for the same CVE."""
        return hashlib.sha256(f"{self.issue_key}|{self.component}".encode()).hexdigest()


Record = HostRecord | ServiceRecord | CertificateRecord | AssetRecord | FindingRecord

_DEFAULT_PORTS = {"http": 80, "https": 443}


# Already normal: lower-case http(s) scheme and host, a non-default port or none, a path. Most URLs tools
# print look like this, and recognising them skips urlsplit (the parsers' hottest call on big reports).
_NORMAL_URL = re.compile(r"(https?)://[a-z0-9.-]+(?::(\d+))?/[^#\s]*")


def normalise_url(value: str) -> str:
    """One spelling per resource, so the same URL gets one fingerprint whichever tool reported it:
    lower-case scheme and host, no default port (nikto writes https://h:443/, others https://h/), "/" for an
    empty path. A value that is not a URL is returned as it is (stripped)."""
    value = value.strip()
    if "://" not in value:
        return value
    normal = _NORMAL_URL.fullmatch(value)
    if normal and (normal.group(2) is None or int(normal.group(2)) != _DEFAULT_PORTS[normal.group(1)]):
        return value
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return value
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, parts.fragment))

EVIDENCE_MAX_CHARS = 4000


def clip(text: str | None, limit: int = EVIDENCE_MAX_CHARS) -> str:
    """Bound a free-text field so that one huge tool output cannot blow up a row."""
    if not text:
        return ""
    return text if len(text) <= limit else text[: limit - 1] + "…"
