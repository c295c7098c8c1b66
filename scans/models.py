"""Scans, what they found on the network (hosts, services, certificates) and their numbered event stream.

A scan is a target plus a plan: `plan` holds ordered phases, each with engine steps (see scans/plans.py).
Scans wait in PostgreSQL as `queued`; a worker claims the next eligible one (scans/dispatch.py).
"""

from __future__ import annotations

import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from tenants.models import TenantOwned


class ScanStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


TERMINAL_STATUSES = (ScanStatus.COMPLETED, ScanStatus.FAILED, ScanStatus.CANCELLED)


class Priority(models.IntegerChoices):
    """Seed 002's levels; a higher number starts first. OEM scans (seed 000) enter at HIGH."""

    LOW = 0, "low"
    NORMAL = 1, "normal"
    HIGH = 2, "high"
    CRITICAL = 3, "critical"


class Scan(TenantOwned):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200, blank=True)
    surface = models.CharField(max_length=16, default="native")  # which API created it: native, oem, ...
    target = models.CharField(max_length=2048)  # as given
    target_value = models.CharField(max_length=2048)  # normalised
    target_type = models.CharField(max_length=16)
    target_address = models.CharField(max_length=64, blank=True)  # pinned address, when the policy pins one
    # The host or network the scan sends traffic to; the dispatcher caps concurrent scans per destination.
    destination = models.CharField(max_length=2048, default="", db_index=True)
    # Repeated submissions: the client's Idempotency-Key (native) and a digest of what was asked.
    idempotency_key = models.CharField(max_length=200, blank=True)
    request_digest = models.CharField(max_length=64, blank=True)
    engine = models.CharField(max_length=32, blank=True)  # seed 002 scanType / native engine
    scan_type = models.CharField(max_length=32, blank=True)  # seed 003 quick / full / compliance
    profile = models.CharField(max_length=32, blank=True)  # seed 004 profile
    options = models.JSONField(default=dict, blank=True)
    plan = models.JSONField(default=list)
    priority = models.SmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(max_length=16, choices=ScanStatus.choices, default=ScanStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    phase = models.CharField(max_length=64, blank=True)
    current_tool = models.CharField(max_length=32, blank=True)
    phases_completed = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    phases_skipped = models.JSONField(default=dict, blank=True)  # phase → reason
    # findings per severity, kept by findings_ingest (lists show them without counting occurrences)
    finding_counts = models.JSONField(default=dict, blank=True)
    hosts_found = models.PositiveIntegerField(default=0)
    ports_found = models.PositiveIntegerField(default=0)
    tags = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    extra = models.JSONField(default=dict, blank=True)  # per-surface fields: query_tags, frameworks, site_id…
    timeout_s = models.PositiveIntegerField()
    cancel_requested = models.BooleanField(default=False)
    attempts = models.PositiveSmallIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True)
    error_reason = models.TextField(blank=True)
    created_by_key = models.ForeignKey("tenants.ApiKey", null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    estimated_completion = models.DateTimeField(null=True, blank=True)
    event_seq = models.PositiveIntegerField(default=0)  # last sequence number handed to a ScanEvent
    # The Celery queue whose workers may claim it: "scans", or an engine's own queue ("scans.zap").
    queue = models.CharField(max_length=64, default="scans")

    class Meta:
        indexes = [
            # The dispatcher's scan: queued scans by priority then age.
            models.Index(fields=["tenant", "queue", "-priority", "created_at"], name="scan_queued_heads",
                         condition=Q(status="queued")),
            models.Index(fields=["tenant"], name="scan_running_tenant", condition=Q(status="running")),
            models.Index(fields=["destination"], name="scan_running_destination", condition=Q(status="running")),
            models.Index(fields=["tenant", "status"], name="scan_tenant_status"),
            models.Index(fields=["tenant", "-created_at"], name="scan_tenant_recent"),
            models.Index(fields=["tenant", "request_digest", "-created_at"], name="scan_tenant_repeat"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="scan_progress_max_100"),
            models.UniqueConstraint(fields=["tenant", "idempotency_key"], condition=~Q(idempotency_key=""),
                                    name="scan_idempotency_key_per_tenant"),
        ]

    def __str__(self) -> str:
        return f"{self.target_value} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


class Host(TenantOwned):
    scan = models.ForeignKey(Scan, on_delete=models.CASCADE, related_name="hosts")
    ip = models.CharField(max_length=64, blank=True)
    hostname = models.CharField(max_length=253, blank=True)
    mac = models.CharField(max_length=32, blank=True)
    vendor = models.CharField(max_length=200, blank=True)
    os_guess = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scan", "ip", "hostname"], name="host_uniq_per_scan")]


class Service(TenantOwned):
    scan = models.ForeignKey(Scan, on_delete=models.CASCADE, related_name="services")
    host = models.ForeignKey(Host, on_delete=models.CASCADE, related_name="services")
    port = models.PositiveIntegerField()
    protocol = models.CharField(max_length=8, default="tcp")
    state = models.CharField(max_length=32)
    service = models.CharField(max_length=64, blank=True)
    product = models.CharField(max_length=200, blank=True)
    version = models.CharField(max_length=200, blank=True)
    banner = models.TextField(blank=True)
    cpes = ArrayField(models.CharField(max_length=200), default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["host", "port", "protocol"], name="service_uniq_per_host"),
        ]


