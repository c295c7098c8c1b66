"""Writes for scans: create (validate, compile a plan, queue), cancel, and the reconciler.

Every API surface calls scan_create with the fields it understands; none validates targets or options on
its own. Work is enqueued only after commit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from config.errors import Conflict, NotFound, TargetInvalid, ValidationFailed
from engines.options import OptionTypeError
from engines.registry import UnknownEngine, get_engine
from scans.events import event_record
from scans.models import Priority, Scan, ScanStatus
from scans.plans import Plan, plan_for_engine, plan_for_scan_type
from scans.policy import admit
from scans.selectors import as_uuid
from scans.targets import TargetError, parse_target

logger = logging.getLogger(__name__)

SCAN_TYPES = ("quick", "full", "compliance")
PRIORITY_NAMES = {p.label: p.value for p in Priority}


@dataclass(frozen=True)
class ScanRequest:
    """What any surface asks for, already in Lantern's words. Exactly one of engine / scan_type is set."""

    target: Any
    target_type: str | None = None
    engine: str = ""
    options: Any = None
    scan_type: str = ""
    ports: str | None = None
    priority: str = "normal"
    name: str = ""
    tags: tuple[str, ...] = ()
    timeout_s: int | None = None
    surface: str = "native"
    extra: dict[str, Any] = field(default_factory=dict)


def _plan(request: ScanRequest, target_type: str) -> tuple[Plan, dict[str, Any], int]:
    """(plan, validated options, default timeout) for the request."""
    if request.engine:
        try:
            engine = get_engine(request.engine)
        except UnknownEngine as exc:
            raise ValidationFailed(str(exc), field="engine") from None
        if target_type not in engine.target_types:
            raise ValidationFailed(
                f"engine {engine.name} does not accept {target_type} targets "
                f"(it accepts: {', '.join(sorted(engine.target_types))})", field="target_type")
        try:
            options = engine.validate_options(request.options, target_type=target_type)
        except OptionTypeError as exc:
            raise ValidationFailed(str(exc), field=f"options.{exc.option}") from None
        return plan_for_engine(engine.name, options), options, engine.default_timeout_s
    if request.scan_type not in SCAN_TYPES:
        raise ValidationFailed(f"scan_type must be one of {', '.join(SCAN_TYPES)}", field="scan_type")
    try:
        plan = plan_for_scan_type(request.scan_type, target_type=target_type, ports=request.ports)
    except OptionTypeError as exc:
        raise ValidationFailed(f"ports: {exc}", field="ports") from None
    except ValueError as exc:
        raise ValidationFailed(str(exc), field="target") from None
    return plan, {"ports": request.ports} if request.ports else {}, get_engine("nmap").default_timeout_s


def _timeout(request: ScanRequest, default_s: int) -> int:
    if request.timeout_s is None:
        return min(default_s, settings.SCAN_ENGINE_TIMEOUT_S)
    if not 1 <= request.timeout_s <= settings.SCAN_ENGINE_TIMEOUT_S:
        raise ValidationFailed(f"timeout must be between 1 and {settings.SCAN_ENGINE_TIMEOUT_S} seconds",
                               field="timeout")
    return request.timeout_s


def scan_create(*, tenant_id: int, api_key_pk: int | None, request: ScanRequest) -> Scan:
    """Validate the request, compile its plan and queue the scan. Writes a Scan and its scan.queued event;
    after commit sends one slot token so a worker claims the next eligible scan. Not idempotent."""
    try:
        target = parse_target(request.target, request.target_type)
        admitted = admit(target)
    except TargetError as exc:
        raise TargetInvalid(str(exc), field="target") from None
    if request.priority not in PRIORITY_NAMES:
        raise ValidationFailed(f"priority must be one of {', '.join(PRIORITY_NAMES)}", field="priority")
    plan, options, default_timeout = _plan(request, target.type.value)
    with transaction.atomic():
        scan = Scan.objects.create(
            tenant_id=tenant_id, created_by_key_id=api_key_pk, surface=request.surface, name=request.name[:200],
            target=str(request.target)[:2048], target_value=target.value, target_type=target.type.value,
            target_address=admitted.pinned_address or "", engine=request.engine, scan_type=request.scan_type,
            options=options, plan=plan, priority=PRIORITY_NAMES[request.priority], tags=list(request.tags),
            timeout_s=_timeout(request, default_timeout), extra=request.extra,
        )
        event_record(tenant_id=tenant_id, scan_id=scan.pk, type="scan.queued",
                     payload={"target": scan.target_value, "priority": request.priority})
        transaction.on_commit(lambda: scan_slots_offer(count=1))
    return scan


