"""SslscanEngine without the tool: options, argument lists, live events, parse/problems on real reports."""

from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from engines.base import EngineJob, LiveEvent
from engines.errors import EngineFailed
from engines.options import OptionTypeError
from engines.process import ProcessResult
from engines.records import CertificateRecord, FindingRecord
from engines.sslscan.engine import STARTTLS, SslscanEngine

ENGINE = SslscanEngine()
FIXTURES = Path(__file__).parent / "fixtures"
BINARY = "/usr/bin/sslscan"

# Values an attacker might put into any string option; each must be refused before an argv exists.
HOSTILE = [
    "-v", "--xml=/etc/cron.d/x", "--targets=/etc/shadow", "--pk=/root/.ssh/id_rsa", "; rm -rf /", "$(id)",
    "`id`", "a\nb", "a\x00b", "443;id", "443 --xml=/tmp/x", "a b", "../../etc/passwd", "x" * 300,
]


def _job(tmp_path: Path, *, target: str = "127.0.0.1", target_type: str = "ip", address: str | None = None,
         options: dict[str, Any] | None = None, excluded: str = "2024") -> EngineJob:
    validated = ENGINE.validate_options(options or {}, target_type=target_type)
    return EngineJob(target=target, target_type=target_type, address=address, options=validated,
                     workdir=tmp_path, timeout_s=60, binary=BINARY, excluded_ports=excluded)


def _result(returncode: int = 0, stderr: str = "") -> ProcessResult:
    return ProcessResult(argv=[BINARY], returncode=returncode, duration_s=0.3, stdout_tail="",
                         stderr_tail=stderr)


def _report(tmp_path: Path, fixture: str) -> Path:
    """A real sslscan report where the engine looks for it."""
    return Path(shutil.copyfile(FIXTURES / fixture, tmp_path / "sslscan.xml"))


def test_engine_identity_and_exit_codes():
    assert (ENGINE.name, ENGINE.executable, ENGINE.category) == ("sslscan", "sslscan", "tls")
    assert ENGINE.target_types == {"host", "ip", "domain", "url"}
    assert ENGINE.ok_exit_codes == {0}


def test_schema_defaults():
    assert ENGINE.validate_options({}, target_type="ip") == {"ports": "443"}
    assert set(ENGINE.schema.json_schema()["properties"]) == {"ports", "sni", "starttls", "connectTimeout"}
    assert ENGINE.schema.json_schema()["properties"]["starttls"]["enum"] == list(STARTTLS)


@pytest.mark.parametrize(("raw", "option"), [
    ({"bogus": 1}, "bogus"),
    ({"ports": 443}, "ports"),
    ({"ports": "0"}, "ports"),
    ({"ports": "443,8443"}, "ports"),
    ({"ports": "1-1024"}, "ports"),
    ({"sni": "127.0.0.1"}, "sni"),
    ({"sni": "lantern_test"}, "sni"),
    ({"starttls": "gopher"}, "starttls"),
    ({"starttls": "psql"}, "starttls"),
    ({"connectTimeout": 0}, "connectTimeout"),
    ({"connectTimeout": 61}, "connectTimeout"),
    ({"connectTimeout": "3"}, "connectTimeout"),
    ({"connectTimeout": True}, "connectTimeout"),
])
def test_bad_options_are_refused_naming_the_option(raw, option):
    with pytest.raises(OptionTypeError) as excinfo:
        ENGINE.validate_options(raw, target_type="ip")
    assert excinfo.value.option == option


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("option", ["ports", "sni", "starttls"])
def test_hostile_values_are_refused_before_any_argv_exists(option, value, monkeypatch):
    monkeypatch.setattr(SslscanEngine, "build_argv", lambda *args: pytest.fail("build_argv was reached"))
    with pytest.raises(OptionTypeError) as excinfo:
        ENGINE.validate_options({option: value}, target_type="ip")
    assert excinfo.value.option == option


def test_sni_is_refused_for_a_domain_target():
    with pytest.raises(OptionTypeError) as excinfo:
        ENGINE.validate_options({"sni": "lantern.test"}, target_type="domain")
    assert excinfo.value.option == "sni"


def test_default_argv_for_an_ip(tmp_path):
    assert ENGINE.build_argv(_job(tmp_path)) == [
        BINARY, "--no-colour", "--show-certificate", f"--xml={tmp_path / 'sslscan.xml'}", "127.0.0.1:443"]


