"""Fault drills on the real stack: whatever crashes, every accepted scan ends in a terminal state or runs.

- a worker killed with SIGKILL mid-scan: detected by its stale heartbeat, re-queued once, then failed with
  a reason; no scanner process is left behind;
- Redis flushed or restarted with scans waiting: nothing accepted is lost (the reconciler re-sends tokens);
- PostgreSQL down: the API answers 503 with a JSON error and recovers when it returns.
Each test starts its own processes (and its own Redis or PostgreSQL) and stops them."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from contextlib import contextmanager
from glob import glob
from pathlib import Path

import httpx
import pytest

from tests.stack.conftest import stack_env
from tests.stack.lib import Stack, free_port, port_open, wait_for

pytestmark = pytest.mark.django_db(transaction=True)
FAST = {"LANTERN_SCAN_STALE_S": "3", "LANTERN_RECONCILE_S": "1", "LANTERN_SCAN_MAX_ATTEMPTS": "2"}


def status_of(client: httpx.Client, scan_id: str) -> dict:
    return client.get(f"/api/v1/scans/{scan_id}").json()


def scanner_pids(scan_id: str) -> list[int]:
    found = subprocess.run(["pgrep", "-f", f"lantern-{scan_id}"], capture_output=True, text=True).stdout.split()
    return [int(pid) for pid in found]


@contextmanager
def private_redis():
    port = free_port()
    server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no"], stdout=subprocess.DEVNULL, start_new_session=True)
    wait_for(lambda: port_open(port), 10, "private redis")
    try:
        yield port, server
    finally:
        subprocess.run(["redis-cli", "-p", str(port), "shutdown", "nosave"], capture_output=True)
        server.wait(timeout=10)


def test_a_worker_killed_mid_scan_is_requeued_once_then_failed_and_leaves_no_scanner(tmp_path):
    stack = Stack(stack_env(**FAST), tmp_path, beat=True).start()
    try:
        key = stack.key("acme")
        with httpx.Client(base_url=stack.http, headers={"X-API-Key": key}, timeout=10) as client:
            scan_id = client.post("/api/v1/scans", json={
                "target": "127.0.0.1", "engine": "nmap", "authorized": True,
                "options": {"ports": "1-65535", "timing": "T1", "serviceDetection": False}}).json()["id"]
            for attempt in (1, 2):
                wait_for(lambda: scanner_pids(scan_id) and status_of(client, scan_id)["status"] == "running", 60,
                         f"attempt {attempt} running nmap", stack.worker_log)
                nmap = scanner_pids(scan_id)[0]
                pool_child = int(subprocess.run(["ps", "-o", "ppid=", "-p", str(nmap)], capture_output=True,
                                                text=True).stdout.strip())
                killed_at = time.monotonic()
                os.kill(pool_child, signal.SIGKILL)
                wait_for(lambda: not scanner_pids(scan_id), 5, "nmap to die with its worker process")
                if attempt == 1:
                    wait_for(lambda: status_of(client, scan_id).get("error") is None
                             and scanner_pids(scan_id), 60, "the scan re-queued and running again",
                             stack.worker_log)
                    assert time.monotonic() - killed_at < 60
            wait_for(lambda: status_of(client, scan_id)["status"] == "failed", 60, "the scan failed",
                     stack.worker_log)
            final = status_of(client, scan_id)
        assert "stopped answering" in final["error"] and "attempt 2" in final["error"]
        assert time.monotonic() - killed_at < 60
        assert scanner_pids(scan_id) == []
    finally:
        stack.stop()


def test_scans_waiting_when_redis_is_flushed_are_not_lost(tmp_path):
    with private_redis() as (port, _):
        env = stack_env(LANTERN_TEST_REDIS_URL=f"redis://127.0.0.1:{port}/0", **FAST)
        stack = Stack(env, tmp_path, beat=True).start()
        try:
            key = stack.key("acme", "--plan", "enterprise")
            stack.stop_worker()
            with httpx.Client(base_url=stack.http, headers={"X-API-Key": key}, timeout=10) as client:
                ids = [client.post("/api/v1/scans", json={"target": "127.0.0.1", "engine": "nmap", "authorized": True,
                                                          "options": {"ports": str(1000 + i)}}).json()["id"]
                       for i in range(3)]
                subprocess.run(["redis-cli", "-p", str(port), "flushall"], check=True, capture_output=True)
                stack.start_worker()
                wait_for(lambda: all(status_of(client, i)["status"] == "completed" for i in ids), 60,
                         "every waiting scan completed", stack.worker_log)
        finally:
            stack.stop()


def test_a_scan_accepted_while_redis_is_down_runs_when_it_returns(tmp_path):
    with private_redis() as (port, server):
        env = stack_env(LANTERN_TEST_REDIS_URL=f"redis://127.0.0.1:{port}/0", **FAST)
        stack = Stack(env, tmp_path, beat=True).start()
        try:
            key = stack.key("acme")
            subprocess.run(["redis-cli", "-p", str(port), "shutdown", "nosave"], capture_output=True)
            server.wait(timeout=10)
            with httpx.Client(base_url=stack.http, headers={"X-API-Key": key}, timeout=20) as client:
                created = client.post("/api/v1/scans", json={"target": "127.0.0.1", "engine": "nmap",
                                                             "authorized": True, "options": {"ports": "1"}})
                assert created.status_code == 201, created.text
                scan_id = created.json()["id"]
                assert status_of(client, scan_id)["status"] == "queued"
                restarted = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save",
                                              "", "--appendonly", "no"], stdout=subprocess.DEVNULL,
                                             start_new_session=True)
                try:
                    wait_for(lambda: status_of(client, scan_id)["status"] == "completed", 90,
                             "the accepted scan completed after Redis returned", stack.worker_log)
                finally:
                    subprocess.run(["redis-cli", "-p", str(port), "shutdown", "nosave"], capture_output=True)
                    restarted.wait(timeout=10)
        finally:
            stack.stop()


@contextmanager
def private_postgres():
    """A throwaway PostgreSQL cluster on a free port, run as the postgres user (it refuses root)."""
    bindir = Path(sorted(glob("/usr/lib/postgresql/*/bin/initdb"))[-1]).parent
    owner = pwd.getpwnam("postgres")
    base = Path(tempfile.mkdtemp(prefix="lantern-pg-"))
    os.chown(base, owner.pw_uid, owner.pw_gid)
    as_postgres = ["setpriv", f"--reuid={owner.pw_uid}", f"--regid={owner.pw_gid}", "--clear-groups", "--"]
    port = free_port()
    ctl = [*as_postgres, str(bindir / "pg_ctl"), "-D", str(base / "data"), "-l", str(base / "log"), "-w",
           "-o", f"-p {port} -c listen_addresses=127.0.0.1 -k {base}"]
    subprocess.run([*as_postgres, str(bindir / "initdb"), "-D", str(base / "data"), "-U", "postgres",
                    "--auth=trust"], check=True, capture_output=True)
    subprocess.run([*ctl, "start"], check=True, capture_output=True)
    try:
        yield port, ctl
    finally:
        subprocess.run([*ctl, "stop", "-m", "immediate"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def test_postgres_down_is_a_json_503_and_the_api_and_workers_recover(tmp_path):
    """The worker keeps its database connection between tasks, as in production (CONN_MAX_AGE, health
    checks at task boundaries: config/celery.py): after a restart of PostgreSQL its stale connection is
    noticed and replaced, and the next scan runs."""
    with private_postgres() as (port, ctl):
        url = f"postgres://postgres@127.0.0.1:{port}/postgres"
        env = stack_env(DATABASE_URL=url, LANTERN_TEST_KEEP_DB_CONNECTIONS="true")
        subprocess.run([".venv/bin/python", "manage.py", "migrate", "-v0"], env=env, check=True,
                       cwd=Path(__file__).resolve().parents[2])
        stack = Stack(env, tmp_path).start()
        try:
            key = stack.key("acme")
            with httpx.Client(base_url=stack.http, headers={"X-API-Key": key}, timeout=20) as client:
                assert client.get("/api/v1/scans").status_code == 200
                scan = {"target": "127.0.0.1", "engine": "nmap", "authorized": True, "options": {"ports": "1"}}
                before = client.post("/api/v1/scans", json=scan).json()["id"]
                wait_for(lambda: status_of(client, before)["status"] == "completed", 60,
                         "a scan before the restart (the worker now holds a connection)", stack.worker_log)
                subprocess.run([*ctl, "stop", "-m", "fast"], check=True, capture_output=True)
                for method, path in (("GET", "/api/v1/scans"), ("POST", "/api/v1/scans")):
                    down = client.request(method, path, json={"target": "127.0.0.1", "authorized": True})
                    assert down.status_code == 503, down.text
                    assert down.json()["error"]["code"] == "unavailable" and down.headers["Retry-After"]
                subprocess.run([*ctl, "start"], check=True, capture_output=True)
                wait_for(lambda: client.get("/api/v1/scans").status_code == 200, 30, "the API recovered")
                after = client.post("/api/v1/scans", json={**scan, "name": "after"})
                assert after.status_code == 201, after.text
                wait_for(lambda: status_of(client, after.json()["id"])["status"] == "completed", 60,
                         "a scan after the restart, run by the same worker", stack.worker_log)
        finally:
            stack.stop()
