"""Tests of the nuclei parser on real output (see fixtures/PROVENANCE.md) and on hand-made bad input."""

from __future__ import annotations

import hashlib
import json
import re
import tracemalloc
from pathlib import Path

import pytest

from engines.errors import ParseError
from engines.nuclei.parse import parse
from engines.records import FindingRecord, HostRecord, Record, ServiceRecord, Severity

FIXTURES = Path(__file__).parent / "fixtures"


def test_every_fixture_is_listed_in_provenance_with_its_sha256() -> None:
    provenance = (FIXTURES / "PROVENANCE.md").read_text(encoding="utf-8")
    row = r"^\| `nuclei/([^`]+)` \| `[0-9a-f]{40}` \| `([0-9a-f]{64})` \|$"
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


def _result_line(template_id: str = "tech-detect", host: str = "https://a.example") -> str:
    return json.dumps(
        {"template-id": template_id, "info": {"name": "T", "severity": "low"}, "type": "http", "host": host}
    )


# --- dd_many_findings_new.jsonl -----------------------------------------------------------------------------


def test_many_findings_new_counts_one_host_two_services_two_findings() -> None:
    assert _counts(_load("dd_many_findings_new.jsonl")) == (1, 2, 2)


def test_many_findings_new_network_finding_carries_cve_cwe_cvss_and_ssh_port() -> None:
    finding = _findings(_load("dd_many_findings_new.jsonl"))[0]
    assert finding.rule_id == "CVE-2018-15473"
    assert finding.title == "OpenSSH Username Enumeration v7.7"
    assert finding.severity is Severity.MEDIUM
    assert finding.cve_ids == ("CVE-2018-15473",)
    assert finding.cwe_ids == ("CWE-362",)
    assert finding.cvss_score == 5.3
    assert (finding.host, finding.port, finding.protocol) == ("nuclei-example.com", 22, "tcp")
    assert finding.location == "nuclei-example.com:22"
    assert finding.evidence == "SSH-2.0-OpenSSH_7.4p1 Debian-10+deb9u7"
    assert finding.references == ("https://nvd.nist.gov/vuln/detail/cve-2018-15473",)
    assert finding.category == "network"


def test_many_findings_new_http_finding_is_low_at_metrics_url_on_443() -> None:
    finding = _findings(_load("dd_many_findings_new.jsonl"))[1]
    assert finding.rule_id == "prometheus-metrics"
    assert finding.severity is Severity.LOW
    assert finding.location == "https://nuclei-example.com/metrics"
    assert finding.port == 443
    assert finding.cve_ids == ()


def test_many_findings_new_host_and_services_come_from_the_ip_field() -> None:
    records = _load("dd_many_findings_new.jsonl")
    assert [r for r in records if isinstance(r, HostRecord)] == [
        HostRecord(ip="127.0.0.1", hostname="nuclei-example.com")
    ]
    services = [r for r in records if isinstance(r, ServiceRecord)]
    assert [(s.host, s.port, s.service) for s in services] == [
        ("127.0.0.1", 22, ""),
        ("127.0.0.1", 443, "https"),
    ]


# --- scb_empty-test.jsonl -----------------------------------------------------------------------------------


def test_empty_fixture_yields_nothing() -> None:
    assert _load("scb_empty-test.jsonl") == []


# --- scb_example-com-test.jsonl -----------------------------------------------------------------------------


def test_example_com_counts_one_host_one_service_27_findings() -> None:
    assert _counts(_load("scb_example-com-test.jsonl")) == (1, 1, 27)


def test_example_com_all_findings_are_info() -> None:
    assert {f.severity for f in _findings(_load("scb_example-com-test.jsonl"))} == {Severity.INFO}


def test_example_com_matcher_name_goes_into_rule_id_and_title() -> None:
    first = _findings(_load("scb_example-com-test.jsonl"))[0]
    assert first.rule_id == "http-missing-security-headers:content-security-policy"
    assert first.title == "HTTP Missing Security Headers (content-security-policy)"
    assert first.location == "https://example.com/"


