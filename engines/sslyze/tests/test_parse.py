"""sslyze parser tests: real 5.x/6.x outputs, plus copies edited in tmp_path for the rarer branches."""

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from engines.errors import ParseError
from engines.records import CertificateRecord, FindingRecord, HostRecord, ServiceRecord, Severity
from engines.sslyze.parse import parse, scan_problems

FIXTURES = Path(__file__).parent / "fixtures"
ZERO_VULN = "dd_one_target_zero_vuln_new.json"
EXPIRED = "scb_expired.badssl.com.json"
SELF_SIGNED = "scb_self-signed.badssl.com.json"
TLS10 = "scb_tls-v1-0.badssl.com_1010.json"
UNAVAILABLE = "scb_unavailable-host.json"


def _records(path: Path) -> list:
    return list(parse(path))


def _of(records: list, kind: type) -> list:
    return [record for record in records if isinstance(record, kind)]


def _findings(records: list) -> dict[str, FindingRecord]:
    return {finding.rule_id: finding for finding in _of(records, FindingRecord)}


def _edited(tmp_path: Path, name: str, edit) -> Path:
    """A copy of a real fixture with one change, for branches no real fixture reaches."""
    document = json.loads((FIXTURES / name).read_text())
    edit(document)
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return path


def _deployment(document: dict) -> dict:
    return document["server_scan_results"][0]["scan_result"]["certificate_info"]["result"][
        "certificate_deployments"][0]


def _scan(document: dict) -> dict:
    return document["server_scan_results"][0]["scan_result"]


@pytest.mark.parametrize(
    ("name", "hosts", "services", "certificates", "findings"),
    [
        (ZERO_VULN, 1, 1, 2, 0),
        (EXPIRED, 1, 1, 3, 5),
        (SELF_SIGNED, 1, 1, 1, 5),
        (TLS10, 1, 1, 2, 2),
        (UNAVAILABLE, 0, 0, 0, 0),
    ],
)
def test_each_fixture_yields_exact_record_counts(name, hosts, services, certificates, findings):
    records = _records(FIXTURES / name)
    assert len(_of(records, HostRecord)) == hosts
    assert len(_of(records, ServiceRecord)) == services
    assert len(_of(records, CertificateRecord)) == certificates
    assert len(_of(records, FindingRecord)) == findings
    assert len(records) == hosts + services + certificates + findings


def test_sslyze5_clean_target_yields_host_service_and_full_chain():
    records = _records(FIXTURES / ZERO_VULN)
    assert _of(records, HostRecord) == [HostRecord(ip="40.76.4.15", hostname="example.com")]
    assert _of(records, ServiceRecord) == [ServiceRecord(host="40.76.4.15", port=443, service="https")]
    leaf, intermediate = _of(records, CertificateRecord)
    assert leaf == CertificateRecord(
        host="40.76.4.15", port=443,
        subject="CN=example.com,O=Example Enterprises,L=Springfield,ST=IL,C=US",
        issuer="CN=Example Issuing CA,O=Example Enterprises,C=US",
        sans=("example.com", "s.example.com"),
        not_before=datetime(2022, 1, 24, 4, 39, 56, tzinfo=timezone.utc),
        not_after=datetime(2023, 1, 19, 4, 39, 56, tzinfo=timezone.utc),
        key_type="RSA", key_bits=2048, signature_algorithm="sha384WithRSAEncryption",
        fingerprint_sha256="2B01B46751C307CDA93854D686A215D7A83CE3BCF1ED800E9513FCB0319182F7",
        serial="330028677BB130C90EA6751AB100000028677B", chain_position=0,
    )
    assert intermediate.chain_position == 1
    assert intermediate.issuer == "CN=DigiCert Global Root G2,OU=www.digicert.com,O=DigiCert Inc,C=US"
    assert intermediate.key_bits == 4096


def test_validity_is_judged_at_the_scan_date_not_today():
    leaf = _of(_records(FIXTURES / ZERO_VULN), CertificateRecord)[0]
    assert leaf.not_after < datetime.now(timezone.utc)
    assert "cert-expired" not in _findings(_records(FIXTURES / ZERO_VULN))


def test_expired_leaf_yields_high_expired_finding_and_no_separate_untrust_finding():
    records = _records(FIXTURES / EXPIRED)
    findings = _findings(records)
    assert sorted(findings) == ["cert-expired", "tls-no-tls1_3", "tls-protocol-tls1_0", "tls-protocol-tls1_1",
                                "tls-weak-ciphers"]
    expired = findings["cert-expired"]
    assert expired.severity == Severity.HIGH
    assert (expired.host, expired.port, expired.protocol) == ("104.154.89.105", 443, "tcp")
    assert expired.title == "Certificate expired on 2015-04-12"
    assert expired.extra == {"hostname": "expired.badssl.com"}
    assert "Mozilla: validation failed: cert is not valid at validation time" in expired.evidence
    leaf = _of(records, CertificateRecord)[0]
    assert leaf.subject == "CN=*.badssl.com,OU=PositiveSSL Wildcard,OU=Domain Control Validated"
    assert leaf.not_after == datetime(2015, 4, 12, 23, 59, 59, tzinfo=timezone.utc)
    assert leaf.serial == "4AE79549FA9ABE3F100F17A478E16909"
    assert leaf.fingerprint_sha256 == "BA105CE02BAC76888ECEE47CD4EB7941653E9AC993B61B2EB3DCC82014D21B4F"
    assert [c.chain_position for c in _of(records, CertificateRecord)] == [0, 1, 2]


