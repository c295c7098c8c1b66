"""testssl.sh parser tests: five real --jsonfile outputs plus small hand-made lists for edge cases."""

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from engines.errors import ParseError
from engines.records import CertificateRecord, FindingRecord, HostRecord, ServiceRecord, Severity
from engines.testssl.parse import parse, scan_problems

FIXTURES = Path(__file__).parent / "fixtures"
BETA = "dashlord_beta.gouv.fr_testssl.json"
ELISA = "dashlord_elisa.service-civique_testssl.json"
ENM = "dashlord_enm.mes-services_testssl.json"
INTERRUPTED = "dashlord_univ-paris13_interrupted_testssl.json"
GRADE_F = "dashlord_visium360_gradeF_testssl.json"


def _records(path: Path) -> list:
    return list(parse(path))


def _of(records: list, kind: type) -> list:
    return [record for record in records if isinstance(record, kind)]


def _write(tmp_path: Path, entries: list) -> Path:
    path = tmp_path / "testssl.json"
    path.write_text(json.dumps(entries))
    return path


def _entry(check: str, severity: str, finding: str, ip: str = "lantern.test/192.0.2.7",
           port: str = "443") -> dict:
    return {"id": check, "ip": ip, "port": port, "severity": severity, "finding": finding}


@pytest.mark.parametrize(
    ("name", "hosts", "services", "certificates", "findings"),
    [
        (BETA, 1, 1, 1, 3),
        (ELISA, 1, 1, 1, 6),
        (ENM, 1, 1, 1, 3),
        (INTERRUPTED, 1, 1, 1, 9),
        (GRADE_F, 1, 1, 1, 24),
    ],
)
def test_each_fixture_yields_exact_record_counts(name, hosts, services, certificates, findings):
    records = _records(FIXTURES / name)
    assert len(_of(records, HostRecord)) == hosts
    assert len(_of(records, ServiceRecord)) == services
    assert len(_of(records, CertificateRecord)) == certificates
    assert len(_of(records, FindingRecord)) == findings
    assert len(records) == hosts + services + certificates + findings


@pytest.mark.parametrize("name", [BETA, ELISA, ENM, INTERRUPTED, GRADE_F])
def test_ok_and_info_entries_never_become_findings(name):
    findings = _of(_records(FIXTURES / name), FindingRecord)
    assert all(finding.severity.rank >= Severity.LOW.rank for finding in findings)
    assert all(f.extra["testssl_severity"] not in ("OK", "INFO", "WARN", "FATAL") for f in findings)


def test_host_and_service_come_from_the_name_slash_ip_field():
    records = _records(FIXTURES / BETA)
    assert _of(records, HostRecord) == [HostRecord(ip="75.2.60.5", hostname="beta.gouv.fr")]
    assert _of(records, ServiceRecord) == [ServiceRecord(host="75.2.60.5", port=443, service="https")]


def test_certificate_is_built_from_the_cert_checks():
    (certificate,) = _of(_records(FIXTURES / BETA), CertificateRecord)
    assert certificate == CertificateRecord(
        host="75.2.60.5", port=443, subject="CN=beta.gouv.fr", issuer="CN=R3,O=Let's Encrypt,C=US",
        sans=("beta.gouv.fr", "www.beta.gouv.fr"),
        not_before=datetime(2021, 8, 26, 13, 0, tzinfo=timezone.utc),
        not_after=datetime(2021, 11, 24, 13, 0, tzinfo=timezone.utc),
        key_type="EC", key_bits=256, signature_algorithm="SHA256 with RSA",
        fingerprint_sha256="6DECB856D12583C8550A299C8A4EBFD5AA96CA6108B6797F42DC9BF11C826DF3",
        serial="03E4439825438ADAEF20057ABC3CAD60A85B", chain_position=0,
    )


