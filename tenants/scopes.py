"""Scopes and the roles that grant them. One table; the API, the admin and the command read it."""

from __future__ import annotations

from enum import StrEnum


class Scope(StrEnum):
    SCANS_CREATE = "scans:create"
    SCANS_READ = "scans:read"
    SCANS_LIST = "scans:list"
    SCANS_CANCEL = "scans:cancel"
    FINDINGS_READ = "findings:read"
    FINDINGS_WRITE = "findings:write"
    SCHEDULES_MANAGE = "schedules:manage"
    WEBHOOKS_MANAGE = "webhooks:manage"
    OEM = "oem"


class Role(StrEnum):
    VIEWER = "viewer"
    REPORTER = "reporter"
    ADMIN = "admin"


_VIEWER = {Scope.SCANS_READ, Scope.SCANS_LIST, Scope.FINDINGS_READ}
_REPORTER = _VIEWER | {Scope.SCANS_CREATE, Scope.SCANS_CANCEL}
_ADMIN = _REPORTER | {Scope.FINDINGS_WRITE, Scope.SCHEDULES_MANAGE, Scope.WEBHOOKS_MANAGE}

# The oem scope is never granted by a role: an operator grants it explicitly to a partner's key.
ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.VIEWER: frozenset(_VIEWER),
    Role.REPORTER: frozenset(_REPORTER),
    Role.ADMIN: frozenset(_ADMIN),
}

ALL_SCOPES = frozenset(Scope)


def parse_scopes(values: list[str] | tuple[str, ...]) -> frozenset[Scope]:
    """Scopes from strings; an unknown scope raises ValueError naming it."""
    unknown = [value for value in values if value not in {s.value for s in Scope}]
    if unknown:
        raise ValueError(f"unknown scope(s): {', '.join(unknown)}; known: {', '.join(s.value for s in Scope)}")
    return frozenset(Scope(value) for value in values)


def effective_scopes(role: str, extra: list[str] | tuple[str, ...]) -> frozenset[Scope]:
    granted = ROLE_SCOPES.get(Role(role), frozenset()) if role else frozenset()
    return granted | parse_scopes(extra)
