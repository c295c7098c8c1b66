"""Tests of the nikto parser on real nikto reports (see fixtures/PROVENANCE.md) and on hand-made bad input."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from pathlib import Path

import pytest

from engines.errors import ParseError
from engines.nikto.parse import parse
from engines.records import CertificateRecord, FindingRecord, HostRecord, Record, ServiceRecord, Severity

FIXTURES = Path(__file__).parent / "fixtures"


def test_every_fixture_is_listed_in_provenance_with_its_sha256() -> None:
    provenance = (FIXTURES / "PROVENANCE.md").read_text(encoding="utf-8")
    row = r"^\| `nikto/([^`]+)` \| `[0-9a-f]{40}` \| `([0-9a-f]{64})` \|$"
    listed = dict(re.findall(row, provenance, re.MULTILINE))
    fixtures = [p for p in FIXTURES.iterdir() if p.suffix != ".md"]
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in fixtures}
    assert len(files) == 5
    assert listed == files


def _load(name: str) -> list[Record]:
    return list(parse(FIXTURES / name))


def _counts(records: list[Record]) -> tuple[int, int, int]:
    """(hosts, services, findings); certificates are counted by the tests that expect them."""
    hosts = sum(isinstance(r, HostRecord) for r in records)
    services = sum(isinstance(r, ServiceRecord) for r in records)
    findings = sum(isinstance(r, FindingRecord) for r in records)
    certificates = sum(isinstance(r, CertificateRecord) for r in records)
    assert hosts + services + findings + certificates == len(records)
    return hosts, services, findings


def _findings(records: list[Record]) -> list[FindingRecord]:
    return [r for r in records if isinstance(r, FindingRecord)]


# --- dd_nikto-output.xml (nikto 2.1.5) ----------------------------------------------------------------------


def test_nikto_215_xml_counts_one_host_one_service_13_findings() -> None:
    assert _counts(_load("dd_nikto-output.xml")) == (1, 1, 13)


def test_nikto_215_xml_host_and_service_from_scandetails() -> None:
    records = _load("dd_nikto-output.xml")
    assert records[0] == HostRecord(ip="127.0.0.1", hostname="localhost")
    assert records[1] == ServiceRecord(host="127.0.0.1", port=8070, service="http", banner="")


def test_nikto_215_xml_severity_buckets() -> None:
    findings = _findings(_load("dd_nikto-output.xml"))
    assert Counter(f.severity for f in findings) == {Severity.INFO: 5, Severity.LOW: 5, Severity.MEDIUM: 3}


def test_nikto_215_xml_xss_item_is_medium_with_osvdb_in_rule_id() -> None:
    xss = _findings(_load("dd_nikto-output.xml"))[7]
    assert xss.rule_id == "000834:osvdb-3931"
    assert xss.severity is Severity.MEDIUM
    assert xss.category == "known-vulnerability"
    assert xss.title == "myphpnuke is vulnerable to Cross Site Scripting (XSS). CA-2000-02."
    assert xss.location == (
        "http://localhost:8070/myphpnuke/links.php?op=MostPopular&ratenum=[script]alert(document.cookie);"
        "[/script]&ratetype=percent"
    )
    assert (xss.host, xss.port, xss.protocol) == ("localhost", 8070, "tcp")
    assert xss.extra == {"osvdb": "3931", "method": "GET"}


def test_nikto_215_xml_reused_id_999976_gives_two_fingerprints() -> None:
    same_id = [f for f in _findings(_load("dd_nikto-output.xml")) if f.rule_id.startswith("999976")]
    assert [f.rule_id for f in same_id] == ["999976", "999976:osvdb-5646"]
    assert [f.severity for f in same_id] == [Severity.INFO, Severity.LOW]
    assert same_id[0].location == same_id[1].location == "http://localhost:8070/"
    assert same_id[0].fingerprint != same_id[1].fingerprint


def test_nikto_215_xml_empty_namelink_falls_back_to_site_url() -> None:
    favicon = [f for f in _findings(_load("dd_nikto-output.xml")) if f.rule_id.startswith("500008")][0]
    assert favicon.location == "http://localhost:8070/favicon.ico"
    assert favicon.title == "favicon.ico file identifies this server as: Apache Tomcat"


def test_nikto_215_xml_all_13_findings_have_distinct_fingerprints() -> None:
    assert len({f.fingerprint for f in _findings(_load("dd_nikto-output.xml"))}) == 13


def test_nikto_215_xml_manager_interface_and_cookie_flag_are_low() -> None:
    by_id = {f.rule_id: f for f in _findings(_load("dd_nikto-output.xml"))}
    assert (by_id["006525"].severity, by_id["006525"].category) == (Severity.LOW, "default-content")
    assert (by_id["999960"].severity, by_id["999960"].category) == (Severity.LOW, "cookie-flag")
    assert by_id["006525"].title == "Default Tomcat Manager interface found"


# --- dd_tdh.xml (nikto 2.1.6, nested niktoscan, ssl element) ------------------------------------------------


def test_nikto_216_xml_counts_one_host_one_service_6_findings_one_certificate() -> None:
    records = _load("dd_tdh.xml")
    assert _counts(records) == (1, 1, 6)
    assert sum(isinstance(r, CertificateRecord) for r in records) == 1


def test_nikto_216_xml_service_banner_and_https_scheme() -> None:
    records = _load("dd_tdh.xml")
    assert records[0] == HostRecord(ip="64.220.43.153", hostname="www.tdh.com")
    assert records[1] == ServiceRecord(host="64.220.43.153", port=443, service="https", banner="nginx")


def test_nikto_216_xml_certificate_from_ssl_element() -> None:
    cert = [r for r in _load("dd_tdh.xml") if isinstance(r, CertificateRecord)][0]
    assert cert.subject == "/CN=tdh.com"
    assert cert.issuer.endswith("/CN=Sectigo RSA Domain Validation Secure Server CA")
    assert cert.sans == ("tdh.com", "www.tdh.com")
    assert (cert.host, cert.port) == ("64.220.43.153", 443)


def test_nikto_216_xml_uncommon_headers_get_header_in_rule_id_and_default_port_dropped() -> None:
    findings = _findings(_load("dd_tdh.xml"))
    assert [f.rule_id for f in findings[:3]] == [
        "999100:x-cache",
        "999100:x-cacheable",
        "999100:x-redirect-by",
    ]
    assert findings[0].location == "https://www.tdh.com/"
    assert findings[0].fingerprint != findings[1].fingerprint


def test_nikto_216_xml_breach_warning_is_medium() -> None:
    breach = _findings(_load("dd_tdh.xml"))[5]
    assert breach.rule_id == "999966"
    assert breach.severity is Severity.MEDIUM


# --- scb_empty-report.json ----------------------------------------------------------------------------------


def test_empty_json_report_yields_nothing() -> None:
    assert _load("scb_empty-report.json") == []


# --- scb_juice-shop.json (nikto 2.5) ------------------------------------------------------------------------


def test_juice_shop_json_counts_one_host_one_service_168_findings() -> None:
    assert _counts(_load("scb_juice-shop.json")) == (1, 1, 168)


def test_juice_shop_json_host_and_port_3000() -> None:
    records = _load("scb_juice-shop.json")
    assert records[0] == HostRecord(ip="10.96.244.199", hostname="juice-shop.demo-targets.svc")
    assert records[1] == ServiceRecord(host="10.96.244.199", port=3000, service="http", banner="")


def test_juice_shop_json_backup_files_are_low_with_cwe_530_and_distinct_urls() -> None:
    backups = [f for f in _findings(_load("scb_juice-shop.json")) if f.rule_id == "740001"]
    assert len(backups) == 160
    assert {f.severity for f in backups} == {Severity.LOW}
    assert {f.cwe_ids for f in backups} == {("CWE-530",)}
    assert backups[0].location == "http://juice-shop.demo-targets.svc:3000/192168178.alz"
    assert backups[0].evidence == "HEAD /192168178.alz"
    assert len({f.fingerprint for f in backups}) == 160


def test_juice_shop_json_severity_counts() -> None:
    findings = _findings(_load("scb_juice-shop.json"))
    assert Counter(f.severity for f in findings) == {Severity.LOW: 161, Severity.INFO: 7}


def test_juice_shop_json_references_and_uri_prefix_stripped_from_title() -> None:
    xfo = _findings(_load("scb_juice-shop.json"))[1]
    assert xfo.rule_id == "999978"
    assert xfo.title.startswith("X-Frame-Options header is deprecated")
    assert xfo.description.startswith("/:X-Frame-Options header is deprecated")
    assert xfo.references == ("https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/X-Frame-Options",)


def test_juice_shop_json_htpasswd_is_low() -> None:
    htpasswd = [f for f in _findings(_load("scb_juice-shop.json")) if f.rule_id == "002739"][0]
    assert htpasswd.location == "http://juice-shop.demo-targets.svc:3000/.htpasswd"
    assert htpasswd.severity is Severity.LOW


# --- scb_unresolvable-host.json -----------------------------------------------------------------------------


def test_unresolvable_host_error_item_yields_nothing() -> None:
    assert _load("scb_unresolvable-host.json") == []


def test_error_item_is_dropped_but_real_items_of_the_same_host_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "mixed.json"
    path.write_text(
        '{"host":"a.example","ip":"10.0.0.1","port":"443","banner":"nginx","vulnerabilities":['
        '{"id":"0","method":"GET","url":"/","msg":"ERROR: Error limit (20) reached for host, giving up."},'
        '{"id":"999957","method":"GET","url":"/",'
        '"msg":"The X-Content-Type-Options header is not set. CVE-2099-0001"}'
        "]}"
    )
    records = list(parse(path))
    assert _counts(records) == (1, 1, 1)
    finding = _findings(records)[0]
    assert finding.location == "https://a.example/"
    assert finding.cve_ids == ("CVE-2099-0001",)
    assert finding.severity is Severity.MEDIUM


# --- bad and edge input -------------------------------------------------------------------------------------


def test_zero_byte_file_yields_nothing(tmp_path: Path) -> None:
    path = tmp_path / "zero.xml"
    path.write_bytes(b"")
    assert list(parse(path)) == []


def test_zap_xml_report_given_to_nikto_raises_parse_error(tmp_path: Path) -> None:
    path = tmp_path / "zap.xml"
    path.write_text('<?xml version="1.0"?><OWASPZAPReport version="2.9.0"><site name="x"/></OWASPZAPReport>')
    with pytest.raises(ParseError, match="root element is <OWASPZAPReport>"):
        list(parse(path))


def test_zap_json_report_given_to_nikto_raises_parse_error(tmp_path: Path) -> None:
    path = tmp_path / "zap.json"
    path.write_text('{"@version": "2.11.0", "site": [{"@name": "https://a.example", "alerts": []}]}')
    with pytest.raises(ParseError, match="no 'vulnerabilities' list"):
        list(parse(path))


def test_truncated_json_raises_parse_error(tmp_path: Path) -> None:
    path = tmp_path / "cut.json"
    path.write_bytes((FIXTURES / "scb_juice-shop.json").read_bytes()[:5000])
    with pytest.raises(ParseError, match="nikto JSON is malformed"):
        list(parse(path))


def test_truncated_xml_raises_parse_error_with_position(tmp_path: Path) -> None:
    path = tmp_path / "cut.xml"
    path.write_bytes((FIXTURES / "dd_tdh.xml").read_bytes()[:1500])
    with pytest.raises(ParseError, match=r"nikto XML is malformed at line \d+, column \d+"):
        list(parse(path))


def test_binary_junk_raises_parse_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.bin"
    path.write_bytes(b"\x00\x01\x02\xff\xfe garbage")
    with pytest.raises(ParseError, match="not a nikto report"):
        list(parse(path))


def test_xml_entity_expansion_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xml"
    path.write_text(
        '<?xml version="1.0"?><!DOCTYPE niktoscan [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        "<niktoscan><scandetails targetip='1.2.3.4' targetport='80'><item id='1'>"
        "<description>&b;</description></item></scandetails></niktoscan>"
    )
    with pytest.raises(ParseError, match="unsafe"):
        list(parse(path))
