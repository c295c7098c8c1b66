"""MasscanEngine without running masscan: options, hostile values, exact command lines, excluded ports, live
events, parsing and hidden failures."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engines.base import EngineJob, LiveEvent
from engines.errors import EngineFailed
from engines.masscan.engine import MasscanEngine
from engines.options import OptionTypeError
from engines.process import ProcessResult
from engines.records import HostRecord, ServiceRecord

FIXTURES = Path(__file__).parent / "fixtures"
ENGINE = MasscanEngine()


def job(tmp_path: Path, target: str = "192.0.2.0/28", target_type: str = "network",
        options: dict | None = None, address: str | None = None, excluded_ports: str = "2024") -> EngineJob:
    validated = ENGINE.validate_options(options or {"ports": "1-1024"}, target_type=target_type)
    return EngineJob(target=target, target_type=target_type, address=address, options=validated,
                     workdir=tmp_path, timeout_s=600, binary="/usr/bin/masscan",
                     excluded_ports=excluded_ports)


def test_identity_target_types_and_privileges() -> None:
    assert (ENGINE.name, ENGINE.executable, ENGINE.category) == ("masscan", "masscan", "network")
    assert ENGINE.target_types == {"ip", "network"}
    assert ENGINE.needs_privileges({"ports": "80", "rate": 100}) is True


def test_options_ports_is_required_and_rate_has_a_safe_default() -> None:
    assert ENGINE.schema.names() == ["ports", "rate"]
    assert ENGINE.validate_options({"ports": "80,443"}, target_type="ip") == {"ports": "80,443", "rate": 1000}
    with pytest.raises(OptionTypeError) as caught:
        ENGINE.validate_options({}, target_type="ip")
    assert caught.value.option == "ports"


@pytest.mark.parametrize(("raw", "option"), [
    ({"ports": "80", "bogus": 1}, "bogus"),
    ({"ports": 80}, "ports"),
    ({"ports": "0-80"}, "ports"),
    ({"ports": "80-70000"}, "ports"),
    ({"ports": "443-80"}, "ports"),
    ({"ports": ""}, "ports"),
    ({"ports": "80", "rate": "1000"}, "rate"),
    ({"ports": "80", "rate": 0}, "rate"),
    ({"ports": "80", "rate": 10001}, "rate"),
    ({"ports": "80", "rate": 1e3}, "rate"),
])
def test_unknown_wrong_type_or_out_of_range_names_the_option(raw: dict, option: str) -> None:
    with pytest.raises(OptionTypeError) as caught:
        ENGINE.validate_options(raw, target_type="ip")
    assert caught.value.option == option


@pytest.mark.parametrize("value", ["-oJ /tmp/x", "--output-filename=/tmp/x", "80;id", "$(id)", "`id`",
                                   "80\n443", "80\x00", "../80", "/etc/passwd", "80 -oL /tmp/x", "U:53",
                                   "80,--rate=9e9"])
def test_hostile_ports_are_refused_before_any_argv_exists(value: str) -> None:
    with pytest.raises(OptionTypeError) as caught:
        ENGINE.validate_options({"ports": value}, target_type="ip")
    assert caught.value.option == "ports"


def test_argv_subtracts_the_excluded_ports(tmp_path: Path) -> None:
    argv = ENGINE.build_argv(job(tmp_path, options={"ports": "1-65535", "rate": 5000}))
    assert argv == ["/usr/bin/masscan", "-p", "1-2023,2025-65535", "--rate", "5000", "--retries", "1", "--wait", "3",
                    "-oJ", str(tmp_path / "masscan.json"), "192.0.2.0/28"]


def test_argv_for_an_address_with_default_rate(tmp_path: Path) -> None:
    argv = ENGINE.build_argv(job(tmp_path, "192.0.2.7", "ip", {"ports": "443,22,80"}, excluded_ports=""))
    assert argv == ["/usr/bin/masscan", "-p", "22,80,443", "--rate", "1000", "--retries", "1", "--wait", "3",
                    "-oJ", str(tmp_path / "masscan.json"), "192.0.2.7"]


def test_pinned_address_is_what_is_scanned(tmp_path: Path) -> None:
    argv = ENGINE.build_argv(job(tmp_path, "192.0.2.7", "ip", address="198.18.0.2"))
    assert argv[-1] == "198.18.0.2"


@pytest.mark.parametrize("target", ["example.com", "-oJ", "--rate=100000", "192.0.2.1;id", "192.0.2.0/33"])
def test_a_target_that_is_not_an_address_never_reaches_the_command_line(tmp_path: Path, target: str) -> None:
    with pytest.raises(EngineFailed, match="needs an IP address or network"):
        ENGINE.build_argv(job(tmp_path, target, "ip"))


def test_only_excluded_ports_is_a_failure(tmp_path: Path) -> None:
    with pytest.raises(EngineFailed, match="excluded"):
        ENGINE.build_argv(job(tmp_path, options={"ports": "2024"}))


def test_on_line_reads_status_lines_and_discoveries() -> None:
    status = ("rate:  9.99-kpps, 46.02% done,   0:00:07 remaining, found=1       \r"
              "rate:  9.94-kpps, 89.08% done")
    assert ENGINE.on_line(status) == [LiveEvent("progress", {"percent": 89, "tool_phase": "SYN scan"})]
    assert ENGINE.on_line("rate:  0.00-kpps, 100.00% done, waiting 1-secs, found=2") == [
        LiveEvent("progress", {"percent": 99, "tool_phase": "SYN scan"})]
    assert ENGINE.on_line("Discovered open port 8080/tcp on 198.18.0.2") == [
        LiveEvent("port_found", {"ip": "198.18.0.2", "port": 8080, "protocol": "tcp"})]
    assert ENGINE.on_line("Starting masscan 1.3.2 (http://bit.ly/14GZzcT)") == []


def test_parse_reads_the_report_the_engine_writes(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "reconpipeline_new-test_masscan.json", tmp_path / "masscan.json")
    records = list(ENGINE.parse(job(tmp_path)))
    assert sum(isinstance(r, HostRecord) for r in records) == 2
    assert {(r.host, r.port) for r in records if isinstance(r, ServiceRecord)} == {
        ("184.72.14.217", 443), ("184.72.14.217", 80), ("52.8.166.143", 80), ("52.8.166.143", 443)}


def test_empty_report_means_nothing_found_and_missing_report_is_a_failure(tmp_path: Path) -> None:
    scan = job(tmp_path)
    with pytest.raises(EngineFailed, match="wrote no report"):
        ENGINE.parse(scan)
    shutil.copy(FIXTURES / "dd_masscan_no_vuln.json", tmp_path / "masscan.json")
    assert list(ENGINE.parse(scan)) == []


def test_problems_hidden_behind_exit_0(tmp_path: Path) -> None:
    scan = job(tmp_path)

    def result(stderr: str) -> ProcessResult:
        return ProcessResult(argv=[], returncode=0, duration_s=1, stdout_tail="", stderr_tail=stderr)

    assert ENGINE.problems(scan, result("[-] FAIL: could not determine default interface\n")) == [
        "[-] FAIL: could not determine default interface"]
    assert ENGINE.problems(scan, result("")) == ["masscan exited 0 but wrote no report"]
    (tmp_path / "masscan.json").write_text("")
    assert ENGINE.problems(scan, result("rate:  0.00-kpps, 100.00% done")) == []
