"""Scanners misbehaving, through the real execution path (claim, run, store): one that prints 1 GB is
stopped at the output cap, and a full disk under the reports fails the scan; both with a clear reason, no
leftover process and no leftover workdir."""

from __future__ import annotations

import glob
import os
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

from scans.dispatch import scan_claim_next
from scans.execution import scan_execute
from scans.models import Scan
from scans.services import ScanRequest, scan_create
from tests.conftest import make_tenant


@pytest.fixture
def fake_nmap():
    """Write a stand-in for nmap that anyone (the runner drops to nobody) can execute."""
    made: list[Path] = []

    def make(body: str) -> str:
        directory = Path(tempfile.mkdtemp(prefix="lantern-fake-"))
        directory.chmod(0o755)
        script = directory / "nmap"
        script.write_text(f"#!/bin/sh\n{body}\n")
        script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH | stat.S_IROTH)
        made.append(directory)
        return str(script)

    yield make
    for directory in made:
        subprocess.run(["rm", "-rf", str(directory)], check=False)


def run_scan(tenant_id: int) -> Scan:
    scan = scan_create(tenant_id=tenant_id, api_key_pk=None,
                       request=ScanRequest(target="127.0.0.1", engine="nmap", options={"ports": "1"}))
    assert scan_claim_next(worker="w") == str(scan.pk)
    scan_execute(scan_id=str(scan.pk))
    return Scan.objects.get(pk=scan.pk)


def leftovers(scan: Scan, root: str) -> list[str]:
    running = subprocess.run(["pgrep", "-f", f"lantern-{scan.pk}"], capture_output=True, text=True).stdout.split()
    return running + glob.glob(os.path.join(root, f"lantern-{scan.pk}-*"))


def test_a_scanner_that_prints_a_gigabyte_is_stopped_at_the_cap(db, settings, fake_nmap):
    settings.ENGINE_BINARIES = {"nmap": fake_nmap("head -c 1073741824 /dev/zero | tr '\\0' 'x'")}
    settings.ENGINE_MAX_OUTPUT_BYTES = 64 * 1024 * 1024
    scan = run_scan(make_tenant("acme").tenant_id)
    assert scan.status == "failed"
    assert scan.error_reason == f"{settings.ENGINE_BINARIES['nmap']} printed more than 67108864 bytes and was stopped"
    assert leftovers(scan, tempfile.gettempdir()) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")
def test_a_full_disk_under_the_reports_fails_the_scan_with_the_reason(db, settings, fake_nmap, tmp_path):
    disk = Path(tempfile.mkdtemp(prefix="lantern-smalldisk-"))
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=1777", "tmpfs", str(disk)], check=True)
    try:
        settings.ENGINE_WORKDIR = str(disk)
        settings.ENGINE_BINARIES = {"nmap": fake_nmap("head -c 4194304 /dev/zero | tr '\\0' 'x'")}
        scan = run_scan(make_tenant("acme").tenant_id)
        assert scan.status == "failed"
        assert scan.error_reason.startswith("no space left on the device for ")
        assert leftovers(scan, str(disk)) == []
    finally:
        subprocess.run(["umount", str(disk)], check=False)
        disk.rmdir()
