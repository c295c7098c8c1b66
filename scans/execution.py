"""Running a claimed scan: its plan's phases in order, each engine step through the process runner, with
live events, heartbeats, cancellation, the scan's overall timeout, and a terminal state at the end."""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from config.observability import metric_add, scan_log_context
from engines.base import Engine, EngineJob, LiveEvent
from engines.binaries import resolve_binary
from engines.errors import (EngineCancelled, EngineError, EngineFailed, EngineTimedOut, EngineUnavailable,
                            ParseError)
from engines.ports import format_ports
from engines.process import Limits
from engines.registry import get_engine
from engines.runner import run_engine
from scans.estimates import RunningStep, remaining_seconds, step_key, step_means, step_timing_record
from scans.events import event_record
from scans.models import Scan, ScanStatus, Service
from scans.phases import INTERNAL_STEPS
from scans.results import scan_results_store

logger = logging.getLogger(__name__)


@dataclass
class _RunState:
    """What the runner tracks while one scan runs."""

    scan: Scan
    deadline: float
    step_index: int = 0
    step_count: int = 1
    progress: int = 0
    last_progress_at: float = 0.0
    last_heartbeat_at: float = 0.0
    cancelled: bool = False
    raw_findings: dict[str, int] = field(default_factory=dict)  # per engine, before correlation
    # estimated_completion (scans.estimates): keys of plan steps not started yet, their recorded means, the
    # step now running and the durations of the steps this run has finished
    pending: list[str] = field(default_factory=list)
    means: dict[str, float] = field(default_factory=dict)
    running_key: str | None = None
    step_started_at: float = 0.0
    step_percent: float | None = None
    derived_depth: int = 0  # > 0 while an internal step runs derived engine steps
    finished_s: list[float] = field(default_factory=list)
    announced_hosts: set[str] = field(default_factory=set)
    announced_ports: set[tuple[str, int, str]] = field(default_factory=set)


def _scan_update(scan_id: str, **fields: Any) -> None:
    Scan.objects.filter(pk=scan_id).update(**fields)


def scan_execute(*, scan_id: str) -> str:
    """Run a scan this worker has claimed (status running) to a terminal state; returns that state.
    Writes the scan's progress, results and events. Not idempotent: call it once per claim."""
    scan = Scan.objects.get(pk=scan_id)
    with scan_log_context(scan_id=scan_id, tenant_id=scan.tenant_id):
        logger.info("scan %s started (attempt %s)", scan_id, scan.attempts)
        status = _execute(scan)
        logger.info("scan %s ended %s", scan_id, status)
        return status


def _execute(scan: Scan) -> str:
    scan_id = str(scan.pk)
    pending = [step_key(step) for phase in scan.plan if not _phase_done(scan, phase) and not phase.get("skipped")
               for step in phase["steps"]]
    state = _RunState(scan=scan, deadline=time.monotonic() + scan.timeout_s,
                      step_count=max(1, sum(len(p["steps"]) for p in scan.plan)), pending=pending,
                      means=step_means(pending))
    eta = _estimate(state)
    event_record(tenant_id=scan.tenant_id, scan_id=scan_id, type="scan.started",
                 payload={"attempt": scan.attempts, "worker": scan.worker,
                          "estimated_completion": eta.isoformat() if eta else None})
    if eta is not None:
        _scan_update(scan.pk, estimated_completion=eta)
    try:
        for phase in scan.plan:
            # A scan re-queued after its worker died resumes after its last completed phase: what those
            # phases stored is already in the database (every write is an upsert).
            if _phase_done(scan, phase):
                state.step_index += len(phase["steps"])
                continue
            _run_phase(state, phase)
    except EngineCancelled as exc:
        return _finish(state, ScanStatus.CANCELLED, str(exc))
    except EngineError as exc:
        return _finish(state, ScanStatus.FAILED, str(exc))
    except Exception as exc:  # noqa: BLE001  (the scan must end in a terminal state whatever broke)
        logger.exception("scan %s failed with an internal error", scan_id)
        return _finish(state, ScanStatus.FAILED, f"internal error: {type(exc).__name__}")
    return _finish(state, ScanStatus.COMPLETED, "")


