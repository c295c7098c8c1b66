"""sslyze for real, through run_engine (the path a scan takes), against openssl s_server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from engines.base import EngineJob, LiveEvent
from engines.binaries import resolve_binary
from engines.errors import EngineFailed
from engines.records import CertificateRecord, FindingRecord, HostRecord, Record, Severity
from engines.runner import StepResult, run_engine
from engines.sslyze.engine import SslyzeEngine
from engines.testing.tls import (Certificate, expired_certificate, free_port, job_workdir,
                                 self_signed_certificate, tls_server)

ENGINE = SslyzeEngine()
BINARY = resolve_binary(ENGINE.executable)
pytestmark = pytest.mark.skipif(BINARY is None, reason="sslyze is not installed (engines/sslyze/install.sh)")


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Certificate]:
    directory = tmp_path_factory.mktemp("sslyze-certificates")
    return {"self_signed": self_signed_certificate(directory), "expired": expired_certificate(directory)}


@pytest.fixture
def workdir() -> Iterator[Path]:
    with job_workdir("lantern-sslyze-") as path:
        yield path


def _scan(workdir: Path, port: int, *, target: str = "127.0.0.1", target_type: str = "ip",
          address: str | None = None,
          options: dict[str, Any] | None = None) -> tuple[StepResult, list[LiveEvent]]:
    validated = ENGINE.validate_options({"ports": str(port), **(options or {})}, target_type=target_type)
    job = EngineJob(target=target, target_type=target_type, address=address, options=validated,
                    workdir=workdir, timeout_s=120, binary=str(BINARY), excluded_ports="2024")
    events: list[LiveEvent] = []
    return run_engine(ENGINE, job, on_event=events.append), events


def _findings(records: list[Record]) -> dict[str, FindingRecord]:
    return {record.rule_id: record for record in records if isinstance(record, FindingRecord)}


def _leaf(records: list[Record]) -> CertificateRecord:
    return next(r for r in records if isinstance(r, CertificateRecord) and r.chain_position == 0)


def test_self_signed_certificate_of_a_pinned_name(certificates, workdir):
    certificate = certificates["self_signed"]
    with tls_server(certificate) as server:
        step, events = _scan(workdir, server.port, target="lantern.test", target_type="domain",
                             address="127.0.0.1")
    assert step.process.returncode == 1  # not Mozilla-compliant: accepted, the report decides
    assert step.process.duration_s < 60
    assert HostRecord(ip="127.0.0.1", hostname="lantern.test") in step.records
    leaf = _leaf(step.records)
    assert (leaf.host, leaf.port, leaf.subject, leaf.issuer) == (
        "127.0.0.1", server.port, "CN=lantern.test,O=Lantern Test", "CN=lantern.test,O=Lantern Test")
    assert leaf.sans == ("lantern.test", "www.lantern.test", "127.0.0.1") == certificate.sans
    assert (leaf.not_before, leaf.not_after) == (certificate.not_before, certificate.not_after)
    findings = _findings(step.records)
    assert findings["cert-self-signed"].severity is Severity.MEDIUM
    assert findings["cert-self-signed"].extra == {"hostname": "lantern.test"}
    assert not {"cert-expired", "cert-hostname-mismatch", "tls-protocol-tls1_0"} & set(findings)
    assert LiveEvent("port_found", {"ip": "127.0.0.1", "port": server.port, "protocol": "tcp"}) in events
    assert max(event.data["percent"] for event in events if event.kind == "progress") == 99


def test_expired_certificate(certificates, workdir):
    with tls_server(certificates["expired"]) as server:
        step, _ = _scan(workdir, server.port, options={"scanCommands": ["certinfo", "tlsv1_2", "tlsv1_3"]})
    leaf = _leaf(step.records)
    assert leaf.subject == "CN=expired.lantern.test,O=Lantern Test"
    assert leaf.not_after == datetime(2020, 1, 2, tzinfo=timezone.utc)
    expired = _findings(step.records)["cert-expired"]
    assert (expired.severity, expired.title, expired.port) == (
        Severity.HIGH, "Certificate expired on 2020-01-02", server.port)


def test_weak_legacy_server_accepts_tls_1_0(certificates, workdir):
    with tls_server(certificates["self_signed"], legacy=True) as server:
        step, _ = _scan(workdir, server.port)
    findings = _findings(step.records)
    assert findings["tls-protocol-tls1_0"].severity is Severity.MEDIUM
    assert findings["tls-protocol-tls1_0"].evidence.startswith("TLS 1.0: ")
    assert findings["tls-protocol-tls1_1"].severity is Severity.MEDIUM
    assert findings["tls-weak-ciphers"].severity is Severity.HIGH  # anonymous suites at SECLEVEL=0
    assert "TLS_DH_anon_WITH_AES_128_CBC_SHA" in findings["tls-weak-ciphers"].evidence


def test_closed_port_fails_the_step_with_sslyzes_reason(workdir):
    port = free_port()
    with pytest.raises(EngineFailed) as excinfo:
        _scan(workdir, port)
    assert str(excinfo.value) == (
        f'sslyze: 127.0.0.1:{port}: ERROR_NO_CONNECTIVITY: sslyze.errors.ServerRejectedConnection: '
        f'127.0.0.1:{port} -> "Server rejected the connection".')
