"""The real trivy through run_engine on a planted folder: secrets, Dockerfile misconfigurations, and proof
that the scan needs no network (no network system call at all under strace; still succeeds in an empty
network namespace). Skipped when trivy is not installed (engines/trivy/install.sh)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from engines.base import EngineJob
from engines.binaries import resolve_binary
from engines.records import FindingRecord, Severity
from engines.runner import StepResult, run_engine
from engines.trivy.engine import TrivyEngine

TRIVY = resolve_binary("trivy")
pytestmark = pytest.mark.skipif(TRIVY is None, reason="trivy is not installed (run engines/trivy/install.sh)")

# Assembled at run time so that no scanner ever finds a credential-shaped string in this file.
AWS_KEY_ID = "AKIA" + "4HK7QZ3WNBXE5RTU"
AWS_SECRET = "q8Zr3TbW5kLmN2pXy7Vc" + "A9sDfGh4JkQwErTyUiOp"
GITHUB_PAT = "ghp_" + "R2d2C3po4Bb8Ee1Ff5Gg6Hh7Ii9Jj0KkLlMm"
DOCKERFILE = "FROM nginx:latest\nUSER root\nRUN apt-get update && apt-get install -y curl\nCOPY . /app\n"
OPTIONS = {"scanners": ["secret", "misconfig"], "severity": ["CRITICAL", "HIGH", "MEDIUM", "LOW"],
           "skipDirs": ["vendor"]}


@pytest.fixture
def planted() -> Iterator[Path]:
    """A folder the unprivileged tool user can read (pytest's tmp_path is private to root)."""
    base = Path(tempfile.mkdtemp(prefix="lantern-trivy-live-"))
    os.chmod(base, 0o755)
    src = base / "src"
    (src / "app").mkdir(parents=True)
    (src / "vendor").mkdir()
    (src / "Dockerfile").write_text(DOCKERFILE)
    (src / "config.ini").write_text(f"[default]\naws_access_key_id = {AWS_KEY_ID}\n"
                                    f"aws_secret_access_key = {AWS_SECRET}\n")
    (src / "app" / ".env").write_text(f"GITHUB_TOKEN={GITHUB_PAT}\n")
    (src / "vendor" / ".env").write_text(f"GITHUB_TOKEN={GITHUB_PAT}\n")  # skipped by skipDirs
    (base / "work").mkdir()
    yield base
    shutil.rmtree(base, ignore_errors=True)


def run(engine: TrivyEngine, base: Path) -> StepResult:
    options = engine.validate_options(OPTIONS, target_type="path")
    job = EngineJob(target=str(base / "src"), target_type="path", address=None, options=options,
                    workdir=base / "work", timeout_s=120, binary=str(TRIVY))
    return run_engine(engine, job)


def findings(step: StepResult) -> list[FindingRecord]:
    return [record for record in step.records if isinstance(record, FindingRecord)]


def test_planted_secrets_and_dockerfile_misconfigurations_are_found(planted: Path) -> None:
    step = run(TrivyEngine(), planted)
    found = findings(step)
    assert step.process.duration_s < 60
    secrets = {(f.rule_id, f.location, f.severity) for f in found if f.category == "secret"}
    assert secrets == {
        ("aws-access-key-id", "config.ini:2", Severity.CRITICAL),
        ("aws-secret-access-key", "config.ini:3", Severity.CRITICAL),
        ("github-pat", "app/.env:1", Severity.CRITICAL),
    }
    for secret in (AWS_KEY_ID, AWS_SECRET, GITHUB_PAT):
        assert secret not in repr(step.records)
    assert all("*****" in f.evidence for f in found if f.category == "secret")
    dockerfile = {(f.rule_id, f.location) for f in found if f.category == "misconfiguration"}
    assert dockerfile == {
        ("DS-0001", "Dockerfile:1"),  # FROM ...:latest
        ("DS-0002", "Dockerfile:2"),  # last USER is root
        ("DS-0026", "Dockerfile"),    # no HEALTHCHECK
        ("DS-0029", "Dockerfile:3"),  # apt-get install without --no-install-recommends
    }
    assert "dial tcp" not in step.process.stderr_tail and "lookup " not in step.process.stderr_tail


class _Straced(TrivyEngine):
    """The same engine under strace, logging every network system call the tool or its threads make."""

    def build_argv(self, job: EngineJob) -> list[str]:
        log = str(job.workdir / "strace.log")
        return ["strace", "-f", "-qq", "-e", "signal=none", "-e", "trace=%network", "-o", log, "--",
                *super().build_argv(job)]


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
def test_the_scan_makes_no_network_system_call(planted: Path) -> None:
    step = run(_Straced(), planted)
    assert {f.rule_id for f in findings(step)} >= {"aws-access-key-id", "DS-0002"}
    calls = (planted / "work" / "strace.log").read_text().splitlines()
    assert calls == []  # not one socket(), connect(), sendto()...


class _Unshared(TrivyEngine):
    """The same engine in a fresh network namespace (only a down loopback): nothing could be reached."""

    def needs_privileges(self, options: dict) -> bool:
        return True  # creating a namespace needs CAP_SYS_ADMIN

    def build_argv(self, job: EngineJob) -> list[str]:
        return ["unshare", "--net", "--", *super().build_argv(job)]


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None,
                    reason="an empty network namespace needs root and unshare")
def test_the_scan_succeeds_without_any_network(planted: Path) -> None:
    step = run(_Unshared(), planted)
    assert len(findings(step)) == 7
