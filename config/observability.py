"""Metrics and structured logs.

Counters and histograms are kept in Redis hashes, so every web process and worker adds to the same
figures; /metrics renders them with the gauges read from PostgreSQL at scrape time (scans by status and
priority, queued scans per queue) and the broker's queue depths, in Prometheus' text format.

Logs: with LANTERN_LOG_FORMAT=json every line is one JSON object; lines written while a scan runs carry its
scan_id and tenant_id (a context variable set by the worker), whichever module logged them.
"""

from __future__ import annotations

import contextvars
import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings

from tenants.ratelimit import redis_client

_SCAN_CONTEXT: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("lantern_scan", default=None)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
KEY = "lantern:metrics"
logger = logging.getLogger(__name__)


@contextmanager
def scan_log_context(*, scan_id: str, tenant_id: int) -> Iterator[None]:
    token = _SCAN_CONTEXT.set({"scan_id": str(scan_id), "tenant_id": tenant_id})
    try:
        yield
    finally:
        _SCAN_CONTEXT.reset(token)


class ScanContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        context = _SCAN_CONTEXT.get()
        if context:
            for name, value in context.items():
                setattr(record, name, value)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname, "logger": record.name, "message": record.getMessage(),
        }
        for name in ("scan_id", "tenant_id"):
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def _labels(labels: dict[str, str]) -> str:
    return ",".join(f'{name}="{str(value).replace(chr(34), "")}"' for name, value in sorted(labels.items()))


def metric_add(name: str, labels: dict[str, str], value: float = 1.0) -> None:
    """Add to a counter. Never fails the caller: metrics are not worth a failed request or scan."""
    try:
        redis_client().hincrbyfloat(KEY, f"{name}{{{_labels(labels)}}}", value)
    except Exception:  # noqa: BLE001
        logger.debug("metric %s not recorded", name, exc_info=True)


def metric_observe(name: str, labels: dict[str, str], seconds: float) -> None:
    """One observation of a histogram (cumulative buckets, sum and count), in one round trip."""
    try:
        pipe = redis_client().pipeline(transaction=False)
        for bound in (*LATENCY_BUCKETS, "+Inf"):
            if bound == "+Inf" or seconds <= bound:
                pipe.hincrbyfloat(KEY, f"{name}_bucket{{{_labels({**labels, 'le': str(bound)})}}}", 1)
        pipe.hincrbyfloat(KEY, f"{name}_sum{{{_labels(labels)}}}", seconds)
        pipe.hincrbyfloat(KEY, f"{name}_count{{{_labels(labels)}}}", 1)
        pipe.execute()
    except Exception:  # noqa: BLE001
        logger.debug("metric %s not recorded", name, exc_info=True)


class RequestMetricsMiddleware:
    """API latency per route and status class (lantern_http_request_seconds)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        if match is not None and request.path.startswith(("/api/", "/scan-api/")):
            metric_observe("lantern_http_request_seconds",
                           {"route": match.view_name or match.route, "method": request.method,
                            "status": f"{response.status_code // 100}xx"}, time.perf_counter() - started)
        return response


def stored_metrics() -> dict[str, float]:
    return {field.decode(): float(value) for field, value in redis_client().hgetall(KEY).items()}
