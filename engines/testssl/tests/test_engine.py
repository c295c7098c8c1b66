"""TestsslEngine without the tool: options, argument lists, live events, parse/problems on real reports."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from engines.base import EngineJob, LiveEvent
from engines.errors import EngineFailed
from engines.options import OptionTypeError
from engines.process import ProcessResult
from engines.records import CertificateRecord, FindingRecord
from engines.testssl.engine import TestsslEngine
from engines.testssl.parse import scan_problems

ENGINE = TestsslEngine()
FIXTURES = Path(__file__).parent / "fixtures"
BINARY = "/usr/bin/testssl"
QUIET = ["--warnings", "batch", "--quiet", "--color", "0"]

# testssl.sh 3.0.8's whole --jsonfile for a closed port (127.0.0.1:55483, nothing listening), recorded on this
# machine kind inside a loopback-only network namespace; it exited 246 (ERR_CONNECT).
CLOSED_PORT_REPORT = [
    {"id": "engine_problem", "ip": "/", "port": "443", "severity": "WARN",
     "finding": "No engine or GOST support via engine with your /usr/bin/openssl"},
    {"id": "scanProblem", "ip": "127.0.0.1/127.0.0.1", "port": "55483", "severity": "FATAL",
     "finding": "Can't connect to '127.0.0.1:55483' Make sure a firewall is not between you and your "
                "scanning target!"},
    {"id": "scanTime", "ip": "127.0.0.1/127.0.0.1", "port": "55483", "severity": "WARN",
     "finding": "Scan interrupted"},
]

# Values an attacker might put into any string option; each must be refused before an argv exists.
HOSTILE = [
    "-v", "--jsonfile=/etc/cron.d/x", "--file=/etc/shadow", "--phone-out", "--openssl=/tmp/evil",
    "; rm -rf /", "$(id)", "`id`", "a\nb", "a\x00b", "443;id", "443 --logfile /tmp/x", "a b",
    "../../etc/passwd", "x" * 300,
]


def _job(tmp_path: Path, *, target: str = "127.0.0.1", target_type: str = "ip", address: str | None = None,
         options: dict[str, Any] | None = None, excluded: str = "2024") -> EngineJob:
    validated = ENGINE.validate_options(options or {}, target_type=target_type)
    return EngineJob(target=target, target_type=target_type, address=address, options=validated,
                     workdir=tmp_path, timeout_s=600, binary=BINARY, excluded_ports=excluded)


def _result(returncode: int = 0, stderr: str = "") -> ProcessResult:
    return ProcessResult(argv=[BINARY], returncode=returncode, duration_s=40, stdout_tail="",
                         stderr_tail=stderr)


def _report(tmp_path: Path, content: str | list[dict[str, str]]) -> Path:
    """A testssl.sh report where the engine looks for it: a real fixture by name, or entries as written."""
    path = tmp_path / "testssl.json"
    if isinstance(content, str):
        return Path(shutil.copyfile(FIXTURES / content, path))
    path.write_text(json.dumps(content))
    return path


def test_engine_identity_and_exit_codes():
    assert (ENGINE.name, ENGINE.executable, ENGINE.category) == ("testssl", "testssl", "tls")
    assert ENGINE.target_types == {"host", "ip", "domain", "url"}
    assert ENGINE.ok_exit_codes == set(range(256))  # the report decides, see problems()


def test_schema_defaults():
    assert ENGINE.validate_options({}, target_type="ip") == {"ports": "443", "fast": True}
    assert set(ENGINE.schema.json_schema()["properties"]) == {"ports", "fast", "sni", "starttls",
                                                               "connectTimeout"}


@pytest.mark.parametrize(("raw", "option"), [
    ({"bogus": 1}, "bogus"),
    ({"ports": 443}, "ports"),
    ({"ports": "65536"}, "ports"),
    ({"ports": "443,8443"}, "ports"),
    ({"fast": "true"}, "fast"),
    ({"fast": 1}, "fast"),
    ({"sni": "::1"}, "sni"),
    ({"starttls": "xmpp-server"}, "starttls"),
    ({"connectTimeout": 0}, "connectTimeout"),
    ({"connectTimeout": 121}, "connectTimeout"),
    ({"connectTimeout": 1.5}, "connectTimeout"),
])
def test_bad_options_are_refused_naming_the_option(raw, option):
    with pytest.raises(OptionTypeError) as excinfo:
        ENGINE.validate_options(raw, target_type="ip")
    assert excinfo.value.option == option


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("option", ["ports", "sni", "starttls"])
def test_hostile_values_are_refused_before_any_argv_exists(option, value, monkeypatch):
    monkeypatch.setattr(TestsslEngine, "build_argv", lambda *args: pytest.fail("build_argv was reached"))
    with pytest.raises(OptionTypeError) as excinfo:
        ENGINE.validate_options({option: value}, target_type="ip")
    assert excinfo.value.option == option


def test_sni_is_refused_for_a_domain_target():
    with pytest.raises(OptionTypeError) as excinfo:
        ENGINE.validate_options({"sni": "lantern.test"}, target_type="domain")
    assert excinfo.value.option == "sni"


def test_default_argv_for_an_ip(tmp_path):
    assert ENGINE.build_argv(_job(tmp_path)) == [
        BINARY, "--jsonfile", str(tmp_path / "testssl.json"), *QUIET, "--nodns", "none", "--fast",
        "127.0.0.1:443"]


def test_full_argv_for_a_pinned_name(tmp_path):
    job = _job(tmp_path, target="lantern.test", target_type="domain", address="127.0.0.1",
               options={"ports": "8443", "fast": False, "starttls": "smtp", "connectTimeout": 10})
    assert ENGINE.build_argv(job) == [
        BINARY, "--jsonfile", str(tmp_path / "testssl.json"), *QUIET, "--nodns", "none", "--ip", "127.0.0.1",
        "--starttls", "smtp", "--connect-timeout", "10", "--openssl-timeout", "10", "lantern.test:8443"]


def test_ip_with_sni_is_the_name_pinned_to_the_ip(tmp_path):
    argv = ENGINE.build_argv(_job(tmp_path, address="127.0.0.1", options={"sni": "lantern.test"}))
    assert argv[-3:] == ["--ip", "127.0.0.1", "lantern.test:443"]
    assert ENGINE.build_argv(_job(tmp_path, target="::1"))[-1] == "[::1]:443"


def test_only_an_unpinned_name_may_be_resolved(tmp_path):
    argv = ENGINE.build_argv(_job(tmp_path, target="lantern.test", target_type="domain"))
    assert argv[argv.index("--nodns") + 1] == "min"
    assert "--ip" not in argv and argv[-1] == "lantern.test:443"


def test_url_target_uses_the_urls_port_or_443(tmp_path):
    job = _job(tmp_path, target="https://lantern.test/a?b=c", target_type="url", address="127.0.0.1")
    assert ENGINE.build_argv(job)[-3:] == ["--ip", "127.0.0.1", "lantern.test:443"]
    job = _job(tmp_path, target="https://lantern.test:8443/", target_type="url", address="127.0.0.1")
    assert ENGINE.build_argv(job)[-1] == "lantern.test:8443"


def test_port_2024_and_several_injected_ports_are_refused_at_build_time(tmp_path):
    with pytest.raises(EngineFailed, match="excluded"):
        ENGINE.build_argv(_job(tmp_path, options={"ports": "2024"}))
    job = _job(tmp_path)
    several = EngineJob(**{**job.__dict__, "options": {**job.options, "ports": "443,8443"}})
    with pytest.raises(EngineFailed, match="at most 1"):
        ENGINE.build_argv(several)


def test_live_lines_become_progress_events():
    start = " Start 2026-11-21 07:26:16        -->> 127.0.0.1:50883 (expired.lantern.test) <<--"
    assert ENGINE.on_line(start) == [LiveEvent("progress", {"percent": 2, "tool_phase": "Start"})]
    assert ENGINE.on_line(" Testing cipher categories ") == [
        LiveEvent("progress", {"percent": 15, "tool_phase": "Testing cipher categories"})]
    assert ENGINE.on_line(" Testing all 76 locally available ciphers against the server, ordered by "
                          "encryption strength ")[0].data["percent"] == 75
    assert ENGINE.on_line(" Done 2026-11-21 07:27:22 [  69s] -->> 127.0.0.1:50883 (expired.lantern.test) <<--"
                          )[0].data == {"percent": 99, "tool_phase": "Done"}
    assert ENGINE.on_line(" TLS 1      offered (deprecated)") == []


def test_parse_reads_the_report_in_the_workdir(tmp_path):
    _report(tmp_path, "dashlord_visium360_gradeF_testssl.json")
    job = _job(tmp_path)
    records = list(ENGINE.parse(job))
    assert any(isinstance(r, CertificateRecord) for r in records)
    assert any(isinstance(r, FindingRecord) and r.severity == "critical" for r in records)
    assert ENGINE.problems(job, _result(0)) == []
    assert ENGINE.problems(job, _result(7)) == []  # a complete run exits with the sum of its checks' codes


def test_closed_port_fails_the_step_with_testssls_reason(tmp_path):
    _report(tmp_path, CLOSED_PORT_REPORT)
    stderr = "/usr/bin/testssl: connect: Connection refused\nFatal error: Can't connect to ...\n"
    assert ENGINE.problems(_job(tmp_path), _result(246, stderr)) == [
        "127.0.0.1:55483 scanProblem: Can't connect to '127.0.0.1:55483' Make sure a firewall is not between "
        "you and your scanning target!"]


def test_interrupted_scan_fails_the_step_but_a_warning_alone_does_not(tmp_path):
    _report(tmp_path, "dashlord_univ-paris13_interrupted_testssl.json")
    job = _job(tmp_path)
    assert ENGINE.problems(job, _result(246)) == [
        "81.194.43.200:443 scanProblem: repeated TCP connect problems, giving up"]
    complete = json.loads((FIXTURES / "dashlord_beta.gouv.fr_testssl.json").read_text())
    _report(tmp_path, [CLOSED_PORT_REPORT[0], *complete])
    assert ENGINE.problems(job, _result(0)) == []


def test_fatal_only_scan_problems_skip_warnings(tmp_path):
    path = _report(tmp_path, CLOSED_PORT_REPORT)
    assert len(scan_problems(path)) == 3
    assert scan_problems(path, fatal_only=True) == [
        "127.0.0.1:55483 scanProblem: Can't connect to '127.0.0.1:55483' Make sure a firewall is not between "
        "you and your scanning target!"]


def test_no_report_or_no_result_about_the_target_fails_the_step(tmp_path):
    job = _job(tmp_path)
    assert ENGINE.problems(job, _result(254, "Fatal error: Cmd line couldn't be parsed\n")) == [
        "testssl.sh wrote no JSON report (exit code 254, command line rejected): Fatal error: Cmd line "
        "couldn't be parsed"]
    with pytest.raises(EngineFailed, match="no JSON report"):
        list(ENGINE.parse(job))
    _report(tmp_path, CLOSED_PORT_REPORT[:1])
    assert ENGINE.problems(job, _result(0)) == ["testssl.sh reported nothing about the target (exit code 0)"]
