"""Parse testssl.sh's flat JSON output (``--jsonfile FILE``) into Lantern records.

Format: a JSON list of objects ``{"id", "ip", "port", "severity", "finding"}`` plus optional ``"cve"`` and
``"cwe"`` (space-separated ids). ``ip`` is ``"hostname/ip"`` (a bare ip or name is accepted too); ``port``
is a string. Checks about one of several server certificates carry a `` <hostCert#N>`` suffix on their id.

Records:

* a HostRecord per ip and a ServiceRecord per (ip, port): service ``https`` when testssl's ``service`` check
  found HTTP, else ``tls``;
* a CertificateRecord (the leaf: testssl reports no chain) per (ip, port, certificate number) from the
  ``cert_*`` checks: subject ``CN=<cert_commonName>``, issuer rebuilt from ``cert_caIssuers`` ("CN (O from C)"
  becomes ``CN=..,O=..,C=..``), SANs, dates (testssl prints ``YYYY-MM-DD HH:MM`` without a zone; read as UTC),
  key type and bits from ``cert_keySize``, signature algorithm, SHA-256 fingerprint and serial (upper-case
  hex);
* a FindingRecord per entry of severity LOW or above, ``rule_id`` = the testssl id, CVE/CWE ids from the
  ``cve``/``cwe`` fields, the finding text as evidence. OK and INFO entries are facts, not issues: no finding.
  The summary ``overall_grade`` is emitted like any other check when its severity is LOW or above.

Severity mapping: OK, INFO -> info (never emitted); LOW -> low; MEDIUM -> medium; HIGH -> high;
CRITICAL -> critical. DEBUG entries are ignored.

WARN and FATAL are testssl's own scan problems (e.g. ``scanProblem`` "repeated TCP connect problems, giving
up"), not vulnerabilities of the target: ``parse()`` skips them and ``scan_problems()`` returns them as
messages, so the runner can fail or flag the step with a reason.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from engines.errors import ParseError
from engines.records import (CertificateRecord, FindingRecord, HostRecord, Record, ServiceRecord, Severity,
                             clip)

ENGINE = "testssl"

_SEVERITIES = {
    "OK": Severity.INFO,
    "INFO": Severity.INFO,
    "LOW": Severity.LOW,
    "MEDIUM": Severity.MEDIUM,
    "HIGH": Severity.HIGH,
    "CRITICAL": Severity.CRITICAL,
}
_REQUIRED = ("id", "ip", "port", "severity", "finding")
_PROBLEM_SEVERITIES = frozenset({"WARN", "FATAL"})
_IGNORED_SEVERITIES = frozenset({"DEBUG"})
_CERTIFICATE_ID = re.compile(r"^(cert_[A-Za-z0-9_]+?)(?: <hostCert#(\d+)>)?$")
_CERTIFICATE_FIELDS = frozenset({
    "cert_commonName", "cert_subjectAltName", "cert_notBefore", "cert_notAfter", "cert_keySize",
    "cert_signatureAlgorithm", "cert_fingerprintSHA256", "cert_serialNumber", "cert_caIssuers",
})
_ISSUER = re.compile(r"^(?P<cn>.*?)(?: \((?P<o>[^()]*?)(?: from (?P<c>[A-Z]{2}))?\))?$")
_KEY_SIZE = re.compile(r"^(?P<type>\S+)\s+(?P<bits>\d+)\s+bits")
_IDS = re.compile(r"[\s,]+")


@dataclass(frozen=True, slots=True)
class _Entry:
    """One validated testssl line: `host` is the ip (or the name when there is no ip)."""

    id: str
    host: str
    hostname: str
    port: int | None
    severity: str
    finding: str
    cves: tuple[str, ...]
    cwes: tuple[str, ...]


def parse(path: Path) -> Iterator[Record]:
    """Yield hosts, services, LOW+ findings and certificates; an empty file (or list) yields nothing."""
    entries = [entry for entry in _entries(path) if entry.severity not in _IGNORED_SEVERITIES]
    yield from _hosts(entries)
    yield from _services(entries)
    for entry in entries:
        severity = _SEVERITIES.get(entry.severity)
        if severity is not None and severity is not Severity.INFO:
            yield _finding(entry, severity)
    yield from _certificates(entries)


def scan_problems(path: Path, *, fatal_only: bool = False) -> list[str]:
    """testssl's WARN and FATAL entries as "host:port id: finding" messages, in file order. FATAL alone means
    the scan was aborted; WARN entries also come from complete scans (a check the local openssl cannot run),
    so `fatal_only` lets a caller fail a step on the first kind only."""
    wanted = frozenset({"FATAL"}) if fatal_only else _PROBLEM_SEVERITIES
    problems = [entry for entry in _entries(path) if entry.severity in wanted]
    return [clip(f"{e.host or '?'}:{'?' if e.port is None else e.port} {e.id}: {e.finding}")
            for e in problems]


def _entries(path: Path) -> list[_Entry]:
    """Load and validate the file; ParseError says which entry is wrong and how."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if not text.strip():
        return []
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(f"{path.name}: not valid JSON: {exc}") from exc
    if not isinstance(document, list):
        raise ParseError(f"{path.name}: not testssl.sh --jsonfile output: the top level is not a list "
                         "(--jsonfile-pretty and other formats are not supported)")
    return [_entry(item, index) for index, item in enumerate(document)]


