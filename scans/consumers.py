"""Live scan events over WebSocket: read-only fan-out of the one event stream.

/ws/scans/{id} streams one scan, /ws/scans/ all of the tenant's scans. `?since=SEQ` (per-scan socket)
replays stored events after SEQ before live ones, so a reconnecting client misses nothing. Messages use
seed 004's shape, {"event": ..., "data": ...}, plus scan_id, seq and timestamp; scan.completed is also
named scan_complete there. Missing and not-yours are the same close code, 4404.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from scans.events import event_message, outgoing, scan_group, tenant_group
from scans.selectors import scan_events_since, scan_exists

CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404


class ScanEventsConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        # Accept before refusing: a close before accept becomes a bare HTTP 403 without our close code.
        await self.accept()
        context = self.scope.get("auth_context")
        if context is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        scan_id = self.scope["url_route"]["kwargs"].get("scan_id")
        self.last_seq: dict[str, int] = {}
        if scan_id is None:
            self.group = tenant_group(context.tenant_id)
        else:
            if not await database_sync_to_async(scan_exists)(tenant_id=context.tenant_id, scan_id=scan_id):
                await self.close(code=CLOSE_NOT_FOUND)
                return
            self.group = scan_group(context.tenant_id, scan_id)
        # Join first, then replay: a live event that races the replay is dropped by its seq below.
        await self.channel_layer.group_add(self.group, self.channel_name)
        if scan_id is not None:
            await self._replay(context.tenant_id, scan_id)

    async def _replay(self, tenant_id: int, scan_id: str) -> None:
        try:
            since = int(parse_qs(self.scope.get("query_string", b"").decode()).get("since", ["0"])[0])
        except ValueError:
            since = 0
        while True:
            events = await database_sync_to_async(scan_events_since)(tenant_id=tenant_id, scan_id=scan_id,
                                                                     since=since, limit=500)
            for event in events:
                await self._send(event_message(event))
                since = event.seq
            if len(events) < 500:
                return

    async def _send(self, message: dict, text: str | None = None) -> None:
        scan_id = message["scan_id"]
        if message["seq"] <= self.last_seq.get(scan_id, 0):
            return
        self.last_seq[scan_id] = message["seq"]
        # Straight to the server: the frame is this one text, encoded once by the publisher for every client.
        await self.base_send({"type": "websocket.send", "text": text or json.dumps(outgoing(message))})

    async def dispatch(self, message):
        """Events from the channel layer go straight to scan_event. Channels' own dispatch first runs
        close_old_connections in a worker thread for every message (Channels >= 4.2), one thread hop per
        event per connected client, serialised on one executor: with 500 clients that alone delayed the last
        delivery of each event by a quarter of a second. scan_event touches no database (the reads in connect
        and _replay go through database_sync_to_async, which cleans connections up itself)."""
        if message["type"] == "scan.event":
            await self.scan_event(message)
        else:
            await super().dispatch(message)

    async def scan_event(self, event: dict) -> None:
        await self._send(event["message"], event.get("text"))

    async def receive_json(self, content, **kwargs):
        """Clients only listen; anything they send is ignored."""

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)