def scan_cancel(*, tenant_id: int, scan_id: str) -> Scan:
    """Cancel a queued scan at once, or flag a running one so its worker kills the tool (within
    LANTERN_CANCEL_POLL_S). Writes status/cancel_requested and a scan.cancelled event for a queued scan.
    Idempotent for a scan already cancelled; a completed or failed scan is a 409."""
    with transaction.atomic():
        scan_uuid = as_uuid(scan_id)
        scan = Scan.objects.for_tenant(tenant_id).select_for_update().filter(pk=scan_uuid).first() \
            if scan_uuid else None
        if scan is None:
            raise NotFound("Scan not found")
        if scan.status == ScanStatus.QUEUED:
            scan.status, scan.completed_at, scan.cancel_requested = ScanStatus.CANCELLED, timezone.now(), True
            scan.error_reason = "cancelled while queued"
            scan.save(update_fields=["status", "completed_at", "cancel_requested", "error_reason"])
            event_record(tenant_id=tenant_id, scan_id=scan.pk, type="scan.cancelled",
                         payload={"status": "cancelled", "reason": scan.error_reason})
        elif scan.status == ScanStatus.RUNNING:
            scan.cancel_requested = True
            scan.save(update_fields=["cancel_requested"])
        elif scan.status != ScanStatus.CANCELLED:
            raise Conflict(f"Scan already {scan.status}; only queued or running scans can be cancelled")
    return scan


def scan_slots_offer(*, count: int) -> None:
    """Send `count` slot tokens to the scans queue; each lets one worker claim one eligible scan.
    Surplus tokens are harmless: a token that finds nothing eligible ends at once."""
    from scans.tasks import scan_slot_task  # tasks import services; this is the one lazy import back

    for _ in range(count):
        scan_slot_task.delay()


def scans_reconcile(*, now=None) -> dict[str, int]:
    """Recover from lost workers and lost broker messages. A running scan whose heartbeat is older than
    LANTERN_SCAN_STALE_S goes back to queued (or fails after LANTERN_SCAN_MAX_ATTEMPTS attempts); then
    tokens are topped up so every eligible queued scan has one. Idempotent."""
    from scans.dispatch import scans_eligible_count

    now = now or timezone.now()
    stale_before = now - timedelta(seconds=settings.LANTERN_SCAN_STALE_S)
    requeued = failed = 0
    stale = Scan.objects.filter(status=ScanStatus.RUNNING, heartbeat_at__lt=stale_before)
    for scan in stale.only("pk", "tenant_id", "attempts", "worker"):
        if scan.attempts < settings.LANTERN_SCAN_MAX_ATTEMPTS:
            changed = Scan.objects.filter(pk=scan.pk, status=ScanStatus.RUNNING,
                                          heartbeat_at__lt=stale_before).update(
                status=ScanStatus.QUEUED, progress=0, phase="", current_tool="", phases_completed=[],
                worker="")
            requeued += changed
            if changed:
                event_record(tenant_id=scan.tenant_id, scan_id=scan.pk, type="scan.queued",
                             payload={"reason": f"worker {scan.worker} stopped answering; re-queued"})
        else:
            reason = f"worker {scan.worker} stopped answering (attempt {scan.attempts}); giving up"
            changed = Scan.objects.filter(pk=scan.pk, status=ScanStatus.RUNNING,
                                          heartbeat_at__lt=stale_before).update(
                status=ScanStatus.FAILED, completed_at=now, error_reason=reason)
            failed += changed
            if changed:
                event_record(tenant_id=scan.tenant_id, scan_id=scan.pk, type="scan.failed",
                             payload={"status": "failed", "reason": reason})
    missing = max(0, scans_eligible_count() - _tokens_waiting())
    if missing:
        scan_slots_offer(count=min(missing, 1000))
    return {"requeued": requeued, "failed": failed, "tokens": missing}


def _tokens_waiting() -> int:
    """Slot tokens already in the broker's scans queue (so the top-up does not pile them up)."""
    from config.celery import app

    with app.connection_for_read() as connection:
        try:
            return connection.default_channel.queue_declare("scans", passive=True).message_count
        except connection.channel_errors:
            return 0  # never declared (a fresh or flushed broker): nothing waits in it
