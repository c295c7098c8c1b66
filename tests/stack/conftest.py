"""The real stack for end-to-end tests: a Celery worker and daphne as subprocesses, on the test database
and the test Redis database, exactly as `make up` runs them. Tests that use it commit their data
(transactional tests) so the other processes can see it. One stack per module, so no worker is alive
while other modules' tests claim scans themselves."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def stack_env() -> dict[str, str]:
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": _database_url(),
            "PYTHONUNBUFFERED": "1"}


def _wait_for(predicate, timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not start within {timeout} s:\n{log.read_text()[-3000:]}")


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def live_stack(django_db_setup, django_db_blocker, tmp_path_factory):
    """(base_url, ws_url) of daphne, with a worker consuming the default and scans queues."""
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    logs = tmp_path_factory.mktemp("stack")
    with django_db_blocker.unblock():
        env = stack_env()
    port = _free_port()
    worker_log, daphne_log = logs / "worker.log", logs / "daphne.log"
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "default,scans,webhooks", "-c", "2",
         "-l", "info", "-n", f"test-worker-{port}@%h"],
        cwd=ROOT, env=env, stdout=open(worker_log, "wb"), stderr=subprocess.STDOUT, start_new_session=True)
    daphne = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
        cwd=ROOT, env=env, stdout=open(daphne_log, "wb"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_for(lambda: _port_open(port), 30, "daphne", daphne_log)
        _wait_for(lambda: b" ready." in worker_log.read_bytes(), 60, "celery worker", worker_log)
        yield {"http": f"http://127.0.0.1:{port}", "ws": f"ws://127.0.0.1:{port}", "worker_log": worker_log,
               "env": env}
    finally:
        for process in (daphne, worker):
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for process in (daphne, worker):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
