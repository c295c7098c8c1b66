"""Scope checks. A view names the scope each method needs in `required_scopes`; a missing entry is a
configuration error that fails closed (403), so a new endpoint cannot be left open by omission."""

from __future__ import annotations

from rest_framework.exceptions import NotAuthenticated, PermissionDenied
from rest_framework.permissions import BasePermission

from tenants.auth import AuthContext


class HasScopes(BasePermission):
    def has_permission(self, request, view) -> bool:
        context = request.auth
        if not isinstance(context, AuthContext):
            raise NotAuthenticated("Authentication credentials were not provided.")
        required = getattr(view, "required_scopes", {}).get(request.method)
        if required is None:
            raise PermissionDenied(f"{request.method} is not allowed for API keys on this endpoint.")
        missing = [scope for scope in required if not context.has(scope)]
        if missing:
            raise PermissionDenied(f"This API key lacks the scope {', '.join(missing)}.")
        return True
