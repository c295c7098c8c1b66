"""Parse sslyze's JSON output (``--json_out FILE``) into Lantern records.

Format: one JSON object with ``server_scan_results`` (one entry per target), ``date_scans_started`` and
``sslyze_version``. Versions 5.x and 6.x differ in ways this parser absorbs:

* 5.x writes naive ISO dates (read as UTC), SANs under ``subject_alternative_name.dns`` and a boolean
  ``leaf_certificate_subject_matches_hostname``; 6.x writes ``...Z`` dates, SANs under ``dns_names`` and
  ``ip_addresses`` and drops that boolean, so the parser matches the SNI name against the leaf's SANs itself.
* Path validation failures are ``openssl_error_string`` (5.x) or ``validation_error`` (6.x).

Records per target whose ``scan_status`` is ``COMPLETED``: a HostRecord (ip, hostname), a ServiceRecord
(service ``https`` when sslyze fetched HTTP headers or the port is 443, else ``tls``), a CertificateRecord for
every certificate of each received chain (leaf at ``chain_position`` 0; the extra "SNI disabled" deployment of
6.x is ignored because clients using SNI never see it) and the findings below. Fingerprints and serials are
upper-case hex without separators, as openssl and testssl.sh print them.

A target with ``ERROR_NO_CONNECTIVITY`` yields nothing: an unreachable target is a scan problem, not an issue
of the target. ``scan_problems()`` returns one message per such target, per failed plugin and per
``invalid_server_strings`` entry so that the runner can report (or fail) the step with a reason.

sslyze exits 1 when a server is not compliant with Mozilla's configuration: that is not a failure of the
tool, the runner must still parse the file, and this parser is the judge of what is an issue. Certificate
validity is judged at ``date_scans_started`` (not "now"), so a parse is reproducible.

Severity mapping (sslyze has no severities of its own):

=============================  ==========  ========================================================
rule_id                        severity    when
=============================  ==========  ========================================================
cert-expired                   high        leaf ``not_valid_after`` before the scan date
cert-not-yet-valid             medium      leaf ``not_valid_before`` after the scan date
cert-self-signed               medium      leaf subject == issuer and path validation failed
cert-untrusted                 medium/low  validation failed in every / some trust store (not when
                                           the leaf is expired or not yet valid: that explains it)
cert-hostname-mismatch         medium      the leaf does not cover the SNI hostname
tls-protocol-sslv2/sslv3       high        SSL 2.0 / SSL 3.0 accepted
tls-protocol-tls1_0/tls1_1     medium      TLS 1.0 / TLS 1.1 accepted
tls-weak-ciphers               high/med.   NULL, EXPORT, anonymous or < 64-bit suites / RC4, DES,
                                           3DES, IDEA or < 128-bit suites (one finding per service)
tls-no-tls1_3                  info        TLS 1.3 not accepted
heartbleed                     high        CVE-2014-0160
ccs-injection                  high        CVE-2014-0224
robot                          high/med.   strong / weak Bleichenbacher oracle (testssl.sh's CVE list)
tls-insecure-renegotiation     medium      no secure renegotiation (CVE-2009-3555)
tls-client-renegotiation-dos   medium      client-initiated renegotiation accepted (CVE-2011-1473)
tls-compression-crime          medium      TLS compression (CRIME, CVE-2012-4929)
=============================  ==========  ========================================================

CVE and CWE ids follow testssl.sh's, so the same issue found by both tools has the same fingerprint.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from engines.errors import ParseError
from engines.records import (CertificateRecord, FindingRecord, HostRecord, Record, ServiceRecord, Severity,
                             clip)

ENGINE = "sslyze"

_PROTOCOLS = (
    ("ssl_2_0_cipher_suites", "SSL 2.0", "tls-protocol-sslv2", Severity.HIGH),
    ("ssl_3_0_cipher_suites", "SSL 3.0", "tls-protocol-sslv3", Severity.HIGH),
    ("tls_1_0_cipher_suites", "TLS 1.0", "tls-protocol-tls1_0", Severity.MEDIUM),
    ("tls_1_1_cipher_suites", "TLS 1.1", "tls-protocol-tls1_1", Severity.MEDIUM),
    ("tls_1_2_cipher_suites", "TLS 1.2", "", None),
    ("tls_1_3_cipher_suites", "TLS 1.3", "", None),
)

# (plugin, result key, value meaning vulnerable, rule_id, title, severity, CVE ids, CWE ids)
_VULNERABILITIES = (
    ("heartbleed", "is_vulnerable_to_heartbleed", True, "heartbleed", "Vulnerable to Heartbleed",
     Severity.HIGH, ("CVE-2014-0160",), ("CWE-119",)),
    ("openssl_ccs_injection", "is_vulnerable_to_ccs_injection", True, "ccs-injection",
     "Vulnerable to OpenSSL CCS injection", Severity.HIGH, ("CVE-2014-0224",), ("CWE-310",)),
    ("session_renegotiation", "supports_secure_renegotiation", False, "tls-insecure-renegotiation",
     "Secure renegotiation not supported", Severity.MEDIUM, ("CVE-2009-3555",), ("CWE-310",)),
    ("session_renegotiation", "is_vulnerable_to_client_renegotiation_dos", True,
     "tls-client-renegotiation-dos", "Client-initiated renegotiation accepted (DoS)", Severity.MEDIUM,
     ("CVE-2011-1473",), ("CWE-310",)),
    ("tls_compression", "supports_compression", True, "tls-compression-crime",
     "TLS compression enabled (CRIME)", Severity.MEDIUM, ("CVE-2012-4929",), ("CWE-310",)),
)

_ROBOT_CVES = ("CVE-2017-17382", "CVE-2017-17427", "CVE-2017-17428", "CVE-2017-13098", "CVE-2017-1000385",
               "CVE-2017-13099", "CVE-2016-6883", "CVE-2012-5081", "CVE-2017-6168")
_ROBOT_SEVERITY = {"VULNERABLE_STRONG_ORACLE": Severity.HIGH, "VULNERABLE_WEAK_ORACLE": Severity.MEDIUM}


@dataclass(frozen=True, slots=True)
class _Target:
    """Where a finding sits: the host key (ip, or name without ip), the port and the scanned name."""

    host: str
    port: int
    hostname: str


def parse(path: Path) -> Iterator[Record]:
    """Yield the records of every reachable target of an sslyze JSON file; an empty file yields nothing."""
    document = _load(path)
    if document is None:
        return
    scanned_at = _datetime(document.get("date_scans_started"))
    for index, server in enumerate(_servers(document)):
        if server.get("scan_status") == "COMPLETED":
            yield from _server_records(server, scanned_at, f"server_scan_results[{index}]")


def scan_problems(path: Path) -> list[str]:
    """Why parts of the scan did not run: unreachable targets, failed plugins, unparsable target strings."""
    document = _load(path)
    if document is None:
        return []
    problems = [f"{item.get('server_string', '?')}: {item.get('error_message', 'invalid target')}"
                for item in document.get("invalid_server_strings") or [] if isinstance(item, dict)]
    for server in _servers(document):
        location = server.get("server_location") or {}
        name = f"{location.get('hostname', '?')}:{location.get('port', '?')}"
        if server.get("scan_status") != "COMPLETED":
            trace = ((server.get("connectivity_error_trace") or "").strip() or "no detail").splitlines()
            problems.append(clip(f"{name}: {server.get('scan_status')}: {trace[-1]}"))
            continue
        for plugin, attempt in (server.get("scan_result") or {}).items():
            if isinstance(attempt, dict) and attempt.get("status") == "ERROR":
                problems.append(clip(f"{name}: {plugin} failed: {attempt.get('error_reason') or 'unknown'}"))
    return problems


def _load(path: Path) -> dict[str, Any] | None:
    """Read the file; None when it is empty, ParseError when it is not sslyze's JSON."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if not text.strip():
        return None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(f"{path.name}: not valid JSON: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("server_scan_results"), list):
        raise ParseError(f"{path.name}: not sslyze JSON output: no top-level 'server_scan_results' list")
    return document


def _servers(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for index, server in enumerate(document["server_scan_results"]):
        if not isinstance(server, dict):
            raise ParseError(f"server_scan_results[{index}] is not an object")
        yield server


def _server_records(server: dict[str, Any], scanned_at: datetime | None, where: str) -> Iterator[Record]:
    location = _object(server, "server_location", where)
    port = location.get("port")
    hostname = location.get("hostname") or ""
    if not isinstance(port, int) or not (hostname or location.get("ip_address")):
        raise ParseError(f"{where}.server_location has no usable hostname/ip_address and port")
    target = _Target(location.get("ip_address") or hostname, port, hostname)
    scan = _object(server, "scan_result", where)
    yield HostRecord(ip=location.get("ip_address") or "", hostname=hostname)
    yield ServiceRecord(host=target.host, port=port, service=_service_name(port, scan))
    certificate_info = _result(scan, "certificate_info")
    if certificate_info is not None:
        sni_name = certificate_info.get("hostname_used_for_server_name_indication") or hostname
        for deployment in certificate_info.get("certificate_deployments") or []:
            chain = deployment.get("received_certificate_chain") or []
            for position, certificate in enumerate(chain):
                yield _certificate(certificate, target, position)
            if chain:
                yield from _certificate_findings(deployment, chain[0], target, sni_name, scanned_at)
    yield from _protocol_findings(scan, target)
    yield from _vulnerability_findings(scan, target)


def _object(parent: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = parent.get(key)
    if not isinstance(value, dict):
        raise ParseError(f"{where}.{key} is missing or not an object")
    return value


def _result(scan: dict[str, Any], plugin: str) -> dict[str, Any] | None:
    """A plugin's result when it ran to completion; None when it was not scheduled or failed."""
    attempt = scan.get(plugin)
    if not isinstance(attempt, dict) or attempt.get("status") != "COMPLETED":
        return None
    return attempt["result"] if isinstance(attempt.get("result"), dict) else None


def _service_name(port: int, scan: dict[str, Any]) -> str:
    headers = _result(scan, "http_headers")
    return "https" if port == 443 or (headers is not None and not headers.get("http_error_trace")) else "tls"


def _certificate(certificate: dict[str, Any], target: _Target, position: int) -> CertificateRecord:
    key = certificate.get("public_key") or {}
    bits = key.get("key_size")
    return CertificateRecord(
        host=target.host,
        port=target.port,
        subject=clip(_name(certificate, "subject")),
        issuer=clip(_name(certificate, "issuer")),
        sans=_sans(certificate),
        not_before=_datetime(certificate.get("not_valid_before")),
        not_after=_datetime(certificate.get("not_valid_after")),
        key_type=_key_type(key.get("algorithm") or ""),
        key_bits=bits if isinstance(bits, int) else None,
        signature_algorithm=(certificate.get("signature_algorithm_oid") or {}).get("name") or "",
        fingerprint_sha256=_base64_hex(certificate.get("fingerprint_sha256")),
        serial=_serial_hex(certificate.get("serial_number")),
        chain_position=position,
    )


def _name(certificate: dict[str, Any], field: str) -> str:
    return (certificate.get(field) or {}).get("rfc4514_string") or ""


def _sans(certificate: dict[str, Any]) -> tuple[str, ...]:
    san = certificate.get("subject_alternative_name") or {}
    return tuple(san.get("dns_names") or san.get("dns") or ()) + tuple(san.get("ip_addresses") or ())


def _key_type(algorithm: str) -> str:
    """sslyze names the key class ("_RSAPublicKey", "EllipticCurvePublicKey"); keep the algorithm."""
    name = algorithm.lstrip("_").removesuffix("PublicKey")
    return "EC" if name == "EllipticCurve" else name


def _base64_hex(value: Any) -> str:
    if not isinstance(value, str) or not value:
        return ""
    try:
        return base64.b64decode(value, validate=True).hex().upper()
    except (binascii.Error, ValueError) as exc:
        raise ParseError(f"certificate fingerprint {value!r} is not base64") from exc


def _serial_hex(value: Any) -> str:
    """Decimal serial to openssl's form: upper-case hex padded to whole bytes."""
    if not isinstance(value, int):
        return ""
    digits = f"{value:X}"
    return digits.zfill(len(digits) + len(digits) % 2)


def _datetime(value: Any) -> datetime | None:
    """ISO date, aware; sslyze 5.x writes naive UTC times."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ParseError(f"{value!r} is not an ISO date") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _certificate_findings(deployment: dict[str, Any], leaf: dict[str, Any], target: _Target, sni_name: str,
                          scanned_at: datetime | None) -> Iterator[FindingRecord]:
    """Validity, trust and hostname findings about the leaf of one certificate deployment."""
    subject = _name(leaf, "subject")
    not_before, not_after = _datetime(leaf.get("not_valid_before")), _datetime(leaf.get("not_valid_after"))
    failures = _validation_failures(deployment)
    stores = len(deployment.get("path_validation_results") or [])
    expired = bool(scanned_at and not_after and not_after < scanned_at)
    premature = bool(scanned_at and not_before and not_before > scanned_at)
    detail = "\n".join(failures)
    if expired:
        yield _finding(target, "cert-expired", f"Certificate expired on {not_after:%Y-%m-%d}", Severity.HIGH,
                       evidence=f"{subject}: not valid after {not_after}, scanned {scanned_at}\n{detail}",
                       remediation="Renew the certificate.", category="certificate")
    if premature:
        yield _finding(target, "cert-not-yet-valid", f"Certificate not valid before {not_before:%Y-%m-%d}",
                       Severity.MEDIUM, category="certificate",
                       evidence=f"{subject}: not valid before {not_before}, scanned {scanned_at}",
                       remediation="Check the certificate dates and the server clock.")
    if failures and subject == _name(leaf, "issuer"):
        yield _finding(target, "cert-self-signed", "Self-signed certificate", Severity.MEDIUM,
                       evidence=f"{subject}\n{detail}", category="certificate",
                       remediation="Use a certificate issued by a trusted certificate authority.")
    elif failures and not (expired or premature):
        severity = Severity.MEDIUM if len(failures) >= stores else Severity.LOW
        yield _finding(target, "cert-untrusted", "Certificate chain not trusted", severity, evidence=detail,
                       category="certificate",
                       remediation="Serve the complete chain up to a publicly trusted root.")
    if not _hostname_matches(deployment, leaf, sni_name):
        yield _finding(target, "cert-hostname-mismatch", f"Certificate does not match {sni_name}",
                       Severity.MEDIUM, category="certificate",
                       evidence=f"{subject}; SANs: {', '.join(_sans(leaf)) or 'none'}",
                       remediation="Serve a certificate whose SANs include the hostname.")


def _validation_failures(deployment: dict[str, Any]) -> list[str]:
    """One "store: error" line per trust store in which path validation failed."""
    failures = []
    for validation in deployment.get("path_validation_results") or []:
        if validation.get("was_validation_successful") is False:
            error = validation.get("validation_error") or validation.get("openssl_error_string") or "failed"
            failures.append(f"{(validation.get('trust_store') or {}).get('name', '?')}: {error}")
    return failures


def _hostname_matches(deployment: dict[str, Any], leaf: dict[str, Any], hostname: str) -> bool:
    """sslyze 5.x says it; for 6.x check the SANs (or the CN when there are none) like a browser would."""
    verdict = deployment.get("leaf_certificate_subject_matches_hostname")
    if isinstance(verdict, bool):
        return verdict
    if not hostname:
        return True
    san = leaf.get("subject_alternative_name") or {}
    try:
        address = ipaddress.ip_address(hostname)
    except ValueError:
        address = None
    if address is not None:
        return str(address) in {str(ipaddress.ip_address(ip)) for ip in san.get("ip_addresses") or ()}
    names = san.get("dns_names") or san.get("dns") or [
        attribute.get("value", "") for attribute in (leaf.get("subject") or {}).get("attributes") or ()
        if (attribute.get("oid") or {}).get("name") == "commonName"]
    return any(_dns_matches(pattern.lower(), hostname.lower().rstrip(".")) for pattern in names)


def _dns_matches(pattern: str, hostname: str) -> bool:
    if pattern.startswith("*."):
        head, _, rest = hostname.partition(".")
        return bool(head) and rest == pattern[2:]
    return pattern == hostname


def _protocol_findings(scan: dict[str, Any], target: _Target) -> Iterator[FindingRecord]:
    """Legacy protocol versions, weak cipher suites and a missing TLS 1.3."""
    weak: list[tuple[Severity, str]] = []
    for plugin, label, rule_id, severity in _PROTOCOLS:
        result = _result(scan, plugin)
        if result is None:
            continue
        accepted = [item.get("cipher_suite") or {} for item in result.get("accepted_cipher_suites") or []]
        supported = bool(result.get("is_tls_version_supported"))
        if supported and severity is not None:
            names = ", ".join(suite.get("name", "?") for suite in accepted)
            yield _finding(target, rule_id, f"{label} accepted", severity, evidence=f"{label}: {names}",
                           remediation=f"Disable {label}; accept TLS 1.2 and TLS 1.3 only.")
        if plugin == "tls_1_3_cipher_suites" and not supported:
            yield _finding(target, "tls-no-tls1_3", "TLS 1.3 not supported", Severity.INFO,
                           remediation="Enable TLS 1.3.")
        for suite in accepted:
            verdict = _cipher_weakness(suite.get("name", ""), suite.get("key_size"),
                                       bool(suite.get("is_anonymous")))
            if verdict is not None:
                weak.append((verdict, f"{label}: {suite.get('name')} ({suite.get('key_size')} bits)"))
    if weak:
        yield _finding(target, "tls-weak-ciphers", "Weak cipher suites accepted",
                       max((severity for severity, _ in weak), key=lambda severity: severity.rank),
                       evidence="\n".join(line for _, line in weak), cwes=("CWE-327",),
                       remediation="Accept only AEAD suites with forward secrecy (AES-GCM, ChaCha20).")


def _cipher_weakness(name: str, bits: Any, anonymous: bool) -> Severity | None:
    """Cheap name and key-size rules: broken suites high, merely weak ones medium."""
    upper = name.upper()
    small = isinstance(bits, int)
    if anonymous or "NULL" in upper or "EXPORT" in upper or "_ANON_" in upper or (small and bits < 64):
        return Severity.HIGH
    if any(token in upper for token in ("RC4", "DES", "IDEA")) or (small and bits < 128):
        return Severity.MEDIUM
    return None


def _vulnerability_findings(scan: dict[str, Any], target: _Target) -> Iterator[FindingRecord]:
    for plugin, key, vulnerable, rule_id, title, severity, cves, cwes in _VULNERABILITIES:
        result = _result(scan, plugin)
        if result is not None and key in result and result[key] is vulnerable:
            yield _finding(target, rule_id, title, severity, evidence=f"{plugin}.{key} = {result[key]}",
                           cves=cves, cwes=cwes)
    verdict = (_result(scan, "robot") or {}).get("robot_result", "")
    if verdict in _ROBOT_SEVERITY:
        yield _finding(target, "robot", "Vulnerable to ROBOT (Bleichenbacher oracle)",
                       _ROBOT_SEVERITY[verdict],
                       evidence=f"robot_result = {verdict}", cves=_ROBOT_CVES, cwes=("CWE-203",),
                       remediation="Disable RSA key-exchange cipher suites.")


def _finding(target: _Target, rule_id: str, title: str, severity: Severity, *, evidence: str = "",
             remediation: str = "", cves: tuple[str, ...] = (), cwes: tuple[str, ...] = (),
             category: str = "tls") -> FindingRecord:
    return FindingRecord(
        engine=ENGINE, rule_id=rule_id, title=clip(title, 200), severity=severity, host=target.host,
        port=target.port, protocol="tcp", cve_ids=cves, cwe_ids=cwes, evidence=clip(evidence),
        remediation=clip(remediation), category=category,
        extra={"hostname": target.hostname} if target.hostname and target.hostname != target.host else {},
    )
