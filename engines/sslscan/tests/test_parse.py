"""sslscan parser tests: three real sslscan 2.0.7 outputs of a local s_server (see PROVENANCE.md)."""

from datetime import datetime, timezone
from pathlib import Path

import pytest

from engines.errors import ParseError
from engines.records import CertificateRecord, FindingRecord, HostRecord, ServiceRecord, Severity
from engines.sslscan.parse import parse, scan_problems

FIXTURES = Path(__file__).parent / "fixtures"
SELF_SIGNED = "local_selfsigned.xml"
EXPIRED = "local_expired_legacy.xml"
REFUSED = "local_connection_refused.xml"


def _records(path: Path) -> list:
    return list(parse(path))


def _of(records: list, kind: type) -> list:
    return [record for record in records if isinstance(record, kind)]


def _findings(records: list) -> dict[str, FindingRecord]:
    return {finding.rule_id: finding for finding in _of(records, FindingRecord)}


def _edited(tmp_path: Path, name: str, *replacements: tuple[str, str]) -> Path:
    """A copy of a real fixture with exact text replacements, for branches a local server cannot reach."""
    text = (FIXTURES / name).read_text()
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new, 1)
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("name", "hosts", "services", "certificates", "findings"),
    [
        (SELF_SIGNED, 1, 1, 1, 1),
        (EXPIRED, 1, 1, 1, 6),
        (REFUSED, 0, 0, 0, 0),
    ],
)
def test_each_fixture_yields_exact_record_counts(name, hosts, services, certificates, findings):
    records = _records(FIXTURES / name)
    assert len(_of(records, HostRecord)) == hosts
    assert len(_of(records, ServiceRecord)) == services
    assert len(_of(records, CertificateRecord)) == certificates
    assert len(_of(records, FindingRecord)) == findings
    assert len(records) == hosts + services + certificates + findings


def test_self_signed_short_certificate_block():
    records = _records(FIXTURES / SELF_SIGNED)
    assert _of(records, HostRecord) == [HostRecord(ip="127.0.0.1")]
    assert _of(records, ServiceRecord) == [ServiceRecord(host="127.0.0.1", port=38499, service="tls")]
    assert _of(records, CertificateRecord) == [CertificateRecord(
        host="127.0.0.1", port=38499, subject="CN=lantern.test", issuer="CN=lantern.test",
        sans=("lantern.test", "www.lantern.test", "127.0.0.1"),
        not_before=datetime(2026, 11, 21, 7, 15, tzinfo=timezone.utc),
        not_after=datetime(2026, 11, 22, 7, 15, tzinfo=timezone.utc),
        key_type="RSA", key_bits=2048, signature_algorithm="sha256WithRSAEncryption",
    )]


def test_self_signed_certificate_is_the_only_finding_on_a_modern_server():
    (finding,) = _of(_records(FIXTURES / SELF_SIGNED), FindingRecord)
    assert (finding.engine, finding.rule_id) == ("sslscan", "cert-self-signed")
    assert finding.severity == Severity.MEDIUM
    assert (finding.host, finding.port, finding.protocol) == ("127.0.0.1", 38499, "tcp")
    assert finding.evidence == "CN=lantern.test issued by CN=lantern.test"


def test_expired_legacy_server_findings():
    findings = _findings(_records(FIXTURES / EXPIRED))
    assert {rule: f.severity for rule, f in findings.items()} == {
        "cert-expired": Severity.HIGH,
        "cert-self-signed": Severity.MEDIUM,
        "tls-protocol-tls1_0": Severity.MEDIUM,
        "tls-protocol-tls1_1": Severity.MEDIUM,
        "tls-no-tls1_3": Severity.INFO,
        "tls-weak-ciphers": Severity.HIGH,
    }
    assert findings["cert-expired"].evidence == (
        "CN=expired.lantern.test: not valid after Jan  2 00:00:00 2020 GMT")
    assert findings["tls-protocol-tls1_0"].evidence.startswith(
        "TLS 1.0: ECDHE-RSA-AES256-SHA, DHE-RSA-AES256-SHA, DHE-RSA-CAMELLIA256-SHA, AECDH-AES256-SHA, ")


def test_anonymous_suites_are_flagged_weak_and_strong_ones_are_not():
    weak = _findings(_records(FIXTURES / EXPIRED))["tls-weak-ciphers"]
    lines = weak.evidence.splitlines()
    assert len(lines) == 24
    assert lines[0] == "TLSv1.2: ADH-AES256-GCM-SHA384 (256 bits, anonymous)"
    assert all("anonymous" in line for line in lines)
    assert not any("ECDHE-RSA-AES256-GCM-SHA384" in line for line in lines)
    assert weak.cwe_ids == ("CWE-327",)


