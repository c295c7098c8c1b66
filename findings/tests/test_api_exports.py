"""Exports: SARIF 2.1.0 validated against the (subset) schema, CSV injection safety, JSON, streaming, filters
and another tenant's scan."""

import csv
import io
import json
from pathlib import Path

import jsonschema
import pytest
from django.http import StreamingHttpResponse

from engines.records import Severity
from findings.exports import safe_cell
from findings.models import Finding
from findings.tests.factories import ingest, make_scan, record

SCHEMA = json.loads((Path(__file__).parent / "sarif" / "sarif-2.1.0-subset.schema.json").read_text())


@pytest.fixture
def scan(tenant_a, tenant_b):
    scan = make_scan(tenant_a.tenant_id)
    ingest(scan,
           record("CVE-2021-44228", engine="nuclei", severity=Severity.CRITICAL, cvss_score=10.0,
                  cve_ids=("CVE-2021-44228",), cwe_ids=("CWE-502",), location="https://127.0.0.1/a b?x=1",
                  description="Log4Shell", remediation="Upgrade log4j", references=("https://logging.apache.org/",)),
           record("tech-detect", engine="nuclei", severity=Severity.INFO, location="https://127.0.0.1/"),
           record("sql-injection", engine="sqlmap", severity=Severity.HIGH, title="=HYPERLINK(\"http://x\")",
                  location="http://127.0.0.1/login?id=1"),
           record("open-port", engine="nmap", severity=Severity.LOW, title="-1+2", port=8080),
           record("vuln-pkg", engine="trivy", severity=Severity.MEDIUM, title="@SUM(A1)", host="", port=None,
                  location="openssl@1.1.1k"))
    Finding.objects.filter(rule_id="tech-detect").update(status="false_positive")
    ingest(make_scan(tenant_b.tenant_id), record("globex-only", title="globex secret"))
    return scan


def content(response) -> str:
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(response.streaming_content).decode()


def test_sarif_export_is_valid_sarif_2_1_0(client_for, tenant_a, scan):
    response = client_for(tenant_a).get(f"/api/v1/scans/{scan.pk}/export", {"format": "sarif"})
    assert response.status_code == 200 and response["Content-Type"] == "application/sarif+json"
    assert response["Content-Disposition"] == f'attachment; filename="lantern-scan-{scan.pk}.sarif"'
    log = json.loads(content(response))
    jsonschema.Draft7Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(log)
    assert log["version"] == "2.1.0"
    assert [run["tool"]["driver"]["name"] for run in log["runs"]] == ["nmap", "nuclei", "sqlmap", "trivy"]
    nuclei = log["runs"][1]
    assert [rule["id"] for rule in nuclei["tool"]["driver"]["rules"]] == ["CVE-2021-44228", "tech-detect"]
    first, second = nuclei["results"]
    assert (first["ruleIndex"], first["level"], first["message"]["text"]) == (0, "error", "Issue CVE-2021-44228")
    assert first["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "https://127.0.0.1/a%20b?x=1"
    assert first["properties"]["cveIds"] == ["CVE-2021-44228"]
    assert nuclei["tool"]["driver"]["rules"][0]["properties"]["security-severity"] == "10.0"
    assert second["suppressions"] == [{"kind": "external", "status": "accepted", "justification": "false positive"}]
    nmap_result = log["runs"][0]["results"][0]
    assert nmap_result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "tcp://127.0.0.1:8080"
    trivy_result = log["runs"][3]["results"][0]
    assert trivy_result["locations"] == [{"logicalLocations": [{"fullyQualifiedName": "openssl@1.1.1k",
                                                                 "kind": "resource"}]}]
    fingerprint = Finding.objects.get(rule_id="sql-injection").fingerprint
    assert log["runs"][2]["results"][0]["partialFingerprints"] == {"lanternFindingFingerprint/v1": fingerprint}


def test_sarif_of_nothing_is_valid(client_for, tenant_a):
    empty = make_scan(tenant_a.tenant_id)
    log = json.loads(content(client_for(tenant_a).get(f"/api/v1/scans/{empty.pk}/export", {"format": "sarif"})))
    jsonschema.Draft7Validator(SCHEMA).validate(log)
    assert log["runs"] == []


def test_the_schema_rejects_what_sarif_forbids():
    validator = jsonschema.Draft7Validator(SCHEMA)
    assert not validator.is_valid({"version": "2.0.0", "runs": []})
    assert not validator.is_valid({"version": "2.1.0", "runs": [{"tool": {"driver": {}}}]})
    bad_level = {"tool": {"driver": {"name": "x"}}, "results": [{"message": {"text": "m"}, "level": "critical"}]}
    assert not validator.is_valid({"version": "2.1.0", "runs": [bad_level]})


def test_csv_export_neutralises_formulas(client_for, tenant_a, scan):
    response = client_for(tenant_a).get(f"/api/v1/scans/{scan.pk}/export", {"format": "csv"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(content(response))))
    assert len(rows) == 5
    titles = {row["rule_id"]: row["title"] for row in rows}
    assert titles["sql-injection"] == "'=HYPERLINK(\"http://x\")"
    assert titles["open-port"] == "'-1+2" and titles["vuln-pkg"] == "'@SUM(A1)"
    log4j = next(row for row in rows if row["rule_id"] == "CVE-2021-44228")
    assert (log4j["cve_ids"], log4j["cvss_score"], log4j["severity"]) == ("CVE-2021-44228", "10.0", "critical")


@pytest.mark.parametrize("value, expected", [("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@x", "'@x"),
                                             ("\tx", "'\tx"), ("safe", "safe"), (None, ""), (["a", "b"], "a;b"),
                                             (7, "7")])
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected


def test_json_export(client_for, tenant_a, scan):
    response = client_for(tenant_a).get(f"/api/v1/scans/{scan.pk}/export", {"format": "json", "severity": "high"})
    body = json.loads(content(response))
    assert body["total"] == 1 and [item["rule_id"] for item in body["items"]] == ["sql-injection"]


def test_tenant_export_applies_the_list_filters_and_stays_in_the_tenant(client_for, tenant_a, scan):
    response = client_for(tenant_a).get("/api/v1/findings/export", {"format": "json", "tool": "nuclei"})
    assert response["Content-Disposition"] == 'attachment; filename="lantern-findings.json"'
    body = json.loads(content(response))
    assert sorted(item["rule_id"] for item in body["items"]) == ["CVE-2021-44228", "tech-detect"]
    everything = content(client_for(tenant_a).get("/api/v1/findings/export", {"format": "csv"}))
    assert "globex secret" not in everything and everything.count("\r\n") == 6


def test_large_exports_stream_in_chunks(client_for, tenant_a):
    big = make_scan(tenant_a.tenant_id)
    ingest(big, *[record(f"r{i}") for i in range(1500)])
    response = client_for(tenant_a).get(f"/api/v1/scans/{big.pk}/export", {"format": "csv"})
    chunks = list(response.streaming_content)
    assert len(chunks) == 3  # 500 rows per chunk (the header rides with the first), no empty tail
    assert b"".join(chunks).decode().count("\r\n") == 1501


@pytest.mark.parametrize("query", [{}, {"format": "xml"}])
def test_a_missing_or_unknown_format_is_400_in_json(client_for, tenant_a, scan, query):
    response = client_for(tenant_a).get(f"/api/v1/scans/{scan.pk}/export", query)
    assert response.status_code == 400 and response.json()["error"]["field"] == "format"