def _entry(item: Any, index: int) -> _Entry:
    if not isinstance(item, dict):
        raise ParseError(f"entry {index} is not an object")
    missing = [key for key in _REQUIRED if not isinstance(item.get(key), str)]
    if missing:
        raise ParseError(f"entry {index} ({item.get('id', '?')}): missing or non-text {', '.join(missing)}")
    severity = item["severity"].upper()
    if severity not in _SEVERITIES and severity not in _PROBLEM_SEVERITIES | _IGNORED_SEVERITIES:
        raise ParseError(f"entry {index} ({item['id']}): unknown severity {item['severity']!r}")
    port_text = item["port"].strip()
    if port_text and not port_text.isdigit():
        raise ParseError(f"entry {index} ({item['id']}): port {item['port']!r} is not a number")
    host, hostname = _split_ip(item["ip"])
    return _Entry(
        id=item["id"], host=host, hostname=hostname, port=int(port_text) if port_text else None,
        severity=severity, finding=item["finding"],
        cves=_ids(item.get("cve"), "CVE-"), cwes=_ids(item.get("cwe"), "CWE-"),
    )


def _split_ip(value: str) -> tuple[str, str]:
    """"name/ip" -> (ip, name); a bare value (ip or name) is the host key as it is."""
    name, slash, address = value.strip().partition("/")
    if not slash or not address:
        return name, ""
    return address, "" if name == address else name


def _ids(value: Any, prefix: str) -> tuple[str, ...]:
    if not isinstance(value, str):
        return ()
    return tuple(token for token in _IDS.split(value.strip()) if token.upper().startswith(prefix))


def _hosts(entries: list[_Entry]) -> Iterator[HostRecord]:
    seen: dict[str, str] = {}
    for entry in entries:
        if entry.host and entry.host not in seen:
            seen[entry.host] = entry.hostname
    for host, hostname in seen.items():
        yield HostRecord(ip=host if _is_ip(host) else "", hostname=hostname or ("" if _is_ip(host) else host))


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _services(entries: list[_Entry]) -> Iterator[ServiceRecord]:
    services: dict[tuple[str, int], str] = {}
    for entry in entries:
        if entry.host and entry.port is not None:
            key = (entry.host, entry.port)
            services.setdefault(key, "tls")
            if entry.id == "service" and entry.finding.strip().upper() == "HTTP":
                services[key] = "https"
    for (host, port), service in services.items():
        yield ServiceRecord(host=host, port=port, service=service)


def _finding(entry: _Entry, severity: Severity) -> FindingRecord:
    extra = {"testssl_severity": entry.severity}
    if entry.hostname:
        extra["hostname"] = entry.hostname
    return FindingRecord(
        engine=ENGINE, rule_id=entry.id, title=clip(f"{entry.id}: {entry.finding}", 200), severity=severity,
        host=entry.host, port=entry.port, protocol="tcp" if entry.port is not None else "",
        cve_ids=entry.cves, cwe_ids=entry.cwes, evidence=clip(entry.finding), category="tls", extra=extra,
    )


def _certificates(entries: list[_Entry]) -> Iterator[CertificateRecord]:
    """One leaf per (host, port, hostCert#N) that has at least one of the certificate checks we read."""
    fields: dict[tuple[str, int | None, int], dict[str, str]] = {}
    for entry in entries:
        match = _CERTIFICATE_ID.match(entry.id)
        if match and match.group(1) in _CERTIFICATE_FIELDS:
            key = (entry.host, entry.port, int(match.group(2) or 1))
            fields.setdefault(key, {})[match.group(1)] = entry.finding.strip()
    for (host, port, _number), values in fields.items():
        yield _certificate(host, port, values)


def _certificate(host: str, port: int | None, values: dict[str, str]) -> CertificateRecord:
    common_name = _present(values.get("cert_commonName"))
    subject = f"CN={_escape(common_name)}" if common_name else ""
    key = _KEY_SIZE.match(values.get("cert_keySize", ""))
    return CertificateRecord(
        host=host,
        port=port,
        subject=clip(subject),
        issuer=clip(_issuer(values.get("cert_caIssuers", ""), subject)),
        sans=_sans(values.get("cert_subjectAltName", "")),
        not_before=_datetime(values.get("cert_notBefore")),
        not_after=_datetime(values.get("cert_notAfter")),
        key_type=key.group("type") if key else "",
        key_bits=int(key.group("bits")) if key else None,
        signature_algorithm=_present(values.get("cert_signatureAlgorithm")),
        fingerprint_sha256=_present(values.get("cert_fingerprintSHA256")).replace(":", "").upper(),
        serial=_present(values.get("cert_serialNumber")).replace(":", "").upper(),
    )


def _present(value: str | None) -> str:
    """testssl writes "--" or "" for "not available"."""
    return "" if not value or value.startswith("--") else value


def _issuer(value: str, subject: str) -> str:
    """Rebuild an RFC 4514 name from testssl's "CN (O from C)"; "selfsigned" means issuer == subject."""
    value = _present(value)
    if value.lower().startswith("self"):
        return subject
    match = _ISSUER.match(value)
    if not value or not match:
        return f"CN={_escape(value)}" if value else ""
    parts = [("CN", match.group("cn")), ("O", match.group("o")), ("C", match.group("c"))]
    return ",".join(f"{attribute}={_escape(text)}" for attribute, text in parts if text)


def _escape(value: str) -> str:
    """RFC 4514 attribute value escaping."""
    escaped = re.sub(r'([\\,+"<>;])', r"\\\1", value)
    if escaped.startswith(("#", " ")):
        escaped = "\\" + escaped
    if escaped.endswith(" ") and len(escaped) > 1:
        escaped = escaped[:-1] + "\\ "
    return escaped


def _sans(value: str) -> tuple[str, ...]:
    value = _present(value)
    if not value or value.lower().startswith("no san"):
        return ()
    return tuple(value.split())


def _datetime(value: str | None) -> datetime | None:
    value = _present(value)
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M").replace(tzinfo=timezone.utc)
    except ValueError as exc:
        raise ParseError(f"certificate date {value!r} is not YYYY-MM-DD HH:MM") from exc
