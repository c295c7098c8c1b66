"""Parse sslscan 2.x's XML output (``--xml=FILE``) into Lantern records.

Format: ``<document title="SSLScan Results" version="2.x">`` holding one ``<ssltest host sniname port>`` per
target (each with ``<protocol type version enabled>``, ``<renegotiation supported secure>``,
``<compression supported>``, ``<heartbleed sslversion vulnerable>``, ``<cipher status sslversion bits cipher
strength>`` and ``<certificates>``) and ``<error>`` elements for targets it could not scan. sslscan exits 0
even when it could not connect, so ``<error>`` is the only trace of a failure: ``scan_problems()`` returns
those messages and ``parse()`` yields nothing for them. The XML is read with defusedxml only.

Certificates: sslscan reports the leaf only. The ``type="short"`` block (always written) gives the subject
and issuer *common names*, SANs, dates, key, signature algorithm and sslscan's own ``self-signed`` and
``expired`` verdicts; the ``type="full"`` block (``--show-certificate``) adds the full subject and issuer (in
openssl's ``/C=../CN=..`` form, converted to RFC 4514; a ``/`` inside a value cannot be told apart), the
serial and the PEM, from which the SHA-256 fingerprint is computed. Without the full block the subject is
``CN=<common name>`` and there is no serial or fingerprint. Dates are GMT. Whether a certificate is expired is
sslscan's verdict at scan time (the XML carries no scan date): "not yet valid" is not reported.

Records per ``<ssltest>``: a HostRecord (``host`` when it is an ip, with ``sniname`` as hostname when that is
a name), a ServiceRecord (``https`` on port 443, else ``tls``), a CertificateRecord and these findings:

=============================  ==========  ========================================================
rule_id                        severity    when
=============================  ==========  ========================================================
cert-expired                   high        ``<expired>true``
cert-self-signed               medium      ``<self-signed>true``
tls-protocol-sslv2/sslv3       high        SSL 2.0 / SSL 3.0 enabled
tls-protocol-tls1_0/tls1_1     medium      TLS 1.0 / TLS 1.1 enabled
tls-weak-ciphers               high/med.   sslscan strength null, weak or anonymous (or NULL, EXP, ADH,
                                           AECDH names, < 64 bits) / strength medium (or RC4, DES,
                                           3DES, IDEA names, < 128 bits); one finding per service
tls-no-tls1_3                  info        TLS 1.3 tested and not enabled
heartbleed                     high        any ``<heartbleed vulnerable="1">`` (CVE-2014-0160)
tls-insecure-renegotiation     medium      renegotiation supported but not secure (CVE-2009-3555)
tls-compression-crime          medium      ``<compression supported="1">`` (CVE-2012-4929)
=============================  ==========  ========================================================

Rule ids, severities and CVE/CWE ids are the sslyze parser's, so both tools agree on the same issue.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from xml.etree.ElementTree import Element
from xml.etree.ElementTree import ParseError as XmlParseError

from defusedxml import DefusedXmlException
from defusedxml import ElementTree

from engines.errors import ParseError
from engines.records import (CertificateRecord, FindingRecord, HostRecord, Record, ServiceRecord, Severity,
                             clip)

ENGINE = "sslscan"

# (type, version) -> (label, sslversion attribute of its ciphers, rule_id, severity)
_LEGACY_PROTOCOLS = {
    ("ssl", "2"): ("SSL 2.0", "SSLv2", "tls-protocol-sslv2", Severity.HIGH),
    ("ssl", "3"): ("SSL 3.0", "SSLv3", "tls-protocol-sslv3", Severity.HIGH),
    ("tls", "1.0"): ("TLS 1.0", "TLSv1.0", "tls-protocol-tls1_0", Severity.MEDIUM),
    ("tls", "1.1"): ("TLS 1.1", "TLSv1.1", "tls-protocol-tls1_1", Severity.MEDIUM),
}
_STRENGTH = {
    "null": Severity.HIGH,
    "weak": Severity.HIGH,
    "anonymous": Severity.HIGH,
    "medium": Severity.MEDIUM,
}
_MONTHS = {name: number for number, name in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1)}
_DATE = re.compile(
    r"^(?P<month>[A-Z][a-z]{2})\s+(?P<day>\d{1,2})\s+(?P<time>\d{2}:\d{2}:\d{2})\s+(?P<year>\d{4})")
_PEM = re.compile(r"-----BEGIN CERTIFICATE-----(?P<body>.+?)-----END CERTIFICATE-----", re.DOTALL)


@dataclass(frozen=True, slots=True)
class _Target:
    """Where a finding sits: the host key (ip, or the name sslscan was given) and the port."""

    host: str
    port: int
    hostname: str


def parse(path: Path) -> Iterator[Record]:
    """Yield the records of every ``<ssltest>``; an empty file yields nothing."""
    root = _load(path)
    if root is None:
        return
    for index, test in enumerate(root.iter("ssltest")):
        yield from _test_records(test, index)


def scan_problems(path: Path) -> list[str]:
    """sslscan's ``<error>`` messages (e.g. "Could not open a connection to host ..."), in file order."""
    root = _load(path)
    if root is None:
        return []
    return [clip((error.text or "").strip() or "unknown error") for error in root.iter("error")]