def _phase_done(scan: Scan, phase: dict[str, Any]) -> bool:
    return phase["phase"] in scan.phases_completed or phase["phase"] in scan.phases_skipped


def _run_phase(state: _RunState, phase: dict[str, Any]) -> None:
    scan = state.scan
    name = phase["phase"]
    if phase.get("skipped"):
        scan.phases_skipped = {**scan.phases_skipped, name: phase["skipped"]}
        _scan_update(scan.pk, phases_skipped=scan.phases_skipped)
        event_record(tenant_id=scan.tenant_id, scan_id=scan.pk, type="phase.skipped",
                     payload={"phase": name, "reason": phase["skipped"]})
        return
    _scan_update(scan.pk, phase=name)
    event_record(tenant_id=scan.tenant_id, scan_id=scan.pk, type="phase.started", payload={"phase": name})
    reasons = [reason for step in phase["steps"] if (reason := _run_plan_step(state, step))]
    if phase["steps"] and len(reasons) == len(phase["steps"]):
        # every step of the phase was optional and could not run: the phase did not happen
        scan.phases_skipped = {**scan.phases_skipped, name: "; ".join(reasons)}
        _scan_update(scan.pk, phases_skipped=scan.phases_skipped)
        event_record(tenant_id=scan.tenant_id, scan_id=scan.pk, type="phase.skipped",
                     payload={"phase": name, "reason": scan.phases_skipped[name]})
        return
    scan.phases_completed = [*scan.phases_completed, name]
    _scan_update(scan.pk, phases_completed=scan.phases_completed)
    event_record(tenant_id=scan.tenant_id, scan_id=scan.pk, type="phase.completed", payload={"phase": name})


def _step_options(state: _RunState, step: dict[str, Any]) -> dict[str, Any] | None:
    options = dict(step["options"])
    if step.get("open_ports_only"):
        ports = sorted(set(Service.objects.filter(scan=state.scan, state="open").values_list("port", flat=True)))
        if not ports:
            return None
        options.pop("topPorts", None)
        options["ports"] = format_ports([(port, port) for port in ports])
    return options


def _run_plan_step(state: _RunState, step: dict[str, Any]) -> str:
    """One step of the plan (not a derived one): moves progress and the estimate to the step boundary."""
    state.running_key = state.pending.pop(0) if state.pending else step_key(step)
    state.step_started_at, state.step_percent = time.monotonic(), None
    _progress_publish(state, int(state.step_index * 100 / state.step_count), tool=step["engine"], force=True)
    reason = _run_step(state, step)  # an exception ends the scan, and this run's estimates with it
    if not reason:
        state.finished_s.append(time.monotonic() - state.step_started_at)
    state.step_index += 1
    state.running_key = None
    return reason


def _run_step(state: _RunState, step: dict[str, Any]) -> str:
    """Run one step; "" when it ran, else the reason an optional step could not run. A step that ran to its
    end has its duration recorded for later estimates (scans.estimates)."""
    started = time.monotonic()
    if step.get("internal"):
        state.derived_depth += 1
        try:
            INTERNAL_STEPS[step["engine"]](state, lambda derived: _run_step(state, derived))
        finally:
            state.derived_depth -= 1
        step_timing_record(step, time.monotonic() - started)
        return ""
    try:
        if _run_engine_step(state, step):
            step_timing_record(step, time.monotonic() - started)
    except (EngineUnavailable, EngineFailed, ParseError) as exc:
        # An optional step (sentinel, derived steps) that cannot run is reported, not fatal; a timeout is
        # the scan's own and ends it.
        if not step.get("optional") or isinstance(exc, EngineTimedOut):
            raise
        scan = state.scan
        skipped = {"phase": scan.phase, "engine": step["engine"], "target": step.get("target", ""),
                   "reason": str(exc)[:500]}
        scan.extra = {**scan.extra, "skipped_steps": [*scan.extra.get("skipped_steps", []), skipped]}
        _scan_update(scan.pk, extra=scan.extra)
        return str(exc)
    return ""