class Certificate(TenantOwned):
    scan = models.ForeignKey(Scan, on_delete=models.CASCADE, related_name="certificates")
    service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="certificates")
    host = models.CharField(max_length=253)
    port = models.PositiveIntegerField(null=True, blank=True)
    subject = models.TextField()
    issuer = models.TextField()
    sans = ArrayField(models.CharField(max_length=253), default=list, blank=True)
    not_before = models.DateTimeField(null=True, blank=True)
    not_after = models.DateTimeField(null=True, blank=True)
    key_type = models.CharField(max_length=32, blank=True)
    key_bits = models.PositiveIntegerField(null=True, blank=True)
    signature_algorithm = models.CharField(max_length=64, blank=True)
    fingerprint_sha256 = models.CharField(max_length=64, blank=True)
    serial = models.CharField(max_length=128, blank=True)
    chain_position = models.PositiveSmallIntegerField(default=0)


class ScanEvent(TenantOwned):
    """The one event stream: every observable change of a scan, numbered per scan from 1.
    WebSocket consumers, webhooks and the console read it; a late client replays from a sequence number."""

    scan = models.ForeignKey(Scan, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveIntegerField()
    type = models.CharField(max_length=32)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scan", "seq"], name="scan_event_seq_uniq")]
        ordering = ["scan", "seq"]


class ScanSchedule(TenantOwned):
    """A recurring scan (seed 003). Mirrored into a django-celery-beat PeriodicTask with a CrontabSchedule in
    the schedule's timezone; scans/schedules.py keeps the two in step. `request` holds what each run asks for
    (the fields of ScanRequest), validated when the schedule was made."""

    class Frequency(models.TextChoices):
        DAILY = "daily"
        WEEKLY = "weekly"
        MONTHLY = "monthly"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    target = models.CharField(max_length=2048)
    request = models.JSONField(default=dict)
    frequency = models.CharField(max_length=8, choices=Frequency.choices)
    day_of_week = models.PositiveSmallIntegerField(null=True, blank=True)  # 0 = Sunday … 6 = Saturday
    day_of_month = models.PositiveSmallIntegerField(null=True, blank=True)  # 1-28 for monthly
    hour = models.PositiveSmallIntegerField()
    minute = models.PositiveSmallIntegerField(default=0)
    timezone = models.CharField(max_length=64, default="UTC")
    paused = models.BooleanField(default=False)
    next_run_at = models.DateTimeField(db_index=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    periodic_task = models.OneToOneField("django_celery_beat.PeriodicTask", null=True, blank=True,
                                         on_delete=models.SET_NULL, related_name="+")
    created_by_key = models.ForeignKey("tenants.ApiKey", null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)


class ScheduleRun(TenantOwned):
    """One firing of a schedule: the scan it created, or why it was skipped (quota, a refused target)."""

    schedule = models.ForeignKey(ScanSchedule, on_delete=models.CASCADE, related_name="runs")
    scheduled_for = models.DateTimeField()
    scan = models.ForeignKey(Scan, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=16)  # created | skipped
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["schedule", "scheduled_for"], name="schedule_run_once")]


class Worker(models.Model):
    """A Celery worker as it reported itself: the queues it consumes and the engines it has, with versions.
    Not tenant-owned: workers serve every tenant."""

    name = models.CharField(max_length=200, unique=True)
    queues = ArrayField(models.CharField(max_length=64), default=list)
    engines = models.JSONField(default=dict)  # {"nmap": {"version": "7.93", "path": "/usr/bin/nmap"}}
    started_at = models.DateTimeField()
    last_seen = models.DateTimeField(db_index=True)
    engines_checked_at = models.DateTimeField()


class StepTiming(models.Model):
    """How long one kind of plan step has taken, measured on every completed run: the basis of a running
    scan's estimated_completion (scans.estimates). `key` is the engine and its options without the target
    (scans.estimates.step_key), so "nmap top 100 ports" and "nmap all ports" are timed apart. Not
    tenant-owned: it holds no target and no result, only durations, and every tenant's runs refine it."""

    key = models.CharField(max_length=64, unique=True)
    engine = models.CharField(max_length=32)
    mean_seconds = models.FloatField()  # exponentially weighted: recent runs count most
    samples = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.engine} {self.mean_seconds:.1f} s ({self.samples} runs)"
