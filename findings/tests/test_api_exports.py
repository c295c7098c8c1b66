"""Exports: SARIF 2.1.0 validated against the official OASIS schema, CSV injection safety, JSON, streaming,
filters and another tenant's scan."""

import csv
import hashlib
import io
import json
import socket
from pathlib import Path

import jsonschema
import jsonschema_rs
import pytest
from django.http import StreamingHttpResponse

from engines.records import Severity
from findings.exports import safe_cell
from findings.exports.sarif import SCHEMA_URI as SARIF_SCHEMA_URI
from findings.models import Finding
from findings.tests.factories import ingest, make_scan, record

# The official OASIS SARIF 2.1.0 schema, vendored unchanged (provenance and sha256 in sarif/README.md). It
# declares draft-04 ("$schema": draft-04, "id" rather than "$id"), so it is read with Draft4Validator; its
# keywords (type, enum, pattern, required, additionalProperties, minimum, anyOf, oneOf, ...) mean the same in
# draft-07. Every "$ref" is local ("#/definitions/..."), so validating never fetches anything.
SCHEMA_FILE = Path(__file__).parent / "sarif" / "sarif-schema-2.1.0.json"
SCHEMA_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"
SCHEMA = json.loads(SCHEMA_FILE.read_text())
# jsonschema's own checkers for the schema's formats (uri, uri-reference, date-time) need optional packages
# (rfc3987, rfc3339-validator) that are not installed, and without them it passes any string. They are
# checked offline here by jsonschema_rs (installed with schemathesis), which implements RFC 3986 / RFC 3339.
FORMATS = jsonschema.FormatChecker()
for _format in ("uri", "uri-reference", "date-time"):
    FORMATS.checks(_format)(lambda value, _format=_format: not isinstance(value, str)
                            or jsonschema_rs.is_valid({"format": _format}, value, validate_formats=True))
VALIDATOR = jsonschema.Draft4Validator(SCHEMA, format_checker=FORMATS)


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
    VALIDATOR.validate(log)
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
    VALIDATOR.validate(log)
    assert log["runs"] == []


def test_sarif_of_awkward_tool_output_is_valid(client_for, tenant_a):
    """What tools print is not always RFC 3986 (PHP array parameters, a stray %, a second #, no valid scheme),
    and a tool may name one CWE twice: the log stays valid, formats and uniqueItems included."""
    scan = make_scan(tenant_a.tenant_id)
    ingest(scan,
           record("arrays", location="https://127.0.0.1/s.php?id[]=1&q=100%&x=%41",
                  cwe_ids=("CWE-79", "cwe-79"), references=("https://example.org/a[1] b",)),
           record("hashes", location="https://127.0.0.1/a#b#c"),
           record("no-scheme", location="1ab://127.0.0.1/x", port=None),
           record("v6", host="::1", port=8443),
           record("odd-host", host="a%b c", port=22))
    response = client_for(tenant_a).get(f"/api/v1/scans/{scan.pk}/export", {"format": "sarif"})
    log = json.loads(content(response))
    VALIDATOR.validate(log)
    (run,) = log["runs"]
    uris = {result["ruleId"]: result["locations"][0].get("physicalLocation", {}).get("artifactLocation", {})
            .get("uri") for result in run["results"]}
    assert uris == {"arrays": "https://127.0.0.1/s.php?id%5B%5D=1&q=100%25&x=%41",
                    "hashes": "https://127.0.0.1/a#b%23c", "no-scheme": None,
                    "v6": "tcp://[::1]:8443", "odd-host": "tcp://a%25b%20c:22"}
    no_scheme = next(result for result in run["results"] if result["ruleId"] == "no-scheme")
    assert no_scheme["locations"] == [{"logicalLocations": [{"fullyQualifiedName": "1ab://127.0.0.1/x",
                                                              "kind": "resource"}]}]
    arrays = next(rule for rule in run["tool"]["driver"]["rules"] if rule["id"] == "arrays")
    assert arrays["properties"]["tags"] == ["security", "CWE-79"]
    assert arrays["helpUri"] == "https://example.org/a%5B1%5D%20b"


def test_the_schema_is_the_official_one():
    assert hashlib.sha256(SCHEMA_FILE.read_bytes()).hexdigest() == SCHEMA_SHA256  # unchanged bytes
    assert SCHEMA["id"] == SARIF_SCHEMA_URI  # what the exports' "$schema" names
    assert jsonschema.validators.validator_for(SCHEMA) is jsonschema.Draft4Validator
    jsonschema.Draft4Validator.check_schema(SCHEMA)
    assert len(SCHEMA["definitions"]) == 52
    assert {"result", "run", "tool", "toolComponent", "reportingDescriptor", "location", "physicalLocation",
            "artifactLocation", "region", "message", "propertyBag"} <= set(SCHEMA["definitions"])


def test_the_schema_rejects_what_sarif_forbids(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("schema validation tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    ok = {"tool": {"driver": {"name": "x"}}, "results": [{"message": {"text": "m"}}]}
    assert VALIDATOR.is_valid({"$schema": SCHEMA["id"], "version": "2.1.0", "runs": [ok]})
    assert not VALIDATOR.is_valid({"version": "2.0.0", "runs": []})
    assert not VALIDATOR.is_valid({"version": "2.1.0", "runs": [{"tool": {"driver": {}}}]})
    bad_level = {"tool": {"driver": {"name": "x"}}, "results": [{"message": {"text": "m"}, "level": "critical"}]}
    assert not VALIDATOR.is_valid({"version": "2.1.0", "runs": [bad_level]})
    misspelt = {"tool": {"driver": {"name": "x", "informationURI": "https://x/"}}}
    assert not VALIDATOR.is_valid({"version": "2.1.0", "runs": [misspelt]})
    bad_guid = {"tool": {"driver": {"name": "x"}}, "results": [{"message": {"text": "m"}, "guid": "nope"}]}
    assert not VALIDATOR.is_valid({"version": "2.1.0", "runs": [bad_guid]})
    no_location = {"tool": {"driver": {"name": "x"}}, "results": [{"message": {"text": "m"},
                                                                    "locations": [{"physicalLocation": {}}]}]}
    assert not VALIDATOR.is_valid({"version": "2.1.0", "runs": [no_location]})
    # Formats are enforced: an absolute "uri" and an RFC 3339 "date-time" with its offset.
    for information_uri in ("not a uri", "relative/x"):
        driver = {"name": "x", "informationUri": information_uri}
        assert not VALIDATOR.is_valid({"version": "2.1.0", "runs": [{"tool": {"driver": driver}}]})
    spaced = {"tool": {"driver": {"name": "x"}}, "results": [{"message": {"text": "m"}, "locations": [
        {"physicalLocation": {"artifactLocation": {"uri": "https://x/a b"}}}]}]}
    assert not VALIDATOR.is_valid({"version": "2.1.0", "runs": [spaced]})
    naive = {"tool": {"driver": {"name": "x"}}, "invocations": [{"executionSuccessful": True,
                                                                  "startTimeUtc": "2024-01-01T00:00:00"}]}
    assert not VALIDATOR.is_valid({"version": "2.1.0", "runs": [naive]})
    naive["invocations"][0]["startTimeUtc"] = "2024-01-01T00:00:00Z"
    assert VALIDATOR.is_valid({"version": "2.1.0", "runs": [naive]})


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
