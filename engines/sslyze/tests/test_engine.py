"""SslyzeEngine without the tool: options, argument lists, live events, and parse/problems on real reports."""

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
from engines.records import CertificateRecord, FindingRecord, ServiceRecord
from engines.sslyze.engine import SCAN_COMMANDS, SslyzeEngine

ENGINE = SslyzeEngine()
FIXTURES = Path(__file__).parent / "fixtures"
BINARY = "/opt/lantern/bin/sslyze"

# Values an attacker might put into any string option; each must be refused before an argv exists.
HOSTILE = [
    "-v", "--json_out=/etc/cron.d/x", "--targets_in=/etc/shadow", "; rm -rf /", "$(id)", "`id`", "a\nb",
    "a\x00b",
    "443;id", "443 --json_out /tmp/x", "lantern.test{10.0.0.1}", "a b", "../../etc/passwd", "x" * 300,
]


def _job(tmp_path: Path, *, target: str = "127.0.0.1", target_type: str = "ip", address: str | None = None,
         options: dict[str, Any] | None = None, excluded: str = "2024") -> EngineJob:
    validated = ENGINE.validate_options(options or {}, target_type=target_type)
    return EngineJob(target=target, target_type=target_type, address=address, options=validated,
                     workdir=tmp_path, timeout_s=60, binary=BINARY, excluded_ports=excluded)


def _result(returncode: int = 0, stderr: str = "") -> ProcessResult:
    return ProcessResult(argv=[BINARY], returncode=returncode, duration_s=0.7, stdout_tail="",
                         stderr_tail=stderr)


def _report(tmp_path: Path, fixture: str) -> Path:
    """A real sslyze report where the engine looks for it."""
    return Path(shutil.copyfile(FIXTURES / fixture, tmp_path / "sslyze.json"))


def test_engine_identity_and_exit_codes():
    assert (ENGINE.name, ENGINE.executable, ENGINE.category) == ("sslyze", "sslyze", "tls")
    assert ENGINE.target_types == {"host", "ip", "domain", "url"}
    assert ENGINE.ok_exit_codes == {0, 1}  # 1 = not Mozilla-compliant: a finding, not a failure


def test_schema_defaults():
    assert ENGINE.validate_options({}, target_type="ip") == {"ports": "443", "scanCommands": [],
                                                             "slowConnection": False}
    assert ENGINE.validate_options(None, target_type="domain")["ports"] == "443"


def test_json_schema_lists_the_scan_command_allow_list():
    schema = ENGINE.schema.json_schema()
    assert schema["additionalProperties"] is False
    assert schema["properties"]["scanCommands"]["items"]["enum"] == list(SCAN_COMMANDS)
    assert set(schema["properties"]) == {"ports", "scanCommands", "sni", "starttls", "slowConnection"}


@pytest.mark.parametrize(("raw", "option"), [
    ({"bogus": 1}, "bogus"),
    ({"ports": 443}, "ports"),
    ({"ports": "0"}, "ports"),
    ({"ports": "70000"}, "ports"),
    ({"ports": "443-400"}, "ports"),
    ({"ports": "1-33"}, "ports"),
    ({"scanCommands": "certinfo"}, "scanCommands"),
    ({"scanCommands": ["certinfo", "certinfo"]}, "scanCommands"),
    ({"scanCommands": ["update_trust_stores"]}, "scanCommands[0]"),
    ({"scanCommands": ["certinfo", "certinfo_ca_file"]}, "scanCommands[1]"),
    ({"sni": "127.0.0.1"}, "sni"),
    ({"sni": "-lantern.test"}, "sni"),
    ({"sni": 5}, "sni"),
    ({"starttls": "gopher"}, "starttls"),
    ({"slowConnection": "yes"}, "slowConnection"),
    ("ports=443", "options"),
])
def test_bad_options_are_refused_naming_the_option(raw, option):
    with pytest.raises(OptionTypeError) as excinfo:
        ENGINE.validate_options(raw, target_type="ip")
    assert excinfo.value.option == option


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("option", ["ports", "sni", "starttls", "scanCommands"])
def test_hostile_values_are_refused_before_any_argv_exists(option, value, monkeypatch):
    monkeypatch.setattr(SslyzeEngine, "build_argv", lambda *args: pytest.fail("build_argv was reached"))
    raw = {option: [value] if option == "scanCommands" else value}
    with pytest.raises(OptionTypeError) as excinfo:
        ENGINE.validate_options(raw, target_type="ip")
    assert excinfo.value.option.startswith(option)


