"""The one event stream. Every observable change of a scan is written once as a numbered ScanEvent and
published to the channel layer after commit; WebSocket consumers, webhooks and the console read it."""

from __future__ import annotations

import logging
from typing import Any

from collections.abc import Callable
from functools import cache

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from scans.models import ScanEvent

logger = logging.getLogger(__name__)

EVENT_TYPES = (
    "scan.queued", "scan.started", "phase.started", "phase.completed", "phase.skipped", "progress",
    "host_found", "port_found", "finding_found", "vulnerability.critical", "scan.completed", "scan.failed",
    "scan.cancelled", "scan.diff",
)


def scan_group(tenant_id: int, scan_id: str) -> str:
    return f"t{tenant_id}.scan.{scan_id}"


def tenant_group(tenant_id: int) -> str:
    return f"t{tenant_id}.scans"


def event_record(*, tenant_id: int, scan_id: str, type: str, payload: dict[str, Any]) -> ScanEvent:
    """Append an event to the scan's stream (next sequence number) and publish it after commit.
    Writes one ScanEvent and bumps Scan.event_seq. Not idempotent."""
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type!r}")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE scans_scan SET event_seq = event_seq + 1 WHERE id = %s AND tenant_id = %s "
                "RETURNING event_seq",
                [scan_id, tenant_id],
            )
            (seq,) = cursor.fetchone()
        event = ScanEvent.objects.create(tenant_id=tenant_id, scan_id=scan_id, seq=seq, type=type,
                                         payload=payload)
        message = event_message(event)
        transaction.on_commit(lambda: _publish(tenant_id, str(scan_id), message))
    return event


def event_message(event: ScanEvent) -> dict[str, Any]:
    created = event.created_at or timezone.now()
    return {
        "scan_id": str(event.scan_id),
        "seq": event.seq,
        "event": event.type,
        "timestamp": created.isoformat().replace("+00:00", "Z"),
        "data": event.payload,
    }


def _publish(tenant_id: int, scan_id: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    try:
        if layer is not None:
            for group in (scan_group(tenant_id, scan_id), tenant_group(tenant_id)):
                async_to_sync(layer.group_send)(group, {"type": "scan.event", "message": message})
    except Exception:  # noqa: BLE001  (a dead channel layer must not fail the scan; clients replay by seq)
        logger.warning("could not publish event %s of scan %s", message["seq"], scan_id, exc_info=True)
    for sink in _sinks():
        try:
            sink(tenant_id=tenant_id, message=message)
        except Exception:  # noqa: BLE001  (one sink's failure must not stop the scan or the other sinks)
            logger.exception("event sink %s failed on event %s of scan %s", sink, message["seq"], scan_id)


@cache
def _sinks() -> list[Callable[..., None]]:
    """Consumers of the stream other than WebSocket (webhooks...), named in LANTERN_EVENT_SINKS. Each is
    called after commit with (tenant_id=..., message=...) and must only enqueue work, never block."""
    return [import_string(path) for path in settings.LANTERN_EVENT_SINKS]