def _run_engine_step(state: _RunState, step: dict[str, Any]) -> bool:
    """Run an engine step and store what it found; False when there was nothing for it to do."""
    scan = state.scan
    engine = get_engine(step["engine"])
    options = _step_options(state, step)
    if options is None:
        return False
    remaining = state.deadline - time.monotonic()
    if remaining <= 0:
        raise EngineFailed(f"the scan ran past its timeout of {scan.timeout_s} s")
    binary = resolve_binary(engine.executable, settings.ENGINE_BINARIES)
    if binary is None:
        raise EngineUnavailable(f"{engine.executable} is not installed on worker {scan.worker or 'unknown'}")
    _scan_update(scan.pk, current_tool=engine.name)
    workdir = Path(tempfile.mkdtemp(prefix=f"lantern-{scan.pk}-", dir=settings.ENGINE_WORKDIR or None))
    try:
        # A step may aim at something found earlier (a web service's URL) instead of the scan's target.
        job = EngineJob(target=step.get("target", scan.target_value),
                        target_type=step.get("target_type", scan.target_type),
                        address=step.get("address", scan.target_address or None), options=options, workdir=workdir,
                        timeout_s=remaining, binary=binary, excluded_ports=settings.LANTERN_EXCLUDED_PORTS)
        started, outcome = time.monotonic(), "failed"
        try:
            result = run_engine(engine, job, should_cancel=lambda: _heartbeat_and_check_cancel(state),
                                on_event=lambda event: _apply_live_event(state, engine, event),
                                limits=_limits(remaining), cancel_poll_s=settings.LANTERN_CANCEL_POLL_S)
            outcome = "succeeded"
        except EngineCancelled:
            outcome = "cancelled"
            raise
        finally:
            metric_add("lantern_engine_runs_total", {"engine": engine.name, "outcome": outcome})
            metric_add("lantern_engine_run_seconds_total", {"engine": engine.name}, time.monotonic() - started)
        counts = scan_results_store(scan=scan, records=result.records)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    state.raw_findings[engine.name] = state.raw_findings.get(engine.name, 0) + counts.findings
    for host in counts.new_hosts:
        _announce_host(state, host)
    _scan_update(scan.pk, hosts_found=counts.hosts, ports_found=counts.open_ports)
    return True


def _limits(remaining: float) -> Limits:
    return Limits(cpu_seconds=int(remaining) + 60, memory_bytes=settings.ENGINE_MAX_MEMORY_BYTES,
                  open_files=settings.ENGINE_MAX_OPEN_FILES, output_bytes=settings.ENGINE_MAX_OUTPUT_BYTES)