def _load(path: Path) -> Element | None:
    """Parse with defusedxml; None for an empty file, ParseError for anything but sslscan's XML."""
    data = path.read_bytes()
    if not data.strip():
        return None
    try:
        root = ElementTree.fromstring(data)
    except (XmlParseError, DefusedXmlException) as exc:
        raise ParseError(f"{path.name}: not well-formed or unsafe XML: {exc}") from exc
    if root.tag != "document" or "sslscan" not in (root.get("title") or "").lower():
        raise ParseError(f"{path.name}: not sslscan --xml output: root element is <{root.tag}>, "
                         "expected <document title=\"SSLScan Results\">")
    return root


def _test_records(test: Element, index: int) -> Iterator[Record]:
    target = _target(test, index)
    yield HostRecord(ip=target.host if _is_ip(target.host) else "", hostname=target.hostname)
    yield ServiceRecord(host=target.host, port=target.port, service="https" if target.port == 443 else "tls")
    certificates = test.find("certificates")
    if certificates is not None and len(certificates):
        yield from _certificate_records(certificates, target)
    yield from _protocol_findings(test, target)
    yield from _vulnerability_findings(test, target)


def _target(test: Element, index: int) -> _Target:
    host = (test.get("host") or "").strip()
    port = (test.get("port") or "").strip()
    if not host or not port.isdigit():
        raise ParseError(f"<ssltest> #{index}: host {host!r} / port {port!r} missing or not a number")
    sni = (test.get("sniname") or "").strip()
    if _is_ip(host):
        return _Target(host, int(port), "" if not sni or _is_ip(sni) else sni)
    return _Target(host, int(port), host)


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _certificate_records(certificates: Element, target: _Target) -> Iterator[Record]:
    """The leaf from the full block when present, completed by the short block; then its findings."""
    full = certificates.find("certificate[@type='full']")
    short = certificates.find("certificate[@type='short']")
    if short is None and full is None:
        short = certificates.find("certificate")
    parts = [block for block in (full, short) if block is not None]
    subject = _name(_text(full, "subject"), slash_form=True) or _name(_text(short, "subject"))
    issuer = _name(_text(full, "issuer"), slash_form=True) or _name(_text(short, "issuer"))
    key = next((block.find("pk") for block in parts if block.find("pk") is not None), None)
    bits = (key.get("bits") or "") if key is not None else ""
    yield CertificateRecord(
        host=target.host,
        port=target.port,
        subject=clip(subject),
        issuer=clip(issuer),
        sans=_sans(_first(parts, "altnames") or _san_extension(full)),
        not_before=_datetime(_first(parts, "not-valid-before")),
        not_after=_datetime(_first(parts, "not-valid-after")),
        key_type=(key.get("type") or "") if key is not None else "",
        key_bits=int(bits) if bits.isdigit() else None,
        signature_algorithm=_signature(_first(parts, "signature-algorithm")),
        fingerprint_sha256=_fingerprint(_text(full, "certificate-blob")),
        serial=_serial(_text(full, "serial")),
    )
    if _first(parts, "expired").lower() == "true":
        yield _finding(target, "cert-expired", "Certificate expired", Severity.HIGH, category="certificate",
                       evidence=f"{subject}: not valid after {_first(parts, 'not-valid-after')}",
                       remediation="Renew the certificate.")
    if _first(parts, "self-signed").lower() == "true":
        yield _finding(target, "cert-self-signed", "Self-signed certificate", Severity.MEDIUM,
                       evidence=f"{subject} issued by {issuer}", category="certificate",
                       remediation="Use a certificate issued by a trusted certificate authority.")


