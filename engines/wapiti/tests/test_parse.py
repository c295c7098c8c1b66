"""Tests for the Wapiti JSON report parser against a real Wapiti 3.2.4 report and small synthetic reports."""

from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest

from engines.errors import ParseError
from engines.records import AssetRecord, FindingRecord, HostRecord, Record, ServiceRecord, Severity
from engines.wapiti.parse import parse

FIXTURES = pathlib.Path(__file__).parent / "fixtures"
ALEREON = FIXTURES / "threatvisor_alereon_wapiti_report.json"


def _counts(records: list[Record]) -> dict[str, int]:
    """How many records of each kind; every fixture test asserts all four."""
    return {
        "hosts": sum(isinstance(record, HostRecord) for record in records),
        "services": sum(isinstance(record, ServiceRecord) for record in records),
        "findings": sum(isinstance(record, FindingRecord) for record in records),
        "assets": sum(isinstance(record, AssetRecord) for record in records),
    }


def _findings(records: list[Record]) -> list[FindingRecord]:
    return [record for record in records if isinstance(record, FindingRecord)]


def _report(tmp_path: pathlib.Path, target: str, **sections: dict[str, list[dict[str, Any]]]) -> pathlib.Path:
    """A minimal wapiti report with the real fixture's classifications."""
    classifications = json.loads(ALEREON.read_text())["classifications"]
    report = {
        "classifications": classifications,
        "vulnerabilities": sections.get("vulnerabilities", {}),
        "anomalies": sections.get("anomalies", {}),
        "additionals": sections.get("additionals", {}),
        "infos": {"target": target, "version": "Wapiti 3.2.4"},
    }
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report))
    return path


def test_alereon_report_counts() -> None:
    records = list(parse(ALEREON))
    assert _counts(records) == {"hosts": 1, "services": 1, "findings": 4, "assets": 0}


def test_alereon_target_becomes_host_and_https_service() -> None:
    records = list(parse(ALEREON))
    assert records[0] == HostRecord(ip="", hostname="www.alereon.com")
    assert records[1] == ServiceRecord(host="www.alereon.com", port=443, protocol="tcp", service="https")


def test_alereon_header_findings_are_low_and_located_on_the_root_url() -> None:
    findings = _findings(list(parse(ALEREON)))
    assert [(finding.title, finding.severity) for finding in findings] == [
        ("Content Security Policy Configuration", Severity.LOW),
        ("Clickjacking Protection", Severity.LOW),
        ("HTTP Strict Transport Security (HSTS)", Severity.LOW),
        ("MIME Type Confusion", Severity.LOW),
    ]
    assert {finding.location for finding in findings} == {"https://www.alereon.com/"}
    assert {finding.category for finding in findings} == {"vulnerability"}
    assert {(finding.host, finding.port) for finding in findings} == {("www.alereon.com", 443)}


def test_alereon_clickjacking_finding_details() -> None:
    (finding,) = [f for f in _findings(list(parse(ALEREON))) if f.rule_id == "clickjacking-protection"]
    assert finding.engine == "wapiti"
    assert finding.description.startswith("X-Frame-Options is not set\n\nClickjacking is a technique")
    assert finding.remediation == (
        "Implement X-Frame-Options or Content Security Policy (CSP) frame-ancestors directive."
    )
    assert finding.evidence.startswith("GET / HTTP/1.1\nhost: www.alereon.com\n")
    assert finding.references == (
        "https://owasp.org/www-project-web-security-testing-guide/latest/4-Web_Application_Security_Testing/"
        "11-Client-side_Testing/09-Testing_for_Clickjacking",
        "https://www.keycdn.com/support/prevent-clickjacking",
    )
    assert finding.cwe_ids == ()
    assert finding.extra["module"] == "http_headers"
    assert finding.extra["curl_command"] == 'curl "https://www.alereon.com/"'


