"""Real nmap against servers this test starts on 127.0.0.1: a TCP connect scan, service/version detection,
and the ssl-cert script on a local TLS server, through the same runner a worker uses."""

from pathlib import Path

import pytest

from engines.base import EngineJob
from engines.binaries import resolve_binary
from engines.nmap.engine import NmapEngine
from engines.records import CertificateRecord, HostRecord, ServiceRecord
from engines.runner import run_engine
from engines.testing.tls import job_workdir, self_signed_certificate, tls_server

NMAP = resolve_binary("nmap")
pytestmark = pytest.mark.skipif(NMAP is None, reason="nmap is not installed (engines/nmap/install.sh)")


def run(port: int, **options):
    engine = NmapEngine()
    with job_workdir("lantern-nmap-") as workdir:
        job = EngineJob(target="127.0.0.1", target_type="ip", address="127.0.0.1",
                        options=engine.validate_options({"ports": str(port), **options}, target_type="ip"),
                        workdir=workdir, timeout_s=120, binary=NMAP, excluded_ports="2024")
        return run_engine(engine, job).records


def test_version_detection_and_the_ssl_cert_script_on_a_local_tls_server(tmp_path: Path):
    certificate = self_signed_certificate(tmp_path / "certs")
    with tls_server(certificate) as server:
        records = run(server.port, serviceDetection=True, scriptScan=True, scripts=["ssl-cert"])
    assert [r for r in records if isinstance(r, HostRecord)] == [HostRecord(ip="127.0.0.1")]
    service = next(r for r in records if isinstance(r, ServiceRecord))
    assert (service.port, service.state) == (server.port, "open")
    assert service.service in {"https", "ssl"}  # openssl s_server -www answers HTTP over TLS
    found = next(r for r in records if isinstance(r, CertificateRecord))
    assert found.subject == f"CN={certificate.common_name},O={certificate.organisation}"
    assert found.issuer == found.subject  # self-signed
    assert set(found.sans) == set(certificate.sans)
    assert found.not_after is not None and abs((found.not_after - certificate.not_after).total_seconds()) < 60
    assert (found.key_type, found.key_bits) == ("rsa", 2048) and len(found.fingerprint_sha256) == 64


def test_a_closed_port_is_reported_closed_and_nothing_else(tmp_path: Path):
    from engines.testing.tls import free_port

    port = free_port()
    records = run(port, serviceDetection=False)
    services = [r for r in records if isinstance(r, ServiceRecord)]
    assert [(s.port, s.state) for s in services] == [(port, "closed")]
