"""POST /api/v1/ws-token: a signed token valid for 60 s, for browsers to open /ws/scans/…?token=…"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from scans.api.schema import ERRORS, WsTokenOut
from tenants.api import TenantAPIView
from tenants.auth import WS_TOKEN_MAX_AGE_S, ws_token_issue
from tenants.scopes import Scope


class WsTokenApi(TenantAPIView):
    required_scopes = {"POST": (Scope.SCANS_READ,)}

    @extend_schema(tags=["live events"], request=None, summary="A short-lived token for WebSocket clients",
                   operation_id="ws_token_create", responses={200: WsTokenOut, **ERRORS})
    def post(self, request):
        return Response({"token": ws_token_issue(self.auth), "expires_in": WS_TOKEN_MAX_AGE_S})