def test_legacy_protocols_and_3des_suites_are_medium_findings():
    findings = _findings(_records(FIXTURES / EXPIRED))
    assert findings["tls-protocol-tls1_0"].severity == Severity.MEDIUM
    assert findings["tls-protocol-tls1_1"].severity == Severity.MEDIUM
    assert findings["tls-no-tls1_3"].severity == Severity.INFO
    weak = findings["tls-weak-ciphers"]
    assert weak.severity == Severity.MEDIUM
    assert weak.cwe_ids == ("CWE-327",)
    assert weak.evidence.splitlines() == [
        f"TLS 1.{minor}: TLS_{exchange}_WITH_3DES_EDE_CBC_SHA (168 bits)"
        for minor in (0, 1, 2) for exchange in ("RSA", "ECDHE_RSA")
    ]


def test_self_signed_leaf_yields_medium_self_signed_finding_and_ignores_the_no_sni_deployment():
    records = _records(FIXTURES / SELF_SIGNED)
    findings = _findings(records)
    assert sorted(findings) == ["cert-self-signed", "tls-no-tls1_3", "tls-protocol-tls1_0",
                                "tls-protocol-tls1_1", "tls-weak-ciphers"]
    assert findings["cert-self-signed"].severity == Severity.MEDIUM
    assert findings["cert-self-signed"].category == "certificate"
    (leaf,) = _of(records, CertificateRecord)
    assert leaf.subject == leaf.issuer == "CN=*.badssl.com,O=BadSSL,L=San Francisco,ST=California,C=US"
    assert leaf.not_after == datetime(2027, 11, 4, 21, 1, 33, tzinfo=timezone.utc)
    assert leaf.sans == ("*.badssl.com", "badssl.com")


def test_tls10_only_server_on_port_1010_yields_tls10_and_missing_tls13_findings():
    records = _records(FIXTURES / TLS10)
    assert _of(records, ServiceRecord) == [ServiceRecord(host="104.154.89.105", port=1010, service="tls")]
    findings = _findings(records)
    assert sorted(findings) == ["tls-no-tls1_3", "tls-protocol-tls1_0"]
    tls10 = findings["tls-protocol-tls1_0"]
    assert (tls10.severity, tls10.port, tls10.title) == (Severity.MEDIUM, 1010, "TLS 1.0 accepted")
    assert tls10.evidence.startswith("TLS 1.0: TLS_RSA_WITH_CAMELLIA_256_CBC_SHA, ")
    leaf = _of(records, CertificateRecord)[0]
    assert (leaf.subject, leaf.issuer) == ("CN=*.badssl.com", "CN=R12,O=Let's Encrypt,C=US")
    assert leaf.not_after == datetime(2025, 12, 15, 20, 2, 47, tzinfo=timezone.utc)


def test_unreachable_target_yields_nothing_and_is_reported_as_a_scan_problem():
    assert _records(FIXTURES / UNAVAILABLE) == []
    assert scan_problems(FIXTURES / UNAVAILABLE) == [
        '192.168.0.107:443: ERROR_NO_CONNECTIVITY: sslyze.errors.ConnectionToServerTimedOut: '
        '192.168.0.107:443 -> "Connection to the server timed out".'
    ]


def test_completed_scans_have_no_scan_problems():
    assert scan_problems(FIXTURES / EXPIRED) == []


def test_failed_plugin_is_a_scan_problem(tmp_path):
    def fail_heartbleed(document):
        _scan(document)["heartbleed"].update(status="ERROR", error_reason="CONNECTIVITY_ISSUE", result=None)

    path = _edited(tmp_path, TLS10, fail_heartbleed)
    assert scan_problems(path) == ["tls-v1-0.badssl.com:1010: heartbleed failed: CONNECTIVITY_ISSUE"]


def test_sslyze6_hostname_not_in_sans_yields_mismatch_finding(tmp_path):
    def rename(document):
        document["server_scan_results"][0]["scan_result"]["certificate_info"]["result"][
            "hostname_used_for_server_name_indication"] = "tls-v1-0.example.org"

    finding = _findings(_records(_edited(tmp_path, TLS10, rename)))["cert-hostname-mismatch"]
    assert finding.severity == Severity.MEDIUM
    assert finding.title == "Certificate does not match tls-v1-0.example.org"
    assert finding.evidence == "CN=*.badssl.com; SANs: *.badssl.com, badssl.com"


def test_wildcard_covers_one_label_only(tmp_path):
    def deeper(document):
        document["server_scan_results"][0]["scan_result"]["certificate_info"]["result"][
            "hostname_used_for_server_name_indication"] = "a.tls-v1-0.badssl.com"

    assert "cert-hostname-mismatch" in _findings(_records(_edited(tmp_path, TLS10, deeper)))


