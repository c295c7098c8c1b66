"""Claiming work: scans wait in PostgreSQL; a worker holding a slot token claims the next eligible one.

Eligible: queued, its tenant runs fewer scans than its plan allows, and fewer than
LANTERN_MAX_SCANS_PER_DESTINATION scans (of any tenant) run against its destination. Order: priority first;
within a priority, the tenant with the fewest running scans first (so one tenant's backlog of a thousand
delays another tenant's single scan by one slot at most); then age. The claim is one short transaction: the
candidate row is locked with SKIP LOCKED (two workers never take the same scan), and advisory locks per
tenant and per destination serialise the concurrency counts.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from scans.models import ScanStatus

_TENANT_LOCK_SPACE = 0x4C414E  # "LAN": keeps our advisory locks apart from anyone else's
_DESTINATION_LOCK_SPACE = 0x4C4144

# Only the first few queued scans of each tenant (by priority, then age) are candidates, read per tenant
# straight from the partial index (LATERAL ... LIMIT): the fair-share ordering below then sorts a few rows
# per tenant instead of the whole backlog, while HEAD_DEPTH > the number of workers claiming at once keeps
# a tenant's next scan in view when its first is locked by another claimer.
# The CTEs are MATERIALIZED: each is computed once per claim whatever the planner believes about row counts
# (after a burst of submissions, stale statistics made it re-run the window per queued row: seconds a claim).
HEAD_DEPTH = 8
_CANDIDATE = """
WITH heads AS MATERIALIZED (
    SELECT h.id
    FROM tenants_tenant t  -- one index probe per tenant: far fewer tenants than queued scans
    CROSS JOIN LATERAL (
        SELECT q.id FROM scans_scan q
        WHERE q.tenant_id = t.id AND q.status = 'queued' AND q.queue = %(queue)s
          AND NOT (q.destination = ANY(%(skip_destinations)s))
        ORDER BY q.priority DESC, q.created_at
        LIMIT %(depth)s
    ) h
    WHERE t.is_active AND NOT (t.id = ANY(%(skip_tenants)s))
), running AS MATERIALIZED (
    SELECT tenant_id, count(*) AS n FROM scans_scan WHERE status = 'running' GROUP BY tenant_id
), busy AS MATERIALIZED (
    SELECT destination, count(*) AS n FROM scans_scan WHERE status = 'running' GROUP BY destination
)
SELECT s.id, s.tenant_id, p.max_concurrent_scans, s.destination
FROM scans_scan s
JOIN tenants_tenant t ON t.id = s.tenant_id
JOIN tenants_plan p ON p.id = t.plan_id
LEFT JOIN running r ON r.tenant_id = s.tenant_id
LEFT JOIN busy b ON b.destination = s.destination
WHERE s.id = ANY(ARRAY(SELECT id FROM heads)) AND s.status = 'queued' AND t.is_active
  AND (p.max_concurrent_scans IS NULL OR COALESCE(r.n, 0) < p.max_concurrent_scans)
  AND COALESCE(b.n, 0) < %(per_destination)s
ORDER BY s.priority DESC, COALESCE(r.n, 0) ASC, s.created_at ASC
LIMIT 1
FOR UPDATE OF s SKIP LOCKED
"""


def scan_claim_next(*, worker: str, queue: str = "scans") -> str | None:
    """Move the next eligible queued scan to running and return its id (None when nothing is eligible).
    Writes status, started_at, heartbeat_at, attempts and worker on that one scan. Safe to call from any
    number of workers at once."""
    skip_tenants: list[int] = []
    skip_destinations: list[str] = []
    per_destination = settings.LANTERN_MAX_SCANS_PER_DESTINATION
    with transaction.atomic(), connection.cursor() as cursor:
        while True:
            cursor.execute(_CANDIDATE, {"skip_tenants": skip_tenants, "skip_destinations": skip_destinations,
                                        "per_destination": per_destination, "queue": queue,
                                        "depth": HEAD_DEPTH})
            row = cursor.fetchone()
            if row is None:
                return None
            scan_id, tenant_id, limit, destination = row
            # The CTE counts were read before any lock; re-count under locks that serialise the claimers
            # of one tenant and of one destination, so two workers cannot both take the last free slot.
            if limit is not None:
                cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_TENANT_LOCK_SPACE, tenant_id])
                cursor.execute("SELECT count(*) FROM scans_scan WHERE tenant_id = %s AND status = 'running'",
                               [tenant_id])
                if cursor.fetchone()[0] >= limit:
                    skip_tenants.append(tenant_id)
                    continue
            cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [_DESTINATION_LOCK_SPACE, destination])
            cursor.execute("SELECT count(*) FROM scans_scan WHERE destination = %s AND status = 'running'",
                           [destination])
            if cursor.fetchone()[0] >= per_destination:
                skip_destinations.append(destination)
                continue
            now = timezone.now()
            cursor.execute(
                "UPDATE scans_scan SET status = %s, started_at = COALESCE(started_at, %s), heartbeat_at = %s, "
                "attempts = attempts + 1, worker = %s WHERE id = %s AND status = 'queued'",
                [ScanStatus.RUNNING, now, now, worker[:200], scan_id],
            )
            return str(scan_id)


def scans_eligible_count() -> dict[str, int]:
    """Per queue, how many queued scans could start now if workers were free (the reconciler's top-up).
    A tenant's free slots are shared out over its queues in order, so the sum never exceeds its limit."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT q.queue, q.n, q.tenant_id, p.max_concurrent_scans,
                   (SELECT count(*) FROM scans_scan r WHERE r.tenant_id = q.tenant_id AND r.status = 'running')
            FROM (SELECT tenant_id, queue, count(*) AS n FROM scans_scan WHERE status = 'queued'
                  GROUP BY tenant_id, queue) q
            JOIN tenants_tenant t ON t.id = q.tenant_id
            JOIN tenants_plan p ON p.id = t.plan_id
            WHERE t.is_active ORDER BY q.tenant_id, q.queue
            """
        )
        eligible: dict[str, int] = {}
        free: dict[int, int | None] = {}
        for queue, waiting, tenant_id, limit, running in cursor.fetchall():
            if tenant_id not in free:
                free[tenant_id] = None if limit is None else max(0, limit - running)
            take = waiting if free[tenant_id] is None else min(waiting, free[tenant_id])
            if free[tenant_id] is not None:
                free[tenant_id] -= take
            if take:
                eligible[queue] = eligible.get(queue, 0) + take
        return eligible