def test_cwe_comes_from_classification_refs_and_parameter_joins_location(tmp_path: pathlib.Path) -> None:
    sqli = {
        "method": "POST",
        "path": "/login.php",
        "info": "SQL Injection via injection in the parameter user",
        "level": 4,
        "parameter": "user",
        "http_request": "POST /login.php HTTP/1.1\nhost: 10.0.0.7:8080\n\nuser=%27",
        "curl_command": "curl ...",
        "module": "sql",
    }
    path = _report(tmp_path, "http://10.0.0.7:8080/", vulnerabilities={"SQL Injection": [sqli]})
    records = list(parse(path))
    assert records[:2] == [
        HostRecord(ip="10.0.0.7"),
        ServiceRecord(host="10.0.0.7", port=8080, protocol="tcp", service="http"),
    ]
    (finding,) = _findings(records)
    assert finding.severity is Severity.CRITICAL
    assert finding.cwe_ids == ("CWE-89",)
    assert finding.rule_id == "sql-injection"
    assert finding.location == "http://10.0.0.7:8080/login.php (POST parameter 'user')"
    assert finding.evidence == "POST /login.php HTTP/1.1\nhost: 10.0.0.7:8080\n\nuser=%27"


def test_anomalies_and_additionals_are_findings_with_their_own_category(tmp_path: pathlib.Path) -> None:
    error = {"method": "GET", "path": "/search?q=%27", "info": "The server responded with a 500", "level": 3}
    methods = {"method": "OPTIONS", "path": "/", "info": "Interesting methods allowed: PUT", "level": 0}
    path = _report(
        tmp_path,
        "https://example.org/app/",
        anomalies={"Internal Server Error": [error]},
        additionals={"HTTP Methods": [methods]},
    )
    anomaly, additional = _findings(list(parse(path)))
    assert (anomaly.category, anomaly.severity) == ("anomaly", Severity.HIGH)
    assert anomaly.title == "Internal Server Error"
    assert anomaly.location == "https://example.org/search?q=%27"
    assert (additional.category, additional.severity) == ("additional", Severity.INFO)


def test_levels_map_one_to_four_and_missing_level_defaults(tmp_path: pathlib.Path) -> None:
    items = [{"path": "/", "info": str(level), "level": level} for level in (1, 2, 3, 4)]
    items.append({"path": "/", "info": "no level"})
    path = _report(tmp_path, "http://example.org/", vulnerabilities={"Backup file": items})
    severities = [finding.severity for finding in _findings(list(parse(path)))]
    assert severities == [Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL, Severity.LOW]


def test_cve_ids_come_from_log4shell_classification(tmp_path: pathlib.Path) -> None:
    item = {"method": "GET", "path": "/", "info": "URL https://x/ seems vulnerable to Log4Shell", "level": 4}
    path = _report(tmp_path, "https://x/", vulnerabilities={"Log4Shell": [item]})
    (finding,) = _findings(list(parse(path)))
    assert finding.cve_ids == ("CVE-2021-44228",)


def test_full_url_path_from_older_wapiti_is_kept(tmp_path: pathlib.Path) -> None:
    item = {"method": "GET", "path": "http://old.example/page.php", "level": 1, "parameter": "id"}
    path = _report(tmp_path, "http://old.example/", vulnerabilities={"Path Traversal": [item]})
    (finding,) = _findings(list(parse(path)))
    assert finding.location == "http://old.example/page.php (GET parameter 'id')"
    assert finding.cwe_ids == ("CWE-22",)


def test_report_with_nothing_found_yields_only_the_target(tmp_path: pathlib.Path) -> None:
    records = list(parse(_report(tmp_path, "https://quiet.example/")))
    assert _counts(records) == {"hosts": 1, "services": 1, "findings": 0, "assets": 0}


def test_empty_file_yields_nothing(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "empty.json"
    path.write_bytes(b"")
    assert list(parse(path)) == []


def test_invalid_json_raises_parse_error(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"vulnerabilities": {"SQL Injection": [')
    with pytest.raises(ParseError, match="invalid JSON"):
        list(parse(path))


def test_other_json_raises_parse_error(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "trivy.json"
    path.write_text('{"SchemaVersion": 2, "Results": []}')
    with pytest.raises(ParseError, match="not a wapiti JSON report"):
        list(parse(path))


def test_vulnerability_section_of_wrong_shape_raises_parse_error(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "shape.json"
    path.write_text('{"vulnerabilities": {"SQL Injection": "yes"}, "infos": {}}')
    with pytest.raises(ParseError, match="must be a list of objects"):
        list(parse(path))
