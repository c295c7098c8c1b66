"""A throwaway Lantern stack for benchmarks: its own database (lantern_bench, created and dropped), its own
Redis database, a Celery worker and daphne, all on 127.0.0.1. Never the dev or test database."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = f"lantern_bench_{os.getpid()}"  # per run: two benchmarks at once must not drop each other's
BENCH_REDIS_DB = 12


def _urls() -> tuple[str, str, str]:
    database = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/lantern")
    parts = urlsplit(database)
    admin = urlunsplit(parts._replace(path="/postgres"))
    bench = urlunsplit(parts._replace(path=f"/{BENCH_DB}"))
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0").rsplit("/", 1)[0] + f"/{BENCH_REDIS_DB}"
    return admin, bench, redis_url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_worker(base: str, key: str) -> None:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            engines = httpx.get(f"{base}/api/v1/engines", headers={"X-API-Key": key}, timeout=5).json()["items"]
            if any(item["name"] == "nmap" and item["available"] for item in engines):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError("the benchmark worker never reported nmap")


@contextmanager
def bench_stack(*, worker_concurrency: int = 2, extra_env: dict[str, str] | None = None):
    """Yields {"http", "ws", "key", "env", "database_url"}; everything is torn down afterwards."""
    admin, database_url, redis_url = _urls()
    # A benchmark stopped with SIGTERM must still stop its worker and daphne and drop its database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    redis.Redis.from_url(redis_url).flushdb()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local", "DATABASE_URL": database_url,
           "REDIS_URL": redis_url, "LANTERN_DEBUG": "false", "LANTERN_LOG_LEVEL": "WARNING",
           "LANTERN_MAX_SCANS_PER_DESTINATION": "1000", "LANTERN_BACKLOG_MAX": "1000000",
           "LANTERN_TENANT_BACKLOG_MAX": "1000000", **(extra_env or {})}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    key = json.loads(subprocess.run(
        [sys.executable, "manage.py", "create_api_key", "--tenant", "bench", "--plan", "enterprise", "--json"],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout)["key"]
    with psycopg.connect(database_url, autocommit=True) as conn:  # benchmarks measure work, not rate limits
        conn.execute("UPDATE tenants_tenant SET rate_limits = %s WHERE name = 'bench'",
                     [json.dumps({name: 10**9 for name in ("scan_create", "read", "write")})])
    port = free_port()
    logs = ROOT / "var" / "bench" / "logs"  # the last run's server logs, for when a figure looks wrong
    logs.mkdir(parents=True, exist_ok=True)
    processes = [
        subprocess.Popen([sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "default,scans,webhooks",
                          "-c", str(worker_concurrency), "-l", "warning", "-n", f"bench-{port}@%h"],
                         cwd=ROOT, env=env, start_new_session=True, stdout=open(logs / "worker.log", "wb"),
                         stderr=subprocess.STDOUT),
        subprocess.Popen([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                          "config.asgi:application"], cwd=ROOT, env=env, start_new_session=True,
                         stdout=open(logs / "daphne.log", "wb"), stderr=subprocess.STDOUT),
    ]
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        _wait_for_worker(f"http://127.0.0.1:{port}", key)
        yield {"http": f"http://127.0.0.1:{port}", "ws": f"ws://127.0.0.1:{port}", "key": key, "env": env,
               "database_url": database_url}
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)  # the main process: it stops its pool children itself
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
