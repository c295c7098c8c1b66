"""GET /metrics in Prometheus' text format, for a scraper holding LANTERN_METRICS_TOKEN (Bearer) or for a
staff session. Without a configured token and without staff rights it is a plain 404."""

from __future__ import annotations

import hmac
from collections import defaultdict

from django.conf import settings
from django.http import Http404, HttpResponse

from config.observability import stored_metrics
from scans.selectors import scan_counts_by_status_priority, scans_queued_by_queue
from django.db.models import Count

from webhooks.models import Delivery

HELP = {
    "lantern_scans": ("gauge", "Scans by status and priority"),
    "lantern_scans_queued": ("gauge", "Scans waiting in PostgreSQL, per Celery queue"),
    "lantern_broker_queue_depth": ("gauge", "Messages waiting in the broker, per queue"),
    "lantern_engine_runs_total": ("counter", "Engine steps run, by engine and outcome"),
    "lantern_engine_run_seconds_total": ("counter", "Seconds spent in engine steps, by engine"),
    "lantern_webhook_deliveries": ("gauge", "Webhook deliveries by status"),
    "lantern_http_request_seconds": ("histogram", "API latency by route, method and status class"),
}


def _allowed(request) -> bool:
    token = settings.LANTERN_METRICS_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token):
        return True
    return bool(getattr(request, "user", None) and request.user.is_authenticated and request.user.is_staff)


def _broker_depths() -> dict[str, int]:
    from config.celery import app

    depths = {}
    with app.connection_for_read() as connection:
        for queue in settings.LANTERN_WORKER_QUEUES.split(","):
            try:
                depths[queue] = connection.default_channel.queue_declare(queue, passive=True).message_count
            except connection.channel_errors:
                depths[queue] = 0
    return depths


def metrics(request) -> HttpResponse:
    if not _allowed(request):
        raise Http404
    series: dict[str, list[str]] = defaultdict(list)
    for (status, priority), count in scan_counts_by_status_priority().items():
        series["lantern_scans"].append(f'lantern_scans{{status="{status}",priority="{priority}"}} {count}')
    for queue, count in scans_queued_by_queue().items():
        series["lantern_scans_queued"].append(f'lantern_scans_queued{{queue="{queue}"}} {count}')
    for queue, depth in _broker_depths().items():
        series["lantern_broker_queue_depth"].append(f'lantern_broker_queue_depth{{queue="{queue}"}} {depth}')
    deliveries = Delivery.objects.values_list("status").annotate(n=Count("pk")).order_by()  # operator-wide
    for status, count in deliveries:
        series["lantern_webhook_deliveries"].append(f'lantern_webhook_deliveries{{status="{status}"}} {count}')
    for key, value in sorted(stored_metrics().items()):
        family = key.split("{", 1)[0].removesuffix("_bucket").removesuffix("_sum").removesuffix("_count")
        series[family].append(f"{key} {value:g}")
    lines = []
    for family, rows in series.items():
        kind, text = HELP.get(family, ("untyped", family))
        lines += [f"# HELP {family} {text}", f"# TYPE {family} {kind}", *rows]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; version=0.0.4; charset=utf-8")