def test_example_com_missing_headers_have_17_distinct_fingerprints() -> None:
    findings = _findings(_load("scb_example-com-test.jsonl"))
    headers = [f for f in findings if f.rule_id.startswith("http-missing-security-headers:")]
    assert len(headers) == 17
    assert len({f.fingerprint for f in headers}) == 17


def test_example_com_dns_findings_have_no_port() -> None:
    dns = [f for f in _findings(_load("scb_example-com-test.jsonl")) if f.category == "dns"]
    assert [f.rule_id for f in dns] == [
        "nameserver-fingerprint",
        "dnssec-detection",
        "txt-fingerprint",
        "mx-fingerprint",
    ]
    assert {(f.host, f.port) for f in dns} == {("example.com", None)}
    assert dns[0].cwe_ids == ("CWE-200",)
    assert dns[0].evidence == "a.iana-servers.net.\nb.iana-servers.net."


def test_example_com_deprecated_tls_results_are_both_kept_with_their_own_evidence() -> None:
    tls = [f for f in _findings(_load("scb_example-com-test.jsonl")) if f.rule_id == "deprecated-tls"]
    assert [f.evidence for f in tls] == ["TLS10", "TLS11"]
    assert tls[0].remediation == "Update the web server's TLS configuration to disable TLS 1.1 and SSLv3."


def test_example_com_third_party_ip_does_not_become_a_host() -> None:
    records = _load("scb_example-com-test.jsonl")
    azure = [f for f in _findings(records) if f.rule_id == "azure-domain-tenant"][0]
    assert azure.host == "login.microsoftonline.com"
    assert azure.location == (
        "https://login.microsoftonline.com/example.com/v2.0/.well-known/openid-configuration"
    )
    assert azure.extra["ip"] == "40.126.32.140"
    assert [r.ip for r in records if isinstance(r, HostRecord)] == ["93.184.216.34"]


# --- scb_hostname-without-port.jsonl ------------------------------------------------------------------------


def test_hostname_without_port_yields_one_finding_and_no_host() -> None:
    records = _load("scb_hostname-without-port.jsonl")
    assert _counts(records) == (0, 0, 1)
    finding = _findings(records)[0]
    assert (finding.rule_id, finding.host, finding.port, finding.location) == (
        "caa-fingerprint",
        "example.com",
        None,
        "example.com",
    )
    assert finding.title == "CAA Record"


# --- scb_log4shell.jsonl ------------------------------------------------------------------------------------


def test_log4shell_counts_one_host_one_service_one_finding() -> None:
    assert _counts(_load("scb_log4shell.jsonl")) == (1, 1, 1)


def test_log4shell_is_critical_with_cve_taken_from_the_template_id() -> None:
    records = _load("scb_log4shell.jsonl")
    finding = _findings(records)[0]
    assert finding.severity is Severity.CRITICAL
    assert finding.cve_ids == ("CVE-2021-44228",)
    assert finding.issue_key == "CVE-2021-44228"
    assert (finding.host, finding.port, finding.location) == ("10.1.6.107", 8080, "http://10.1.6.107:8080/")
    assert finding.evidence == "vuln-log4j-vulnerable-log4j-74bbf59745-h2kqj"
    assert finding.extra["interaction"] == "dns"
    assert records[0] == HostRecord(ip="10.1.6.107", hostname="")
    assert records[1] == ServiceRecord(host="10.1.6.107", port=8080, service="http")


# --- severity mapping ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "cvss", "expected"),
    [
        ("critical", None, Severity.CRITICAL),
        ("HIGH", None, Severity.HIGH),
        ("unknown", 7.5, Severity.HIGH),
        ("unknown", None, Severity.INFO),
        ("", 4.0, Severity.MEDIUM),
    ],
)
def test_severity_maps_labels_and_falls_back_to_cvss(
    tmp_path: Path, raw: str, cvss: float | None, expected: Severity
) -> None:
    info = {"name": "x", "severity": raw, "classification": {"cvss-score": cvss}}
    path = tmp_path / "one.jsonl"
    result = {"template-id": "t", "info": info, "host": "a.example", "matched-at": "a.example"}
    path.write_text(json.dumps(result))
    (finding,) = list(parse(path))
    assert finding.severity is expected


