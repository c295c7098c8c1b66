"""WebSocket authentication: the same API-key headers as HTTP, resolved once into scope["auth_context"]."""

from __future__ import annotations

from channels.db import database_sync_to_async
from rest_framework.exceptions import AuthenticationFailed

from tenants.auth import authenticate_headers


class ApiKeyWebsocketMiddleware:
    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        try:
            context = await database_sync_to_async(authenticate_headers)(headers)
        except AuthenticationFailed:
            context = None
        return await self.inner({**scope, "auth_context": context}, receive, send)
