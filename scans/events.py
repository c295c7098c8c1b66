"""The one event stream. Every observable change of a scan is written once as a numbered ScanEvent and
published to the channel layer after commit; WebSocket consumers, webhooks and the console read it."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from collections.abc import Callable
from functools import cache
from typing import Any

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


# One statement, so atomic without a transaction of its own: take the scan's next sequence number and append the
# event. Every event of every running scan comes through here.
_RECORD_SQL = """
WITH bumped AS (
    UPDATE scans_scan SET event_seq = event_seq + 1 WHERE id = %(scan)s AND tenant_id = %(tenant)s
    RETURNING event_seq
)
INSERT INTO scans_scanevent (tenant_id, scan_id, seq, type, payload, created_at)
SELECT %(tenant)s, %(scan)s, event_seq, %(type)s, %(payload)s::jsonb, %(created_at)s FROM bumped
RETURNING id, seq
"""


def event_record(*, tenant_id: int, scan_id: str, type: str, payload: dict[str, Any]) -> ScanEvent:
    """Append an event to the scan's stream (next sequence number) and publish it after commit.
    Writes one ScanEvent and bumps Scan.event_seq. Not idempotent."""
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type!r}")
    created_at = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(_RECORD_SQL, {"scan": scan_id, "tenant": tenant_id, "type": type,
                                     "payload": json.dumps(payload), "created_at": created_at})
        row = cursor.fetchone()
    if row is None:
        raise LookupError(f"scan {scan_id} of tenant {tenant_id} does not exist")
    event = ScanEvent(id=row[0], tenant_id=tenant_id, scan_id=scan_id, seq=row[1], type=type, payload=payload,
                      created_at=created_at)
    event._state.adding, event._state.db = False, connection.alias
    message = event_message(event)
    transaction.on_commit(lambda: _publish(tenant_id, str(scan_id), message))
    return event


# Seed 004 names scan.completed "scan_complete" on its WebSocket.
SEED_004_NAMES = {"scan.completed": "scan_complete"}


def outgoing(message: dict[str, Any]) -> dict[str, Any]:
    """A stream message as WebSocket clients receive it."""
    return {**message, "event": SEED_004_NAMES.get(message["event"], message["event"])}


def layer_message(message: dict[str, Any]) -> dict[str, Any]:
    """What goes to the channel layer groups: the message (consumers check its seq) and the frame's text,
    encoded once here rather than once per connected client."""
    return {"type": "scan.event", "message": message, "text": json.dumps(outgoing(message))}


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
    try:
        _group_send((scan_group(tenant_id, scan_id), tenant_group(tenant_id)), layer_message(message))
    except Exception:  # noqa: BLE001  (a dead channel layer must not fail the scan; clients replay by seq)
        logger.warning("could not publish event %s of scan %s", message["seq"], scan_id, exc_info=True)
    for sink in _sinks():
        try:
            sink(tenant_id=tenant_id, message=message)
        except Exception:  # noqa: BLE001  (one sink's failure must not stop the scan or the other sinks)
            logger.exception("event sink %s failed on event %s of scan %s", sink, message["seq"], scan_id)


# Publishing from synchronous code (a worker, a view) goes through one event loop thread per process that keeps
# the channel layer's Redis connection open. async_to_sync from a thread without a loop would build a new loop,
# and with it a new channel layer and Redis connection, for every event: milliseconds each, on the path of
# every scan's progress. The caller waits for the publish, so events leave in the order they were recorded.
PUBLISH_TIMEOUT_S = 2.0
_publisher_lock = threading.Lock()
_publisher: tuple[int, asyncio.AbstractEventLoop] | None = None


def _publisher_loop() -> asyncio.AbstractEventLoop:
    """This process's publishing loop, started on first use (and again in a forked child)."""
    global _publisher
    with _publisher_lock:
        if _publisher is None or _publisher[0] != os.getpid():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="lantern-event-publisher", daemon=True).start()
            _publisher = (os.getpid(), loop)
        return _publisher[1]


async def _send_to_groups(groups: tuple[str, ...], payload: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    for group in groups:
        await layer.group_send(group, payload)


def _group_send(groups: tuple[str, ...], payload: dict[str, Any]) -> None:
    future = asyncio.run_coroutine_threadsafe(_send_to_groups(groups, payload), _publisher_loop())
    try:
        future.result(timeout=PUBLISH_TIMEOUT_S)
    except TimeoutError:
        future.cancel()
        raise


@cache
def _sinks() -> list[Callable[..., None]]:
    """Consumers of the stream other than WebSocket (webhooks...), named in LANTERN_EVENT_SINKS. Each is
    called after commit with (tenant_id=..., message=...) and must only enqueue work, never block."""
    return [import_string(path) for path in settings.LANTERN_EVENT_SINKS]
