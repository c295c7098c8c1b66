"""A real Lantern stack in subprocesses for end-to-end and fault tests: daphne, a Celery worker and (when
asked) celery-beat, on the test database and a Redis of the test's choosing, as `make up` runs them."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORKER_QUEUES = "default,scans,webhooks"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_for(predicate, timeout: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise AssertionError(f"{what} did not happen within {timeout} s\n{tail}")


def stop(process: subprocess.Popen | None, *, timeout: float = 20) -> None:
    """SIGTERM to the main process (it stops its own children), SIGKILL to the group if it lingers."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


class Stack:
    def __init__(self, env: dict[str, str], logs: Path, *, beat: bool = False):
        self.env, self.logs, self.port = env, logs, free_port()
        self.http, self.ws = f"http://127.0.0.1:{self.port}", f"ws://127.0.0.1:{self.port}"
        self.worker_log = logs / "worker.log"
        self.daphne: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None
        self.beat: subprocess.Popen | None = None
        self.with_beat = beat
        self._worker_starts = 0

    def _spawn(self, argv: list[str], log: Path) -> subprocess.Popen:
        return subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=open(log, "ab"), stderr=subprocess.STDOUT,
                                start_new_session=True)

    def start(self) -> Stack:
        daphne_log = self.logs / "daphne.log"
        self.daphne = self._spawn([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port),
                                   "config.asgi:application"], daphne_log)
        self.start_worker()
        if self.with_beat:
            self.beat = self._spawn([sys.executable, "-m", "celery", "-A", "config", "beat", "-l", "info",
                                     "-S", "celery.beat:PersistentScheduler",
                                     "-s", str(self.logs / "beat-schedule")], self.logs / "beat.log")
        wait_for(lambda: port_open(self.port), 30, "daphne listening", daphne_log)
        return self

    def start_worker(self) -> None:
        self._worker_starts += 1
        marker = self.worker_log.read_bytes().count(b" ready.") if self.worker_log.exists() else 0
        self.worker = self._spawn([sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", WORKER_QUEUES,
                                   "-c", "2", "-l", "info", "-n", f"test-{self.port}-{self._worker_starts}@%h"],
                                  self.worker_log)
        wait_for(lambda: self.worker_log.read_bytes().count(b" ready.") > marker, 60, "celery worker ready",
                 self.worker_log)

    def stop_worker(self) -> None:
        stop(self.worker)
        self.worker = None

    def stop(self) -> None:
        for process in (self.beat, self.daphne, self.worker):
            stop(process)

    def key(self, tenant: str, *args: str) -> str:
        out = subprocess.run([sys.executable, "manage.py", "create_api_key", "--tenant", tenant, *args, "--json"],
                             cwd=ROOT, env=self.env, capture_output=True, text=True, check=True)
        return json.loads(out.stdout)["key"]
