"""Tests for the trivy JSON parser against real trivy reports and small broken files."""

from __future__ import annotations

import json
import pathlib
from collections import Counter

import pytest

from engines.errors import ParseError
from engines.records import AssetRecord, FindingRecord, HostRecord, Record, ServiceRecord, Severity
from engines.trivy.parse import parse, redact_secret

FIXTURES = pathlib.Path(__file__).parent / "fixtures"


def _counts(records: list[Record]) -> dict[str, int]:
    """How many records of each kind; every fixture test asserts all four."""
    return {
        "hosts": sum(isinstance(record, HostRecord) for record in records),
        "services": sum(isinstance(record, ServiceRecord) for record in records),
        "findings": sum(isinstance(record, FindingRecord) for record in records),
        "assets": sum(isinstance(record, AssetRecord) for record in records),
    }


def _findings(name: str) -> list[FindingRecord]:
    records = list(parse(FIXTURES / name))
    assert all(isinstance(record, FindingRecord) for record in records)
    return [record for record in records if isinstance(record, FindingRecord)]


def _by_rule(findings: list[FindingRecord], rule_id: str) -> list[FindingRecord]:
    return [finding for finding in findings if finding.rule_id == rule_id]


def test_terraform_misconfiguration_has_rule_line_range_and_resolution() -> None:
    records = list(parse(FIXTURES / "dd_issue_14136_terraform.json"))
    assert _counts(records) == {"hosts": 0, "services": 0, "findings": 1, "assets": 0}
    (finding,) = records
    assert isinstance(finding, FindingRecord)
    assert finding.engine == "trivy"
    assert finding.rule_id == "AVD-AWS-0143"
    assert finding.title == "IAM policies should not be granted directly to users."
    assert finding.severity is Severity.LOW
    assert finding.location == "../../aws-credentials/main.tf:20-24"
    assert finding.remediation == "Grant policies at the group level instead."
    assert finding.category == "misconfiguration"
    assert finding.evidence.startswith("One or more policies are attached directly to a user\n20: resource")
    assert finding.references == (
        "https://avd.aquasec.com/misconfig/avd-aws-0143",
        "https://console.aws.amazon.com/iam/",
    )
    assert finding.extra["resource"] == "module.aws_credentials"


def test_mixed_scan_yields_vulnerabilities_misconfiguration_and_secrets() -> None:
    findings = _findings("dd_misconfigurations_and_secrets.json")
    assert _counts(list(findings)) == {"hosts": 0, "services": 0, "findings": 5, "assets": 0}
    assert Counter(finding.category for finding in findings) == {
        "vulnerability": 2,
        "misconfiguration": 1,
        "secret": 2,
    }


def test_pip_vulnerability_carries_cve_cvss_location_and_fix() -> None:
    (vuln,) = _by_rule(_findings("dd_misconfigurations_and_secrets.json"), "CVE-2021-33503")
    assert vuln.title == "python-urllib3: ReDoS in the parsing of authority part of URL"
    assert vuln.severity is Severity.HIGH
    assert vuln.cve_ids == ("CVE-2021-33503",)
    assert vuln.cwe_ids == ("CWE-400",)
    assert vuln.cvss_score == 7.5
    assert vuln.location == "urllib3@1.26.3 in requirements.txt"
    assert vuln.remediation == "Upgrade urllib3 to 1.26.5."
    assert vuln.references[0] == "https://avd.aquasec.com/nvd/cve-2021-33503"
    assert vuln.extra["fixed_version"] == "1.26.5"


def test_dockerfile_misconfiguration_without_lines_is_located_on_the_target() -> None:
    (misconf,) = _by_rule(_findings("dd_misconfigurations_and_secrets.json"), "DS002")
    assert misconf.title == "Image user should not be 'root'"
    assert misconf.severity is Severity.HIGH
    assert misconf.location == "Dockerfile"
    assert misconf.remediation == "Add 'USER <non root user name>' line to the Dockerfile"


def test_secrets_are_located_by_target_and_start_line_with_masked_evidence() -> None:
    secrets = _by_rule(_findings("dd_misconfigurations_and_secrets.json"), "github-pat")
    assert [(secret.location, secret.evidence) for secret in secrets] == [
        ("Dockerfile:24", "ENV GITHUB_PAT=*****"),
        ("secret.txt:1", "GITHUB_PAT=*****"),
    ]
    assert {secret.severity for secret in secrets} == {Severity.CRITICAL}
    assert {secret.title for secret in secrets} == {"GitHub Personal Access Token"}


