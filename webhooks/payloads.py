"""What a receiver gets. Every delivery is an HTTP POST with a JSON body of this shape:

    {
      "id": "5b0c…",               delivery UUID: the same on every retry, so receivers can de-duplicate
      "event": "scan.completed",   an event name (below), or "ping" for a test ping
      "created_at": "2026-03-06T10:00:00.123456Z",   when the event happened (UTC, ISO 8601)
      "scan_id": "a1b2…" | null,   the scan the event belongs to (null for a ping)
      "data": {...}                the event's own data, as in the scan's event stream
    }

Event names: scan.queued, scan.started, phase.started, phase.completed, phase.skipped, progress,
host_found, port_found, finding_found, vulnerability.critical, scan.completed, scan.failed, scan.cancelled
(scans/events.py). scan.completed / scan.failed / scan.cancelled carry {"status", "devices_found",
"open_ports_total", "duration", "reason"?}.

Headers: Content-Type: application/json, User-Agent: Lantern-Webhooks/1.0, X-Lantern-Event,
X-Lantern-Delivery (the id), X-Lantern-Attempt (1, 2, …) and, for registered endpoints,
X-Lantern-Signature: t=<unix>,v1=<hex> (webhooks/crypto.py says how to verify it). Per-scan webhooks
(seed 001) add their own headers instead; seed 002 callbacks get the same body and no signature.
A 2xx answer acknowledges the delivery; 408, 429, 5xx and network errors are retried with backoff; any
other status ends it as failed.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

USER_AGENT = "Lantern-Webhooks/1.0"
PING_EVENT = "ping"


def payload_build(*, delivery_id: uuid.UUID, event: str, created_at: str, scan_id: str | None,
                  data: dict[str, Any]) -> dict[str, Any]:
    return {"id": str(delivery_id), "event": event, "created_at": created_at, "scan_id": scan_id,
            "data": data}


def payload_body(payload: dict[str, Any]) -> bytes:
    """The canonical bytes of a payload: the body signed and sent, identical on every attempt."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def request_headers(*, event: str, delivery_id: uuid.UUID, attempt: int) -> dict[str, str]:
    return {"Content-Type": "application/json", "User-Agent": USER_AGENT, "X-Lantern-Event": event,
            "X-Lantern-Delivery": str(delivery_id), "X-Lantern-Attempt": str(attempt)}
