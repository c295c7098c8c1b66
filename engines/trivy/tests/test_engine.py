"""TrivyEngine without running trivy: seed 002's options, hostile values, exact command lines, parsing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engines.base import EngineJob
from engines.errors import EngineFailed
from engines.options import OptionTypeError
from engines.process import ProcessResult
from engines.records import FindingRecord
from engines.trivy.engine import OFFLINE_FLAGS, TrivyEngine, pin_registry

FIXTURES = Path(__file__).parent / "fixtures"
ENGINE = TrivyEngine()
DEFAULTS = {"scanners": ["vuln"], "severity": ["CRITICAL", "HIGH", "MEDIUM"], "ignoreUnfixed": False,
            "skipDirs": [], "skipFiles": []}


def job(tmp_path: Path, target: str, target_type: str, options: dict | None = None,
        address: str | None = None) -> EngineJob:
    raw = {"scanners": ["secret", "misconfig"]} if options is None else options
    validated = ENGINE.validate_options(raw, target_type=target_type)
    return EngineJob(target=target, target_type=target_type, address=address, options=validated,
                     workdir=tmp_path, timeout_s=600, binary="/opt/trivy")


def common(tmp_path: Path, subcommand: str, scanners: str = "secret,misconfig",
           severity: str = "CRITICAL,HIGH,MEDIUM") -> list[str]:
    return ["/opt/trivy", subcommand, "--scanners", scanners, "--severity", severity, "--format", "json",
            "--output", str(tmp_path / "trivy.json"), "--cache-dir", str(tmp_path / "trivy-cache"),
            "--skip-version-check", "--disable-telemetry", "--skip-db-update", "--skip-java-db-update",
            "--skip-check-update", "--offline-scan", "--no-progress", "--ignorefile", "",
            "--secret-config", "", "--timeout", "600s"]


def test_identity_and_target_types_follow_seed_002_plus_image() -> None:
    assert (ENGINE.name, ENGINE.executable, ENGINE.category) == ("trivy", "trivy", "container")
    assert ENGINE.target_types == {"url", "host", "image"}
    assert "path" not in ENGINE.target_types  # internal (report import, tests): never accepted from the API


def test_every_seed_option_with_its_default() -> None:
    assert ENGINE.schema.names() == ["scanners", "severity", "ignoreUnfixed", "skipDirs", "skipFiles"]
    assert ENGINE.validate_options({}, target_type="image") == DEFAULTS
    assert ENGINE.validate_options(None, target_type="url") == DEFAULTS


def test_json_schema_lists_the_real_scanner_and_severity_values() -> None:
    props = ENGINE.schema.json_schema()["properties"]
    assert props["scanners"]["items"]["enum"] == ["vuln", "misconfig", "secret", "license"]
    assert props["severity"]["items"]["enum"] == ["UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"]
    assert props["severity"]["default"] == ["CRITICAL", "HIGH", "MEDIUM"]


def test_seed_example_validates() -> None:
    options = {"scanners": ["vuln", "misconfig", "secret"], "severity": ["CRITICAL", "HIGH"],
               "ignoreUnfixed": True}
    assert ENGINE.validate_options(options, target_type="host")["ignoreUnfixed"] is True


@pytest.mark.parametrize(("raw", "option"), [
    ({"bogus": 1}, "bogus"),
    ({"scanners": "vuln"}, "scanners"),
    ({"scanners": ["vuln", 3]}, "scanners[1]"),
    ({"scanners": ["rootkit"]}, "scanners[0]"),
    ({"scanners": []}, "scanners"),
    ({"severity": ["critical"]}, "severity[0]"),
    ({"severity": []}, "severity"),
    ({"ignoreUnfixed": "yes"}, "ignoreUnfixed"),
    ({"ignoreUnfixed": 1}, "ignoreUnfixed"),
    ({"skipDirs": "node_modules"}, "skipDirs"),
    ({"skipFiles": [{"a": 1}]}, "skipFiles[0]"),
    ({"skipDirs": ["d"] * 65}, "skipDirs"),
])
def test_unknown_wrong_type_or_out_of_range_names_the_option(raw: dict, option: str) -> None:
    with pytest.raises(OptionTypeError) as caught:
        ENGINE.validate_options(raw, target_type="image")
    assert caught.value.option == option


HOSTILE = ["-o /tmp/x", "--output=/tmp/x", "--config-check=/etc", "a;rm -rf /", "$(id)", "`id`", "a\nb",
           "a\x00b",
           "../etc", "a/../../etc", "..", "/etc/passwd", "/", "~/.ssh", "a b", "a,b", "x|y", "x&y", "a/-o",
           "'quoted'", "\"q\"", "a>b"]


@pytest.mark.parametrize("key", ["skipDirs", "skipFiles"])
@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_paths_are_refused_before_any_argv_exists(key: str, value: str) -> None:
    with pytest.raises(OptionTypeError) as caught:
        ENGINE.validate_options({key: ["ok", value]}, target_type="image")
    assert caught.value.option.startswith(key)


@pytest.mark.parametrize("value", ["-o /tmp/x", "vuln;id", "$(id)", "`id`", "vuln\n", "vuln\x00"])
@pytest.mark.parametrize("key", ["scanners", "severity"])
def test_hostile_list_values_are_refused(key: str, value: str) -> None:
    with pytest.raises(OptionTypeError) as caught:
        ENGINE.validate_options({key: [value]}, target_type="image")
    assert caught.value.option == f"{key}[0]"


def test_globs_and_nested_relative_paths_are_accepted() -> None:
    options = ENGINE.validate_options({"skipDirs": ["node_modules", "**/vendor", "a/b.c"],
                                       "skipFiles": ["*.min.js", "src/[ab]?.txt"]}, target_type="image")
    assert options["skipDirs"] == ["node_modules", "**/vendor", "a/b.c"]


def test_path_target_runs_trivy_fs_offline(tmp_path: Path) -> None:
    argv = ENGINE.build_argv(job(tmp_path, "/srv/import/src", "path", {
        "scanners": ["secret", "misconfig"], "ignoreUnfixed": True, "skipDirs": ["node_modules", "**/vendor"],
        "skipFiles": ["*.min.js"]}))
    assert argv == [*common(tmp_path, "fs"), "--ignore-unfixed", "--skip-dirs", "node_modules",
                    "--skip-dirs", "**/vendor", "--skip-files", "*.min.js", "--", "/srv/import/src"]
    assert set(OFFLINE_FLAGS) <= set(argv)


def test_image_target_pulls_from_its_registry_only(tmp_path: Path) -> None:
    argv = ENGINE.build_argv(job(tmp_path, "registry.example.com/myapp:latest", "image",
                                 {"scanners": ["secret"], "severity": ["CRITICAL"]}))
    assert argv == [*common(tmp_path, "image", "secret", "CRITICAL"), "--image-src", "remote",
                    "--", "registry.example.com/myapp:latest"]


def test_host_target_is_an_image_reference_as_in_the_seed_example(tmp_path: Path) -> None:
    argv = ENGINE.build_argv(job(tmp_path, "registry.example.com/myapp:latest", "host"))
    assert argv[1] == "image" and argv[-1] == "registry.example.com/myapp:latest"


def test_url_target_is_a_git_repository(tmp_path: Path) -> None:
    argv = ENGINE.build_argv(job(tmp_path, "https://git.example.com/team/app.git", "url"))
    assert argv == [*common(tmp_path, "repo"), "--", "https://git.example.com/team/app.git"]


def test_pinned_address_replaces_the_host_of_url_and_registry(tmp_path: Path) -> None:
    url = ENGINE.build_argv(job(tmp_path, "http://git.lantern.test:3000/team/app.git", "url",
                                address="127.0.0.1"))
    assert url[-1] == "http://127.0.0.1:3000/team/app.git"
    image = ENGINE.build_argv(job(tmp_path, "registry.lantern.test:5000/app:1", "image", address="127.0.0.1"))
    assert image[-1] == "127.0.0.1:5000/app:1"


@pytest.mark.parametrize(("reference", "address", "expected"), [
    ("registry.example.com/app:1", "192.0.2.7", "192.0.2.7/app:1"),
    ("localhost:5000/app", "::1", "[::1]:5000/app"),
    ("nginx:latest", "192.0.2.7", "nginx:latest"),
    ("library/nginx", "192.0.2.7", "library/nginx"),
    ("registry.example.com/app:1", None, "registry.example.com/app:1"),
])
def test_pin_registry(reference: str, address: str | None, expected: str) -> None:
    assert pin_registry(reference, address) == expected


def test_vuln_scan_fails_fast_without_a_vulnerability_database(tmp_path: Path) -> None:
    with pytest.raises(EngineFailed, match="vulnerability database is not installed"):
        ENGINE.build_argv(job(tmp_path, "nginx:latest", "image", {}))


def test_vuln_scan_runs_when_a_database_was_provisioned_in_the_cache(tmp_path: Path) -> None:
    (tmp_path / "trivy-cache" / "db").mkdir(parents=True)
    (tmp_path / "trivy-cache" / "db" / "trivy.db").write_bytes(b"x")
    argv = ENGINE.build_argv(job(tmp_path, "nginx:latest", "image", {}))
    assert argv[:6] == ["/opt/trivy", "image", "--scanners", "vuln", "--severity", "CRITICAL,HIGH,MEDIUM"]


def test_unsupported_target_type_is_refused(tmp_path: Path) -> None:
    bad = EngineJob(target="10.0.0.0/24", target_type="network", address=None, options=DEFAULTS,
                    workdir=tmp_path, timeout_s=60, binary="/opt/trivy")
    with pytest.raises(EngineFailed, match="cannot scan a target of type 'network'"):
        ENGINE.build_argv(bad)


def test_parse_reads_the_report_the_engine_writes(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "dd_misconfigurations_and_secrets.json", tmp_path / "trivy.json")
    records = list(ENGINE.parse(job(tmp_path, "/src", "path")))
    assert len(records) == 5 and all(isinstance(record, FindingRecord) for record in records)
    assert {record.rule_id for record in records} >= {"DS002", "github-pat", "CVE-2021-33503"}


def test_missing_report_is_a_problem_even_with_exit_0(tmp_path: Path) -> None:
    result = ProcessResult(argv=[], returncode=0, duration_s=1, stdout_tail="",
                           stderr_tail="2026-01-01T00:00:00Z\tFATAL\tFatal error\timage not found\n")
    assert ENGINE.problems(job(tmp_path, "/src", "path"), result) == [
        "trivy exited 0 but wrote no report (Fatal error\timage not found)"]
    with pytest.raises(EngineFailed, match="no JSON report"):
        list(ENGINE.parse(job(tmp_path, "/src", "path")))
