"""Sublist3rEngine without running it (every mode needs the internet): seed 002's options, hostile values,
exact command lines, parsing and hidden failures."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engines.base import EngineJob
from engines.errors import EngineFailed
from engines.options import OptionTypeError
from engines.process import ProcessResult
from engines.sublist3r.engine import ENGINES, Sublist3rEngine

FIXTURES = Path(__file__).parent / "fixtures"
ENGINE = Sublist3rEngine()
DEFAULTS = {"engines": list(ENGINES), "bruteforce": False, "threads": 10}


def job(tmp_path: Path, options: dict | None = None, excluded_ports: str = "",
        address: str | None = None) -> EngineJob:
    validated = ENGINE.validate_options(options or {}, target_type="domain")
    return EngineJob(target="example.com", target_type="domain", address=address, options=validated,
                     workdir=tmp_path, timeout_s=600, binary="/opt/sublist3r", excluded_ports=excluded_ports)


def test_identity_and_target_types() -> None:
    assert (ENGINE.name, ENGINE.executable, ENGINE.category) == ("sublist3r", "sublist3r", "osint")
    assert ENGINE.target_types == {"domain"}


def test_every_seed_option_with_its_default() -> None:
    assert ENGINE.schema.names() == ["engines", "bruteforce", "ports", "threads"]
    assert ENGINE.validate_options({}, target_type="domain") == DEFAULTS  # ports: no default ("—")
    props = ENGINE.schema.json_schema()["properties"]
    assert "default" not in props["ports"] and props["threads"]["default"] == 10


def test_seed_example_validates() -> None:
    options = ENGINE.validate_options({"engines": ["google", "bing", "yahoo", "virustotal", "dnsdumpster"],
                                       "bruteforce": True, "ports": "80,443,8080,8443", "threads": 30},
                                      target_type="domain")
    assert options["ports"] == "80,443,8080,8443"


@pytest.mark.parametrize(("raw", "option"), [
    ({"bogus": 1}, "bogus"),
    ({"engines": "google"}, "engines"),
    ({"engines": []}, "engines"),
    ({"engines": ["duckduckgo"]}, "engines[0]"),
    ({"bruteforce": "yes"}, "bruteforce"),
    ({"ports": 80}, "ports"),
    ({"ports": "1-1024"}, "ports"),
    ({"ports": "0"}, "ports"),
    ({"ports": "65536"}, "ports"),
    ({"ports": ",".join(str(p) for p in range(1, 66))}, "ports"),
    ({"threads": "10"}, "threads"),
    ({"threads": 0}, "threads"),
    ({"threads": 101}, "threads"),
])
def test_unknown_wrong_type_or_out_of_range_names_the_option(raw: dict, option: str) -> None:
    with pytest.raises(OptionTypeError) as caught:
        ENGINE.validate_options(raw, target_type="domain")
    assert caught.value.option == option


@pytest.mark.parametrize("value", ["-o /tmp/x", "80;id", "$(id)", "`id`", "80\n443", "80\x00", "../80",
                                   "/etc/passwd", "80 -o /tmp/x", "80,-o"])
def test_hostile_ports_are_refused_before_any_argv_exists(value: str) -> None:
    with pytest.raises(OptionTypeError) as caught:
        ENGINE.validate_options({"ports": value}, target_type="domain")
    assert caught.value.option == "ports"


@pytest.mark.parametrize("value", ["-o /tmp/x", "google;id", "$(id)", "google\n", "google,bing", "GOOGLE"])
def test_hostile_engines_are_refused(value: str) -> None:
    with pytest.raises(OptionTypeError) as caught:
        ENGINE.validate_options({"engines": [value]}, target_type="domain")
    assert caught.value.option == "engines[0]"


def test_default_argv_uses_every_engine_without_naming_them(tmp_path: Path) -> None:
    assert ENGINE.build_argv(job(tmp_path)) == [
        "/opt/sublist3r", "-d", "example.com", "-n", "-t", "10", "-o", str(tmp_path / "sublist3r.txt")]


def test_all_options_argv_subtracts_excluded_ports(tmp_path: Path) -> None:
    options = {"engines": ["ssl", "virustotal"], "bruteforce": True, "ports": "443,2024,80,8080",
               "threads": 30}
    assert ENGINE.build_argv(job(tmp_path, options, excluded_ports="2024")) == [
        "/opt/sublist3r", "-d", "example.com", "-n", "-t", "30", "-e", "ssl,virustotal", "-b",
        "-p", "80,443,8080", "-o", str(tmp_path / "sublist3r.txt")]


def test_only_excluded_ports_is_a_failure(tmp_path: Path) -> None:
    with pytest.raises(EngineFailed, match="excluded"):
        ENGINE.build_argv(job(tmp_path, {"ports": "2024"}, excluded_ports="2024"))


def test_a_pinned_address_is_not_the_search_term(tmp_path: Path) -> None:
    argv = ENGINE.build_argv(job(tmp_path, address="192.0.2.1"))
    assert argv[1:3] == ["-d", "example.com"] and "192.0.2.1" not in argv


def test_parse_reads_the_file_the_engine_asks_for_and_keeps_the_targets_names(tmp_path: Path) -> None:
    scan = job(tmp_path)
    assert list(ENGINE.parse(scan)) == []  # Sublist3r writes no file when it found nothing
    shutil.copy(FIXTURES / "example.com-sublist3r.txt", tmp_path / "sublist3r.txt")
    assert len(list(ENGINE.parse(scan))) == 13
    with (tmp_path / "sublist3r.txt").open("a") as handle:
        handle.write("cdn.example.net\nexample.com.evil.test\n")
    values = [record.value for record in ENGINE.parse(scan)]
    assert len(values) == 13 and "cdn.example.net" not in values and "example.com.evil.test" not in values


def test_problems_hidden_behind_exit_0(tmp_path: Path) -> None:
    scan = job(tmp_path)

    def result(stdout: str, stderr: str = "") -> ProcessResult:
        return ProcessResult(argv=[], returncode=0, duration_s=1, stdout_tail=stdout, stderr_tail=stderr)

    assert ENGINE.problems(scan, result("Error: Please enter a valid domain\n")) == [
        "Sublist3r refused the domain 'example.com'"]
    offline = "HTTPSConnectionPool(host='www.virustotal.com', port=443): Max retries exceeded with url: /"
    assert ENGINE.problems(scan, result(offline)) == [
        "Sublist3r found nothing because it could not reach its sources (no internet access?)"]
    assert ENGINE.problems(scan, result("[-] Total Unique Subdomains Found: 0\n")) == []
    shutil.copy(FIXTURES / "example.com-sublist3r.txt", tmp_path / "sublist3r.txt")
    assert ENGINE.problems(scan, result(offline)) == []  # some engines failed, others answered
