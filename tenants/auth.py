"""One authentication class for every API surface.

Accepted credentials, in this order:
  X-API-Key: lnt_<key_id>.<secret>
  Authorization: Bearer lnt_<key_id>.<secret>
  api-key: <key_id> (or the whole key) with api-secret: <secret>      (seed 001)
The tenant comes from the key, is resolved here once and travels as `request.auth` (an AuthContext).
Client-sent `user-id` / `groups` headers (seed 001's gateway headers) are never read.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core import signing
from rest_framework.authentication import BaseAuthentication, SessionAuthentication
from rest_framework.exceptions import AuthenticationFailed

from tenants.scopes import Scope, effective_scopes
from tenants.selectors import api_key_verify, membership_for
from tenants.services import KEY_PREFIX, api_key_touch


@dataclass(frozen=True, slots=True)
class AuthContext:
    tenant_id: int
    api_key_pk: int | None  # None for a console user (session)
    key_id: str
    role: str
    scopes: frozenset[Scope]
    oem_enabled: bool
    rate_limits: tuple[tuple[str, int], ...] = ()  # plan limits merged with the tenant's overrides

    def has(self, scope: Scope) -> bool:
        return scope in self.scopes


@dataclass(frozen=True, slots=True)
class ApiPrincipal:
    """What DRF calls request.user for a key: not a Django user, never staff."""

    key_id: str
    is_authenticated: bool = True
    is_staff: bool = False
    is_active: bool = True

    def __str__(self) -> str:
        return f"api-key:{self.key_id}"


def split_key(raw: str) -> tuple[str, str] | None:
    """("key_id", "secret") from "lnt_<key_id>.<secret>", or None when it is not of that form."""
    if not raw.startswith(f"{KEY_PREFIX}_") or "." not in raw:
        return None
    key_id, _, secret = raw[len(KEY_PREFIX) + 1 :].partition(".")
    if not key_id or not secret:
        return None
    return key_id, secret


def credentials_from_headers(headers: dict[str, str]) -> tuple[str, str] | None:
    """(key_id, secret) from request headers (lower-cased names), None when none were sent.
    Raises AuthenticationFailed when a credential header is present but malformed."""
    raw = headers.get("x-api-key", "").strip()
    if not raw:
        scheme, _, token = headers.get("authorization", "").strip().partition(" ")
        if scheme.lower() == "bearer":
            raw = token.strip()
    if raw:
        parsed = split_key(raw)
        if parsed is None:
            raise AuthenticationFailed("Malformed API key.")
        return parsed
    key_id, secret = headers.get("api-key", "").strip(), headers.get("api-secret", "").strip()
    if key_id or secret:
        if not (key_id and secret):
            raise AuthenticationFailed("Both api-key and api-secret headers are required.")
        whole = split_key(key_id)
        return (whole[0], secret) if whole else (key_id, secret)
    return None


def authenticate_headers(headers: dict[str, str]) -> AuthContext | None:
    """The AuthContext for these headers; None if no credential was sent; AuthenticationFailed if wrong."""
    credentials = credentials_from_headers(headers)
    if credentials is None:
        return None
    api_key = api_key_verify(key_id=credentials[0], secret=credentials[1])
    if api_key is None:
        raise AuthenticationFailed("Invalid or revoked API key.")
    api_key_touch(api_key=api_key)
    return AuthContext(
        tenant_id=api_key.tenant_id,
        api_key_pk=api_key.pk,
        key_id=api_key.key_id,
        role=api_key.role,
        scopes=effective_scopes(api_key.role, tuple(api_key.extra_scopes)),
        oem_enabled=api_key.tenant.oem_enabled,
        rate_limits=tuple({**api_key.tenant.plan.rate_limits, **api_key.tenant.rate_limits}.items()),
    )


def context_for_membership(membership) -> AuthContext:
    tenant = membership.tenant
    return AuthContext(
        tenant_id=tenant.pk, api_key_pk=None, key_id=f"user-{membership.user_id}", role=membership.role,
        scopes=effective_scopes(membership.role, ()), oem_enabled=tenant.oem_enabled,
        rate_limits=tuple({**tenant.plan.rate_limits, **tenant.rate_limits}.items()),
    )


WS_TOKEN_SALT = "lantern.ws-token"
WS_TOKEN_MAX_AGE_S = 60


def ws_token_issue(context: AuthContext) -> str:
    """A short-lived, signed token for browsers, which cannot set headers on a WebSocket: `?token=`."""
    return signing.dumps({"t": context.tenant_id, "k": context.key_id, "r": context.role,
                          "s": sorted(context.scopes)}, salt=WS_TOKEN_SALT, compress=True)


def ws_token_read(token: str) -> AuthContext | None:
    try:
        data = signing.loads(token, salt=WS_TOKEN_SALT, max_age=WS_TOKEN_MAX_AGE_S)
    except signing.BadSignature:
        return None
    return AuthContext(tenant_id=data["t"], api_key_pk=None, key_id=data["k"], role=data["r"],
                       scopes=frozenset(Scope(s) for s in data["s"]), oem_enabled=False)


class SessionMembershipAuthentication(SessionAuthentication):
    """The console's own calls to the REST API: a logged-in user with a membership acts for that tenant
    (the `X-Lantern-Tenant` header picks one of several), with the scopes of their role. CSRF is enforced."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        user, _ = result
        membership = membership_for(user_id=user.pk, tenant_uuid=request.headers.get("X-Lantern-Tenant"))
        if membership is None:
            return None
        return user, context_for_membership(membership)


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request):
        headers = {name.lower(): value for name, value in request.headers.items()}
        context = authenticate_headers(headers)
        if context is None:
            return None
        return ApiPrincipal(key_id=context.key_id), context

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (not 403) when no credential was sent.
        return 'Bearer realm="lantern"'
