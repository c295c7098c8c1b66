"""Writes for scans: create (validate, compile a plan, queue), cancel, and the reconciler.

Every API surface calls scan_create with the fields it understands; none validates targets or options on
its own. Work is enqueued only after commit.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from config.errors import Conflict, NotFound, TargetInvalid, ValidationFailed
from engines.options import OptionTypeError
from engines.registry import UnknownEngine, get_engine
from scans.events import event_record
from scans.models import Priority, Scan, ScanStatus
from scans.plans import Plan, plan_engines, plan_for_engine, plan_for_scan_type
from scans.profiles import SENTINEL_SCHEMA, ProfileError, plan_for_profile, plan_for_sentinel
from scans.policy import admit
from scans.quota import backlog_check, quota_check_locked
from scans.selectors import as_uuid
from scans.targets import Target, TargetError, parse_target
from scans.workers import engines_require_live_worker, queue_for
from tenants.scope import asset_is_non_production, network_size_check, scope_check
from tenants.services import tenant_oem_credit_consume

logger = logging.getLogger(__name__)

SCAN_TYPES = ("quick", "full", "compliance")
SENTINEL_TIMEOUT_S = 3 * 3600  # seed 002: deep runs 1-3 hours
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
    profile: str = ""
    consume_oem_credit: bool = False
    non_production: bool = False

    def digest(self, target: Target) -> str:
        """What was asked, canonically: two requests with the same digest ask for the same scan."""
        asked = {"surface": self.surface, "target": target.value, "type": target.type.value, "engine": self.engine,
                 "options": self.options, "scan_type": self.scan_type, "ports": self.ports, "profile": self.profile}
        return hashlib.sha256(json.dumps(asked, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class Submitted:
    scan: Scan
    created: bool  # False when a repeated submission returned an existing scan


def _plan(request: ScanRequest, target_type: str) -> tuple[Plan, dict[str, Any], int]:
    """(plan, validated options, default timeout) for the request."""
    try:
        if request.profile:
            plan, timeout_s = plan_for_profile(request.profile, target_type=target_type,
                                               custom=request.options or {})
            return plan, dict(request.options or {}), timeout_s
        if request.engine == "sentinel":
            options = SENTINEL_SCHEMA.validate(request.options)
            return plan_for_sentinel(options, target_type=target_type), options, SENTINEL_TIMEOUT_S
    except OptionTypeError as exc:
        raise ValidationFailed(str(exc), field=f"options.{exc.option}") from None
    except ProfileError as exc:
        raise ValidationFailed(str(exc), field=exc.field) from None
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
            options = engine.validate_options(request.options, target_type=target_type,
                                              non_production=request.non_production)
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


def _production_gated(engine_name: str) -> bool:
    """Whether the engine's options depend on the target being marked non-production (sqlmap, nikto)."""
    try:
        return bool(engine_name) and get_engine(engine_name).production_gated
    except UnknownEngine:
        return False  # sentinel, or a name _plan will refuse


@dataclass(frozen=True)
class CheckedRequest:
    target: Target
    pinned_address: str | None
    plan: Plan
    options: dict[str, Any]
    timeout_s: int


def scan_request_check(request: ScanRequest, *, tenant_id: int) -> CheckedRequest:
    """Everything about a request that can be wrong without looking at the tenant's usage: the target
    (syntax, the installation's policy, and — when LANTERN_SCOPE_ENFORCED — the tenant's verified assets),
    priority, engine and options, the plan, the timeout. Writes nothing."""
    try:
        target = parse_target(request.target, request.target_type)
        admitted = admit(target)
    except TargetError as exc:
        raise TargetInvalid(str(exc), field="target") from None
    network_size_check(tenant_id=tenant_id, target=target)  # the plan's largest network, always
    if settings.LANTERN_SCOPE_ENFORCED:
        scope_check(tenant_id=tenant_id, target=target)  # only the tenant's verified assets; 403 otherwise
    # seed 002: sqlmap's most aggressive settings only on targets the tenant marked non-production
    if _production_gated(request.engine):
        request = replace(request, non_production=asset_is_non_production(tenant_id=tenant_id, target=target))
    if request.priority not in PRIORITY_NAMES:
        raise ValidationFailed(f"priority must be one of {', '.join(PRIORITY_NAMES)}", field="priority")
    plan, options, default_timeout = _plan(request, target.type.value)
    return CheckedRequest(target=target, pinned_address=admitted.pinned_address, plan=plan, options=options,
                          timeout_s=_timeout(request, default_timeout))


