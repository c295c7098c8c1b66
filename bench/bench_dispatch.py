"""Dispatch: (1) latency on an idle worker from POST to `running`, p50/p99 over 200 scans of a trivial
engine step (nmap on one port of 127.0.0.1), through the API (daphne) and a real Celery worker: from the
client sending the POST to the scan becoming `running`, to its scan.started event reaching a WebSocket client,
and from the scan's insert to its claim (see latency()).
(2) Backlog: 5,000 queued scans across 50 tenants with mixed priorities drained by 2 slots claiming
concurrently (instant steps, so only orchestration is measured): order violations (must be 0) and scans/s.
A violation is a claim made while a higher-priority scan stayed queued past the other slot's claim."""

from __future__ import annotations

import json
import os
import queue
import random
import statistics
import sys
import threading
import time
from pathlib import Path

import httpx
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.stack import bench_stack  # noqa: E402

LATENCY_RUNS, BACKLOG, TENANTS, SLOTS = 200, 5000, 50, 2


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def latency(stack: dict) -> tuple[list[float], list[float], list[float]]:
    """Three intervals per scan, all on this host's clock:
    - POST -> running: the client's wall clock as it sends the POST, to the scan's started_at (the moment the
      worker's claim made it `running`, stamped by PostgreSQL on the same host);
    - POST -> scan.started received: the same start, to the scan.started event arriving on the tenant's event
      stream, a WebSocket opened once beforehand (setup not counted) and read by its own thread, which stamps
      each event as it arrives (reading the POST's response does not delay the stamp);
    - insert -> running: the scan row's created_at -> started_at."""
    from scans.models import Scan

    headers = {"X-API-Key": stack["key"]}
    arrivals: queue.Queue = queue.Queue()
    to_running, to_event, server_side = [], [], []
    with httpx.Client(base_url=stack["http"], headers=headers, timeout=30) as client, \
            connect(f"{stack['ws']}/ws/scans/", additional_headers=headers) as ws:

        def read() -> None:
            try:
                for raw in ws:
                    arrivals.put((time.perf_counter(), json.loads(raw)))
            except ConnectionClosed:
                pass

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        for _ in range(LATENCY_RUNS):
            started, started_wall = time.perf_counter(), time.time()
            scan_id = client.post("/api/v1/scans", json={"target": "127.0.0.1", "engine": "nmap", "authorized": True,
                                                         "options": {"ports": "1", "serviceDetection": False}}
                                  ).json()["id"]
            running_at = None
            while True:  # the idle worker runs the scan to its end before the next POST
                arrived, event = arrivals.get(timeout=60)
                if event["scan_id"] != scan_id:
                    continue
                if event["event"] == "scan.started" and running_at is None:
                    running_at = arrived
                if event["event"] in ("scan_complete", "scan.failed"):
                    break
            to_event.append((running_at - started) * 1000)
            scan = Scan.objects.get(pk=scan_id)
            to_running.append((scan.started_at.timestamp() - started_wall) * 1000)
            server_side.append((scan.started_at - scan.created_at).total_seconds() * 1000)
    return to_running, to_event, server_side


def backlog() -> tuple[int, float]:
    from django.db import connection

    from scans.dispatch import scan_claim_next
    from scans.models import Priority, Scan, ScanStatus
    from tenants.services import tenant_get_or_create

    rng = random.Random(7)
    tenants = [tenant_get_or_create(name=f"backlog-{i}", plan_slug="enterprise")[0] for i in range(TENANTS)]
    Scan.objects.bulk_create([
        Scan(tenant=rng.choice(tenants), target="127.0.0.1", target_value="127.0.0.1", target_type="ip",
             destination=f"10.0.{i // 256 % 256}.{i % 256}", engine="nmap", plan=[], timeout_s=60, queue="bench",
             priority=rng.choice(list(Priority.values)))
        for i in range(BACKLOG)], batch_size=1000)
    claims: list[int] = []
    lock = threading.Lock()

    def slot() -> None:
        while (scan_id := scan_claim_next(worker="bench", queue="bench")) is not None:
            scan = Scan.objects.only("priority").get(pk=scan_id)
            with lock:
                claims.append(scan.priority)
            Scan.objects.filter(pk=scan_id).update(status=ScanStatus.COMPLETED)  # an instant engine step
        connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=slot) for _ in range(SLOTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    violations = sum(1 for i, p in enumerate(claims) if any(q > p for q in claims[i + SLOTS:]))
    assert len(claims) == BACKLOG, len(claims)
    return violations, BACKLOG / elapsed


def main() -> None:
    with bench_stack() as stack:
        os.environ["DATABASE_URL"] = stack["database_url"]
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
        import django

        django.setup()
        to_running, to_event, server_side = latency(stack)
        violations, rate = backlog()
    print("benchmark: dispatch")
    def figures(values: list[float]) -> str:
        return f"p50 {statistics.median(values):.1f} ms, p99 {percentile(values, 0.99):.1f} ms"

    print(f"  latency, idle worker, {LATENCY_RUNS} scans (goal p50 < 20 ms, p99 < 100 ms):")
    print(f"    POST -> running                  {figures(to_running)}")
    print(f"    POST -> scan.started received    {figures(to_event)}   (adds the event's way to a WebSocket client)")
    print(f"    insert -> running (server)       {figures(server_side)}")
    print(f"  backlog: {BACKLOG} scans, {TENANTS} tenants, mixed priorities, {SLOTS} slots: order violations "
          f"{violations} (must be 0), orchestration {rate:.0f} scans/s")


if __name__ == "__main__":
    main()
