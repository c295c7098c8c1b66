"""WebSocket event latency: 500 clients connected to daphne on the tenant stream (/ws/scans/), events
published the way a worker publishes them (scans.events: group_send of layer_message on the Redis channel
layer), latency from the publish call to each client's receipt, at two event rates: 1 event/s (500
deliveries/s) and 10 events/s (5,000 deliveries/s). Prints p50/p99 over every delivery. Goal: p99 under
100 ms. The 500 clients run in this one process on the same machine as daphne. Bounded: 20 + 50 events."""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path

from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.stack import bench_stack  # noqa: E402

CLIENTS = 500
RATES = ((1.0, 20), (0.1, 50))  # (seconds between events, events)


async def listen(url: str, key: str, ready: asyncio.Event, count: list[int], received: list[float]) -> None:
    async with connect(url, additional_headers={"X-API-Key": key}, max_queue=None, open_timeout=60) as ws:
        count[0] += 1
        if count[0] == CLIENTS:
            ready.set()
        while True:
            message = json.loads(await ws.recv())
            sent = message["data"].get("sent_at")
            if sent is not None:
                received.append((time.time() - sent) * 1000)
                if message["data"].get("last"):
                    return


async def run(stack: dict, tenant_id: int, gap_s: float, events: int) -> list[float]:
    from asgiref.sync import sync_to_async
    from channels.layers import get_channel_layer

    from scans.events import layer_message, tenant_group

    ready, count, received = asyncio.Event(), [0], []
    url = f"{stack['ws']}/ws/scans/"
    clients = []
    for _ in range(CLIENTS):  # connect in waves so daphne's accept queue is not flooded at once
        clients.append(asyncio.create_task(listen(url, stack["key"], ready, count, received)))
        await asyncio.sleep(0.002)
    await asyncio.wait_for(ready.wait(), 120)
    layer = get_channel_layer()
    await asyncio.sleep(1)  # every consumer has joined its group (it joins just after accepting)
    for i in range(events):
        message = {"scan_id": "bench", "seq": i + 1, "event": "progress", "timestamp": "",
                   "data": {"percent": i, "sent_at": time.time(), "last": i == events - 1}}
        await layer.group_send(tenant_group(tenant_id), layer_message(message))
        await asyncio.sleep(gap_s)
    await asyncio.wait_for(asyncio.gather(*clients), 120)
    del sync_to_async
    return received


def main() -> None:
    with bench_stack() as stack:
        os.environ["DATABASE_URL"] = stack["database_url"]
        os.environ["REDIS_URL"] = stack["env"]["REDIS_URL"]
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
        import django

        django.setup()
        from tenants.models import Tenant

        tenant_id = Tenant.objects.get(name="bench").pk
        results = [(gap, events, sorted(asyncio.run(run(stack, tenant_id, gap, events)))) for gap, events in RATES]
    print(f"benchmark: WebSocket event latency, {CLIENTS} clients on one daphne, Redis pub/sub channel layer")
    for gap, events, latencies in results:
        p99 = latencies[int(0.99 * (len(latencies) - 1))]
        print(f"  {1 / gap:.0f} event/s ({CLIENTS / gap:.0f} deliveries/s): {len(latencies)} of {CLIENTS * events} "
              f"delivered; p50 {statistics.median(latencies):.1f} ms, p99 {p99:.1f} ms, max {latencies[-1]:.1f} ms"
              "   (goal p99 < 100 ms)")


if __name__ == "__main__":
    main()