def _text(block: Element | None, tag: str) -> str:
    if block is None:
        return ""
    child = block.find(tag)
    return (child.text or "").strip() if child is not None else ""


def _first(blocks: list[Element], tag: str) -> str:
    return next((value for value in (_text(block, tag) for block in blocks) if value), "")


def _name(value: str, *, slash_form: bool = False) -> str:
    """openssl's "/C=US/CN=x" (most general first) to RFC 4514 "CN=x,C=US"; a bare common name to "CN=x"."""
    if not value:
        return ""
    if not slash_form or not value.startswith("/"):
        return f"CN={_escape(value)}"
    pairs = [part.partition("=") for part in value.strip("/").split("/") if part]
    return ",".join(f"{attribute}={_escape(text)}" for attribute, _, text in reversed(pairs))


def _escape(value: str) -> str:
    """RFC 4514 attribute value escaping."""
    escaped = re.sub(r'([\\,+"<>;])', r"\\\1", value)
    if escaped.startswith(("#", " ")):
        escaped = "\\" + escaped
    return escaped[:-1] + "\\ " if escaped.endswith(" ") and len(escaped) > 1 else escaped


def _san_extension(full: Element | None) -> str:
    if full is None:
        return ""
    for extension in full.iter("extension"):
        if extension.get("name") == "X509v3 Subject Alternative Name":
            return (extension.text or "").strip()
    return ""


def _sans(value: str) -> tuple[str, ...]:
    """"DNS:a, IP Address:1.2.3.4" -> ("a", "1.2.3.4")."""
    names = (item.strip().partition(":") for item in value.split(",") if item.strip())
    return tuple(text.strip() if separator else kind.strip() for kind, separator, text in names)


def _datetime(value: str) -> datetime | None:
    """"Nov 21 07:15:00 2026 GMT" without the locale-dependent %b."""
    if not value:
        return None
    match = _DATE.match(value)
    if not match or match.group("month") not in _MONTHS:
        raise ParseError(f"certificate date {value!r} is not 'Mon DD HH:MM:SS YYYY GMT'")
    hour, minute, second = (int(part) for part in match.group("time").split(":"))
    return datetime(int(match.group("year")), _MONTHS[match.group("month")], int(match.group("day")),
                    hour, minute, second, tzinfo=timezone.utc)


def _signature(value: str) -> str:
    return value.strip().removeprefix("Signature Algorithm:").strip()