def test_image_scan_with_many_vulns_prefers_nvd_then_redhat_scores() -> None:
    findings = _findings("dd_scheme_2_many_vulns.json")
    assert _counts(list(findings)) == {"hosts": 0, "services": 0, "findings": 5, "assets": 0}
    scores = {finding.rule_id: finding.cvss_score for finding in findings}
    assert scores == {
        "CVE-2020-15999": 6.5,
        "CVE-2020-28196": 7.5,
        "CVE-2019-12900": None,
        "CVE-2018-11771": 5.5,
        "CVE-2018-1324": 5.5,
    }
    severities = Counter(finding.severity for finding in findings)
    assert severities == {Severity.MEDIUM: 3, Severity.HIGH: 1, Severity.CRITICAL: 1}


def test_vulnerability_without_cvss_keeps_trivy_severity() -> None:
    (libbz2,) = _by_rule(_findings("dd_scheme_2_many_vulns.json"), "CVE-2019-12900")
    assert libbz2.severity is Severity.CRITICAL
    assert libbz2.location == "libbz2@1.0.6-r6 in app/libs/libbz2-1.0.6-r6"
    assert libbz2.remediation == "Upgrade libbz2 to 1.0.6-r7."
    assert libbz2.extra["target"] == "teamdojo:latest (alpine 3.9.4)"


def test_clean_image_yields_nothing() -> None:
    assert list(parse(FIXTURES / "dd_scheme_2_no_vuln.json")) == []


def test_juice_shop_image_counts_by_category_and_severity() -> None:
    findings = _findings("scb_juice-shop-v12.10.2.json")
    assert _counts(list(findings)) == {"hosts": 0, "services": 0, "findings": 185, "assets": 0}
    assert Counter(finding.category for finding in findings) == {"vulnerability": 182, "secret": 3}
    assert Counter(finding.severity for finding in findings) == {
        Severity.CRITICAL: 28,
        Severity.HIGH: 102,
        Severity.MEDIUM: 49,
        Severity.LOW: 6,
    }
    targets = Counter(finding.extra["target"] for finding in findings if finding.category == "vulnerability")
    assert targets == {"bkimminich/juice-shop:v12.10.2 (alpine 3.11.12)": 21, "Node.js": 161}


def test_juice_shop_package_copies_get_distinct_fingerprints() -> None:
    findings = _findings("scb_juice-shop-v12.10.2.json")
    assert len(_by_rule(findings, "CVE-2021-3807")) == 6
    assert len({finding.fingerprint for finding in findings}) == 185


def test_juice_shop_alpine_vuln_uses_nvd_score_over_redhat() -> None:
    busybox, ssl_client = _by_rule(_findings("scb_juice-shop-v12.10.2.json"), "CVE-2021-42378")
    assert ssl_client.location == "ssl_client@1.31.1-r10 in bkimminich/juice-shop:v12.10.2 (alpine 3.11.12)"
    assert busybox.cvss_score == 7.2
    assert busybox.severity is Severity.HIGH
    assert busybox.location == "busybox@1.31.1-r10 in bkimminich/juice-shop:v12.10.2 (alpine 3.11.12)"


def test_juice_shop_non_cve_advisory_has_no_cve_and_ghsa_only_score_is_used() -> None:
    findings = _findings("scb_juice-shop-v12.10.2.json")
    (marsdb,) = _by_rule(findings, "GHSA-5mrr-rgp6-x4gr")
    assert marsdb.cve_ids == ()
    assert marsdb.title == "Command Injection in marsdb"
    assert marsdb.severity is Severity.CRITICAL
    assert marsdb.remediation == ""
    assert marsdb.location == "marsdb@0.6.11 in juice-shop/node_modules/marsdb/package.json"
    (validator,) = _by_rule(findings, "GHSA-xx4c-jj58-r7x6")
    assert validator.cvss_score == 5.3


def test_juice_shop_secrets_keep_trivy_masking_and_line() -> None:
    findings = _findings("scb_juice-shop-v12.10.2.json")
    secrets = [finding for finding in findings if finding.category == "secret"]
    assert [(secret.rule_id, secret.location, secret.severity) for secret in secrets] == [
        ("private-key", "/juice-shop/build/lib/insecurity.js:18", Severity.HIGH),
        ("jwt-token", "/juice-shop/frontend/src/app/app.guard.spec.ts:40", Severity.MEDIUM),
        ("private-key", "/juice-shop/lib/insecurity.js:19", Severity.HIGH),
    ]
    assert secrets[1].evidence.startswith("ocalStorage.setItem('token', '*****")
    assert all("*****" in secret.evidence for secret in secrets)


def _secret_report(tmp_path: pathlib.Path, match: str, code_line: str) -> pathlib.Path:
    """A report whose Match and Code lines hold an unmasked secret (as written with masking turned off)."""
    secret = {
        "RuleID": "github-pat",
        "Category": "GitHub",
        "Severity": "CRITICAL",
        "Title": "GitHub Personal Access Token",
        "StartLine": 3,
        "EndLine": 3,
        "Code": {"Lines": [{"Number": 3, "Content": code_line, "IsCause": True}]},
        "Match": match,
    }
    report = {"SchemaVersion": 2, "Results": [{"Target": "app/.env", "Class": "secret", "Secrets": [secret]}]}
    path = tmp_path / "unmasked.json"
    path.write_text(json.dumps(report))
    return path