def _heartbeat_and_check_cancel(state: _RunState) -> bool:
    """One query: refresh the heartbeat and read the cancel flag (the runner calls this twice a second)."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE scans_scan SET heartbeat_at = %s WHERE id = %s RETURNING cancel_requested",
                       [timezone.now(), state.scan.pk])
        row = cursor.fetchone()
    state.cancelled = bool(row and row[0])
    return state.cancelled


def _announce_host(state: _RunState, ip: str) -> None:
    if ip in state.announced_hosts:
        return
    state.announced_hosts.add(ip)
    event_record(tenant_id=state.scan.tenant_id, scan_id=state.scan.pk, type="host_found", payload={"ip": ip})


def _apply_live_event(state: _RunState, engine: Engine, event: LiveEvent) -> None:
    scan = state.scan
    if event.kind == "port_found":
        key = (event.data["ip"], event.data["port"], event.data["protocol"])
        if key in state.announced_ports:
            return
        state.announced_ports.add(key)
        _announce_host(state, event.data["ip"])
        event_record(tenant_id=scan.tenant_id, scan_id=scan.pk, type="port_found", payload=event.data)
        return
    if event.kind == "progress":
        step_percent = min(99.0, float(event.data["percent"]))
        if not state.derived_depth:
            state.step_percent = step_percent  # a derived step's percentage is not its plan step's
        overall = int((state.step_index + step_percent / 100) * 100 / state.step_count)
        _progress_publish(state, overall, tool=engine.name)


def _progress_publish(state: _RunState, overall: int, *, tool: str, force: bool = False) -> None:
    """Store and announce progress and the estimate: when the percentage grows (at most twice a second), or
    at a step boundary (force), where the estimate changes most."""
    scan = state.scan
    now = time.monotonic()
    grew = overall > state.progress
    if not force and (not grew or now - state.last_progress_at < 0.5):
        return
    state.progress, state.last_progress_at = max(overall, state.progress), now
    eta = _estimate(state)
    _scan_update(scan.pk, progress=state.progress, estimated_completion=eta)
    if grew:
        event_record(tenant_id=scan.tenant_id, scan_id=scan.pk, type="progress",
                     payload={"percent": state.progress, "phase": scan.phase or "", "tool": tool,
                              "estimated_completion": eta.isoformat() if eta else None})


def _estimate(state: _RunState) -> datetime | None:
    """When the scan should end, from measured step durations (scans.estimates), never past its deadline."""
    running = None
    if state.running_key is not None:
        running = RunningStep(state.running_key, time.monotonic() - state.step_started_at, state.step_percent)
    seconds = remaining_seconds(running=running, upcoming=state.pending, means=state.means,
                                finished_s=state.finished_s)
    if seconds is None:
        return None
    now = timezone.now()
    return now + timedelta(seconds=min(seconds, max(0.0, state.deadline - time.monotonic())))


def _finish(state: _RunState, status: str, reason: str) -> str:
    scan = state.scan
    now = timezone.now()
    scan.refresh_from_db(fields=["hosts_found", "ports_found", "started_at"])
    fields: dict[str, Any] = {"status": status, "completed_at": now, "error_reason": reason[:2000],
                              "current_tool": ""}
    if status == ScanStatus.COMPLETED:
        fields.update(progress=100, phase="complete", estimated_completion=now)
    if not Scan.objects.filter(pk=scan.pk, status=ScanStatus.RUNNING).update(**fields):
        # Someone else ended it meanwhile (the reconciler declared this worker lost): theirs stands.
        return Scan.objects.values_list("status", flat=True).get(pk=scan.pk)
    duration = round((now - scan.started_at).total_seconds(), 3) if scan.started_at else 0
    summary = {"status": status, "devices_found": scan.hosts_found, "open_ports_total": scan.ports_found,
               "duration": duration}
    if reason:
        summary["reason"] = reason
    event_type = {"completed": "scan.completed", "failed": "scan.failed", "cancelled": "scan.cancelled"}[status]
    event_record(tenant_id=scan.tenant_id, scan_id=scan.pk, type=event_type, payload=summary)
    if status == ScanStatus.COMPLETED and scan.surface == "schedule":
        _announce_diff(scan)
    return status


def _announce_diff(scan: Scan) -> None:
    """Every scheduled run carries its diff against the previous run of the same target and plan: stored
    on the scan and announced as a scan.diff event (which webhooks can subscribe to)."""
    from findings.diff.selectors import scan_diff

    diff = scan_diff(tenant_id=scan.tenant_id, scan=scan)
    summary = {"against": str(diff.against.pk) if diff.against else None, "new": len(diff.new),
               "reopened": len(diff.reopened), "fixed": len(diff.fixed), "unchanged": len(diff.unchanged),
               "ports_opened": [f"{p.host}:{p.port}/{p.protocol}" for p in diff.ports_opened][:100],
               "ports_closed": [f"{p.host}:{p.port}/{p.protocol}" for p in diff.ports_closed][:100]}
    scan.refresh_from_db(fields=["extra"])
    Scan.objects.filter(pk=scan.pk).update(extra={**scan.extra, "diff": summary})
    event_record(tenant_id=scan.tenant_id, scan_id=scan.pk, type="scan.diff", payload=summary)