def test_full_argv_for_a_pinned_name(tmp_path):
    job = _job(tmp_path, target="lantern.test", target_type="domain", address="127.0.0.1",
               options={"ports": "8443", "starttls": "postgres", "connectTimeout": 5})
    assert ENGINE.build_argv(job) == [
        BINARY, "--no-colour", "--show-certificate", f"--xml={tmp_path / 'sslscan.xml'}",
        "--sni-name=lantern.test", "--starttls-psql", "--timeout=5", "127.0.0.1:8443"]


def test_ip_with_sni_ipv6_and_unpinned_name(tmp_path):
    with_sni = ENGINE.build_argv(_job(tmp_path, address="127.0.0.1", options={"sni": "lantern.test"}))
    assert with_sni[-2:] == ["--sni-name=lantern.test", "127.0.0.1:443"]
    rdp = ENGINE.build_argv(_job(tmp_path, target="::1", options={"starttls": "rdp"}))
    assert rdp[-2:] == ["--rdp", "[::1]:443"]
    unpinned = ENGINE.build_argv(_job(tmp_path, target="lantern.test", target_type="host"))
    assert unpinned[-2:] == ["--sni-name=lantern.test", "lantern.test:443"]


def test_url_target_uses_the_urls_port_or_443(tmp_path):
    job = _job(tmp_path, target="https://lantern.test/", target_type="url", address="127.0.0.1")
    assert ENGINE.build_argv(job)[-1] == "127.0.0.1:443"
    job = _job(tmp_path, target="https://lantern.test:9443/x", target_type="url", address="127.0.0.1")
    assert ENGINE.build_argv(job)[-1] == "127.0.0.1:9443"


def test_port_2024_and_several_injected_ports_are_refused_at_build_time(tmp_path):
    with pytest.raises(EngineFailed, match="excluded"):
        ENGINE.build_argv(_job(tmp_path, options={"ports": "2024"}))
    job = _job(tmp_path)
    several = EngineJob(**{**job.__dict__, "options": {**job.options, "ports": "443,8443"}})
    with pytest.raises(EngineFailed, match="at most 1"):
        ENGINE.build_argv(several)


def test_live_lines_become_port_found_and_progress_events():
    assert ENGINE.on_line("Testing SSL server 127.0.0.1 on port 50265 using SNI name lantern.test") == [
        LiveEvent("progress", {"percent": 5, "tool_phase": "Connected"}),
        LiveEvent("port_found", {"ip": "127.0.0.1", "port": 50265, "protocol": "tcp"})]
    assert ENGINE.on_line("Testing SSL server lantern.test on port 443 using SNI name lantern.test") == [
        LiveEvent("progress", {"percent": 5, "tool_phase": "Connected"})]
    assert ENGINE.on_line("  Supported Server Cipher(s):") == [
        LiveEvent("progress", {"percent": 40, "tool_phase": "Supported Server Cipher(s)"})]
    assert ENGINE.on_line("  SSL Certificate:")[0].data["percent"] == 90
    assert ENGINE.on_line("Accepted  TLSv1.2  256 bits  AES256-SHA") == []


def test_parse_reads_the_report_in_the_workdir(tmp_path):
    _report(tmp_path, "local_expired_legacy.xml")
    job = _job(tmp_path, options={"ports": "55385"})
    records = list(ENGINE.parse(job))
    assert {r.rule_id for r in records if isinstance(r, FindingRecord)} >= {
        "cert-expired", "cert-self-signed", "tls-protocol-tls1_0"}
    certificate = next(r for r in records if isinstance(r, CertificateRecord))
    assert certificate.not_after == datetime(2020, 1, 2, tzinfo=timezone.utc)
    assert ENGINE.problems(job, _result()) == []


def test_connection_refused_fails_the_step_although_sslscan_exits_0(tmp_path):
    _report(tmp_path, "local_connection_refused.xml")
    assert ENGINE.problems(_job(tmp_path), _result(0)) == [
        "Could not open a connection to host 127.0.0.1 (127.0.0.1) on port 36931."]


def test_missing_or_empty_report_fails_the_step(tmp_path):
    job = _job(tmp_path)
    assert ENGINE.problems(job, _result(0, "error in getaddrinfo remote: Name or service not known\n")) == [
        "sslscan wrote no XML report (exit code 0): error in getaddrinfo remote: Name or service not known"]
    with pytest.raises(EngineFailed, match="no XML report"):
        list(ENGINE.parse(job))
    (tmp_path / "sslscan.xml").write_text('<?xml version="1.0"?>\n<document title="SSLScan Results" '
                                          'version="2.0.7"></document>\n')
    assert ENGINE.problems(job, _result(0)) == ["sslscan scanned no TLS service"]