@pytest.mark.parametrize(
    ("match", "secret"),
    [
        ("GITHUB_PAT=ghp_R2d2C3po4Bb8Ee1Ff5Gg6Hh7Ii9Jj0Kk", "ghp_R2d2C3po4Bb8Ee1Ff5Gg6Hh7Ii9Jj0Kk"),
        ('token: "hunterhunterhunter"', "hunterhunterhunter"),
        ("auth('Zx9Qw8Er7Ty6Ui5Op4')", "Zx9Qw8Er7Ty6Ui5Op4"),
        ("Authorization Bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0", "9f8e7d6c5b4a39281706f5e4d3c2b1a0"),
    ],
)
def test_unmasked_secret_never_reaches_any_field(tmp_path: pathlib.Path, match: str, secret: str) -> None:
    (finding,) = parse(_secret_report(tmp_path, match, match))
    assert isinstance(finding, FindingRecord)
    assert secret not in repr(finding)
    assert secret not in repr(finding.extra)
    assert "*****" in finding.evidence
    assert finding.location == "app/.env:3"


def test_redaction_keeps_the_variable_name_visible() -> None:
    assert redact_secret("export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY") == (
        "export AWS_SECRET_ACCESS_KEY=*****"
    )


def test_licenses_become_findings(tmp_path: pathlib.Path) -> None:
    licence = {
        "Severity": "HIGH",
        "Category": "restricted",
        "PkgName": "libfoo",
        "FilePath": "",
        "Name": "GPL-3.0",
        "Confidence": 1,
        "Link": "https://spdx.org/licenses/GPL-3.0.html",
    }
    result = {"Target": "OS Packages", "Class": "license", "Licenses": [licence]}
    report = {"SchemaVersion": 2, "Results": [result]}
    path = tmp_path / "licences.json"
    path.write_text(json.dumps(report))
    (finding,) = parse(path)
    assert isinstance(finding, FindingRecord)
    assert finding.rule_id == "license:GPL-3.0"
    assert finding.title == "License GPL-3.0 (restricted)"
    assert finding.severity is Severity.HIGH
    assert finding.location == "libfoo in OS Packages"
    assert finding.category == "license"


def test_passed_misconfiguration_checks_are_not_findings(tmp_path: pathlib.Path) -> None:
    checks = [
        {"ID": "DS001", "Title": "ok", "Severity": "MEDIUM", "Status": "PASS"},
        {"ID": "DS002", "Title": "root", "Severity": "HIGH", "Status": "FAIL"},
    ]
    path = tmp_path / "checks.json"
    result = {"Target": "Dockerfile", "Misconfigurations": checks}
    path.write_text(json.dumps({"SchemaVersion": 2, "Results": [result]}))
    assert [finding.rule_id for finding in parse(path) if isinstance(finding, FindingRecord)] == ["DS002"]


def test_unknown_severity_maps_to_info(tmp_path: pathlib.Path) -> None:
    vuln = {"VulnerabilityID": "CVE-2099-0001", "PkgName": "p", "InstalledVersion": "1"}
    vuln["Severity"] = "UNKNOWN"
    path = tmp_path / "unknown.json"
    path.write_text(json.dumps({"SchemaVersion": 2, "Results": [{"Target": "t", "Vulnerabilities": [vuln]}]}))
    (finding,) = parse(path)
    assert isinstance(finding, FindingRecord)
    assert finding.severity is Severity.INFO
    assert finding.title == "CVE-2099-0001 in p@1"


def test_empty_file_yields_nothing(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "empty.json"
    path.write_bytes(b"")
    assert list(parse(path)) == []


def test_report_without_results_yields_nothing(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "no-results.json"
    path.write_text('{"SchemaVersion": 2, "ArtifactName": "x", "Results": null}')
    assert list(parse(path)) == []


def test_truncated_json_raises_parse_error(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "truncated.json"
    path.write_text('{"SchemaVersion": 2, "Results": [{"Target": "x"')
    with pytest.raises(ParseError, match="invalid JSON"):
        list(parse(path))


def test_other_tools_json_raises_parse_error(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "nuclei.json"
    path.write_text('{"template-id": "tech-detect", "host": "https://example.com"}')
    with pytest.raises(ParseError, match="not a trivy JSON report"):
        list(parse(path))


def test_results_that_are_not_objects_raise_parse_error(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "bad-results.json"
    path.write_text('{"SchemaVersion": 2, "Results": ["x"]}')
    with pytest.raises(ParseError, match="list of objects"):
        list(parse(path))
