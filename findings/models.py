"""Findings: one row per issue per tenant, identified by a fingerprint, seen by one or more scans; and the
local vulnerability database (NVD CVE configurations) that CVE matching reads.

Fingerprint rule (engines.records.FindingRecord.fingerprint), unique per tenant:
    fingerprint = sha256(issue_key + "|" + component)
    issue_key   = the lowest CVE id of the record, upper-cased, when it has one (two tools reporting the same
                  CVE on the same component are one finding), else "<engine>:<rule_id>" lower-cased
    component   = the location (URL, package@version, path) stripped and lower-cased, else "host:port/proto"
                  (host lower-cased, proto defaulting to tcp), else the host alone
Severity, title and evidence are not part of it: a re-rated issue stays the same finding. Changing the rule
is a data migration that recomputes every fingerprint, never a settings edit.
"""

from __future__ import annotations

import uuid

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
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
    # The tenant column needs no index of its own: finding_uniq_per_tenant and the list indexes lead with it,
    # and every index costs on each of the 100,000 rows one ingest can write.
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.PROTECT, related_name="+", editable=False,
                               db_index=False)
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    fingerprint = models.CharField(max_length=64)
    title = models.CharField(max_length=500)
    severity = models.CharField(max_length=16, choices=Severity.choices)
    cvss_score = models.DecimalField(max_digits=3, decimal_places=1, null=True, blank=True)
    status = models.CharField(max_length=16, choices=FindingStatus.choices, default=FindingStatus.OPEN)
    tool = models.CharField(max_length=32)
    rule_id = models.CharField(max_length=200)
    category = models.CharField(max_length=32, blank=True, default="", db_default="")
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
    status_changed_by = models.CharField(max_length=64, blank=True, default="", db_default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "fingerprint"], name="finding_uniq_per_tenant"),
        ]
        indexes = [
            # GET /findings?severity=&status= pages by (last_seen, id): this index answers filter, order and
            # limit. id is in it because one ingest stamps thousands of findings with the same last_seen.
            models.Index(fields=["tenant", "severity", "status", "-last_seen", "-id"],
                         name="finding_sev_status_seen_id"),
            # The unfiltered list and the from_date/to_date filters.
            models.Index(fields=["tenant", "-last_seen", "-id"], name="finding_tenant_seen_id"),
            models.Index(fields=["tenant", "host"], name="finding_tenant_host"),
            # ?cve= is `cve_ids @> ARRAY[...]`; a GIN index keeps it off a sequential scan of the tenant.
            GinIndex(fields=["cve_ids"], name="finding_cve_ids_gin"),
        ]


class FindingTally(TenantOwned):
    """How many findings a tenant has per (severity, status, tool), kept exact by PostgreSQL itself.

    Statement-level triggers on findings_finding (migration 0005) append one signed delta row per changed
    (tenant, severity, status) for every INSERT, UPDATE and DELETE, in the same transaction as the change, so
    a reader's snapshot always sums to exactly what `count(*)` would return. Appending (never updating one
    counter row) means concurrent ingests of one tenant never wait on each other; the beat task
    `findings.tasks.finding_tallies_compact_task` folds the deltas back into one row per key. This turns the
    total of `GET /findings?severity=&status=&tool=` from counting 100,000+ index entries into summing a few
    rows (at most 5 severities x 4 statuses x the engines, per tenant, once compacted).
    """

    # CASCADE: a tally has no meaning without its tenant (and a PROTECT here would pin deleted tenants).
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+", editable=False,
                               db_index=False)
    severity = models.CharField(max_length=16, choices=Severity.choices)
    status = models.CharField(max_length=16, choices=FindingStatus.choices)
    tool = models.CharField(max_length=32)
    delta = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["tenant", "severity", "status"], name="finding_tally_key")]


class FindingOccurrence(TenantOwned):
    """Which scans saw a finding (the scan side of the many-to-many, with when)."""

    # No single-column indexes on tenant, finding and scan: finding_occurrence_uniq (finding, scan) and
    # occurrence_scan_severity (scan, severity) serve every lookup (rows are always reached through a scan or a
    # finding, both tenant-checked), and an ingest writes 100,000 rows at a time.
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.PROTECT, related_name="+", editable=False,
                               db_index=False)
    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="occurrence_rows", db_index=False)
    scan = models.ForeignKey("scans.Scan", on_delete=models.CASCADE, related_name="finding_occurrences",
                             db_index=False)
    severity = models.CharField(max_length=16, choices=Severity.choices)
    detected_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["finding", "scan"], name="finding_occurrence_uniq"),
        ]
        indexes = [models.Index(fields=["scan", "severity"], name="occurrence_scan_severity")]


class FindingStatusChange(TenantOwned):
    """The audit trail of status changes made through the API: who (the API key id), when, why."""

    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=16, choices=FindingStatus.choices)
    to_status = models.CharField(max_length=16, choices=FindingStatus.choices)
    note = models.TextField(blank=True)
    changed_by = models.CharField(max_length=64)
    changed_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["finding", "-changed_at"], name="finding_status_change_recent")]


class KnownCve(models.Model):
    """A CVE loaded by an operator from the NVD JSON 2.0 feed (`manage.py load_nvd`). Shared by all tenants:
    it is public reference data, not anything a tenant sent. `configurations` keeps NVD's applicability tree
    (normalised by engines.cve.nvd) so matching can evaluate AND/OR nodes and version ranges exactly."""

    cve_id = models.CharField(max_length=32, unique=True)
    published = models.DateTimeField(null=True, blank=True)
    last_modified = models.DateTimeField(null=True, blank=True)
    description = models.TextField(blank=True)
    cvss_score = models.DecimalField(max_digits=3, decimal_places=1, null=True, blank=True)
    cvss_vector = models.CharField(max_length=200, blank=True)
    severity = models.CharField(max_length=16, blank=True)
    cwe_ids = ArrayField(models.CharField(max_length=16), default=list, blank=True)
    references = ArrayField(models.TextField(), default=list, blank=True)
    configurations = models.JSONField(default=list)
    loaded_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.cve_id


class KnownCveProduct(models.Model):
    """One (part, vendor, product) that a CVE's configurations name in a vulnerable cpeMatch: the index that
    turns "which CVEs could apply to cpe:/a:igor_sysoev:nginx:1.16.1" into one indexed lookup."""

    cve = models.ForeignKey(KnownCve, on_delete=models.CASCADE, related_name="products")
    part = models.CharField(max_length=1)
    vendor = models.CharField(max_length=128)
    product = models.CharField(max_length=128)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cve", "part", "vendor", "product"], name="known_cve_product_uniq"),
        ]
        indexes = [models.Index(fields=["vendor", "product"], name="known_cve_vendor_product")]