def test_sslyze5_hostname_verdict_is_used_when_present(tmp_path):
    def mismatch(document):
        _deployment(document)["leaf_certificate_subject_matches_hostname"] = False

    assert sorted(_findings(_records(_edited(tmp_path, ZERO_VULN, mismatch)))) == ["cert-hostname-mismatch"]


def test_chain_untrusted_in_every_store_is_medium_and_in_some_stores_low(tmp_path):
    def distrust(stores: int):
        def edit(document):
            for validation in _deployment(document)["path_validation_results"][:stores]:
                validation.update(was_validation_successful=False,
                                  openssl_error_string="unable to get issuer")
        return edit

    everywhere = _findings(_records(_edited(tmp_path, ZERO_VULN, distrust(5))))["cert-untrusted"]
    assert everywhere.severity == Severity.MEDIUM
    assert everywhere.evidence.splitlines()[0] == "Android: unable to get issuer"
    somewhere = _findings(_records(_edited(tmp_path, ZERO_VULN, distrust(1))))["cert-untrusted"]
    assert (somewhere.severity, somewhere.evidence) == (Severity.LOW, "Android: unable to get issuer")


def test_vulnerable_plugin_results_yield_findings_with_testssl_cve_ids(tmp_path):
    def vulnerable(document):
        scan = _scan(document)
        scan["heartbleed"]["result"]["is_vulnerable_to_heartbleed"] = True
        scan["openssl_ccs_injection"]["result"]["is_vulnerable_to_ccs_injection"] = True
        scan["robot"]["result"]["robot_result"] = "VULNERABLE_WEAK_ORACLE"
        scan["session_renegotiation"]["result"].update(supports_secure_renegotiation=False,
                                                       is_vulnerable_to_client_renegotiation_dos=True)
        scan["tls_compression"]["result"]["supports_compression"] = True

    findings = _findings(_records(_edited(tmp_path, ZERO_VULN, vulnerable)))
    assert {rule: (f.severity, f.cve_ids[0]) for rule, f in findings.items()} == {
        "heartbleed": (Severity.HIGH, "CVE-2014-0160"),
        "ccs-injection": (Severity.HIGH, "CVE-2014-0224"),
        "robot": (Severity.MEDIUM, "CVE-2017-17382"),
        "tls-insecure-renegotiation": (Severity.MEDIUM, "CVE-2009-3555"),
        "tls-client-renegotiation-dos": (Severity.MEDIUM, "CVE-2011-1473"),
        "tls-compression-crime": (Severity.MEDIUM, "CVE-2012-4929"),
    }
    assert findings["heartbleed"].issue_key == "CVE-2014-0160"
    assert findings["robot"].issue_key == "CVE-2012-5081"


def test_null_and_anonymous_suites_are_high(tmp_path):
    def null_suite(document):
        accepted = _scan(document)["tls_1_2_cipher_suites"]["result"]["accepted_cipher_suites"]
        suite = accepted[0]["cipher_suite"]
        suite.update(name="TLS_ECDH_anon_WITH_NULL_SHA", key_size=0, is_anonymous=True)

    weak = _findings(_records(_edited(tmp_path, ZERO_VULN, null_suite)))["tls-weak-ciphers"]
    assert (weak.severity, weak.evidence) == (Severity.HIGH, "TLS 1.2: TLS_ECDH_anon_WITH_NULL_SHA (0 bits)")


def test_huge_tool_text_is_clipped(tmp_path):
    def long_error(document):
        for validation in _deployment(document)["path_validation_results"]:
            validation["validation_error"] = "x" * 10_000

    finding = _findings(_records(_edited(tmp_path, SELF_SIGNED, long_error)))["cert-self-signed"]
    assert len(finding.evidence) == 4000
    assert finding.evidence.endswith("…")


def test_empty_file_yields_nothing(tmp_path):
    (tmp_path / "empty.json").write_bytes(b"")
    (tmp_path / "blank.json").write_text("  \n")
    assert _records(tmp_path / "empty.json") == []
    assert _records(tmp_path / "blank.json") == []
    assert scan_problems(tmp_path / "empty.json") == []


def test_truncated_json_raises_parse_error(tmp_path):
    path = tmp_path / "truncated.json"
    path.write_bytes((FIXTURES / TLS10).read_bytes()[:5000])
    with pytest.raises(ParseError, match="truncated.json: not valid JSON"):
        _records(path)


def test_other_tools_json_raises_parse_error(tmp_path):
    path = tmp_path / "testssl.json"
    path.write_text('[{"id": "SSLv2", "ip": "a/1.2.3.4", "port": "443", "severity": "OK", "finding": "no"}]')
    with pytest.raises(ParseError, match="not sslyze JSON output: no top-level 'server_scan_results' list"):
        _records(path)


def test_target_without_location_raises_parse_error(tmp_path):
    def drop_location(document):
        del document["server_scan_results"][0]["server_location"]

    with pytest.raises(ParseError, match=r"server_scan_results\[0\]\.server_location is missing"):
        _records(_edited(tmp_path, TLS10, drop_location))
