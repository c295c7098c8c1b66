"""sqlmap for real, through run_engine (the path every scan takes), against the deliberately vulnerable app on
127.0.0.1.

The workdir is made with tempfile.mkdtemp in the system temp directory, as scans/execution.py makes it, not
under pytest's tmp_path: pytest's base directory is private to root (0700), and the tool runs as nobody, who
could not reach any absolute path below it.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from engines.base import EngineJob, LiveEvent
from engines.binaries import resolve_binary
from engines.errors import EngineFailed, EngineTimedOut
from engines.records import FindingRecord, Severity
from engines.runner import run_engine
from engines.sqlmap.engine import SqlmapEngine
from engines.testing.vulnapp import running_vulnapp

ENGINE = SqlmapEngine()
BINARY = resolve_binary("sqlmap")
pytestmark = pytest.mark.skipif(BINARY is None, reason="sqlmap is not installed (engines/sqlmap/install.sh)")


@pytest.fixture
def vulnapp() -> Iterator[str]:
    with running_vulnapp() as base_url:
        yield base_url


@pytest.fixture
def workdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="lantern-live-sqlmap-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def make_job(url: str, workdir: Path, *, timeout_s: float = 120, **options: object) -> EngineJob:
    assert BINARY is not None
    validated = ENGINE.validate_options(options, target_type="url")
    return EngineJob(target=url, target_type="url", address=None, options=validated, workdir=workdir,
                     timeout_s=timeout_s, binary=BINARY)


def leftover_processes(workdir: Path) -> list[str]:
    found = subprocess.run(["pgrep", "-f", str(workdir)], check=False, capture_output=True, text=True)
    return found.stdout.split()


def test_finds_the_sql_injection_on_the_id_parameter(vulnapp: str, workdir: Path) -> None:
    events: list[LiveEvent] = []
    started = time.monotonic()
    result = run_engine(ENGINE, make_job(f"{vulnapp}/item?id=1", workdir), on_event=events.append)
    elapsed = time.monotonic() - started
    findings = [record for record in result.records if isinstance(record, FindingRecord)]
    (finding,) = findings
    assert finding.engine == "sqlmap" and finding.rule_id == "sql-injection"
    assert finding.cwe_ids == ("CWE-89",) and finding.severity is Severity.HIGH
    assert finding.location == f"{vulnapp}/item (GET parameter 'id')"
    extra = finding.extra
    assert (extra["place"], extra["parameter"], extra["dbms"]) == ("GET", "id", "SQLite")
    assert "boolean-based blind" in finding.extra["techniques"]
    assert finding.host == "127.0.0.1" and finding.port == int(vulnapp.rsplit(":", 1)[1])
    live = [event for event in events if event.kind == "finding_found"]
    assert live and {event.data["parameter"] for event in live} == {"id"}
    assert elapsed < 60, f"sqlmap took {elapsed:.1f} s"
    print(f"sqlmap on the vulnapp: {elapsed:.2f} s wall, tool {result.process.duration_s:.2f} s")


def test_a_reflecting_but_safe_parameter_is_not_reported(vulnapp: str, workdir: Path) -> None:
    result = run_engine(ENGINE, make_job(f"{vulnapp}/search?q=lamp", workdir))
    assert result.records == []


def test_an_unreachable_target_fails_the_step(workdir: Path) -> None:
    with pytest.raises(EngineFailed, match="unable to connect to the target URL"):
        run_engine(ENGINE, make_job("http://127.0.0.1:9/item?id=1", workdir))


def test_timeout_stops_sqlmap(vulnapp: str, workdir: Path) -> None:
    started = time.monotonic()
    with pytest.raises(EngineTimedOut, match="timeout of 2 s"):
        run_engine(ENGINE, make_job(f"{vulnapp}/slow?id=1", workdir, timeout_s=2))
    assert time.monotonic() - started < 10
    assert leftover_processes(workdir) == []
