"""testssl.sh for real, once (about 40-70 s), inside a network namespace whose only interface is loopback.

testssl.sh looks names up even with `--nodns none`, and this machine's resolver is not on loopback, so the
server and the tool both run in a fresh namespace where any lookup fails on the spot instead of leaving the
machine. Entering a namespace takes root, which the runner would drop first, so this test calls the
runner's own process layer (run_argv) with the namespace prefix and drops to nobody inside it (setpriv),
then judges the run exactly as run_engine does: exit code, problems(), parse(). One server covers the three
cases: its certificate is expired and self-signed, and it accepts TLS 1.0. The closed-port case is a real
report replayed in test_engine.py, to keep to one testssl.sh run per suite.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import datetime, timezone

import pytest

from engines.base import EngineJob, LiveEvent
from engines.binaries import resolve_binary
from engines.process import NOBODY_UID, run_argv
from engines.records import CertificateRecord, FindingRecord, HostRecord, Severity
from engines.runner import DEFAULT_LIMITS
from engines.testing.tls import (expired_certificate, job_workdir, namespace_prefix, network_namespace,
                                 tls_server)
from engines.testssl.engine import TestsslEngine

ENGINE = TestsslEngine()
BINARY = resolve_binary(ENGINE.executable)
AS_NOBODY = ["setpriv", f"--reuid={NOBODY_UID}", f"--regid={NOBODY_UID}", "--clear-groups", "--inh-caps=-all",
             "--"]
pytestmark = [
    pytest.mark.skipif(BINARY is None, reason="testssl.sh is not installed (engines/testssl/install.sh)"),
    pytest.mark.skipif(os.geteuid() != 0 or shutil.which("ip") is None,
                       reason="an isolated network namespace needs root and iproute2"),
]


def test_expired_self_signed_legacy_server_in_an_isolated_namespace(tmp_path):
    certificate = expired_certificate(tmp_path)
    with network_namespace() as netns, job_workdir("lantern-testssl-") as workdir:
        links = subprocess.run(namespace_prefix(netns) + ["ip", "-o", "link"], capture_output=True, text=True,
                               check=True).stdout.splitlines()
        assert [line.split(":")[1].strip() for line in links] == ["lo"]
        with tls_server(certificate, legacy=True, netns=netns) as server:
            options = ENGINE.validate_options({"ports": str(server.port)}, target_type="domain")
            job = EngineJob(target="expired.lantern.test", target_type="domain", address="127.0.0.1",
                            options=options, workdir=workdir, timeout_s=600, binary=str(BINARY),
                            excluded_ports="2024")
            os.chown(workdir, NOBODY_UID, NOBODY_UID)
            events: list[LiveEvent] = []
            process = run_argv(namespace_prefix(netns) + AS_NOBODY + ENGINE.build_argv(job), workdir=workdir,
                               timeout_s=job.timeout_s, limits=DEFAULT_LIMITS, should_cancel=lambda: False,
                               on_line=lambda line: events.extend(ENGINE.on_line(line)), unprivileged=False)
        assert process.returncode in ENGINE.ok_exit_codes
        assert ENGINE.problems(job, process) == []
        records = list(ENGINE.parse(job))

    assert process.duration_s < 300
    assert HostRecord(ip="127.0.0.1", hostname="expired.lantern.test") in records
    (leaf,) = [record for record in records if isinstance(record, CertificateRecord)]
    assert (leaf.host, leaf.port, leaf.subject, leaf.issuer, leaf.serial) == (
        "127.0.0.1", server.port, "CN=expired.lantern.test", "CN=expired.lantern.test,O=Lantern Test", "1000")
    assert leaf.sans == ("expired.lantern.test", "127.0.0.1") == certificate.sans
    assert leaf.not_after == datetime(2020, 1, 2, tzinfo=timezone.utc) == certificate.not_after
    findings = {record.rule_id: record for record in records if isinstance(record, FindingRecord)}
    assert (findings["cert_expirationStatus"].severity, findings["cert_expirationStatus"].evidence) == (
        Severity.CRITICAL, "expired")
    assert findings["cert_notAfter"].evidence == "2020-01-02 00:00"
    assert "self signed" in findings["cert_chain_of_trust"].evidence
    assert (findings["TLS1"].severity, findings["TLS1"].evidence) == (Severity.LOW, "offered (deprecated)")
    assert findings["TLS1"].extra["hostname"] == "expired.lantern.test"
    percents = [event.data["percent"] for event in events if event.kind == "progress"]
    assert percents[0] == 2 and percents[-1] == 99 and percents == sorted(percents)