def scan_create(*, tenant_id: int, api_key_pk: int | None, request: ScanRequest,
                idempotency_key: str = "") -> Scan:
    """Validate the request, check back-pressure, quota and OEM credits, compile the plan and queue the scan.
    Writes a Scan and its scan.queued event (and takes an OEM credit when asked); after commit sends one slot
    token so a worker claims the next eligible scan. Not idempotent (see scan_submit)."""
    checked = scan_request_check(request, tenant_id=tenant_id)
    target = checked.target
    queue = queue_for(plan_engines(checked.plan, required_only=True))
    engines_require_live_worker(engines=plan_engines(checked.plan, required_only=True), queue=queue)
    backlog_check(tenant_id=tenant_id)
    with transaction.atomic():
        quota_check_locked(tenant_id=tenant_id)
        if request.consume_oem_credit:
            tenant_oem_credit_consume(tenant_id=tenant_id)
        scan = Scan.objects.create(
            tenant_id=tenant_id, created_by_key_id=api_key_pk, surface=request.surface, name=request.name[:200],
            target=str(request.target)[:2048], target_value=target.value, target_type=target.type.value,
            target_address=checked.pinned_address or "", destination=_destination(target),
            engine=request.engine, scan_type=request.scan_type, profile=request.profile, options=checked.options,
            plan=checked.plan, priority=PRIORITY_NAMES[request.priority], tags=list(request.tags),
            timeout_s=checked.timeout_s, extra=request.extra,
            idempotency_key=idempotency_key, request_digest=request.digest(target), queue=queue,
        )
        # The slot token goes first after commit: a worker can claim the scan while its scan.queued event is
        # still being published and handed to the webhook sink (on_commit hooks run in this order).
        transaction.on_commit(lambda: scan_slots_offer(count=1, queue=queue))
        event_record(tenant_id=tenant_id, scan_id=scan.pk, type="scan.queued",
                     payload={"target": scan.target_value, "priority": request.priority})
    return scan


def _destination(target: Target) -> str:
    """What the scan sends traffic to, for the per-destination politeness cap."""
    return (target.host or target.value).lower()


def scan_submit(*, tenant_id: int, api_key_pk: int | None, request: ScanRequest, idempotency_key: str = "",
                reuse_recent: bool = False) -> Submitted:
    """scan_create, unless the same request was already submitted: with an Idempotency-Key, the scan made
    with that key (a different request under the same key is a 409); with reuse_recent (seed 001), a scan of
    the same request that is queued, running, or completed within LANTERN_REPEAT_WINDOW_S. Idempotent."""
    if idempotency_key:
        existing = _scan_with_key(tenant_id, idempotency_key)
        if existing is not None:
            return Submitted(_same_request(existing, request), created=False)
    elif reuse_recent:
        existing = _recent_repeat(tenant_id, request)
        if existing is not None:
            return Submitted(existing, created=False)
    try:
        scan = scan_create(tenant_id=tenant_id, api_key_pk=api_key_pk, request=request,
                           idempotency_key=idempotency_key)
    except IntegrityError:
        # A concurrent request with the same key won the race: answer with its scan.
        existing = _scan_with_key(tenant_id, idempotency_key)
        if existing is None:
            raise
        return Submitted(_same_request(existing, request), created=False)
    return Submitted(scan, created=True)


def _scan_with_key(tenant_id: int, key: str) -> Scan | None:
    return Scan.objects.for_tenant(tenant_id).filter(idempotency_key=key).first() if key else None


def _same_request(scan: Scan, request: ScanRequest) -> Scan:
    try:
        digest = request.digest(parse_target(request.target, request.target_type))
    except TargetError:
        digest = ""
    if scan.request_digest != digest:
        raise Conflict("This Idempotency-Key was already used for a different request", field="Idempotency-Key")
    return scan


def _recent_repeat(tenant_id: int, request: ScanRequest) -> Scan | None:
    try:
        digest = request.digest(parse_target(request.target, request.target_type))
    except TargetError:
        return None  # scan_create will explain what is wrong with it
    since = timezone.now() - timedelta(seconds=settings.LANTERN_REPEAT_WINDOW_S)
    return (Scan.objects.for_tenant(tenant_id)
            .filter(request_digest=digest)
            .filter(Q(status__in=[ScanStatus.QUEUED, ScanStatus.RUNNING])
                    | Q(status=ScanStatus.COMPLETED, completed_at__gte=since))
            .order_by("-created_at").first())


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


def scan_slots_offer(*, count: int, queue: str = "scans") -> None:
    """Send `count` slot tokens to `queue`; each lets one worker of that queue claim one eligible scan.
    Surplus tokens are harmless: a token that finds nothing eligible ends at once."""
    from scans.tasks import scan_slot_task  # tasks import services; this is the one lazy import back

    try:
        for _ in range(count):
            scan_slot_task.apply_async(kwargs={"queue": queue}, queue=queue, retry=False)
    except Exception:  # noqa: BLE001  (broker down: the scans wait in PostgreSQL; the reconciler re-sends)
        logger.warning("could not send %s slot token(s) to %s; the reconciler will re-send them", count, queue,
                       exc_info=True)


def scans_reconcile(*, now=None) -> dict[str, int]:
    """Recover from lost workers and lost broker messages. A running scan whose heartbeat is older than
    LANTERN_SCAN_STALE_S goes back to queued, keeping its completed phases so that the next worker resumes
    after them (or fails after LANTERN_SCAN_MAX_ATTEMPTS attempts); then
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
                status=ScanStatus.QUEUED, phase="", current_tool="", worker="")
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
    sent = 0
    for queue, eligible in scans_eligible_count().items():
        missing = max(0, eligible - _tokens_waiting(queue))
        if missing:
            scan_slots_offer(count=min(missing, 1000), queue=queue)
            sent += missing
    return {"requeued": requeued, "failed": failed, "tokens": sent}


def _tokens_waiting(queue: str) -> int:
    """Slot tokens already waiting in the broker's queue (so the top-up does not pile them up)."""
    from config.celery import app

    with app.connection_for_read() as connection:
        try:
            return connection.default_channel.queue_declare(queue, passive=True).message_count
        except connection.channel_errors:
            return 0  # never declared (a fresh or flushed broker): nothing waits in it