# --- bad and edge input -------------------------------------------------------------------------------------


def test_zero_byte_and_blank_files_yield_nothing(tmp_path: Path) -> None:
    (tmp_path / "zero.jsonl").write_bytes(b"")
    (tmp_path / "blank.jsonl").write_bytes(b"\n  \n\n")
    assert list(parse(tmp_path / "zero.jsonl")) == []
    assert list(parse(tmp_path / "blank.jsonl")) == []


def test_truncated_line_raises_parse_error_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "cut.jsonl"
    path.write_text(_result_line() + "\n" + _result_line()[:25] + "\n")
    with pytest.raises(ParseError, match=r"line 2: invalid JSON"):
        list(parse(path))


def test_records_before_a_bad_line_are_yielded_before_the_error(tmp_path: Path) -> None:
    path = tmp_path / "half.jsonl"
    path.write_text(_result_line("first") + "\nnot json\n")
    records = parse(path)
    assert next(records).rule_id == "first"
    with pytest.raises(ParseError, match="line 2"):
        next(records)


def test_binary_junk_raises_parse_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.jsonl"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe")
    with pytest.raises(ParseError, match="line 1"):
        list(parse(path))


def test_zap_report_given_to_nuclei_raises_parse_error(tmp_path: Path) -> None:
    zap = Path(__file__).parents[2] / "zap" / "tests" / "fixtures" / "bcgov_vhers_report_json.json"
    path = tmp_path / "zap.jsonl"
    path.write_bytes(zap.read_bytes())
    with pytest.raises(ParseError, match="line 1: invalid JSON"):
        list(parse(path))


def test_json_line_that_is_not_a_nuclei_result_raises_parse_error(tmp_path: Path) -> None:
    path = tmp_path / "other.jsonl"
    path.write_text(_result_line() + '\n{"host": "a", "port": 80}\n')
    with pytest.raises(ParseError, match=r"line 2: not a nuclei result"):
        list(parse(path))


def test_json_export_array_is_read(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    path.write_text("[" + _result_line("a") + "," + _result_line("b") + "]")
    assert [r.rule_id for r in parse(path) if isinstance(r, FindingRecord)] == ["a", "b"]


def test_parser_streams_first_record_before_reading_the_rest(tmp_path: Path) -> None:
    """The last of 20,000 lines is broken: a parser that decoded the whole file first would raise on next(),
    and one that read it into memory would allocate its ~2 MB before the first record."""
    path = tmp_path / "big.jsonl"
    with path.open("w") as handle:
        for index in range(20_000):
            handle.write(_result_line(f"t{index}") + "\n")
        handle.write("{broken\n")
    assert path.stat().st_size > 2_000_000
    records = parse(path)
    tracemalloc.start()
    try:
        first = next(records)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        records.close()
    assert isinstance(first, FindingRecord)
    assert first.rule_id == "t0"
    assert peak < 200_000


def test_result_with_matcher_status_false_is_not_a_finding(tmp_path: Path) -> None:
    unmatched = json.loads(_result_line("no-match"))
    unmatched["matcher-status"] = False
    path = tmp_path / "ms.jsonl"
    path.write_text(json.dumps(unmatched) + "\n" + _result_line("match") + "\n")
    assert [r.rule_id for r in parse(path) if isinstance(r, FindingRecord)] == ["match"]


def test_ip_of_the_target_gives_one_host_and_one_service_per_port(tmp_path: Path) -> None:
    common = {"info": {}, "host": "h.example", "ip": "192.0.2.7"}
    lines = [
        {"template-id": "a", "type": "http", "matched-at": "https://h.example/x"},
        {"template-id": "b", "type": "http", "matched-at": "https://h.example/y"},
        {"template-id": "c", "type": "dns", "matched-at": "h.example"},
    ]
    path = tmp_path / "hosts.jsonl"
    path.write_text("\n".join(json.dumps({**common, **line}) for line in lines))
    records = list(parse(path))
    assert _counts(records) == (1, 1, 3)
    assert records[1] == ServiceRecord(host="192.0.2.7", port=443, service="https")
