"""sslscan for real, through run_engine (the path a scan takes), against openssl s_server on 127.0.0.1."""

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
from engines.sslscan.engine import SslscanEngine
from engines.testing.tls import (Certificate, expired_certificate, free_port, job_workdir,
                                 self_signed_certificate, tls_server)

ENGINE = SslscanEngine()
BINARY = resolve_binary(ENGINE.executable)
pytestmark = pytest.mark.skipif(BINARY is None,
                                reason="sslscan is not installed (engines/sslscan/install.sh)")


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Certificate]:
    directory = tmp_path_factory.mktemp("sslscan-certificates")
    return {"self_signed": self_signed_certificate(directory), "expired": expired_certificate(directory)}


@pytest.fixture
def workdir() -> Iterator[Path]:
    with job_workdir("lantern-sslscan-") as path:
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


def _certificate(records: list[Record]) -> CertificateRecord:
    (certificate,) = [record for record in records if isinstance(record, CertificateRecord)]
    return certificate


def test_self_signed_certificate_of_a_pinned_name(certificates, workdir):
    certificate = certificates["self_signed"]
    with tls_server(certificate) as server:
        step, events = _scan(workdir, server.port, target="lantern.test", target_type="domain",
                             address="127.0.0.1")
    assert step.process.returncode == 0
    assert step.process.duration_s < 30
    assert HostRecord(ip="127.0.0.1", hostname="lantern.test") in step.records
    leaf = _certificate(step.records)
    assert (leaf.host, leaf.port, leaf.subject, leaf.issuer) == (
        "127.0.0.1", server.port, "CN=lantern.test,O=Lantern Test", "CN=lantern.test,O=Lantern Test")
    assert leaf.sans == ("lantern.test", "www.lantern.test", "127.0.0.1") == certificate.sans
    assert (leaf.not_before, leaf.not_after) == (certificate.not_before, certificate.not_after)
    assert len(leaf.fingerprint_sha256) == 64
    findings = _findings(step.records)
    assert findings["cert-self-signed"].severity is Severity.MEDIUM
    assert findings["cert-self-signed"].extra == {"hostname": "lantern.test"}
    assert not {"cert-expired", "tls-protocol-tls1_0", "tls-protocol-tls1_1"} & set(findings)
    assert LiveEvent("port_found", {"ip": "127.0.0.1", "port": server.port, "protocol": "tcp"}) in events
    assert max(event.data["percent"] for event in events if event.kind == "progress") == 90


def test_expired_certificate(certificates, workdir):
    with tls_server(certificates["expired"]) as server:
        step, _ = _scan(workdir, server.port)
    leaf = _certificate(step.records)
    assert (leaf.subject, leaf.serial) == ("CN=expired.lantern.test,O=Lantern Test", "1000")
    assert leaf.not_after == datetime(2020, 1, 2, tzinfo=timezone.utc)
    expired = _findings(step.records)["cert-expired"]
    assert (expired.severity, expired.port) == (Severity.HIGH, server.port)
    assert expired.evidence.endswith("not valid after Jan  2 00:00:00 2020 GMT")


def test_weak_legacy_server_accepts_tls_1_0(certificates, workdir):
    with tls_server(certificates["self_signed"], legacy=True) as server:
        step, _ = _scan(workdir, server.port)
    findings = _findings(step.records)
    assert findings["tls-protocol-tls1_0"].severity is Severity.MEDIUM
    assert findings["tls-protocol-tls1_0"].evidence.startswith("TLS 1.0: ")
    assert findings["tls-protocol-tls1_1"].severity is Severity.MEDIUM
    assert findings["tls-weak-ciphers"].severity is Severity.HIGH  # anonymous suites at SECLEVEL=0
    assert "ADH-" in findings["tls-weak-ciphers"].evidence


def test_closed_port_fails_the_step_with_sslscans_reason(workdir):
    port = free_port()
    with pytest.raises(EngineFailed) as excinfo:
        _scan(workdir, port)
    assert str(excinfo.value) == (
        f"sslscan: Could not open a connection to host 127.0.0.1 (127.0.0.1) on port {port}.")
