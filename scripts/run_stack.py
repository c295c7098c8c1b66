"""`make up`'s foreground supervisor: daphne (HTTP + WebSocket), a Celery worker and celery-beat, their
output interleaved with a prefix, all stopped together on Ctrl-C or when one of them dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def commands(host: str, port: str) -> dict[str, list[str]]:
    return {
        "web": [PYTHON, "-m", "daphne", "-b", host, "-p", port, "config.asgi:application"],
        "worker": [PYTHON, "-m", "celery", "-A", "config", "worker", "-Q", "default,scans,webhooks", "-l", "info",
                   "-c", os.environ.get("LANTERN_WORKER_CONCURRENCY", "2")],
        "beat": [PYTHON, "-m", "celery", "-A", "config", "beat", "-l", "info",
                 "--schedule", str(ROOT / "var" / "celerybeat-schedule")],
    }


def pump(name: str, process: subprocess.Popen[bytes]) -> None:
    assert process.stdout is not None
    for line in iter(process.stdout.readline, b""):
        sys.stdout.write(f"{name:>6} | {line.decode('utf-8', 'replace')}")
        sys.stdout.flush()


def main() -> int:
    host, port = os.environ.get("LANTERN_HOST", "127.0.0.1"), os.environ.get("LANTERN_PORT", "8000")
    processes: dict[str, subprocess.Popen[bytes]] = {}
    for name, argv in commands(host, port).items():
        processes[name] = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                           start_new_session=True)
        threading.Thread(target=pump, args=(name, processes[name]), daemon=True).start()
    base = f"http://{host}:{port}"
    print(f"\n  Lantern is starting.\n    API        {base}/api/v1/scans\n    API docs   {base}/api/docs/\n"
          f"    Admin      {base}/admin/   (create a login: .venv/bin/python manage.py createsuperuser)\n"
          f"    WebSocket  ws://{host}:{port}/ws/scans/<scan id>\n  Ctrl-C stops everything.\n", flush=True)
    stopping = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    exit_code = 0
    while not stopping.is_set():
        dead = [name for name, process in processes.items() if process.poll() is not None]
        if dead:
            print(f"lantern: {', '.join(dead)} exited; stopping the rest", file=sys.stderr)
            exit_code = 1
            break
        time.sleep(0.5)
    for process in processes.values():
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
