"""scans_claim_next(): the whole claim of scans.dispatch in one database function, so a worker's claim is one
round trip (and plans cached by PL/pgSQL) instead of a transaction of five statements.

Each statement in a VOLATILE PL/pgSQL function takes a fresh snapshot (READ COMMITTED), so the counts read
after an advisory lock see every claim committed before the lock was granted, exactly as the separate
statements did. The candidate query is the one scans.dispatch documents (materialized CTEs; per-tenant heads
read with LATERAL ... LIMIT from the partial index scan_queued_heads).
"""

from django.db import migrations

CLAIM_SQL = """
CREATE FUNCTION scans_claim_next(p_queue text, p_worker text, p_depth integer, p_per_destination integer)
RETURNS uuid LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    skip_tenants bigint[] := '{}';
    skip_destinations text[] := '{}';
    candidate record;
    running_now bigint;
BEGIN
    LOOP
        WITH heads AS MATERIALIZED (
            SELECT h.id
            FROM tenants_tenant t
            CROSS JOIN LATERAL (
                SELECT q.id FROM scans_scan q
                WHERE q.tenant_id = t.id AND q.status = 'queued' AND q.queue = p_queue
                  AND NOT (q.destination = ANY(skip_destinations))
                ORDER BY q.priority DESC, q.created_at
                LIMIT p_depth
            ) h
            WHERE t.is_active AND NOT (t.id = ANY(skip_tenants))
        ), running AS MATERIALIZED (
            SELECT r.tenant_id, count(*) AS n FROM scans_scan r WHERE r.status = 'running' GROUP BY r.tenant_id
        ), busy AS MATERIALIZED (
            SELECT b.destination, count(*) AS n FROM scans_scan b WHERE b.status = 'running' GROUP BY b.destination
        )
        SELECT s.id, s.tenant_id, p.max_concurrent_scans AS tenant_limit, s.destination INTO candidate
        FROM scans_scan s
        JOIN tenants_tenant t ON t.id = s.tenant_id
        JOIN tenants_plan p ON p.id = t.plan_id
        LEFT JOIN running r ON r.tenant_id = s.tenant_id
        LEFT JOIN busy b ON b.destination = s.destination
        WHERE s.id = ANY(ARRAY(SELECT heads.id FROM heads)) AND s.status = 'queued' AND t.is_active
          AND (p.max_concurrent_scans IS NULL OR COALESCE(r.n, 0) < p.max_concurrent_scans)
          AND COALESCE(b.n, 0) < p_per_destination
        ORDER BY s.priority DESC, COALESCE(r.n, 0) ASC, s.created_at ASC
        LIMIT 1
        FOR UPDATE OF s SKIP LOCKED;
        IF NOT FOUND THEN
            RETURN NULL;
        END IF;
        -- The CTE counts were read before any lock; re-count under locks that serialise the claimers of one
        -- tenant and of one destination, so two workers cannot both take the last free slot.
        IF candidate.tenant_limit IS NOT NULL THEN
            PERFORM pg_advisory_xact_lock(%(tenant_space)s, candidate.tenant_id::integer);
            SELECT count(*) INTO running_now FROM scans_scan
            WHERE tenant_id = candidate.tenant_id AND status = 'running';
            IF running_now >= candidate.tenant_limit THEN
                skip_tenants := skip_tenants || candidate.tenant_id;
                CONTINUE;
            END IF;
        END IF;
        PERFORM pg_advisory_xact_lock(%(destination_space)s, hashtext(candidate.destination));
        SELECT count(*) INTO running_now FROM scans_scan
        WHERE destination = candidate.destination AND status = 'running';
        IF running_now >= p_per_destination THEN
            skip_destinations := skip_destinations || candidate.destination::text;
            CONTINUE;
        END IF;
        UPDATE scans_scan SET status = 'running', started_at = COALESCE(started_at, clock_timestamp()),
            heartbeat_at = clock_timestamp(), attempts = attempts + 1, worker = p_worker
        WHERE id = candidate.id AND status = 'queued';
        RETURN candidate.id;
    END LOOP;
END $$;
""" % {"tenant_space": 0x4C414E, "destination_space": 0x4C4144}


class Migration(migrations.Migration):

    dependencies = [
        ("scans", "0007_step_timings"),
        ("tenants", "0006_assets"),
    ]

    operations = [
        migrations.RunSQL(CLAIM_SQL, "DROP FUNCTION scans_claim_next(text, text, integer, integer);"),
    ]