def test_full_certificate_block_gives_dn_serial_and_fingerprint():
    (certificate,) = _of(_records(FIXTURES / EXPIRED), CertificateRecord)
    assert certificate == CertificateRecord(
        host="127.0.0.1", port=55385, subject="CN=expired.lantern.test", issuer="CN=expired.lantern.test",
        sans=("expired.lantern.test",),
        not_before=datetime(2020, 1, 1, tzinfo=timezone.utc),
        not_after=datetime(2020, 1, 2, tzinfo=timezone.utc),
        key_type="RSA", key_bits=2048, signature_algorithm="sha256WithRSAEncryption",
        fingerprint_sha256="6FC327ACDECCE58C8B734C233BD830E5E3D82920424A47052FE5C80008FA2479", serial="1000",
    )


def test_multi_attribute_openssl_names_become_rfc4514(tmp_path):
    path = _edited(tmp_path, EXPIRED, ("<subject><![CDATA[/CN=expired.lantern.test]]>",
                                       "<subject><![CDATA[/C=FR/O=Lantern, Inc/CN=expired.lantern.test]]>"))
    (certificate,) = _of(_records(path), CertificateRecord)
    assert certificate.subject == "CN=expired.lantern.test,O=Lantern\\, Inc,C=FR"


def test_connection_error_yields_nothing_and_is_a_scan_problem():
    assert _records(FIXTURES / REFUSED) == []
    assert scan_problems(FIXTURES / REFUSED) == [
        "Could not open a connection to host 127.0.0.1 (127.0.0.1) on port 36931."]


def test_successful_scans_have_no_scan_problems():
    assert scan_problems(FIXTURES / SELF_SIGNED) == []


def test_heartbleed_insecure_renegotiation_and_compression_findings(tmp_path):
    path = _edited(
        tmp_path, SELF_SIGNED,
        ('<heartbleed sslversion="TLSv1.2" vulnerable="0" />',
         '<heartbleed sslversion="TLSv1.2" vulnerable="1" />'),
        ('<renegotiation supported="0" secure="0" />',
         '<renegotiation supported="1" secure="0" />\n  <compression supported="1" />'),
    )
    findings = _findings(_records(path))
    assert {rule: (f.severity, f.cve_ids) for rule, f in findings.items() if rule != "cert-self-signed"} == {
        "heartbleed": (Severity.HIGH, ("CVE-2014-0160",)),
        "tls-insecure-renegotiation": (Severity.MEDIUM, ("CVE-2009-3555",)),
        "tls-compression-crime": (Severity.MEDIUM, ("CVE-2012-4929",)),
    }
    assert findings["heartbleed"].evidence == "vulnerable over TLSv1.2"


def test_legacy_ssl_protocol_and_rc4_suite_are_high_and_medium(tmp_path):
    path = _edited(
        tmp_path, SELF_SIGNED,
        ('<protocol type="ssl" version="3" enabled="0" />',
         '<protocol type="ssl" version="3" enabled="1" />'),
        ('cipher="AES128-SHA" id="0x002F" strength="acceptable"',
         'cipher="RC4-SHA" id="0x0005" strength="medium"'),
    )
    findings = _findings(_records(path))
    assert findings["tls-protocol-sslv3"].severity == Severity.HIGH
    assert findings["tls-weak-ciphers"].severity == Severity.MEDIUM
    assert findings["tls-weak-ciphers"].evidence == "TLSv1.2: RC4-SHA (128 bits, medium)"


def test_hostname_target_is_kept_as_hostname(tmp_path):
    path = _edited(tmp_path, SELF_SIGNED, ('host="127.0.0.1" sniname="127.0.0.1"',
                                           'host="lantern.test" sniname="lantern.test"'))
    records = _records(path)
    assert _of(records, HostRecord) == [HostRecord(ip="", hostname="lantern.test")]
    assert _of(records, FindingRecord)[0].host == "lantern.test"


def test_empty_file_yields_nothing(tmp_path):
    (tmp_path / "empty.xml").write_bytes(b"")
    assert _records(tmp_path / "empty.xml") == []
    assert scan_problems(tmp_path / "empty.xml") == []


def test_truncated_xml_raises_parse_error(tmp_path):
    path = tmp_path / "truncated.xml"
    path.write_bytes((FIXTURES / SELF_SIGNED).read_bytes()[:2000])
    with pytest.raises(ParseError, match="truncated.xml: not well-formed or unsafe XML"):
        _records(path)


def test_other_tools_xml_raises_parse_error(tmp_path):
    path = tmp_path / "nmap.xml"
    path.write_text('<?xml version="1.0"?><nmaprun scanner="nmap"></nmaprun>')
    with pytest.raises(ParseError, match="not sslscan --xml output: root element is <nmaprun>"):
        _records(path)


def test_entity_expansion_is_refused(tmp_path):
    path = tmp_path / "bomb.xml"
    path.write_text('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]>'
                    '<document title="SSLScan Results">&b;</document>')
    with pytest.raises(ParseError, match="not well-formed or unsafe XML"):
        _records(path)


def test_non_numeric_port_raises_parse_error(tmp_path):
    path = _edited(tmp_path, SELF_SIGNED, ('port="38499"', 'port="https"'))
    with pytest.raises(ParseError, match="port 'https' missing or not a number"):
        _records(path)