def test_medium_finding_carries_cve_and_cwe_ids():
    findings = {f.rule_id: f for f in _of(_records(FIXTURES / BETA), FindingRecord)}
    assert sorted(findings) == ["BREACH", "DNS_CAArecord", "OCSP_stapling"]
    breach = findings["BREACH"]
    assert breach.severity == Severity.MEDIUM
    assert (breach.cve_ids, breach.cwe_ids) == (("CVE-2013-3587",), ("CWE-310",))
    assert (breach.host, breach.port, breach.protocol) == ("75.2.60.5", 443, "tcp")
    assert breach.evidence == (
        "potentially VULNERABLE, br gzip HTTP compression detected  - only supplied '/' tested")
    assert breach.extra == {"testssl_severity": "MEDIUM", "hostname": "beta.gouv.fr"}
    assert findings["OCSP_stapling"].severity == Severity.LOW


def test_grade_f_critical_findings_with_their_cve_ids():
    findings = _of(_records(FIXTURES / GRADE_F), FindingRecord)
    critical = {f.rule_id: f.cve_ids for f in findings if f.severity == Severity.CRITICAL}
    assert critical == {
        "SSLv2": (),
        "TLS1_1": (),
        "DROWN": ("CVE-2016-0800", "CVE-2016-0703"),
        "overall_grade": (),
    }
    drown = next(f for f in findings if f.rule_id == "DROWN")
    assert drown.cwe_ids == ("CWE-310",)
    assert drown.issue_key == "CVE-2016-0703"
    assert sum(f.severity == Severity.HIGH for f in findings) == 8
    assert sum(f.severity == Severity.MEDIUM for f in findings) == 4
    assert sum(f.severity == Severity.LOW for f in findings) == 8
    with_cves = {f.rule_id: f.cve_ids for f in findings if f.severity == Severity.HIGH and f.cve_ids}
    assert with_cves == {
        "POODLE_SSL": ("CVE-2014-3566",),
        "LOGJAM-common_primes": ("CVE-2015-4000",),
        "RC4": ("CVE-2013-2566", "CVE-2015-2808"),
    }


def test_grade_f_certificate():
    (certificate,) = _of(_records(FIXTURES / GRADE_F), CertificateRecord)
    assert certificate.subject == "CN=www.visium360-ssl1.fr"
    assert certificate.issuer == "CN=Sectigo RSA Domain Validation Secure Server CA,O=Sectigo Limited,C=GB"
    assert certificate.not_after == datetime(2022, 10, 3, 23, 59, tzinfo=timezone.utc)
    assert (certificate.key_type, certificate.key_bits) == ("RSA", 2048)


def test_critical_chain_of_trust_finding_on_grade_b_fixture():
    findings = {f.rule_id: f for f in _of(_records(FIXTURES / ELISA), FindingRecord)}
    assert sorted(findings) == ["DNS_CAArecord", "FS_KEMs", "HSTS", "cert_chain_of_trust", "overall_grade",
                                "security_headers"]
    chain = findings["cert_chain_of_trust"]
    assert chain.severity == Severity.CRITICAL
    assert chain.title == "cert_chain_of_trust: failed (chain incomplete)."
    (certificate,) = _of(_records(FIXTURES / ELISA), CertificateRecord)
    assert certificate.issuer == "CN=GEANT TLS RSA 1,O=Hellenic Academic and Research Institutions CA,C=GR"


def test_clean_baseline_has_only_low_and_medium_findings():
    findings = _of(_records(FIXTURES / ENM), FindingRecord)
    assert sorted((f.rule_id, f.severity) for f in findings) == [
        ("BREACH", Severity.MEDIUM), ("DNS_CAArecord", Severity.LOW), ("OCSP_stapling", Severity.LOW)]
    (certificate,) = _of(_records(FIXTURES / ENM), CertificateRecord)
    assert (certificate.subject, certificate.serial) == ("CN=enm.mes-services.mer.gouv.fr",
                                                         "038A2D2E165F1FFEF2F428F2D7D0214384E1")


