"""The real masscan through run_engine, between two network namespaces made for the test.

masscan does not work on loopback, so the test builds its own wire: namespaces lantern-scan-<id> and
lantern-target-<id> joined by a veth pair with addresses from the benchmark range 198.18.0.0/30, which exist
only inside those namespaces. The scanner namespace's default route points at the target's end of the veth (so
masscan finds a router MAC on that wire), and the target namespace forwards nothing: no packet can leave the
pair. masscan runs inside the scanner namespace (the engine's own argv behind `ip netns exec`), as root, which
masscan needs anyway. Both namespaces are deleted in teardown, whatever happened. Needs root, ip and masscan.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from engines.base import EngineJob
from engines.binaries import resolve_binary
from engines.masscan.engine import MasscanEngine
from engines.records import HostRecord, ServiceRecord
from engines.runner import run_engine

MASSCAN = resolve_binary("masscan")
SCANNER_IP, TARGET_IP = "198.18.0.1", "198.18.0.2"
OPEN_PORTS = (8080, 8443)
pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces and raw sockets need root"),
    pytest.mark.skipif(shutil.which("ip") is None, reason="iproute2 (ip) is not installed"),
    pytest.mark.skipif(MASSCAN is None, reason="masscan is not installed (run engines/masscan/install.sh)"),
]

LISTENER = f"""
import socket, sys, time
socks = []
for port in {OPEN_PORTS!r}:
    s = socket.socket()
    s.bind(({TARGET_IP!r}, port))
    s.listen(128)
    socks.append(s)
print("ready", flush=True)
time.sleep(120)
"""


@dataclass(frozen=True)
class Wire:
    scanner_ns: str
    target_ns: str


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


@pytest.fixture
def wire() -> Iterator[Wire]:
    suffix = secrets.token_hex(3)
    scan_ns, target_ns = f"lantern-scan-{suffix}", f"lantern-target-{suffix}"
    scan_if, target_if = f"lsc-{suffix}", f"ltg-{suffix}"
    listener: subprocess.Popen[str] | None = None
    try:
        ip("netns", "add", scan_ns)
        ip("netns", "add", target_ns)
        ip("link", "add", scan_if, "type", "veth", "peer", "name", target_if)
        ip("link", "set", scan_if, "netns", scan_ns)
        ip("link", "set", target_if, "netns", target_ns)
        ip("-n", scan_ns, "addr", "add", f"{SCANNER_IP}/30", "dev", scan_if)
        ip("-n", target_ns, "addr", "add", f"{TARGET_IP}/30", "dev", target_if)
        for namespace, link in ((scan_ns, scan_if), (target_ns, target_if)):
            ip("-n", namespace, "link", "set", "lo", "up")
            ip("-n", namespace, "link", "set", link, "up")
        ip("-n", scan_ns, "route", "add", "default", "via", TARGET_IP)
        listener = subprocess.Popen(["ip", "netns", "exec", target_ns, sys.executable, "-c", LISTENER],
                                    stdout=subprocess.PIPE, text=True)
        assert listener.stdout is not None and listener.stdout.readline().strip() == "ready"
        # One real connection first resolves the neighbour (ARP) entries both ways; without it the target's
        # first SYN-ACKs can be lost while ARP is pending, and a port goes missing now and then.
        subprocess.run(["ip", "netns", "exec", scan_ns, sys.executable, "-c",
                        f"import socket; socket.create_connection(({TARGET_IP!r}, {OPEN_PORTS[0]}), 5).close()"],
                       check=True, timeout=15)
        yield Wire(scan_ns, target_ns)
    finally:
        if listener is not None:
            listener.kill()
            listener.wait(timeout=10)
        for namespace in (scan_ns, target_ns):
            subprocess.run(["ip", "netns", "del", namespace], check=False, capture_output=True, timeout=10)
        listed = subprocess.run(["ip", "netns", "list"], check=False, capture_output=True, text=True)
        remaining = listed.stdout
        assert scan_ns not in remaining and target_ns not in remaining


def in_namespace(namespace: str) -> MasscanEngine:
    """The engine, its command line unchanged but run inside `namespace`."""

    class InNamespace(MasscanEngine):
        def build_argv(self, job: EngineJob) -> list[str]:
            return ["ip", "netns", "exec", namespace, *super().build_argv(job)]

    return InNamespace()


def test_masscan_finds_the_open_ports_and_never_the_excluded_one(wire: Wire, tmp_path: Path) -> None:
    engine = in_namespace(wire.scanner_ns)
    # A gentle rate over a short range: at 10,000 packets/s a veth pair drops the odd SYN and the test flakes.
    options = engine.validate_options({"ports": "2000-2100,8000-8500", "rate": 1000}, target_type="ip")
    job = EngineJob(target=TARGET_IP, target_type="ip", address=None, options=options, workdir=tmp_path,
                    timeout_s=90, binary=str(MASSCAN), excluded_ports="2024")
    assert "2000-2023,2025-2100,8000-8500" in engine.build_argv(job)
    step = run_engine(engine, job)
    assert step.process.duration_s < 60
    assert [r for r in step.records if isinstance(r, HostRecord)] == [HostRecord(ip=TARGET_IP)]
    services = {(r.host, r.port, r.protocol, r.state) for r in step.records if isinstance(r, ServiceRecord)}
    assert services == {(TARGET_IP, port, "tcp", "open") for port in OPEN_PORTS}
