"""Platform overhead: a full-range TCP connect scan of 127.0.0.1 submitted through the API (POST until the
API says completed, results stored), against the same nmap command run bare. Median of 5 each, one run.
Goal: ratio at most 1.10. Port 2024 (this machine's management service) is never scanned."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from websockets.sync.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.stack import bench_stack  # noqa: E402

RUNS = 5
# --min-rate 10000: without it nmap's own run time on loopback is bimodal (about 1.2 s or 2.2 s, bare or
# not), which makes a median of five a coin toss; with it the bare scan is steady and the ratio measures
# the platform.
OPTIONS = {"ports": "1-65535", "timing": "T4", "serviceDetection": False, "minRate": 10000}


def bare_argv(workdir: Path) -> list[str]:
    """Exactly the argument list the engine builds for OPTIONS (with the same excluded port)."""
    import django

    django.setup()
    from engines.base import EngineJob
    from engines.registry import get_engine

    engine = get_engine("nmap")
    options = engine.validate_options(OPTIONS, target_type="ip")
    job = EngineJob(target="127.0.0.1", target_type="ip", address="127.0.0.1", options=options, workdir=workdir,
                    timeout_s=600, binary="nmap", excluded_ports="2024")
    return engine.build_argv(job)


def through_api(stack: dict) -> float:
    """POST, then wait for the scan's completion event on its WebSocket (replay covers a fast scan), so the
    measurement does not itself load the machine with polling."""
    headers = {"X-API-Key": stack["key"]}
    with httpx.Client(base_url=stack["http"], headers=headers, timeout=30) as client:
        started = time.perf_counter()
        scan_id = client.post("/api/v1/scans", json={"target": "127.0.0.1", "engine": "nmap", "authorized": True,
                                                     "options": OPTIONS}).json()["id"]
        with connect(f"{stack['ws']}/ws/scans/{scan_id}", additional_headers=headers) as ws:
            while True:
                event = json.loads(ws.recv(timeout=120))
                if event["event"] in ("scan_complete", "scan.failed", "scan.cancelled"):
                    elapsed = time.perf_counter() - started
                    assert event["event"] == "scan_complete", event
                    return elapsed


def bare(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    with tempfile.TemporaryDirectory() as workdir:
        argv = bare_argv(Path(workdir))
        with bench_stack() as stack:
            through_api(stack)  # warm-up: first claim, imports, connections
            api_times, bare_times = [], []
            for _ in range(RUNS):  # interleaved, so drift in machine load hits both alike
                bare_times.append(bare(argv))
                api_times.append(through_api(stack))
    api, raw = statistics.median(api_times), statistics.median(bare_times)
    print("benchmark: platform overhead (full-range TCP connect scan of 127.0.0.1, median of 5)")
    print(f"  bare nmap        {raw:.3f} s   runs: {', '.join(f'{t:.2f}' for t in bare_times)}")
    print(f"  through the API  {api:.3f} s   runs: {', '.join(f'{t:.2f}' for t in api_times)}")
    print(f"  ratio            {api / raw:.3f}   (goal <= 1.10)")
    print(f"  command          {' '.join(argv)}")


if __name__ == "__main__":
    main()
