"""Findings: one row per issue per tenant, identified by a fingerprint, seen by one or more scans.

The fingerprint is sha256(issue_key | component), computed by engines.records.FindingRecord:
issue_key is the lowest CVE id when the issue has one (so two tools reporting the same CVE on the same
component are one finding), else "<engine>:<rule_id>"; component is the URL/location, else host:port/proto.
"""

from __future__ import annotations

import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models

from tenants.models import TenantOwned


class Severity(models.TextChoices):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"


class FindingStatus(models.TextChoices):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    FALSE_POSITIVE = "false_positive"


class Finding(TenantOwned):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    fingerprint = models.CharField(max_length=64)
    title = models.CharField(max_length=500)
    severity = models.CharField(max_length=16, choices=Severity.choices)
    cvss_score = models.DecimalField(max_digits=3, decimal_places=1, null=True, blank=True)
    status = models.CharField(max_length=16, choices=FindingStatus.choices, default=FindingStatus.OPEN)
    tool = models.CharField(max_length=32)
    rule_id = models.CharField(max_length=200)
    affected_component = models.CharField(max_length=2048)
    host = models.CharField(max_length=253, blank=True)
    port = models.PositiveIntegerField(null=True, blank=True)
    description = models.TextField(blank=True)
    remediation = models.TextField(blank=True)
    evidence = models.TextField(blank=True)
    cve_ids = ArrayField(models.CharField(max_length=32), default=list, blank=True)
    cwe_ids = ArrayField(models.CharField(max_length=16), default=list, blank=True)
    references = ArrayField(models.TextField(), default=list, blank=True)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    occurrences = models.PositiveIntegerField(default=1)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_changed_by = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "fingerprint"], name="finding_uniq_per_tenant"),
        ]
        indexes = [models.Index(fields=["tenant", "severity", "status"], name="finding_tenant_sev_status")]


class FindingOccurrence(TenantOwned):
    """Which scans saw a finding (the scan side of the many-to-many, with when)."""

    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="occurrence_rows")
    scan = models.ForeignKey("scans.Scan", on_delete=models.CASCADE, related_name="finding_occurrences")
    severity = models.CharField(max_length=16, choices=Severity.choices)
    detected_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["finding", "scan"], name="finding_occurrence_uniq"),
        ]
        indexes = [models.Index(fields=["scan", "severity"], name="occurrence_scan_severity")]
