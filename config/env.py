"""The only module that reads os.environ. Strict parsing: a malformed value fails at start-up."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of {sorted(_TRUE | _FALSE)}, not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_secret(name: str, default: str | None = None) -> str:
    """A secret from NAME_FILE (a path) or NAME; without a default, a missing secret stops start-up."""
    if path := os.environ.get(f"{name}_FILE"):
        return Path(path).read_text().strip()
    if value := os.environ.get(name):
        return value
    if default is None:
        raise ImproperlyConfigured(f"{name} or {name}_FILE must be set")
    return default


def database_from_url(url: str, *, pool: bool = False) -> dict[str, object]:
    """Django DATABASES entry from postgres://user:pass@host:port/name (PostgreSQL only).

    pool=True (the ASGI server): one connection pool per process, shared by its threads. Under ASGI every
    request runs in a thread of its own, and persistent per-thread connections pile up until PostgreSQL
    refuses more ("too many clients", seen in the load test). Workers and commands keep plain persistent
    connections: a pool does not survive Celery's fork (its threads stay in the parent)."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise ImproperlyConfigured(f"DATABASE_URL must be a postgres:// URL, not {parts.scheme!r}")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")) or "lantern",
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        **({"CONN_MAX_AGE": 0, "OPTIONS": {"pool": {"min_size": 1, "max_size": 8, "timeout": 10}}} if pool
           else {"CONN_MAX_AGE": 60, "CONN_HEALTH_CHECKS": True}),
    }