def test_sni_is_refused_for_a_domain_target():
    with pytest.raises(OptionTypeError) as excinfo:
        ENGINE.validate_options({"sni": "lantern.test"}, target_type="domain")
    assert excinfo.value.option == "sni"


def test_default_argv_for_an_ip(tmp_path):
    assert ENGINE.build_argv(_job(tmp_path)) == [
        BINARY, "--json_out", str(tmp_path / "sslyze.json"), "--", "127.0.0.1:443"]


def test_full_argv_for_a_pinned_name_on_two_ports(tmp_path):
    job = _job(tmp_path, target="lantern.test", target_type="domain", address="127.0.0.1",
               options={"ports": "8443,443", "scanCommands": ["certinfo", "tlsv1", "robot"],
                        "starttls": "smtp", "slowConnection": True})
    assert ENGINE.build_argv(job) == [
        BINARY, "--json_out", str(tmp_path / "sslyze.json"), "--certinfo", "--tlsv1", "--robot",
        "--starttls", "smtp", "--slow_connection", "--", "lantern.test:443{127.0.0.1}",
        "lantern.test:8443{127.0.0.1}"]


def test_pinned_address_is_connected_to_and_the_name_is_the_sni(tmp_path):
    job = _job(tmp_path, target="www.lantern.test", target_type="host", address="::1")
    assert ENGINE.build_argv(job)[-1] == "www.lantern.test:443{::1}"


def test_ip_target_with_sni_sends_the_name_and_connects_to_the_ip(tmp_path):
    job = _job(tmp_path, target="127.0.0.1", address="127.0.0.1", options={"sni": "lantern.test"})
    assert ENGINE.build_argv(job)[-1] == "lantern.test:443{127.0.0.1}"


def test_unpinned_name_and_ipv6_literal(tmp_path):
    unpinned = _job(tmp_path, target="lantern.test", target_type="domain")
    assert ENGINE.build_argv(unpinned)[-1] == "lantern.test:443"
    assert ENGINE.build_argv(_job(tmp_path, target="::1"))[-1] == "[::1]:443"


def test_url_target_uses_the_urls_port_or_443(tmp_path):
    https = _job(tmp_path, target="https://lantern.test/login?next=/", target_type="url", address="127.0.0.1",
                 options={"ports": "8443"})
    assert ENGINE.build_argv(https)[-1] == "lantern.test:443{127.0.0.1}"
    explicit = _job(tmp_path, target="http://lantern.test:8443/", target_type="url", address="127.0.0.1")
    assert ENGINE.build_argv(explicit)[-1] == "lantern.test:8443{127.0.0.1}"
    ip_url = _job(tmp_path, target="https://[::1]:4443/", target_type="url", address="::1")
    assert ENGINE.build_argv(ip_url)[-1] == "[::1]:4443"


def test_plain_http_url_without_a_port_has_no_tls_port(tmp_path):
    with pytest.raises(EngineFailed, match="names no TLS port"):
        ENGINE.build_argv(_job(tmp_path, target="http://lantern.test/", target_type="url"))


def test_port_2024_is_never_scanned(tmp_path):
    argv = ENGINE.build_argv(_job(tmp_path, options={"ports": "2020-2030"}))
    assert "127.0.0.1:2024" not in argv
    ports = (*range(2020, 2024), *range(2025, 2031))
    assert argv[argv.index("--") + 1:] == [f"127.0.0.1:{port}" for port in ports]
    with pytest.raises(EngineFailed, match="excluded"):
        ENGINE.build_argv(_job(tmp_path, options={"ports": "2024"}))
    with pytest.raises(EngineFailed, match="excluded"):
        ENGINE.build_argv(_job(tmp_path, target="https://lantern.test:2024/", target_type="url"))