def test_interrupted_scan_reports_warn_and_fatal_as_scan_problems_not_findings():
    path = FIXTURES / INTERRUPTED
    assert scan_problems(path) == [
        "81.194.43.200:443 scanProblem: repeated TCP connect problems, giving up",
        "81.194.43.200:443 scanTime: Scan interrupted",
    ]
    findings = {f.rule_id: f for f in _of(_records(path), FindingRecord)}
    assert "scanProblem" not in findings and "scanTime" not in findings
    assert findings["TLS1"].severity == Severity.LOW
    assert findings["cert_expirationStatus"].evidence == "expires < 60 days (42)"
    assert findings["cipherlist_3DES_IDEA"].cwe_ids == ("CWE-310",)


def test_complete_scans_have_no_scan_problems():
    assert scan_problems(FIXTURES / GRADE_F) == []


def test_each_host_certificate_of_a_multi_certificate_server_is_a_record(tmp_path):
    path = _write(tmp_path, [
        _entry("cert_commonName <hostCert#1>", "OK", "lantern.test"),
        _entry("cert_keySize <hostCert#1>", "OK", "RSA 2048 bits (exponent is 65537)"),
        _entry("cert_commonName <hostCert#2>", "OK", "lantern.test"),
        _entry("cert_keySize <hostCert#2>", "OK", "EC 256 bits (curve P-256)"),
        _entry("cert_caIssuers <hostCert#2>", "CRITICAL", "selfsigned"),
        _entry("cert_expirationStatus <hostCert#2>", "CRITICAL", "expired"),
    ])
    records = _records(path)
    assert [(c.key_type, c.key_bits, c.issuer) for c in _of(records, CertificateRecord)] == [
        ("RSA", 2048, ""), ("EC", 256, "CN=lantern.test")]
    assert [(f.rule_id, f.severity) for f in _of(records, FindingRecord)] == [
        ("cert_caIssuers <hostCert#2>", Severity.CRITICAL),
        ("cert_expirationStatus <hostCert#2>", Severity.CRITICAL),
    ]


def test_bare_ip_and_non_http_service(tmp_path):
    path = _write(tmp_path, [_entry("service", "INFO", "SMTP", ip="192.0.2.9", port="25"),
                             _entry("SSLv3", "HIGH", "offered", ip="192.0.2.9", port="25")])
    records = _records(path)
    assert _of(records, HostRecord) == [HostRecord(ip="192.0.2.9")]
    assert _of(records, ServiceRecord) == [ServiceRecord(host="192.0.2.9", port=25, service="tls")]
    assert _of(records, FindingRecord)[0].extra == {"testssl_severity": "HIGH"}


def test_empty_file_and_empty_list_yield_nothing(tmp_path):
    (tmp_path / "empty.json").write_bytes(b"")
    assert _records(tmp_path / "empty.json") == []
    assert scan_problems(tmp_path / "empty.json") == []
    assert _records(_write(tmp_path, [])) == []


def test_malformed_json_raises_parse_error(tmp_path):
    path = tmp_path / "broken.json"
    path.write_bytes((FIXTURES / BETA).read_bytes()[:3000])
    with pytest.raises(ParseError, match="broken.json: not valid JSON"):
        _records(path)


def test_object_instead_of_list_raises_parse_error(tmp_path):
    path = tmp_path / "pretty.json"
    path.write_text('{"Invocation": "testssl.sh", "scanResult": []}')
    with pytest.raises(ParseError, match="top level is not a list"):
        _records(path)


def test_entry_without_severity_raises_parse_error(tmp_path):
    path = _write(tmp_path, [{"id": "SSLv2", "ip": "a/192.0.2.1", "port": "443", "finding": "not offered"}])
    with pytest.raises(ParseError, match=r"entry 0 \(SSLv2\): missing or non-text severity"):
        _records(path)


def test_unknown_severity_raises_parse_error(tmp_path):
    with pytest.raises(ParseError, match="unknown severity 'SEVERE'"):
        _records(_write(tmp_path, [_entry("SSLv2", "SEVERE", "offered")]))


def test_non_numeric_port_raises_parse_error(tmp_path):
    with pytest.raises(ParseError, match="port 'https' is not a number"):
        _records(_write(tmp_path, [_entry("SSLv2", "OK", "not offered", port="https")]))
