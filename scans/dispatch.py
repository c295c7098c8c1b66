"""Claiming work: scans wait in PostgreSQL; a worker holding a slot token claims the next eligible one.

Eligible: queued, and its tenant runs fewer scans than its plan allows. Order: priority, then age (FIFO
within a level). The claim is one short transaction: the candidate row is locked with SKIP LOCKED (two
workers never take the same scan), and a per-tenant advisory lock serialises the concurrency count, so two
workers cannot both start a tenant's last free slot.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone

from scans.models import ScanStatus

_TENANT_LOCK_SPACE = 0x4C414E  # "LAN": keeps our advisory locks apart from anyone else's

_CANDIDATE = """
SELECT s.id, s.tenant_id, p.max_concurrent_scans
FROM scans_scan s
JOIN tenants_tenant t ON t.id = s.tenant_id
JOIN tenants_plan p ON p.id = t.plan_id
WHERE s.status = 'queued' AND t.is_active AND NOT (s.tenant_id = ANY(%s))
  AND (p.max_concurrent_scans IS NULL OR p.max_concurrent_scans > (
        SELECT count(*) FROM scans_scan r WHERE r.tenant_id = s.tenant_id AND r.status = 'running'))
ORDER BY s.priority DESC, s.created_at ASC
LIMIT 1
FOR UPDATE OF s SKIP LOCKED
"""


def scan_claim_next(*, worker: str) -> str | None:
    """Move the next eligible queued scan to running and return its id (None when nothing is eligible).
    Writes status, started_at, heartbeat_at, attempts and worker on that one scan. Safe to call from any
    number of workers at once."""
    skipped_tenants: list[int] = []
    with transaction.atomic(), connection.cursor() as cursor:
        while True:
            cursor.execute(_CANDIDATE, [skipped_tenants])
            row = cursor.fetchone()
            if row is None:
                return None
            scan_id, tenant_id, limit = row
            if limit is not None:
                cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_TENANT_LOCK_SPACE, tenant_id])
                cursor.execute("SELECT count(*) FROM scans_scan WHERE tenant_id = %s AND status = 'running'",
                               [tenant_id])
                if cursor.fetchone()[0] >= limit:
                    skipped_tenants.append(tenant_id)
                    continue
            now = timezone.now()
            cursor.execute(
                "UPDATE scans_scan SET status = %s, started_at = COALESCE(started_at, %s), heartbeat_at = %s, "
                "attempts = attempts + 1, worker = %s WHERE id = %s AND status = 'queued'",
                [ScanStatus.RUNNING, now, now, worker[:200], scan_id],
            )
            return str(scan_id)


def scans_eligible_count() -> int:
    """How many queued scans could start now if workers were free (for the reconciler's token top-up)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT COALESCE(sum(CASE WHEN p.max_concurrent_scans IS NULL THEN q.n
                                     ELSE LEAST(q.n, GREATEST(p.max_concurrent_scans - q.running, 0)) END), 0)
            FROM (SELECT tenant_id, count(*) FILTER (WHERE status = 'queued') AS n,
                         count(*) FILTER (WHERE status = 'running') AS running
                  FROM scans_scan WHERE status IN ('queued', 'running') GROUP BY tenant_id) q
            JOIN tenants_tenant t ON t.id = q.tenant_id
            JOIN tenants_plan p ON p.id = t.plan_id
            WHERE t.is_active
            """
        )
        return int(cursor.fetchone()[0])
