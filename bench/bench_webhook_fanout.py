"""Webhook fan-out benchmark: deliveries per second through the real Celery worker to a receiver on 127.0.0.1.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/lantern .venv/bin/python bench/bench_webhook_fanout.py
        [--deliveries 10000] [--endpoints 10] [--concurrency 8] [--pool prefork|threads] [--max-seconds 600]
        [--keep-db]

What it does, on the PostgreSQL server of DATABASE_URL but in its own database `lantern_bench_webhooks`
(created, migrated, dropped at the end) and on a Redis database of its own (LANTERN_BENCH_REDIS_URL, default
redis://127.0.0.1:6379/14, flushed before and after), never the dev or the test ones:
1. Starts a threaded HTTP receiver on 127.0.0.1 that answers 200 (keep-alive), and a Celery worker
   subprocess consuming only the webhooks queue (--pool prefork by default, --concurrency processes).
2. Registers --endpoints endpoints of one tenant, all subscribed to `progress` and pointing at the receiver,
   then feeds --deliveries / --endpoints `progress` events to the webhooks sink
   (webhooks.sinks.on_scan_event), exactly as scans/events.py does after commit: each event writes one
   outbox row per endpoint and enqueues their tasks. The worker drains the queue while events are fed.
3. Prints the outbox write rate, the end-to-end delivery rate (first event fed → last delivery acknowledged),
   attempts, final states and attempt latency p50/p99, bounded by --max-seconds.
Through the worker rather than direct calls, because what bounds throughput is the per-task path a delivery
really takes: broker round trip, claim, SSRF check, signing, one HTTP request, the attempt row.
It prints figures and asserts nothing about time.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_DB = "lantern_bench_webhooks"
FINAL = ("succeeded", "failed", "dead")


def _with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def _admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(_with_db(url, "postgres"), autocommit=True) as conn:
        conn.execute(sql)


def _start_worker(concurrency: int, pool: str, log: Path) -> subprocess.Popen:
    from config.celery import app

    name = f"bench-webhooks-{os.getpid()}@%h"
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "webhooks", "-c", str(concurrency),
         "-P", pool, "-l", "warning", "-n", name, "--without-gossip", "--without-mingle",
         "--without-heartbeat"],
        cwd=ROOT, env=dict(os.environ), stdout=open(log, "wb"), stderr=subprocess.STDOUT,
        start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise RuntimeError(f"the worker exited:\n{log.read_text()[-3000:]}")
        if app.control.ping(timeout=0.5):
            return worker
    os.killpg(worker.pid, signal.SIGKILL)
    raise RuntimeError(f"the worker did not answer within 60 s:\n{log.read_text()[-3000:]}")


def _stop(worker: subprocess.Popen) -> None:
    """Warm shutdown (the main process lets running attempts finish), then the whole group if it lingers."""
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()


def _states() -> dict[str, int]:
    from django.db.models import Count

    from webhooks.models import Delivery

    return dict(Delivery.objects.values_list("status").annotate(n=Count("pk")).order_by())


def run(args: argparse.Namespace) -> None:
    from tenants.services import tenant_get_or_create
    from webhooks.models import DeliveryAttempt
    from webhooks.services import endpoint_create
    from webhooks.sinks import on_scan_event
    from webhooks.tests.receiver import Receiver

    events = args.deliveries // args.endpoints
    total = events * args.endpoints
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench_webhook_worker_{os.getpid()}.log"
    with Receiver(record=False) as receiver:
        tenant, _ = tenant_get_or_create(name="bench-webhooks", plan_slug="enterprise")
        for _ in range(args.endpoints):
            endpoint_create(tenant_id=tenant.pk, url=receiver.url, events=["progress"])
        worker = _start_worker(args.concurrency, args.pool, log)
        try:
            print(f"fan-out: {events:,} progress events x {args.endpoints} endpoints = {total:,} deliveries, "
                  f"worker -Q webhooks -c {args.concurrency} -P {args.pool}, receiver {receiver.url}")
            scan_id = str(uuid.uuid4())
            started = time.perf_counter()
            for seq in range(1, events + 1):
                on_scan_event(tenant_id=tenant.pk, message={
                    "scan_id": scan_id, "seq": seq, "event": "progress", "data": {"progress": seq % 100},
                    "timestamp": "2026-11-21T07:00:00Z"})
            fed = time.perf_counter()
            rate = total / (fed - started)
            print(f"  outbox  {fed - started:7.2f} s  {rate:10,.0f} deliveries/s written and enqueued "
                  f"(the sink, one process)")
            deadline = started + args.max_seconds
            done = 0
            while time.perf_counter() < deadline:
                states = _states()
                done = sum(states.get(state, 0) for state in FINAL)
                if done >= total:
                    break
                time.sleep(0.1)
            finished = time.perf_counter()
        finally:
            _stop(worker)
        received = receiver.count
    elapsed = finished - started
    states = _states()
    latencies = sorted(DeliveryAttempt.objects.values_list("latency_ms", flat=True))
    attempts = len(latencies)
    bounded = "" if done >= total else f" (stopped at --max-seconds {args.max_seconds:.0f}: {done:,} done)"
    print(f"  deliver {elapsed:7.2f} s  {done / elapsed:10,.0f} deliveries/s end to end{bounded}")
    print(f"  receiver got {received:,} requests; attempts {attempts:,}; "
          f"states {dict(sorted(states.items()))}")
    if latencies:
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        print(f"  attempt latency p50 {statistics.median(latencies):.0f} ms, p99 {p99} ms, "
              f"max {latencies[-1]} ms")
    print(f"  worker log: {log}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=10_000)
    parser.add_argument("--endpoints", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--pool", choices=("prefork", "threads"), default="prefork")
    parser.add_argument("--max-seconds", type=float, default=600.0)
    parser.add_argument("--keep-db", action="store_true", help=f"leave {BENCH_DB} in place for inspection")
    args = parser.parse_args()
    base_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/lantern")
    redis_url = os.environ.get("LANTERN_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    _admin(base_url, f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
    _admin(base_url, f"CREATE DATABASE {BENCH_DB}")
    os.environ.update({
        "DATABASE_URL": _with_db(base_url, BENCH_DB), "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "LANTERN_BROKER_URL": redis_url, "LANTERN_WEBHOOK_ALLOW_LOOPBACK": "true",
        "LANTERN_DEBUG": "false",  # DEBUG would keep every query in memory
        "LANTERN_LOG_LEVEL": "WARNING",  # one log line per attempt would be measured too
    })
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    try:
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        run(args)
    finally:
        from django.db import connections

        connections.close_all()
        redis.Redis.from_url(redis_url).flushdb()
        if not args.keep_db:
            _admin(base_url, f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")


if __name__ == "__main__":
    main()
