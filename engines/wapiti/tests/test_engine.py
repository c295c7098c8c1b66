"""The wapiti wrapper without wapiti: option schema (seed 002), the module allow-list that keeps scans off
third-party servers, hostile values, the exact command line, live-line events, problems and parsing of a real
report placed where wapiti writes it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from engines.base import EngineJob
from engines.errors import EngineFailed
from engines.options import OptionTypeError
from engines.process import ProcessResult
from engines.records import FindingRecord, HostRecord, ServiceRecord
from engines.wapiti.engine import DEFAULT_MODULES, MODULES, NETWORKED_MODULES, WapitiEngine

FIXTURE = Path(__file__).parent / "fixtures" / "threatvisor_alereon_wapiti_report.json"
ENGINE = WapitiEngine()
SEED_DEFAULTS = {"modules": list(DEFAULT_MODULES), "scope": "domain", "maxDepth": 3}
HOSTILE = [
    "-o /tmp/x", "--output=/etc/x", "--update", "--store-config=/etc", "xss; rm -rf /", "$(id)", "`id`",
    "xss\nsql", "xss\x00", "../../etc/passwd", "xss,sql", "xss -m all", "all", "common", "600s; id",
]


def job(workdir: Path, options: dict[str, Any] | None = None, *, target: str = "http://127.0.0.1:8000/",
        address: str | None = None) -> EngineJob:
    validated = ENGINE.validate_options(options or {}, target_type="url")
    return EngineJob(target=target, target_type="url", address=address, options=validated, workdir=workdir,
                     timeout_s=60, binary="/opt/lantern/var/tools/bin/wapiti")


def test_identity_matches_seed_002() -> None:
    assert (ENGINE.name, ENGINE.executable, ENGINE.category) == ("wapiti", "wapiti", "web_app")
    assert ENGINE.target_types == frozenset({"url"})


def test_schema_has_every_seed_option_with_its_default() -> None:
    assert ENGINE.schema.names() == ["modules", "scope", "maxDepth", "maxTime"]
    assert ENGINE.validate_options({}, target_type="url") == SEED_DEFAULTS
    properties = ENGINE.schema.json_schema()["properties"]
    assert properties["scope"]["enum"] == ["url", "page", "folder", "domain"]
    assert properties["maxDepth"]["default"] == 3
    assert "default" not in properties["maxTime"]
    assert properties["modules"]["items"]["enum"] == list(MODULES)


def test_the_allow_list_holds_real_modules_and_none_that_reach_third_parties() -> None:
    assert set(DEFAULT_MODULES) <= set(MODULES)
    assert not set(MODULES) & set(NETWORKED_MODULES)
    assert {"ssrf", "xxe", "log4shell", "wapp", "nikto", "htp", "takeover", "ssl"} == set(NETWORKED_MODULES)


@pytest.mark.parametrize("module", NETWORKED_MODULES)
def test_modules_that_contact_third_parties_are_refused_with_the_reason(module: str) -> None:
    with pytest.raises(OptionTypeError, match="third-party") as caught:
        ENGINE.validate_options({"modules": ["xss", module]}, target_type="url")
    assert caught.value.option == "modules"


@pytest.mark.parametrize(("raw", "option"), [
    ({"depth": 3}, "depth"),
    ({"modules": "xss"}, "modules"),
    ({"modules": []}, "modules"),
    ({"modules": ["xss", "xss"]}, "modules"),
    ({"modules": ["XSS"]}, "modules[0]"),
    ({"modules": [1]}, "modules[0]"),
    ({"scope": "subdomain"}, "scope"),
    ({"scope": "punk"}, "scope"),
    ({"maxDepth": "3"}, "maxDepth"),
    ({"maxDepth": 0}, "maxDepth"),
    ({"maxDepth": 21}, "maxDepth"),
    ({"maxTime": 600}, "maxTime"),
    ({"maxTime": "600"}, "maxTime"),
    ({"maxTime": "0s"}, "maxTime"),
    ({"maxTime": "10 m"}, "maxTime"),
    ({"maxTime": "25h"}, "maxTime"),
    ({"maxTime": "1d"}, "maxTime"),
])
def test_unknown_wrong_type_or_out_of_range_names_the_option(raw: dict[str, Any], option: str) -> None:
    with pytest.raises(OptionTypeError) as caught:
        ENGINE.validate_options(raw, target_type="url")
    assert caught.value.option == option


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("option", ["modules", "scope", "maxDepth", "maxTime"])
def test_hostile_values_are_refused_before_any_argv(option: str, value: str) -> None:
    with pytest.raises(OptionTypeError) as caught:
        ENGINE.validate_options({option: [value] if option == "modules" else value}, target_type="url")
    assert caught.value.option.startswith(option)


def test_argv_with_defaults(tmp_path: Path) -> None:
    assert ENGINE.build_argv(job(tmp_path)) == [
        "/opt/lantern/var/tools/bin/wapiti", "-u", "http://127.0.0.1:8000/",
        "--scope", "domain", "--depth", "3",
        "--module", "cookieflags,csp,exec,file,http_headers,permanentxss,redirect,sql,upload,xss",
        "--flush-session", "--no-bugreport",
        "--store-session", str(tmp_path / "session"), "--store-config", str(tmp_path / "config"),
        "--external-endpoint", "http://127.0.0.1:9/", "--dns-endpoint", "127.0.0.1",
        "--verbose", "1", "--format", "json", "--output", str(tmp_path / "wapiti.json"),
    ]


@pytest.mark.parametrize(("max_time", "seconds"), [("600s", "600"), ("10m", "600"), ("1h", "3600")])
def test_argv_with_every_option(tmp_path: Path, max_time: str, seconds: str) -> None:
    options = {"modules": ["xss", "sql", "exec", "file", "crlf"], "scope": "folder", "maxDepth": 5,
               "maxTime": max_time}
    argv = ENGINE.build_argv(job(tmp_path, options))
    assert argv == [
        "/opt/lantern/var/tools/bin/wapiti", "-u", "http://127.0.0.1:8000/",
        "--scope", "folder", "--depth", "5", "--module", "xss,sql,exec,file,crlf",
        "--flush-session", "--no-bugreport",
        "--store-session", str(tmp_path / "session"), "--store-config", str(tmp_path / "config"),
        "--external-endpoint", "http://127.0.0.1:9/", "--dns-endpoint", "127.0.0.1",
        "--verbose", "1", "--format", "json", "--output", str(tmp_path / "wapiti.json"),
        "--max-scan-time", seconds,
    ]
    assert "--update" not in argv and not any("wapiti3.ovh" in arg for arg in argv)


def test_pinned_address_replaces_the_host(tmp_path: Path) -> None:
    argv = ENGINE.build_argv(job(tmp_path, target="http://scanme.lantern.test:8080/x", address="127.0.0.1"))
    assert argv[1:3] == ["-u", "http://127.0.0.1:8080/x"]
    assert not any("scanme" in arg for arg in argv)


def test_on_line_reports_findings() -> None:
    (xss,) = ENGINE.on_line("Reflected Cross Site Scripting in http://127.0.0.1:36989/search via injection "
                            "in the parameter q")
    assert xss.kind == "finding_found"
    assert xss.data == {"title": "Reflected Cross Site Scripting", "url": "http://127.0.0.1:36989/search",
                        "parameter": "q"}
    (sql,) = ENGINE.on_line("SQL Injection (DBMS: SQLite) in http://127.0.0.1:36989/item via injection in "
                            "the parameter id")
    assert sql.data["title"] == "SQL Injection (DBMS: SQLite)" and sql.data["parameter"] == "id"
    (anomaly,) = ENGINE.on_line("Received a HTTP 500 error in http://127.0.0.1:36989/item")
    assert anomaly.data == {"title": "Received a HTTP 500 error", "url": "http://127.0.0.1:36989/item"}


@pytest.mark.parametrize("line", [
    "[*] Launching module xss", "[+] GET http://127.0.0.1:36989/item?id=2 (1)",
    "[!] ConnectError with URL http://127.0.0.1:9/",
    "A report has been generated in the file /tmp/w/wapiti.json",
    "    GET /search?q=%3CScRiPt%3E HTTP/1.1", "---", "",
])
def test_on_line_ignores_other_lines(line: str) -> None:
    assert ENGINE.on_line(line) == []


def _result(workdir: Path, stdout: str = "") -> ProcessResult:
    (workdir / "stdout.log").write_text(stdout)
    return ProcessResult(argv=["wapiti"], returncode=0, duration_s=1.0, stdout_tail=stdout, stderr_tail="")


def test_a_target_that_could_not_be_crawled_is_a_problem(tmp_path: Path) -> None:
    report = json.loads(FIXTURE.read_text())
    report["infos"]["crawled_pages_nbr"] = 0
    (tmp_path / "wapiti.json").write_text(json.dumps(report))
    stdout = "Wapiti 3.2.3\n[!] ConnectError with URL http://127.0.0.1:9/\n[*] Saving scan state\n"
    assert ENGINE.problems(job(tmp_path), _result(tmp_path, stdout)) == [
        "wapiti could not crawl the target: no page was reached (ConnectError with URL http://127.0.0.1:9/)"]


def test_a_missing_report_is_a_problem(tmp_path: Path) -> None:
    assert ENGINE.problems(job(tmp_path), _result(tmp_path)) == ["wapiti wrote no JSON report"]
    with pytest.raises(EngineFailed, match="no JSON report"):
        ENGINE.parse(job(tmp_path))


def test_parse_reads_the_report_where_wapiti_writes_it(tmp_path: Path) -> None:
    shutil.copy(FIXTURE, tmp_path / "wapiti.json")
    assert ENGINE.problems(job(tmp_path), _result(tmp_path)) == []
    records = list(ENGINE.parse(job(tmp_path)))
    assert records[0] == HostRecord(ip="", hostname="www.alereon.com")
    assert records[1] == ServiceRecord(host="www.alereon.com", port=443, protocol="tcp", service="https")
    findings = [record for record in records if isinstance(record, FindingRecord)]
    assert [finding.title for finding in findings] == [
        "Content Security Policy Configuration", "Clickjacking Protection",
        "HTTP Strict Transport Security (HSTS)", "MIME Type Confusion"]
    assert {finding.engine for finding in findings} == {"wapiti"}
