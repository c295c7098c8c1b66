"""NucleiEngine without nuclei (it cannot be installed here): seed 002's options, hostile values, exact
command lines, live events, parsing, and the "not installed" answer."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from engines.base import EngineJob, LiveEvent
from engines.errors import EngineUnavailable
from engines.nuclei.engine import SEVERITIES, TEMPLATE_CATEGORIES, NucleiEngine
from engines.options import OptionTypeError
from engines.process import ProcessResult
from engines.records import FindingRecord, HostRecord, ServiceRecord
from engines.runner import run_engine

FIXTURES = Path(__file__).parent / "fixtures"
DEFAULTS = {"templates": ["cves"], "severity": list(SEVERITIES), "concurrency": 25, "rateLimit": 150,
            "tags": [], "excludeTags": []}


@pytest.fixture
def engine(tmp_path: Path) -> NucleiEngine:
    """An engine whose nuclei-templates tree is an empty folder in tmp_path."""
    templates = tmp_path / "nuclei-templates"
    templates.mkdir()
    return type("TestNuclei", (NucleiEngine,), {"templates_dir": templates})()


def job(engine: NucleiEngine, tmp_path: Path, target: str, target_type: str, options: dict | None = None,
        address: str | None = None, binary: str = "/opt/nuclei") -> EngineJob:
    validated = engine.validate_options(options or {}, target_type=target_type)
    workdir = tmp_path / "work"
    workdir.mkdir(exist_ok=True)
    return EngineJob(target=target, target_type=target_type, address=address, options=validated,
                     workdir=workdir, timeout_s=600, binary=binary)


def head(engine: NucleiEngine, tmp_path: Path, target: str) -> list[str]:
    return ["/opt/nuclei", "-u", target, "-jsonl", "-o", str(tmp_path / "work" / "nuclei.jsonl"),
            "-disable-update-check", "-no-color", "-silent", "-stats", "-stats-json", "-stats-interval", "5",
            "-no-interactsh", "-omit-raw", "-ud", str(engine.templates_dir)]


def test_identity_and_target_types() -> None:
    engine = NucleiEngine()
    assert (engine.name, engine.executable, engine.category) == ("nuclei", "nuclei", "vulnerability")
    assert engine.target_types == {"url", "host", "domain", "ip"}


def test_every_seed_option_with_its_default(engine: NucleiEngine) -> None:
    assert engine.schema.names() == ["templates", "severity", "concurrency", "rateLimit", "tags",
                                     "excludeTags"]
    assert engine.validate_options({}, target_type="url") == DEFAULTS


def test_seed_example_validates_including_its_plural_misconfigurations(engine: NucleiEngine) -> None:
    options = engine.validate_options({"templates": ["cves", "vulnerabilities", "misconfigurations"],
                                       "severity": ["critical", "high", "medium"], "concurrency": 25,
                                       "rateLimit": 150}, target_type="url")
    assert options["templates"] == ["cves", "vulnerabilities", "misconfigurations"]


def test_template_categories_are_real_nuclei_templates_directories() -> None:
    assert {"cves", "vulnerabilities", "misconfiguration", "exposures", "technologies", "default-logins",
            "takeovers", "ssl", "dns", "network"} <= set(TEMPLATE_CATEGORIES)
    never = {"osint", "token-spray", "file", "code", "headless", "fuzzing", "dast"}
    assert not never & set(TEMPLATE_CATEGORIES)


@pytest.mark.parametrize(("raw", "option"), [
    ({"bogus": 1}, "bogus"),
    ({"templates": "cves"}, "templates"),
    ({"templates": ["osint"]}, "templates[0]"),
    ({"templates": ["../../etc"]}, "templates[0]"),
    ({"templates": []}, "templates"),
    ({"severity": ["CRITICAL"]}, "severity[0]"),
    ({"severity": []}, "severity"),
    ({"concurrency": "25"}, "concurrency"),
    ({"concurrency": True}, "concurrency"),
    ({"concurrency": 0}, "concurrency"),
    ({"concurrency": 101}, "concurrency"),
    ({"rateLimit": 2.5}, "rateLimit"),
    ({"rateLimit": 0}, "rateLimit"),
    ({"rateLimit": 1001}, "rateLimit"),
    ({"tags": "cve"}, "tags"),
    ({"tags": ["dos"]}, "tags"),
    ({"tags": ["cve", "fuzz"]}, "tags"),
    ({"excludeTags": [1]}, "excludeTags[0]"),
    ({"tags": ["t"] * 33}, "tags"),
])
def test_unknown_wrong_type_or_out_of_range_names_the_option(engine: NucleiEngine, raw: dict,
                                                             option: str) -> None:
    with pytest.raises(OptionTypeError) as caught:
        engine.validate_options(raw, target_type="url")
    assert caught.value.option == option


HOSTILE = ["-o /tmp/x", "-o", "--output=/tmp/x", "cve;id", "$(id)", "`id`", "cve\nid", "cve\x00", "../x",
           "/etc/passwd", "cve,rce", "CVE", "a b", "x.yaml", "-duc"]


@pytest.mark.parametrize("key", ["tags", "excludeTags"])
@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_tags_are_refused_before_any_argv_exists(engine: NucleiEngine, key: str, value: str) -> None:
    with pytest.raises(OptionTypeError) as caught:
        engine.validate_options({key: ["cve", value]}, target_type="url")
    assert caught.value.option == f"{key}[1]"


@pytest.mark.parametrize("key", ["templates", "severity"])
@pytest.mark.parametrize("value", ["-t /tmp/x", "-o /tmp/x", "$(id)", "cves\n", "cves\x00", "/tmp/evil.yaml"])
def test_hostile_list_values_are_refused(engine: NucleiEngine, key: str, value: str) -> None:
    with pytest.raises(OptionTypeError) as caught:
        engine.validate_options({key: [value]}, target_type="url")
    assert caught.value.option == f"{key}[0]"


def test_default_url_scan_argv(engine: NucleiEngine, tmp_path: Path) -> None:
    argv = engine.build_argv(job(engine, tmp_path, "https://api.example.com", "url"))
    templates = engine.templates_dir
    assert argv == [*head(engine, tmp_path, "https://api.example.com"),
                    "-t", str(templates / "http/cves"), "-t", str(templates / "network/cves"),
                    "-c", "25", "-rl", "150", "-etags", "dos,fuzz"]


def test_all_options_argv(engine: NucleiEngine, tmp_path: Path) -> None:
    options = {"templates": ["misconfiguration", "misconfigurations", "ssl"],
               "severity": ["critical", "high"], "concurrency": 10, "rateLimit": 20,
               "tags": ["apache", "cve2021"], "excludeTags": ["intrusive"]}
    argv = engine.build_argv(job(engine, tmp_path, "192.0.2.10", "ip", options))
    templates = engine.templates_dir
    assert argv == [*head(engine, tmp_path, "192.0.2.10"),
                    "-t", str(templates / "http/misconfiguration"),
                    "-t", str(templates / "network/misconfig"),
                    "-t", str(templates / "ssl"), "-c", "10", "-rl", "20", "-s", "critical,high",
                    "-tags", "apache,cve2021", "-etags", "dos,fuzz,intrusive"]


def test_pinned_address_is_scanned_with_the_original_name_for_sni_and_host(engine: NucleiEngine,
                                                                           tmp_path: Path) -> None:
    argv = engine.build_argv(job(engine, tmp_path, "https://app.lantern.test:8443/login", "url",
                                 address="127.0.0.1"))
    tail = ["-t", str(engine.templates_dir / "http/cves"), "-t", str(engine.templates_dir / "network/cves"),
            "-c", "25", "-rl", "150", "-etags", "dos,fuzz"]
    assert argv == [*head(engine, tmp_path, "https://127.0.0.1:8443/login"),
                    "-sni", "app.lantern.test", "-H", "Host: app.lantern.test:8443", *tail]
    host = engine.build_argv(job(engine, tmp_path, "server1.lantern.test", "host", address="127.0.0.1"))
    assert host == [*head(engine, tmp_path, "127.0.0.1"), "-sni", "server1.lantern.test",
                    "-H", "Host: server1.lantern.test", *tail]
    plain = engine.build_argv(job(engine, tmp_path, "example.com", "domain"))
    assert plain[2] == "example.com" and "-sni" not in plain


def test_missing_templates_tree_is_unavailable_not_downloaded(tmp_path: Path) -> None:
    engine = type("NoTemplates", (NucleiEngine,), {"templates_dir": tmp_path / "absent"})()
    with pytest.raises(EngineUnavailable, match="nuclei-templates are not installed"):
        engine.build_argv(job(engine, tmp_path, "https://example.com", "url"))


def test_run_engine_says_nuclei_is_not_installed(engine: NucleiEngine, tmp_path: Path) -> None:
    with pytest.raises(EngineUnavailable, match="nuclei is not installed"):
        run_engine(engine, job(engine, tmp_path, "https://example.com", "url", binary="nuclei"))


def test_on_line_reports_findings_and_stats_progress(engine: NucleiEngine) -> None:
    first = (FIXTURES / "dd_many_findings_new.jsonl").read_text().splitlines()[0]
    (event,) = engine.on_line(first)
    assert event.kind == "finding_found" and event.data["template_id"] == json.loads(first)["template-id"]
    stats = ('{"duration":"0:00:05","errors":"0","hosts":"1","matched":"2","percent":"37","requests":"370",'
             '"rps":"74","startedAt":"2026-01-01T00:00:00Z","templates":"120","total":"1000"}')
    assert engine.on_line(stats) == [LiveEvent("progress", {"percent": 37, "tool_phase": "templates"})]
    assert engine.on_line("[INF] Using Nuclei Engine 3.4.1") == []
    assert engine.on_line("{not json") == []


def test_parse_reads_the_report_the_engine_writes(engine: NucleiEngine, tmp_path: Path) -> None:
    scan = job(engine, tmp_path, "https://example.com", "url")
    assert list(engine.parse(scan)) == []  # nuclei found nothing and wrote nothing
    shutil.copy(FIXTURES / "scb_example-com-test.jsonl", scan.workdir / "nuclei.jsonl")
    records = list(engine.parse(scan))
    assert sum(isinstance(r, FindingRecord) for r in records) == 27
    assert any(isinstance(r, HostRecord) for r in records)
    assert any(isinstance(r, ServiceRecord) for r in records)


def test_problems_fatal_line_and_every_request_failing(engine: NucleiEngine, tmp_path: Path) -> None:
    scan = job(engine, tmp_path, "https://example.com", "url")
    stats = '{"errors":"40","percent":"100","requests":"40","total":"40"}'
    result = ProcessResult(argv=[], returncode=0, duration_s=3, stdout_tail="",
                           stderr_tail=f"[FTL] Could not create runner: no templates\n{stats}\n")
    assert engine.problems(scan, result) == [
        "[FTL] Could not create runner: no templates",
        "every one of nuclei's 40 requests failed: the target did not answer"]
    fine = ProcessResult(argv=[], returncode=0, duration_s=3, stdout_tail="",
                         stderr_tail='{"errors":"1","percent":"100","requests":"40","total":"40"}\n')
    assert engine.problems(scan, fine) == []
