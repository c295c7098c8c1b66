"""Which worker runs what. Each worker reports the queues it consumes and the engines it has (with their
versions) when it starts and then periodically; a scan whose engines no live worker has is refused at
submission with a 422 instead of waiting forever."""

from __future__ import annotations

import logging
import re
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from config.errors import TargetInvalid
from engines.binaries import resolve_binary
from engines.registry import all_engines
from scans.models import Worker

logger = logging.getLogger(__name__)
_VERSION = re.compile(r"(\d+\.\d+(?:\.\d+)*(?:[-.+~][0-9A-Za-z.]+)?)")


def engines_present() -> dict[str, dict[str, str]]:
    """{engine: {"version": "checking", "path"}} at once: admission needs only presence, and asking some
    tools for their version takes seconds (testssl.sh about 4 s)."""
    found = {engine.name: resolve_binary(engine.executable, settings.ENGINE_BINARIES) for engine in all_engines()}
    return {name: {"version": "checking", "path": path} for name, path in found.items() if path}


def engine_versions() -> dict[str, dict[str, str]]:
    """{engine: {"version", "path"}} for every registered engine whose tool is installed here."""
    def probe(engine) -> tuple[str, dict[str, str] | None]:
        binary = resolve_binary(engine.executable, settings.ENGINE_BINARIES)
        if binary is None:
            return engine.name, None
        try:
            out = subprocess.run(engine.version_argv(binary), capture_output=True, text=True, timeout=20,
                                 stdin=subprocess.DEVNULL)
            text = (out.stdout + "\n" + out.stderr).strip()
        except (OSError, subprocess.TimeoutExpired) as exc:
            text = f"unknown ({type(exc).__name__})"
        match = _VERSION.search(text)
        return engine.name, {"version": match.group(1) if match else "unknown", "path": binary}

    with ThreadPoolExecutor(max_workers=6) as pool:
        return {name: found for name, found in pool.map(probe, all_engines()) if found is not None}


def worker_report(*, name: str, queues: list[str], engines: dict[str, Any] | None = None) -> None:
    """Upsert this worker's row: last_seen now, and its engines when they were (re)checked. Idempotent."""
    now = timezone.now()
    defaults: dict[str, Any] = {"queues": sorted(queues), "last_seen": now}
    if engines is not None:
        defaults.update(engines=engines, engines_checked_at=now)
    worker, created = Worker.objects.update_or_create(
        name=name, defaults=defaults,
        create_defaults={**defaults, "started_at": now, "engines": engines or {}, "engines_checked_at": now})
    if not created and engines is not None:
        Worker.objects.filter(pk=worker.pk).update(started_at=worker.started_at)


def live_workers() -> list[Worker]:
    fresh = timezone.now() - timedelta(seconds=settings.LANTERN_WORKER_STALE_S)
    return list(Worker.objects.filter(last_seen__gte=fresh).order_by("name"))


def engines_require_live_worker(*, engines: list[str], queue: str) -> None:
    """422 unless some live worker consuming `queue` has every one of `engines`."""
    if not settings.LANTERN_REQUIRE_LIVE_ENGINES or not engines:
        return
    workers = [w for w in live_workers() if queue in w.queues]
    if any(all(engine in w.engines for engine in engines) for w in workers):
        return
    have = sorted({engine for w in workers for engine in w.engines})
    missing = [engine for engine in engines if engine not in have] or engines
    raise TargetInvalid(
        f"no live worker can run {', '.join(missing)} (queue {queue}); "
        + (f"workers on that queue have: {', '.join(have)}" if have else "no worker serves that queue"),
        field="engine")


def queue_for(engines: list[str]) -> str:
    """The queue of the first engine that has its own (LANTERN_ENGINE_QUEUES), else the shared one."""
    for engine in engines:
        if engine in settings.LANTERN_ENGINE_QUEUES:
            return settings.LANTERN_ENGINE_QUEUES[engine]
    return "scans"


def start_reporting(*, name: str, queues: list[str]) -> threading.Thread:
    """In a worker's main process: report now, then refresh last_seen every LANTERN_WORKER_REPORT_S and the
    engine versions every LANTERN_WORKER_ENGINES_RECHECK_S, until the process ends."""
    def loop() -> None:
        last_check, engines = None, engines_present()
        worker_report(name=name, queues=queues, engines=engines)
        while True:
            try:
                close_old_connections()
                if last_check is None or (timezone.now() - last_check).total_seconds() >= \
                        settings.LANTERN_WORKER_ENGINES_RECHECK_S:
                    engines, last_check = engine_versions(), timezone.now()
                # What was found is sent every time, so a lost row comes back whole.
                worker_report(name=name, queues=queues, engines=engines)
            except Exception:  # noqa: BLE001  (a reporting hiccup must not kill the worker; retried next tick)
                logger.exception("worker %s could not report itself", name)
            stop.wait(settings.LANTERN_WORKER_REPORT_S)

    stop = threading.Event()
    thread = threading.Thread(target=loop, name="lantern-worker-report", daemon=True)
    thread.start()
    return thread
