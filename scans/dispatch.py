"""Claiming work: scans wait in PostgreSQL; a worker holding a slot token claims the next eligible one.

Eligible: queued, its tenant runs fewer scans than its plan allows, and fewer than
LANTERN_MAX_SCANS_PER_DESTINATION scans (of any tenant) run against its destination. Order: priority first;
within a priority, the tenant with the fewest running scans first (so one tenant's backlog of a thousand
delays another tenant's single scan by one slot at most); then age. The claim is one statement (the database
function scans_claim_next): the candidate row is locked with SKIP LOCKED (two workers never take the same
scan), and advisory locks per tenant and per destination serialise the concurrency counts.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection

# Only the first few queued scans of each tenant (by priority, then age) are candidates, read per tenant
# straight from the partial index (LATERAL ... LIMIT): the fair-share ordering then sorts a few rows per tenant
# instead of the whole backlog, while HEAD_DEPTH > the number of workers claiming at once keeps a tenant's next
# scan in view when its first is locked by another claimer. The candidate query's CTEs are MATERIALIZED: each
# is computed once per claim whatever the planner believes about row counts (after a burst of submissions,
# stale statistics made it re-run the window per queued row: seconds a claim).
HEAD_DEPTH = 8


def scan_claim_next(*, worker: str, queue: str = "scans") -> str | None:
    """Move the next eligible queued scan to running and return its id (None when nothing is eligible).
    Writes status, started_at, heartbeat_at, attempts and worker on that one scan. Safe to call from any
    number of workers at once.

    The claim is the database function scans_claim_next (migration scans 0008), one round trip: it selects the
    candidate with FOR UPDATE SKIP LOCKED (two workers never take the same scan); re-counts the tenant's and
    the destination's running scans under advisory locks that serialise their claimers (the candidate query's
    counts were read before any lock), skipping a tenant or destination found full and trying the next
    candidate; and marks the winner running."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT scans_claim_next(%s, %s, %s, %s)",
                       [queue, worker[:200], HEAD_DEPTH, settings.LANTERN_MAX_SCANS_PER_DESTINATION])
        (scan_id,) = cursor.fetchone()
    return None if scan_id is None else str(scan_id)


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
