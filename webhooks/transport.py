"""The one HTTP client of the webhooks app: POST a body to a pinned address, with short timeouts.

The connection goes to PinnedUrl.address (checked by webhooks/ssrf.py), never to a fresh DNS answer; the
Host header and, for https, the TLS SNI and certificate check use the URL's name. No redirects are followed,
no proxy from the environment is used, and only the first bytes of the answer are read. Certificates are
verified against LANTERN_WEBHOOK_CA_FILE when it is set (a PEM file: a private CA, or the tests' throwaway
CA), otherwise against the certifi bundle.

Each worker process keeps a few clients, one per (scheme, address, port, name, CA file), so consecutive
deliveries to one receiver reuse its keep-alive connection (and TLS session) while a connection verified for
one name, or against one CA file, is never reused for another on the same address.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import cache

import certifi
import httpx
from django.conf import settings

from webhooks.ssrf import PinnedUrl


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt produced: a status code, or an error when no answer came."""

    status_code: int | None
    latency_ms: int
    error: str = ""
    excerpt: str = ""
    retry_after_s: float | None = None


_CLIENTS_MAX = 32
_clients: OrderedDict[tuple[str, str, int, str, str], httpx.Client] = OrderedDict()
_clients_lock = threading.Lock()


@cache
def _tls_context(ca_file: str) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=ca_file or certifi.where())


def _client(pinned: PinnedUrl) -> httpx.Client:
    """This process's client for the pinned destination, least recently used ones closed beyond 32."""
    ca_file = settings.LANTERN_WEBHOOK_CA_FILE
    key = (pinned.scheme, pinned.address, pinned.port, pinned.host, ca_file)
    with _clients_lock:
        client = _clients.pop(key, None)
        if client is None:
            client = httpx.Client(follow_redirects=False, trust_env=False, verify=_tls_context(ca_file),
                                  limits=httpx.Limits(max_connections=4, max_keepalive_connections=2,
                                                      keepalive_expiry=30))
        _clients[key] = client
        while len(_clients) > _CLIENTS_MAX:
            _clients.popitem(last=False)[1].close()
        return client


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def post(pinned: PinnedUrl, body: bytes, headers: dict[str, str]) -> Outcome:
    """POST `body` to the pinned address. Never raises for network trouble: it is an Outcome with an error."""
    timeout = httpx.Timeout(connect=settings.LANTERN_WEBHOOK_CONNECT_TIMEOUT_S,
                            read=settings.LANTERN_WEBHOOK_READ_TIMEOUT_S,
                            write=settings.LANTERN_WEBHOOK_READ_TIMEOUT_S,
                            pool=settings.LANTERN_WEBHOOK_CONNECT_TIMEOUT_S)
    extensions = {"sni_hostname": pinned.host} if pinned.scheme == "https" else {}
    limit = settings.LANTERN_WEBHOOK_RESPONSE_EXCERPT_BYTES
    started = time.monotonic()
    try:
        with _client(pinned).stream("POST", pinned.request_url, content=body, timeout=timeout,
                                    headers={**headers, "Host": pinned.host_header},
                                    extensions=extensions) as response:
            received = bytearray()
            for chunk in response.iter_raw():
                received.extend(chunk)
                if len(received) >= limit:
                    break
    except httpx.TimeoutException as exc:
        return Outcome(None, _elapsed_ms(started), f"timed out: {type(exc).__name__}")
    except httpx.HTTPError as exc:
        return Outcome(None, _elapsed_ms(started), f"network error: {type(exc).__name__}: {exc}"[:500])
    except ssl.SSLError as exc:
        return Outcome(None, _elapsed_ms(started), f"TLS error: {exc}"[:500])
    except OSError as exc:
        return Outcome(None, _elapsed_ms(started), f"network error: {exc}"[:500])
    return Outcome(response.status_code, _elapsed_ms(started),
                   excerpt=bytes(received[:limit]).decode("utf-8", "replace"),
                   retry_after_s=_retry_after(response.headers.get("retry-after")))


def _elapsed_ms(started: float) -> int:
    return max(0, round((time.monotonic() - started) * 1000))
