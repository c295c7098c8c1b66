"""Checks of what a client gives as a receiver: URLs (the SSRF guard), seed 001 webhook headers and the
events an endpoint subscribes to. webhooks.services re-exports them: the scan surfaces call the first two
when a scan is submitted with a webhook or a callbackUrl, and delivery checks both again before every
attempt."""

from __future__ import annotations

import re
from typing import Any

from config.errors import ValidationFailed
from scans.events import EVENT_TYPES
from webhooks.errors import WebhookUrlRefused
from webhooks.ssrf import UrlRefused, UrlUnresolvable, url_pin

MAX_HEADERS = 20
MAX_HEADER_NAME = 128
MAX_HEADER_VALUE = 2048
MAX_HEADERS_TOTAL = 8192
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
# Hop-by-hop headers, framing and routing headers, and the ones Lantern sets itself.
FORBIDDEN_HEADERS = frozenset({
    "host", "content-length", "content-type", "content-encoding", "transfer-encoding", "connection",
    "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te", "trailer",
    "trailers", "upgrade", "expect", "forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto",
    "x-real-ip",
})
_FORBIDDEN_PREFIXES = ("x-lantern-", "proxy-", "sec-")


def webhook_headers_validate(headers: Any, *, field: str = "webhook.headers") -> list[dict[str, str]]:
    """Seed 001 webhook headers, `[{"key": ..., "value": ...}]`, checked and returned trimmed. Refused
    (ValidationFailed, 400, naming the header): a non-list, more than 20 headers or 8 KB in all, a name that
    is not an HTTP token, a duplicate name, a hop-by-hop / Host / Content-Length / Content-Type / X-Lantern-*
    name, a value with CR, LF or another control character, a non-ASCII value, or one over 2 KB.
    Writes nothing."""
    if headers is None:
        return []
    if not isinstance(headers, list):
        raise ValidationFailed(f"{field} must be a list of {{key, value}} objects", field=field)
    if len(headers) > MAX_HEADERS:
        raise ValidationFailed(f"{field} may hold at most {MAX_HEADERS} headers", field=field)
    seen: set[str] = set()
    total = 0
    clean: list[dict[str, str]] = []
    for index, item in enumerate(headers):
        where = f"{field}[{index}]"
        well_formed = (isinstance(item, dict) and not set(item) - {"key", "value"}
                       and isinstance(item.get("key"), str) and isinstance(item.get("value", ""), str))
        if not well_formed:
            raise ValidationFailed(f"{where} must be an object with a string key and a string value",
                                   field=where)
        key, value = item["key"].strip(), item.get("value", "").strip(" \t")
        if not key or len(key) > MAX_HEADER_NAME or not _TOKEN.match(key):
            raise ValidationFailed(f"{where}: {key[:40]!r} is not a valid header name", field=f"{where}.key")
        lowered = key.lower()
        if lowered in FORBIDDEN_HEADERS or lowered.startswith(_FORBIDDEN_PREFIXES):
            raise ValidationFailed(f"{where}: the {key} header cannot be set on a webhook",
                                   field=f"{where}.key")
        if lowered in seen:
            raise ValidationFailed(f"{where}: the {key} header is given twice", field=f"{where}.key")
        if any(ch in "\r\n\x00" for ch in value) or any((ord(ch) < 0x20 and ch != "\t") or ord(ch) == 0x7F
                                                         for ch in value):
            raise ValidationFailed(f"{where}: the value of {key} contains a line break or control character",
                                   field=f"{where}.value")
        if not value.isascii():
            raise ValidationFailed(f"{where}: the value of {key} must be ASCII", field=f"{where}.value")
        if len(value) > MAX_HEADER_VALUE:
            raise ValidationFailed(
                f"{where}: the value of {key} is longer than {MAX_HEADER_VALUE} characters",
                field=f"{where}.value")
        seen.add(lowered)
        total += len(key) + len(value)
        clean.append({"key": key, "value": value})
    if total > MAX_HEADERS_TOTAL:
        raise ValidationFailed(f"{field} are larger than {MAX_HEADERS_TOTAL} bytes in all", field=field)
    return clean


def webhook_events_validate(events: Any) -> list[str]:
    """Event names an endpoint subscribes to: a non-empty list of names of the scan event stream, returned
    without duplicates in the order given. Raises ValidationFailed (400) naming the unknown ones."""
    if not isinstance(events, list) or not events or not all(isinstance(name, str) for name in events):
        raise ValidationFailed("events must be a non-empty list of event names", field="events")
    unknown = sorted({name for name in events if name not in EVENT_TYPES})
    if unknown:
        raise ValidationFailed(f"unknown event(s): {', '.join(unknown)}; known: {', '.join(EVENT_TYPES)}",
                               field="events")
    return list(dict.fromkeys(events))


def webhook_url_validate(url: Any, *, https_only: bool = False, field: str = "url") -> str:
    """A receiver URL checked by the SSRF guard (its form, then every address its name resolves to) and
    returned normalised. `https_only` is for seed 002's callbackUrl (http stays allowed for loopback when
    LANTERN_WEBHOOK_ALLOW_LOOPBACK is on). Raises WebhookUrlRefused (422) with the reason. Writes nothing;
    resolves the name once."""
    try:
        return url_pin(url, https_only=https_only).url
    except (UrlRefused, UrlUnresolvable) as exc:
        raise WebhookUrlRefused(f"webhook URL refused: {exc}", field=field) from None
