"""Writes for findings: ingestion with de-duplication across scans, and status changes made by users.

Ingestion (findings_ingest) is the hot path: a scan can bring 100,000 findings into a tenant that holds a
million. It runs a fixed number of statements whatever the batch size: the de-duplicated records are COPied
into a temporary table, then one INSERT ... SELECT ... ON CONFLICT upserts the findings and, in the same
statement, links them to the scan (FindingOccurrence).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from config.errors import Conflict, NotFound
from engines.records import FindingRecord
from findings.models import Finding, FindingOccurrence, FindingStatus, FindingStatusChange
from scans.models import Scan
from scans.selectors import as_uuid

# Status changes a user may make (PATCH /findings/{id}). The ingest adds one of its own: a resolved finding
# that a new scan sees again is reopened (resolved -> open); a false positive stays suppressed whatever
# scans see, until a user reopens it.
TRANSITIONS: dict[str, frozenset[str]] = {
    FindingStatus.OPEN: frozenset({FindingStatus.IN_PROGRESS, FindingStatus.RESOLVED, FindingStatus.FALSE_POSITIVE}),
    FindingStatus.IN_PROGRESS: frozenset({FindingStatus.OPEN, FindingStatus.RESOLVED, FindingStatus.FALSE_POSITIVE}),
    FindingStatus.RESOLVED: frozenset({FindingStatus.OPEN}),
    FindingStatus.FALSE_POSITIVE: frozenset({FindingStatus.OPEN}),
}

_BATCH_TABLE = "findings_ingest_batch"
_WORK_MEM = "64MB"
_COPY_TYPES = ("varchar", "text", "text", "numeric", "text", "text", "text", "text", "text", "int4", "text", "text",
               "text", "varchar[]", "varchar[]", "text[]")
_COLUMNS = ("fingerprint", "title", "severity", "cvss_score", "tool", "rule_id", "category", "affected_component",
            "host", "port", "description", "remediation", "evidence", "cve_ids", "cwe_ids", "refs")
_CREATE = f"""
CREATE TEMPORARY TABLE {_BATCH_TABLE} (
    fingerprint varchar(64) PRIMARY KEY, title text, severity text, cvss_score numeric(3, 1), tool text,
    rule_id text, category text, affected_component text, host text, port integer, description text,
    remediation text, evidence text, cve_ids varchar(32)[], cwe_ids varchar(16)[], refs text[]
) ON COMMIT DROP
"""
# One statement: `o` tells whether this scan already saw the finding. The inserted `occurrences` value is
# that bit (1 = a new scan saw it), so that on conflict EXCLUDED.occurrences both counts distinct scans
# (re-ingesting the same scan adds nothing) and gates the reopening of resolved findings.
_UPSERT = f"""
WITH upserted AS (
    INSERT INTO findings_finding AS f (tenant_id, uuid, fingerprint, title, severity, cvss_score, status, tool,
        rule_id, category, affected_component, host, port, description, remediation, evidence, cve_ids, cwe_ids,
        "references", first_seen, last_seen, occurrences, status_changed_by)
    SELECT %(tenant)s, gen_random_uuid(), b.fingerprint, b.title, b.severity, b.cvss_score, 'open', b.tool,
        b.rule_id, b.category, b.affected_component, b.host, b.port, b.description, b.remediation, b.evidence,
        b.cve_ids, b.cwe_ids, b.refs, %(seen)s, %(seen)s, CASE WHEN o.id IS NULL THEN 1 ELSE 0 END, ''
    FROM {_BATCH_TABLE} b
    LEFT JOIN findings_finding e ON e.tenant_id = %(tenant)s AND e.fingerprint = b.fingerprint
    LEFT JOIN findings_findingoccurrence o ON o.finding_id = e.id AND o.scan_id = %(scan)s
    ORDER BY b.fingerprint
    ON CONFLICT (tenant_id, fingerprint) DO UPDATE SET
        last_seen = GREATEST(f.last_seen, EXCLUDED.last_seen),
        occurrences = f.occurrences + EXCLUDED.occurrences,
        severity = EXCLUDED.severity,
        cvss_score = COALESCE(EXCLUDED.cvss_score, f.cvss_score),
        title = EXCLUDED.title,
        category = EXCLUDED.category,
        evidence = EXCLUDED.evidence,
        description = CASE WHEN EXCLUDED.description <> '' THEN EXCLUDED.description ELSE f.description END,
        remediation = CASE WHEN EXCLUDED.remediation <> '' THEN EXCLUDED.remediation ELSE f.remediation END,
        cve_ids = EXCLUDED.cve_ids,
        cwe_ids = EXCLUDED.cwe_ids,
        "references" = EXCLUDED."references",
        status = CASE WHEN f.status = 'resolved' AND EXCLUDED.occurrences = 1 THEN 'open' ELSE f.status END,
        status_changed_at = CASE WHEN f.status = 'resolved' AND EXCLUDED.occurrences = 1
                                 THEN EXCLUDED.last_seen ELSE f.status_changed_at END,
        status_changed_by = CASE WHEN f.status = 'resolved' AND EXCLUDED.occurrences = 1
                                 THEN %(actor)s ELSE f.status_changed_by END
    RETURNING f.id, f.severity
)
INSERT INTO findings_findingoccurrence (tenant_id, finding_id, scan_id, severity, detected_at)
SELECT %(tenant)s, upserted.id, %(scan)s, upserted.severity, %(seen)s FROM upserted
ON CONFLICT (finding_id, scan_id) DO NOTHING
"""


def _unique(records: Iterable[FindingRecord]) -> dict[str, FindingRecord]:
    """One record per fingerprint; when a scan reports the same issue twice, the more severe report wins."""
    unique: dict[str, FindingRecord] = {}
    for record in records:
        fingerprint = record.fingerprint
        current = unique.get(fingerprint)
        if current is None or record.severity.rank > current.severity.rank:
            unique[fingerprint] = record
    return unique


def _row(fingerprint: str, record: FindingRecord) -> tuple[Any, ...]:
    cvss = None if record.cvss_score is None else Decimal(f"{min(max(record.cvss_score, 0.0), 10.0):.1f}")
    return (fingerprint, record.title[:500], record.severity.value, cvss, record.engine[:32], record.rule_id[:200],
            record.category[:32], record.component[:2048], record.host[:253].lower(), record.port,
            record.description, record.remediation, record.evidence,
            [c.upper()[:32] for c in record.cve_ids] if record.cve_ids else [],
            [c.upper()[:16] for c in record.cwe_ids] if record.cwe_ids else [], list(record.references))


def findings_ingest(*, tenant_id: int, scan_id: str, records: Iterable[FindingRecord], seen_at: datetime) -> int:
    """Upsert a scan's findings and link each to the scan; returns how many distinct findings it carried.

    Writes Finding (new rows open; known rows get last_seen, severity, title, evidence and the texts the
    tool sent; a resolved finding that this scan is the first to see again is reopened; false_positive and
    in_progress stay) and FindingOccurrence (one row per finding and scan). `occurrences` counts the distinct
    scans that saw a finding. Idempotent per scan: ingesting the same records again for the same scan
    changes no count, reopens nothing and adds no occurrence. Raises NotFound when the scan is not the
    tenant's. Enqueues nothing."""
    unique = _unique(records)
    if not unique:
        return 0
    if not Scan.objects.for_tenant(tenant_id).filter(pk=as_uuid(scan_id)).exists():
        raise NotFound("Scan not found")
    with transaction.atomic(), connection.cursor() as cursor:
        # For this transaction only: sort and hash a large batch in memory, and skip JIT compilation, which
        # costs more than it saves on a statement that runs once.
        cursor.execute(f"SET LOCAL work_mem = '{_WORK_MEM}'; SET LOCAL jit = off")
        cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{_BATCH_TABLE}")
        cursor.execute(_CREATE)
        with cursor.cursor.copy(f"COPY {_BATCH_TABLE} ({', '.join(_COLUMNS)}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(_COPY_TYPES)
            for fingerprint, record in unique.items():
                copy.write_row(_row(fingerprint, record))
        cursor.execute(_UPSERT, {"tenant": tenant_id, "scan": str(scan_id), "seen": seen_at,
                                 "actor": f"scan:{scan_id}"[:64]})
        scan_finding_counts_refresh(tenant_id=tenant_id, scan_id=scan_id)
    return len(unique)


def scan_finding_counts_refresh(*, tenant_id: int, scan_id: Any) -> dict[str, int]:
    """Store the scan's findings per severity on the scan row (one GROUP BY over this scan's occurrences):
    lists of scans then read five numbers per row instead of counting a million occurrences per page.
    Writes Scan.finding_counts. Idempotent."""
    rows = (FindingOccurrence.objects.filter(tenant_id=tenant_id, scan_id=scan_id).order_by()
            .values_list("severity").annotate(n=Count("pk")))
    counts = {severity: n for severity, n in rows}
    Scan.objects.for_tenant(tenant_id).filter(pk=scan_id).update(finding_counts=counts)
    return counts


@dataclass(frozen=True, slots=True)
class StatusChange:
    status: str
    note: str = ""


@transaction.atomic
def finding_status_set(*, tenant_id: int, finding_id: Any, change: StatusChange, actor: str) -> Finding:
    """Move a finding to `change.status` if TRANSITIONS allows it; `actor` is the API key id.

    Writes Finding.status / status_changed_at / status_changed_by and one FindingStatusChange row (with the
    note). Idempotent: asking for the status the finding already has writes nothing. Raises NotFound for
    another tenant's (or no) finding and Conflict for a transition the table does not allow."""
    finding_uuid = as_uuid(finding_id)
    finding = (Finding.objects.for_tenant(tenant_id).select_for_update().filter(uuid=finding_uuid).first()
               if finding_uuid else None)
    if finding is None:
        raise NotFound("Finding not found")
    if change.status == finding.status:
        return finding
    allowed = TRANSITIONS[finding.status]
    if change.status not in allowed:
        raise Conflict(f"a {finding.status} finding cannot become {change.status}; allowed: "
                       f"{', '.join(sorted(allowed))}", field="status")
    now = timezone.now()
    FindingStatusChange.objects.create(tenant_id=tenant_id, finding=finding, from_status=finding.status,
                                       to_status=change.status, note=change.note, changed_by=actor[:64],
                                       changed_at=now)
    finding.status, finding.status_changed_at, finding.status_changed_by = change.status, now, actor[:64]
    finding.save(update_fields=["status", "status_changed_at", "status_changed_by"])
    return finding


_TALLY_COMPACT_SQL = """
WITH folded AS (DELETE FROM findings_findingtally RETURNING tenant_id, severity, status, tool, delta)
INSERT INTO findings_findingtally (tenant_id, severity, status, tool, delta)
SELECT tenant_id, severity, status, tool, sum(delta) FROM folded GROUP BY 1, 2, 3, 4 HAVING sum(delta) <> 0
"""


def finding_tallies_compact() -> int:
    """Fold the tally deltas the triggers append (findings.models.FindingTally) into one row per key, across
    all tenants, in one statement: every total is the same before and after, in every snapshot. Deltas of
    transactions still open are invisible here and stay for the next run. Returns the rows left."""
    with connection.cursor() as cursor:
        cursor.execute(_TALLY_COMPACT_SQL)
        return cursor.rowcount
