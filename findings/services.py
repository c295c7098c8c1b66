"""Writes for findings: ingestion with de-duplication across scans, and status changes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import connection

from engines.records import FindingRecord

BATCH = 500

# One statement per batch: a fingerprint seen before updates last_seen and occurrences instead of
# duplicating; a resolved finding seen again is reopened; a false positive stays suppressed.
_UPSERT = """
INSERT INTO findings_finding (tenant_id, uuid, fingerprint, title, severity, cvss_score, status, tool, rule_id,
    affected_component, host, port, description, remediation, evidence, cve_ids, cwe_ids, "references",
    first_seen, last_seen, occurrences)
VALUES {values}
ON CONFLICT (tenant_id, fingerprint) DO UPDATE SET
    last_seen = EXCLUDED.last_seen,
    occurrences = findings_finding.occurrences + 1,
    severity = EXCLUDED.severity,
    title = EXCLUDED.title,
    evidence = EXCLUDED.evidence,
    status = CASE WHEN findings_finding.status = 'resolved' THEN 'open' ELSE findings_finding.status END
RETURNING id, severity
"""
_ROW = "(%s, gen_random_uuid(), %s, %s, %s, %s, 'open', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 1)"


def findings_ingest(*, tenant_id: int, scan_id: str, records: Iterable[FindingRecord], seen_at: datetime) -> int:
    """Upsert the scan's findings (de-duplicated by fingerprint within the batch and across the tenant's
    scans) and link each to the scan. Writes Finding and FindingOccurrence rows. Idempotent per scan:
    ingesting the same records again for the same scan adds no occurrence row."""
    unique: dict[str, FindingRecord] = {}
    for record in records:
        current = unique.get(record.fingerprint)
        if current is None or record.severity.rank > current.severity.rank:
            unique[record.fingerprint] = record
    items = list(unique.items())
    for start in range(0, len(items), BATCH):
        _upsert_batch(tenant_id, scan_id, items[start : start + BATCH], seen_at)
    return len(items)


def _upsert_batch(tenant_id: int, scan_id: str, items: list[tuple[str, FindingRecord]], seen_at: datetime) -> None:
    params: list[object] = []
    for fingerprint, record in items:
        params += [
            tenant_id, fingerprint, record.title[:500], record.severity.value, record.cvss_score, record.engine,
            record.rule_id[:200], record.component[:2048], record.host[:253], record.port, record.description,
            record.remediation, record.evidence, list(record.cve_ids), list(record.cwe_ids),
            list(record.references), seen_at, seen_at,
        ]
    with connection.cursor() as cursor:
        cursor.execute(_UPSERT.format(values=", ".join([_ROW] * len(items))), params)
        rows = cursor.fetchall()
        occurrence_values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(rows))
        occurrence_params: list[object] = []
        for finding_id, severity in rows:
            occurrence_params += [tenant_id, finding_id, scan_id, severity, seen_at]
        cursor.execute(
            "INSERT INTO findings_findingoccurrence (tenant_id, finding_id, scan_id, severity, detected_at) "
            f"VALUES {occurrence_values} ON CONFLICT (finding_id, scan_id) DO NOTHING",
            occurrence_params,
        )
