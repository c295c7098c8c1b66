"""Tests of the ZAP parser against real ZAP reports (see fixtures/PROVENANCE.md) and hand-made bad input."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from engines.errors import ParseError
from engines.records import FindingRecord, HostRecord, Record, ServiceRecord, Severity
from engines.zap.parse import parse

FIXTURES = Path(__file__).parent / "fixtures"


def test_every_fixture_is_listed_in_provenance_with_its_sha256() -> None:
    provenance = (FIXTURES / "PROVENANCE.md").read_text(encoding="utf-8")
    row = r"^\| `zap/([^`]+)` \| `[0-9a-f]{40}` \| `([0-9a-f]{64})` \|$"
    listed = dict(re.findall(row, provenance, re.MULTILINE))
    fixtures = [p for p in FIXTURES.iterdir() if p.suffix != ".md"]
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in fixtures}
    assert len(files) == 5
    assert listed == files


def _load(name: str) -> list[Record]:
    return list(parse(FIXTURES / name))


def _counts(records: list[Record]) -> tuple[int, int, int]:
    """(hosts, services, findings), and nothing of another type."""
    hosts = sum(isinstance(r, HostRecord) for r in records)
    services = sum(isinstance(r, ServiceRecord) for r in records)
    findings = sum(isinstance(r, FindingRecord) for r in records)
    assert hosts + services + findings == len(records)
    return hosts, services, findings


def _findings(records: list[Record]) -> list[FindingRecord]:
    return [r for r in records if isinstance(r, FindingRecord)]


def _json_report(alert: dict[str, object]) -> str:
    site = {"@name": "https://a.example", "@host": "a.example", "@port": "443", "alerts": [alert]}
    return json.dumps({"@version": "2.15.0", "site": [site]})


def _alert(**overrides: object) -> dict[str, object]:
    alert: dict[str, object] = {
        "pluginid": "10020",
        "alertRef": "10020-1",
        "name": "Missing Anti-clickjacking Header",
        "riskcode": "2",
        "confidence": "2",
        "instances": [{"uri": "https://a.example/x", "method": "GET", "param": "x-frame-options"}],
    }
    alert.update(overrides)
    return alert


# --- bcgov_vhers_report_json.json (ZAP 2.14.0 JSON) ---------------------------------------------------------


def test_bcgov_json_counts_one_host_one_service_35_findings() -> None:
    assert _counts(_load("bcgov_vhers_report_json.json")) == (1, 1, 35)


def test_bcgov_json_site_gives_hostname_only_host_and_https_service() -> None:
    host = "vhers-virus-scan-tools-c82b4c-tools.apps.silver.devops.gov.bc.ca"
    records = _load("bcgov_vhers_report_json.json")
    assert records[0] == HostRecord(ip="", hostname=host)
    assert records[1] == ServiceRecord(host=host, port=443, service="https")


def test_bcgov_json_severity_counts_follow_riskcode() -> None:
    findings = _findings(_load("bcgov_vhers_report_json.json"))
    assert Counter(f.severity for f in findings) == {Severity.INFO: 18, Severity.LOW: 11, Severity.MEDIUM: 6}


def test_bcgov_json_first_finding_fields() -> None:
    finding = _findings(_load("bcgov_vhers_report_json.json"))[0]
    assert finding.rule_id == "10055-4"
    assert finding.title == "CSP: Wildcard Directive"
    assert finding.severity is Severity.MEDIUM
    assert finding.cwe_ids == ("CWE-693",)
    assert finding.location == "https://vhers-virus-scan-tools-c82b4c-tools.apps.silver.devops.gov.bc.ca/"
    assert (finding.port, finding.protocol) == (443, "tcp")
    assert finding.evidence == "GET param=content-security-policy evidence=default-src 'none'"
    assert finding.references[0] == "https://www.w3.org/TR/CSP/"
    assert len(finding.references) == 5
    assert finding.remediation.startswith("Ensure that your web server")
    assert "<p>" not in finding.description
    assert finding.extra["confidence"] == "high"
    assert finding.extra["pluginid"] == "10055"


def test_bcgov_json_cwe_minus_one_means_no_cwe() -> None:
    session = [f for f in _findings(_load("bcgov_vhers_report_json.json")) if f.rule_id == "10112"]
    assert len(session) == 2
    assert session[0].cwe_ids == ()


def test_bcgov_json_same_alert_on_three_urls_gives_three_fingerprints() -> None:
    csp = [f for f in _findings(_load("bcgov_vhers_report_json.json")) if f.rule_id == "10055-4"]
    assert [f.location.rsplit("/", 1)[1] for f in csp] == ["", "robots.txt", "sitemap.xml"]
    assert len({f.fingerprint for f in csp}) == 3


def test_bcgov_json_only_the_two_10049_variants_share_a_fingerprint() -> None:
    findings = _findings(_load("bcgov_vhers_report_json.json"))
    shared = Counter(f.fingerprint for f in findings)
    assert len(shared) == 34
    assert sorted(f.title for f in findings if shared[f.fingerprint] > 1) == [
        "Non-Storable Content",
        "Storable and Cacheable Content",
    ]


# --- dashlord_univ-paris13_zap.json (ZAP 2.11.0 JSON, no @programName) --------------------------------------


def test_paris13_json_counts_one_host_one_service_142_findings() -> None:
    assert _counts(_load("dashlord_univ-paris13_zap.json")) == (1, 1, 142)


def test_paris13_json_severity_counts() -> None:
    findings = _findings(_load("dashlord_univ-paris13_zap.json"))
    assert Counter(f.severity for f in findings) == {Severity.LOW: 70, Severity.INFO: 38, Severity.MEDIUM: 34}


def test_paris13_json_uri_with_and_without_slash_is_one_finding() -> None:
    csp = [f for f in _findings(_load("dashlord_univ-paris13_zap.json")) if f.rule_id == "10038"]
    assert len(csp) == 10
    assert [f.location for f in csp].count("https://www.univ-paris13.fr/") == 1
    assert csp[0].evidence == ""


def test_paris13_json_two_cookies_on_one_url_merge_into_one_finding() -> None:
    cookies = [f for f in _findings(_load("dashlord_univ-paris13_zap.json")) if f.rule_id == "10054"]
    robots = [f for f in cookies if f.location == "https://www.univ-paris13.fr/robots.txt"]
    assert len(robots) == 1
    assert robots[0].evidence == (
        "GET param=hawww evidence=Set-Cookie: hawww\nGET param=PHPSESSID evidence=Set-Cookie: PHPSESSID"
    )
    assert robots[0].extra["params"] == "hawww, PHPSESSID"
    assert robots[0].title == "Cookie without SameSite Attribute"
    assert robots[0].cwe_ids == ("CWE-1275",)


def test_paris13_json_timestamps_at_one_url_are_all_kept_in_evidence() -> None:
    stamps = [f for f in _findings(_load("dashlord_univ-paris13_zap.json")) if f.rule_id == "10096"]
    root = [f for f in stamps if f.location == "https://www.univ-paris13.fr/"][0]
    assert root.evidence.count("\n") == 19
    assert root.evidence.startswith("GET evidence=1632319200")


# --- dd_empty_2.9.0.xml -------------------------------------------------------------------------------------


def test_empty_xml_report_yields_the_site_but_no_finding() -> None:
    assert _load("dd_empty_2.9.0.xml") == [
        HostRecord(ip="", hostname="isaac.nl"),
        ServiceRecord(host="isaac.nl", port=443, service="https"),
    ]


# --- dd_zap-results-first-scan.xml (ZAP 2.10.0 XML) ---------------------------------------------------------


def test_first_scan_xml_counts_one_host_one_service_124_findings() -> None:
    assert _counts(_load("dd_zap-results-first-scan.xml")) == (1, 1, 124)


def test_first_scan_xml_severity_counts() -> None:
    findings = _findings(_load("dd_zap-results-first-scan.xml"))
    assert Counter(f.severity for f in findings) == {
        Severity.HIGH: 5,
        Severity.MEDIUM: 25,
        Severity.LOW: 48,
        Severity.INFO: 46,
    }


def test_first_scan_xml_sql_injection_is_high_with_cwe_89() -> None:
    sqli = [f for f in _findings(_load("dd_zap-results-first-scan.xml")) if f.rule_id == "40018"]
    assert len(sqli) == 1
    assert sqli[0].title == "SQL Injection"
    assert sqli[0].severity is Severity.HIGH
    assert sqli[0].cwe_ids == ("CWE-89",)
    assert sqli[0].location == "http://bodgeit.securecodebox-demo.svc:8080/bodgeit/basket.jsp"
    assert (sqli[0].host, sqli[0].port) == ("bodgeit.securecodebox-demo.svc", 8080)
    assert sqli[0].evidence == "POST param=productid attack=23-2"


def test_first_scan_xml_six_params_on_one_url_are_one_finding() -> None:
    overflow = [f for f in _findings(_load("dd_zap-results-first-scan.xml")) if f.rule_id == "30001"]
    assert len(overflow) == 1
    assert overflow[0].extra["params"] == "quantity_5, quantity_3, price, quantity_7, quantity, quantity_1"
    assert overflow[0].evidence.count("\n") == 5


def test_first_scan_xml_duplicate_instance_is_counted_once() -> None:
    attr = [f for f in _findings(_load("dd_zap-results-first-scan.xml")) if f.rule_id == "10031"]
    assert len(attr) == 10
    prodid10 = [f for f in attr if f.location.endswith("prodid=10")][0]
    assert prodid10.evidence == "GET param=prodid"


def test_first_scan_xml_html_escaped_description_becomes_text() -> None:
    attr = _findings(_load("dd_zap-results-first-scan.xml"))[0]
    assert attr.description.startswith("This check looks at user-supplied input in query string parameters")
    assert attr.remediation == (
        "Validate all input and sanitize output it before writing to any HTML attributes."
    )


# --- dd_zap_2.16.1_with_req_resp.xml ------------------------------------------------------------------------


def test_zap_2161_xml_counts_one_host_one_service_13_findings() -> None:
    assert _counts(_load("dd_zap_2.16.1_with_req_resp.xml")) == (1, 1, 13)


def test_zap_2161_xml_findings_are_info_with_instance_otherinfo() -> None:
    findings = _findings(_load("dd_zap_2.16.1_with_req_resp.xml"))
    assert {f.severity for f in findings} == {Severity.INFO}
    auth = findings[0]
    assert (auth.rule_id, auth.title) == ("10111", "Authentication Request Identified")
    assert auth.location == "https://example-domain.com/cpapi/api/account/verifypasswordless"
    assert auth.evidence == "POST param=user_identifier evidence=passwordless_code"
    assert auth.extra["otherinfo"] == (
        "userParam=user_identifier\nuserValue=string\npasswordParam=passwordless_code"
    )
    assert auth.extra["confidence"] == "low"


def test_zap_2161_xml_request_and_response_bodies_are_not_evidence() -> None:
    findings = _findings(_load("dd_zap_2.16.1_with_req_resp.xml"))
    assert not any("HTTP/1.1" in f.evidence for f in findings)


# --- severity and mapping details ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("riskcode", "confidence", "expected"),
    [
        ("3", "3", Severity.HIGH),
        ("2", "1", Severity.MEDIUM),
        ("1", "4", Severity.LOW),
        ("3", "0", Severity.INFO),
    ],
)
def test_riskcode_maps_to_severity_and_false_positive_is_info(
    tmp_path: Path, riskcode: str, confidence: str, expected: Severity
) -> None:
    path = tmp_path / "r.json"
    path.write_text(_json_report(_alert(riskcode=riskcode, confidence=confidence)))
    (finding,) = _findings(list(parse(path)))
    assert finding.severity is expected
    assert ("false_positive" in finding.extra) is (confidence == "0")


def test_cve_in_alert_name_becomes_cve_id(tmp_path: Path) -> None:
    path = tmp_path / "cve.json"
    path.write_text(_json_report(_alert(name="Log4Shell (CVE-2021-44228)", alertRef="40043", cweid="117")))
    (finding,) = _findings(list(parse(path)))
    assert finding.cve_ids == ("CVE-2021-44228",)
    assert finding.cwe_ids == ("CWE-117",)
    assert finding.issue_key == "CVE-2021-44228"


def test_riskcode_out_of_range_raises_parse_error(tmp_path: Path) -> None:
    path = tmp_path / "risk.json"
    path.write_text(_json_report(_alert(riskcode="7")))
    with pytest.raises(ParseError, match="riskcode '7'"):
        list(parse(path))


# --- bad and edge input -------------------------------------------------------------------------------------


def test_zero_byte_file_yields_nothing(tmp_path: Path) -> None:
    path = tmp_path / "zero.json"
    path.write_bytes(b"")
    assert list(parse(path)) == []


def test_json_report_without_sites_yields_nothing(tmp_path: Path) -> None:
    path = tmp_path / "nosite.json"
    path.write_text('{"@version": "2.14.0", "site": []}')
    assert list(parse(path)) == []


def test_nikto_xml_given_to_zap_raises_parse_error() -> None:
    nikto = Path(__file__).parents[2] / "nikto" / "tests" / "fixtures" / "dd_tdh.xml"
    with pytest.raises(ParseError, match="root element is <niktoscan>"):
        list(parse(nikto))


def test_nikto_json_given_to_zap_raises_parse_error() -> None:
    nikto = Path(__file__).parents[2] / "nikto" / "tests" / "fixtures" / "scb_juice-shop.json"
    with pytest.raises(ParseError, match="not a ZAP report"):
        list(parse(nikto))


def test_zap_api_alert_list_raises_parse_error(tmp_path: Path) -> None:
    path = tmp_path / "api.json"
    path.write_text('{"alerts": [{"alertRef": "10020", "risk": "Medium", "url": "https://a.example/"}]}')
    with pytest.raises(ParseError, match="no 'site' list"):
        list(parse(path))


def test_truncated_json_raises_parse_error(tmp_path: Path) -> None:
    path = tmp_path / "cut.json"
    path.write_bytes((FIXTURES / "bcgov_vhers_report_json.json").read_bytes()[:3000])
    with pytest.raises(ParseError, match="ZAP JSON is malformed"):
        list(parse(path))


def test_truncated_xml_raises_parse_error_with_position(tmp_path: Path) -> None:
    path = tmp_path / "cut.xml"
    path.write_bytes((FIXTURES / "dd_zap-results-first-scan.xml").read_bytes()[:4000])
    with pytest.raises(ParseError, match=r"ZAP XML is malformed at line \d+, column \d+"):
        list(parse(path))


def test_binary_junk_raises_parse_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.bin"
    path.write_bytes(b"\x1f\x8b\x08\x00 gzip-ish junk")
    with pytest.raises(ParseError, match="not a ZAP report"):
        list(parse(path))


def test_xml_external_entity_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "xxe.xml"
    path.write_text(
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        '<OWASPZAPReport><site name="http://a" host="a" port="80"><alerts><alertitem>'
        "<pluginid>1</pluginid><riskcode>1</riskcode><desc>&x;</desc>"
        "</alertitem></alerts></site></OWASPZAPReport>"
    )
    with pytest.raises(ParseError, match="unsafe"):
        list(parse(path))
