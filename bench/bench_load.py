"""Load test: mixed API traffic for 60 s against daphne (HTTP and the WebSocket server in one process), 16
client threads on 127.0.0.1: list (40%), detail (25%), quota (10%), engines (10%), create a real one-port
nmap scan of 127.0.0.1 (15%). Prints requests/s, p50/p99 latency and errors, then waits for every scan it
created to reach a terminal state and prints how many did. Bounded: 60 s of load, at most 180 s of drain."""

from __future__ import annotations

import os
import random
import statistics
import sys
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.stack import bench_stack  # noqa: E402

DURATION_S, CLIENTS, DRAIN_S = int(os.environ.get("LANTERN_LOAD_SECONDS", "60")), 16, 180
TERMINAL = {"completed", "failed", "cancelled"}


def client_loop(stack: dict, stop: threading.Event, latencies: list, errors: list, created: list, seed: int):
    rng = random.Random(seed)
    with httpx.Client(base_url=stack["http"], headers={"X-API-Key": stack["key"]}, timeout=30) as client:
        while not stop.is_set():
            roll = rng.random()
            started = time.perf_counter()
            try:
                if roll < 0.15:
                    response = client.post("/api/v1/scans", json={
                        "target": "127.0.0.1", "engine": "nmap", "authorized": True,
                        "options": {"ports": str(rng.randint(20000, 20100)), "serviceDetection": False}})
                    if response.status_code == 201:
                        created.append(response.json()["id"])
                elif roll < 0.55:
                    response = client.get("/api/v1/scans", params={"per_page": 20})
                elif roll < 0.80 and created:
                    response = client.get(f"/api/v1/scans/{rng.choice(created)}")
                elif roll < 0.90:
                    response = client.get("/api/v1/scans/quota")
                else:
                    response = client.get("/api/v1/engines")
            except httpx.HTTPError as exc:
                errors.append(type(exc).__name__)
                continue
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code >= 400:
                errors.append(str(response.status_code))


def main() -> None:
    with bench_stack(worker_concurrency=2) as stack:
        latencies: list[float] = []
        errors: list[str] = []
        created: list[str] = []
        stop = threading.Event()
        threads = [threading.Thread(target=client_loop, args=(stack, stop, latencies, errors, created, i))
                   for i in range(CLIENTS)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        time.sleep(DURATION_S)
        stop.set()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        drain_started = time.perf_counter()
        with httpx.Client(base_url=stack["http"], headers={"X-API-Key": stack["key"]}, timeout=30) as client:
            pending = set(created)
            while pending and time.perf_counter() - drain_started < DRAIN_S:
                page = client.get("/api/v1/scans", params={"per_page": 100, "status": "queued"}).json()["total"]
                running = client.get("/api/v1/scans", params={"per_page": 100, "status": "running"}).json()["total"]
                if page + running == 0:
                    pending.clear()
                    break
                time.sleep(1)
            statuses = {}
            for scan_id in created:
                status = client.get(f"/api/v1/scans/{scan_id}").json()["status"]
                statuses[status] = statuses.get(status, 0) + 1
    ordered = sorted(latencies)
    print(f"benchmark: load test ({CLIENTS} clients, {DURATION_S} s, mixed API traffic, daphne)")
    print(f"  {len(latencies)} requests in {elapsed:.1f} s = {len(latencies) / elapsed:.0f} req/s; "
          f"p50 {statistics.median(ordered):.1f} ms, p99 {ordered[int(0.99 * (len(ordered) - 1))]:.1f} ms; "
          f"errors {len(errors)} {sorted(set(errors))}")
    terminal = sum(n for status, n in statuses.items() if status in TERMINAL)
    print(f"  scans accepted {len(created)}; terminal after drain {terminal} {statuses}; drain "
          f"{time.perf_counter() - drain_started:.0f} s")


if __name__ == "__main__":
    main()
