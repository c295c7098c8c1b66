"""WebSocket authentication, resolved once into scope["auth_context"]: the same API-key headers as HTTP;
a short-lived `?token=` from POST /api/v1/ws-token (browsers cannot set headers on a WebSocket); or the
console's session (a logged-in user with a membership)."""

from __future__ import annotations

from channels.db import database_sync_to_async
from rest_framework.exceptions import AuthenticationFailed

from urllib.parse import parse_qs

from tenants.auth import authenticate_headers, context_for_membership, ws_token_read
from tenants.selectors import membership_for


class ApiKeyWebsocketMiddleware:
    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        try:
            context = await database_sync_to_async(authenticate_headers)(headers)
        except AuthenticationFailed:
            context = None
        token = parse_qs(scope.get("query_string", b"").decode()).get("token", [""])[0]
        if context is None and token:
            context = ws_token_read(token)
        user = scope.get("user")
        if context is None and user is not None and user.is_authenticated:
            membership = await database_sync_to_async(membership_for)(user_id=user.pk)
            context = context_for_membership(membership) if membership else None
        return await self.inner({**scope, "auth_context": context}, receive, send)
