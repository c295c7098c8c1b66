"""The base class of every tenant API view: auth, scope check and the request's tenant in one place."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.views import APIView

from tenants.auth import AuthContext


class TenantAPIView(APIView):
    """Subclasses declare `required_scopes = {"GET": (Scope.X,), ...}` and read the tenant from
    `self.tenant_id`, which exists only after authentication; selectors and services take it as an argument."""

    required_scopes: dict[str, tuple[str, ...]] = {}

    @property
    def auth(self) -> AuthContext:
        return self.request.auth

    @property
    def tenant_id(self) -> int:
        return self.request.auth.tenant_id

    def validate_input(self, serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
        serializer = serializer_class(data=data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data
