"""The webhooks sink of the scan event stream (named in settings.LANTERN_EVENT_SINKS).

scans/events.py calls on_scan_event after the event's transaction commits, with the stream's message
{"scan_id", "seq", "event", "timestamp", "data"}. The sink only writes outbox rows and enqueues their
delivery tasks; it never sends HTTP, so a slow receiver cannot slow a scan. What receivers get is
documented in webhooks/payloads.py.
"""

from __future__ import annotations

from typing import Any

from webhooks.services import deliveries_create_for_event


def on_scan_event(*, tenant_id: int, message: dict[str, Any]) -> None:
    """Create the deliveries this event calls for (matching endpoints of the tenant; per-scan webhook and
    callback on completion) and enqueue them on commit. Idempotent per (event, receiver)."""
    deliveries_create_for_event(tenant_id=tenant_id, message=message)
