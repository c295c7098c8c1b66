"""Tests for the sqlmap log and results-CSV parser against real sqlmap output and small broken files."""

from __future__ import annotations

import pathlib

import pytest

from engines.errors import ParseError
from engines.records import AssetRecord, FindingRecord, HostRecord, Record, ServiceRecord, Severity
from engines.sqlmap.parse import parse

FIXTURES = pathlib.Path(__file__).parent / "fixtures"
CSV_HEADER = "Target URL,Place,Parameter,Technique(s),Note(s)\n"


def _counts(records: list[Record]) -> dict[str, int]:
    """How many records of each kind; every fixture test asserts all four."""
    return {
        "hosts": sum(isinstance(record, HostRecord) for record in records),
        "services": sum(isinstance(record, ServiceRecord) for record in records),
        "findings": sum(isinstance(record, FindingRecord) for record in records),
        "assets": sum(isinstance(record, AssetRecord) for record in records),
    }


def _findings(path: pathlib.Path) -> list[FindingRecord]:
    records = list(parse(path))
    assert all(isinstance(record, FindingRecord) for record in records)
    return [record for record in records if isinstance(record, FindingRecord)]


def test_log_with_two_injectable_parameters_yields_one_finding_each() -> None:
    records = list(parse(FIXTURES / "dd_sqlmap_many_vuln.log"))
    assert _counts(records) == {"hosts": 0, "services": 0, "findings": 2, "assets": 0}
    findings = _findings(FIXTURES / "dd_sqlmap_many_vuln.log")
    assert [finding.title for finding in findings] == [
        "SQL injection in GET parameter 'name'",
        "SQL injection in GET parameter 'id'",
    ]
    assert [finding.extra["techniques"] for finding in findings] == [
        "boolean-based blind, time-based blind",
        "boolean-based blind, time-based blind, UNION query",
    ]
    assert {finding.extra["dbms"] for finding in findings} == {"SQLite"}


def test_log_finding_is_high_cwe89_with_dbms_and_payload_evidence() -> None:
    (finding,) = _findings(FIXTURES / "dd_sqlmap_one_vuln.log")
    assert finding.engine == "sqlmap"
    assert finding.rule_id == "sql-injection"
    assert finding.title == "SQL injection in GET parameter 'id'"
    assert finding.severity is Severity.HIGH
    assert finding.cwe_ids == ("CWE-89",)
    assert finding.location == "GET parameter 'id'"
    assert finding.description == (
        "sqlmap found the GET parameter 'id' injectable using: boolean-based blind, time-based blind, "
        "UNION query. Back-end DBMS: SQLite."
    )
    assert "Payload: id=1 AND 1415=1415" in finding.evidence
    assert "Title: Generic UNION query (NULL) - 2 columns" in finding.evidence


def test_log_counts_for_one_vuln_fixture() -> None:
    records = list(parse(FIXTURES / "dd_sqlmap_one_vuln.log"))
    assert _counts(records) == {"hosts": 0, "services": 0, "findings": 1, "assets": 0}


def test_empty_log_fixture_yields_nothing() -> None:
    records = list(parse(FIXTURES / "dd_sqlmap_no_vuln.log"))
    assert _counts(records) == {"hosts": 0, "services": 0, "findings": 0, "assets": 0}


def test_csv_with_header_only_yields_nothing() -> None:
    records = list(parse(FIXTURES / "dd_sqlmap_no_vuln.csv"))
    assert _counts(records) == {"hosts": 0, "services": 0, "findings": 0, "assets": 0}


def test_csv_row_gives_url_host_port_and_technique_names() -> None:
    records = list(parse(FIXTURES / "dd_sqlmap_one_vuln.csv"))
    assert _counts(records) == {"hosts": 0, "services": 0, "findings": 1, "assets": 0}
    (finding,) = _findings(FIXTURES / "dd_sqlmap_one_vuln.csv")
    assert finding.title == "SQL injection in GET parameter 'id'"
    assert finding.severity is Severity.HIGH
    assert finding.location == "http://wave3sqli:5000/item (GET parameter 'id')"
    assert finding.host == "wave3sqli"
    assert finding.port == 5000
    assert finding.protocol == "tcp"
    assert finding.extra["url"] == "http://wave3sqli:5000/item?id=1"
    assert finding.extra["techniques"] == "boolean-based blind, time-based blind, UNION query"
    assert finding.evidence.startswith("URL: http://wave3sqli:5000/item?id=1\n")


def test_log_reads_url_from_sibling_target_file(tmp_path: pathlib.Path) -> None:
    log = tmp_path / "log"
    log.write_bytes((FIXTURES / "dd_sqlmap_one_vuln.log").read_bytes())
    (tmp_path / "target.txt").write_text("https://shop.example:8443/item?id=1 (GET)  # sqlmap.py -u ...\n")
    (finding,) = _findings(log)
    assert finding.location == "https://shop.example:8443/item (GET parameter 'id')"
    assert finding.host == "shop.example"
    assert finding.port == 8443


def test_appended_runs_merge_into_one_finding_per_parameter(tmp_path: pathlib.Path) -> None:
    once = (FIXTURES / "dd_sqlmap_one_vuln.log").read_text()
    resumed = once.replace(
        "sqlmap identified the following injection point(s) with a total of 51 HTTP(s) requests",
        "sqlmap resumed the following injection point(s) from stored session",
    )
    log = tmp_path / "log"
    log.write_text(once + "\n" + resumed)
    (finding,) = _findings(log)
    assert finding.evidence.count("Payload: id=1 AND 1415=1415") == 1
    assert finding.extra["techniques"] == "boolean-based blind, time-based blind, UNION query"


def test_csv_false_positive_note_lowers_severity(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "results.csv"
    path.write_text(CSV_HEADER + "http://h/a.php?q=1,POST,q,T,false positive or unexploitable\n")
    (finding,) = _findings(path)
    assert finding.severity is Severity.LOW
    assert finding.title == "SQL injection in POST parameter 'q'"
    assert finding.extra["note"] == "false positive or unexploitable"


def test_csv_quoted_url_with_comma_is_read_whole(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "results.csv"
    path.write_text(CSV_HEADER + '"https://h/x?a=1,2&b=3",GET,b,BEUST,\n')
    (finding,) = _findings(path)
    assert finding.location == "https://h/x (GET parameter 'b')"
    assert finding.port == 443
    assert finding.extra["techniques"] == (
        "boolean-based blind, error-based, UNION query, stacked queries, time-based blind"
    )


def test_empty_file_yields_nothing(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "log"
    path.write_bytes(b"")
    assert list(parse(path)) == []


def test_unrelated_text_raises_parse_error(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "log"
    path.write_text("Starting Nmap 7.95 ( https://nmap.org )\n")
    with pytest.raises(ParseError, match="neither a sqlmap log"):
        list(parse(path))


def test_csv_with_wrong_header_raises_parse_error(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "results.csv"
    path.write_text("Target URL,Host,Port\nhttp://h/,h,80\n")
    with pytest.raises(ParseError, match="unexpected sqlmap CSV header"):
        list(parse(path))


def test_csv_row_with_missing_columns_raises_parse_error(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "results.csv"
    path.write_text(CSV_HEADER + "http://h/?id=1,GET\n")
    with pytest.raises(ParseError, match="line 2"):
        list(parse(path))


def test_csv_unknown_technique_letter_raises_parse_error(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "results.csv"
    path.write_text(CSV_HEADER + "http://h/?id=1,GET,id,BX,\n")
    with pytest.raises(ParseError, match="unknown technique letter"):
        list(parse(path))