def test_sni_on_a_name_target_and_too_many_injected_ports_fail_the_step(tmp_path):
    named = _job(tmp_path, target="lantern.test", target_type="host", options={"sni": "other.test"})
    with pytest.raises(EngineFailed, match="only to IP targets"):
        ENGINE.build_argv(named)
    job = _job(tmp_path)
    crowded = EngineJob(**{**job.__dict__, "options": {**job.options, "ports": "1-100"}})
    with pytest.raises(EngineFailed, match="at most 32"):
        ENGINE.build_argv(crowded)


def test_live_lines_become_port_found_and_progress_events():
    assert ENGINE.on_line("   127.0.0.1:50265           => 127.0.0.1 ") == [
        LiveEvent("port_found", {"ip": "127.0.0.1", "port": 50265, "protocol": "tcp"})]
    assert ENGINE.on_line("   lantern.test:8443         => ::1 ") == [
        LiveEvent("port_found", {"ip": "::1", "port": 8443, "protocol": "tcp"})]
    assert ENGINE.on_line("   127.0.0.1:37967           => ERROR: Server rejected the connection; discarding "
                          "scan.") == []
    assert ENGINE.on_line(" CHECKING CONNECTIVITY TO SERVER(S)")[0].data["percent"] == 2
    assert ENGINE.on_line(" SCAN RESULTS FOR 127.0.0.1:50265 - 127.0.0.1")[0].data["percent"] == 80
    assert ENGINE.on_line(" SCANS COMPLETED IN 1.837477 S")[0].data["percent"] == 99
    assert ENGINE.on_line("       Common Name:                       lantern.test") == []


def test_parse_reads_the_report_in_the_workdir(tmp_path):
    _report(tmp_path, "scb_expired.badssl.com.json")
    job = _job(tmp_path, target="expired.badssl.com", target_type="domain")
    records = list(ENGINE.parse(job))
    findings = {record.rule_id for record in records if isinstance(record, FindingRecord)}
    assert "cert-expired" in findings
    leaf = next(r for r in records if isinstance(r, CertificateRecord) and r.chain_position == 0)
    assert leaf.subject.startswith("CN=*.badssl.com")
    assert ENGINE.problems(job, _result(returncode=1)) == []  # exit 1 (non-compliant) + a report: success


def test_missing_report_fails_with_the_tools_last_words(tmp_path):
    job = _job(tmp_path)
    stderr = "Traceback (most recent call last):\n  ...\nOSError: [Errno 28] No space left on device\n"
    assert ENGINE.problems(job, _result(1, stderr)) == [
        "sslyze wrote no JSON report (exit code 1): OSError: [Errno 28] No space left on device"]
    with pytest.raises(EngineFailed, match="no JSON report"):
        list(ENGINE.parse(job))


def test_unreachable_target_fails_the_step_with_sslyzes_reason(tmp_path):
    _report(tmp_path, "scb_unavailable-host.json")
    assert ENGINE.problems(_job(tmp_path), _result(0)) == [
        '192.168.0.107:443: ERROR_NO_CONNECTIVITY: sslyze.errors.ConnectionToServerTimedOut: '
        '192.168.0.107:443 -> "Connection to the server timed out".']


def test_one_reached_port_keeps_the_step_although_another_was_unreachable(tmp_path):
    reached = json.loads((FIXTURES / "scb_self-signed.badssl.com.json").read_text())
    unreachable = json.loads((FIXTURES / "scb_unavailable-host.json").read_text())
    reached["server_scan_results"] += unreachable["server_scan_results"]
    (tmp_path / "sslyze.json").write_text(json.dumps(reached))
    job = _job(tmp_path)
    assert ENGINE.problems(job, _result(1)) == []
    assert len([r for r in ENGINE.parse(job) if isinstance(r, ServiceRecord)]) == 1