def _fingerprint(blob: str) -> str:
    match = _PEM.search(blob)
    if not match:
        return ""
    try:
        der = base64.b64decode("".join(match.group("body").split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ParseError("<certificate-blob> does not hold a base64 PEM certificate") from exc
    return hashlib.sha256(der).hexdigest().upper()


def _serial(value: str) -> str:
    """"4096 (0x1000)" or "4d:06:82:..." -> openssl's upper-case hex padded to whole bytes."""
    match = re.search(r"\(0x([0-9a-fA-F]+)\)", value)
    digits = match.group(1) if match else re.sub(r"[\s:]", "", value)
    if not re.fullmatch(r"[0-9a-fA-F]*", digits):
        return ""
    digits = digits.upper()
    return digits.zfill(len(digits) + len(digits) % 2)


def _protocol_findings(test: Element, target: _Target) -> Iterator[FindingRecord]:
    """Legacy protocols, weak cipher suites and a missing TLS 1.3."""
    ciphers = [cipher for cipher in test.iter("cipher") if cipher.get("status") in ("accepted", "preferred")]
    for protocol in test.iter("protocol"):
        key = ((protocol.get("type") or "").lower(), protocol.get("version") or "")
        enabled = protocol.get("enabled") == "1"
        if key in _LEGACY_PROTOCOLS and enabled:
            label, ssl_version, rule_id, severity = _LEGACY_PROTOCOLS[key]
            names = ", ".join(c.get("cipher", "?") for c in ciphers if c.get("sslversion") == ssl_version)
            yield _finding(target, rule_id, f"{label} accepted", severity, evidence=f"{label}: {names}",
                           remediation=f"Disable {label}; accept TLS 1.2 and TLS 1.3 only.")
        if key == ("tls", "1.3") and not enabled:
            yield _finding(target, "tls-no-tls1_3", "TLS 1.3 not supported", Severity.INFO,
                           remediation="Enable TLS 1.3.")
    weak = [(verdict, cipher) for cipher in ciphers if (verdict := _cipher_weakness(cipher)) is not None]
    if weak:
        evidence = "\n".join(f"{c.get('sslversion')}: {c.get('cipher')} ({c.get('bits')} bits, "
                             f"{c.get('strength')})" for _, c in weak)
        yield _finding(target, "tls-weak-ciphers", "Weak cipher suites accepted",
                       max((verdict for verdict, _ in weak), key=lambda severity: severity.rank),
                       evidence=evidence, cwes=("CWE-327",),
                       remediation="Accept only AEAD suites with forward secrecy (AES-GCM, ChaCha20).")


def _cipher_weakness(cipher: Element) -> Severity | None:
    """sslscan's strength attribute first, then cheap name and key-size rules (openssl cipher names)."""
    by_strength = _STRENGTH.get((cipher.get("strength") or "").lower())
    name = (cipher.get("cipher") or "").upper()
    bits_text = cipher.get("bits") or ""
    bits = int(bits_text) if bits_text.isdigit() else None
    if by_strength is Severity.HIGH or "NULL" in name or name.startswith(("EXP", "ADH", "AECDH")) \
            or "ANON" in name or (bits is not None and bits < 64):
        return Severity.HIGH
    if by_strength is not None or any(token in name for token in ("RC4", "DES", "IDEA")) \
            or (bits is not None and bits < 128):
        return Severity.MEDIUM
    return None


def _vulnerability_findings(test: Element, target: _Target) -> Iterator[FindingRecord]:
    bleeding = [beat.get("sslversion") or "?" for beat in test.iter("heartbleed")
                if beat.get("vulnerable") == "1"]
    if bleeding:
        yield _finding(target, "heartbleed", "Vulnerable to Heartbleed", Severity.HIGH,
                       evidence=f"vulnerable over {', '.join(bleeding)}", cves=("CVE-2014-0160",),
                       cwes=("CWE-119",))
    renegotiation = test.find("renegotiation")
    if renegotiation is not None and renegotiation.get("supported") == "1" \
            and renegotiation.get("secure") != "1":
        yield _finding(target, "tls-insecure-renegotiation", "Secure renegotiation not supported",
                       Severity.MEDIUM,
                       evidence="insecure session renegotiation supported", cves=("CVE-2009-3555",),
                       cwes=("CWE-310",))
    compression = test.find("compression")
    if compression is not None and compression.get("supported") == "1":
        yield _finding(target, "tls-compression-crime", "TLS compression enabled (CRIME)", Severity.MEDIUM,
                       evidence="compression supported", cves=("CVE-2012-4929",), cwes=("CWE-310",))


def _finding(target: _Target, rule_id: str, title: str, severity: Severity, *, evidence: str = "",
             remediation: str = "", cves: tuple[str, ...] = (), cwes: tuple[str, ...] = (),
             category: str = "tls") -> FindingRecord:
    return FindingRecord(
        engine=ENGINE, rule_id=rule_id, title=clip(title, 200), severity=severity, host=target.host,
        port=target.port, protocol="tcp", cve_ids=cves, cwe_ids=cwes, evidence=clip(evidence),
        remediation=clip(remediation), category=category,
        extra={"hostname": target.hostname} if target.hostname and target.hostname != target.host else {},
    )
