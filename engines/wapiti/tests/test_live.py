"""wapiti for real, through run_engine (the path every scan takes), against the deliberately vulnerable app on
127.0.0.1: findings, cancellation, timeout, and the module list of the installed wapiti.

The workdir is made with tempfile.mkdtemp in the system temp directory, as scans/execution.py makes it, not
under pytest's tmp_path: pytest's base directory is private to root (0700), and the tool runs as nobody, who
could not reach any absolute path below it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from engines.base import EngineJob, LiveEvent
from engines.binaries import resolve_binary
from engines.errors import EngineCancelled, EngineFailed, EngineTimedOut
from engines.records import FindingRecord, HostRecord, ServiceRecord, Severity
from engines.runner import run_engine
from engines.testing.vulnapp import running_vulnapp
from engines.wapiti.engine import MODULES, NETWORKED_MODULES, WapitiEngine

ENGINE = WapitiEngine()
BINARY = resolve_binary("wapiti")
pytestmark = pytest.mark.skipif(BINARY is None, reason="wapiti is not installed (engines/wapiti/install.sh)")


@pytest.fixture
def vulnapp() -> Iterator[str]:
    with running_vulnapp() as base_url:
        yield base_url


@pytest.fixture
def workdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="lantern-live-wapiti-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def make_job(url: str, workdir: Path, *, timeout_s: float = 300, **options: object) -> EngineJob:
    assert BINARY is not None
    validated = ENGINE.validate_options(options, target_type="url")
    return EngineJob(target=url, target_type="url", address=None, options=validated, workdir=workdir,
                     timeout_s=timeout_s, binary=BINARY)


def leftover_processes(workdir: Path) -> list[str]:
    found = subprocess.run(["pgrep", "-f", str(workdir)], check=False, capture_output=True, text=True)
    return found.stdout.split()


def test_installed_wapiti_has_exactly_the_modules_the_engine_knows() -> None:
    assert BINARY is not None
    listing = subprocess.run([BINARY, "--list-modules"], check=True, capture_output=True, text=True,
                             timeout=60).stdout
    installed = set(re.findall(r"^\t(\w+)", listing, re.MULTILINE))
    assert installed == set(MODULES) | set(NETWORKED_MODULES)


def test_finds_the_reflected_xss_and_the_sql_injection(vulnapp: str, workdir: Path) -> None:
    events: list[LiveEvent] = []
    started = time.monotonic()
    result = run_engine(ENGINE, make_job(f"{vulnapp}/", workdir), on_event=events.append)
    elapsed = time.monotonic() - started
    port = int(vulnapp.rsplit(":", 1)[1])
    assert HostRecord(ip="127.0.0.1") in result.records
    assert ServiceRecord(host="127.0.0.1", port=port, protocol="tcp", service="http") in result.records
    findings = [record for record in result.records if isinstance(record, FindingRecord)]
    by_title = {}
    for finding in findings:
        by_title.setdefault(finding.title, []).append(finding)
    (xss,) = by_title["Reflected Cross Site Scripting"]
    assert "CWE-79" in xss.cwe_ids and xss.category == "vulnerability"
    assert xss.location == f"{vulnapp}/search (GET parameter 'q')" and xss.extra["parameter"] == "q"
    assert xss.severity is Severity.MEDIUM
    sql = by_title["SQL Injection"]
    assert {finding.location for finding in sql} == {f"{vulnapp}/item (GET parameter 'id')"}
    assert all("CWE-89" in finding.cwe_ids for finding in sql)
    live = [event.data for event in events if event.kind == "finding_found"]
    assert {"title": "Reflected Cross Site Scripting", "url": f"{vulnapp}/search", "parameter": "q"} in live
    assert elapsed < 120, f"wapiti took {elapsed:.1f} s"
    print(f"wapiti on the vulnapp: {elapsed:.2f} s wall, {len(findings)} findings")


def test_an_unreachable_target_fails_the_step(workdir: Path) -> None:
    with pytest.raises(EngineFailed, match="could not crawl the target"):
        run_engine(ENGINE, make_job("http://127.0.0.1:9/", workdir, modules=["xss"]))


def test_cancellation_stops_wapiti_and_leaves_no_process(vulnapp: str, workdir: Path) -> None:
    cancel_at = time.monotonic() + 1.0
    with pytest.raises(EngineCancelled):
        run_engine(ENGINE, make_job(f"{vulnapp}/", workdir, modules=["timesql", "xss", "sql", "exec"]),
                   should_cancel=lambda: time.monotonic() > cancel_at, cancel_poll_s=0.2)
    assert time.monotonic() - cancel_at < 5
    assert leftover_processes(workdir) == []


def test_timeout_stops_wapiti(vulnapp: str, workdir: Path) -> None:
    started = time.monotonic()
    with pytest.raises(EngineTimedOut, match="timeout of 1 s"):
        run_engine(ENGINE, make_job(f"{vulnapp}/", workdir, timeout_s=1))
    assert time.monotonic() - started < 6
    assert leftover_processes(workdir) == []
