"""Findings benchmark: ingestion throughput and list-endpoint latency on a throwaway database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/lantern .venv/bin/python bench/bench_findings.py
        [--existing 1000000] [--ingest 100000] [--requests 200] [--max-seconds 60] [--keep-db]

What it does, on the PostgreSQL server of DATABASE_URL but in its own database `lantern_bench_findings` (created,
migrated, dropped at the end; never the dev or the test database):
1. One tenant that already holds --existing findings (default 1,000,000), generated server-side with
   INSERT ... SELECT generate_series, spread over 100 completed scans with one occurrence each.
2. A nuclei-style JSONL file of --ingest unique results (default 100,000) plus 5 % duplicate lines; a fifth of
   the unique results are findings the tenant already has (the update path), the rest are new. The file is
   parsed with engines.nuclei.parse.parse and ingested into a new scan with findings.services.findings_ingest.
   Prints parse and ingest throughput (findings/s) and the process's peak RSS.
3. p50/p99 latency, one in-process client, of GET /api/v1/findings?severity=critical&status=open, of the
   unfiltered GET /api/v1/findings, and of the scan list (GET /api/v1/scans, with its per-severity counts), each bounded by --requests and --max-seconds.
It prints figures and asserts nothing about time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
import types
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_DB = "lantern_bench_findings"
SEVERITIES = ("critical", "high", "medium", "low", "info")
TEMPLATES = 500
HOSTS = 2000


def _with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def _admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(_with_db(url, "postgres"), autocommit=True) as conn:
        conn.execute(sql)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _location(i: int) -> str:
    return f"https://app{i % HOSTS}.bench.test/p/{i}"


def _seed(tenant_id: int, existing: int) -> list:
    """100 completed scans and `existing` findings with one occurrence each, generated in the server."""
    from django.db import connection
    from django.utils import timezone

    from scans.models import Scan

    scans = [Scan.objects.create(tenant_id=tenant_id, target="127.0.0.1", target_value="127.0.0.1",
                                 target_type="ip", engine="nuclei", timeout_s=3600, status="completed",
                                 completed_at=timezone.now(), plan=[]) for _ in range(100)]
    scan_ids = [str(scan.pk) for scan in scans]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO findings_finding (tenant_id, uuid, fingerprint, title, severity, cvss_score, status, tool,
                rule_id, category, affected_component, host, port, description, remediation, evidence, cve_ids,
                cwe_ids, "references", first_seen, last_seen, occurrences, status_changed_by)
            SELECT %(tenant)s, gen_random_uuid(),
                encode(sha256(convert_to('nuclei:tmpl-' || (i %% %(templates)s) || '|https://app'
                    || (i %% %(hosts)s) || '.bench.test/p/' || i, 'UTF8')), 'hex'),
                'Template ' || (i %% %(templates)s), (ARRAY['critical','high','medium','low','info'])[1 + i %% 5],
                NULL, (ARRAY['open','open','in_progress','resolved','false_positive','open'])[1 + i %% 6],
                'nuclei', 'tmpl-' || (i %% %(templates)s), 'http',
                'https://app' || (i %% %(hosts)s) || '.bench.test/p/' || i,
                'app' || (i %% %(hosts)s) || '.bench.test', 443, '', '', '',
                CASE WHEN i %% 10 = 0 THEN ARRAY['CVE-2021-' || (10000 + i %% 5000)] ELSE '{}'::varchar[] END,
                '{}', '{}', now() - (i %% 1000) * interval '1 hour', now() - (i %% 1000) * interval '1 hour', 1, ''
            FROM generate_series(1, %(existing)s) AS i
            """,
            {"tenant": tenant_id, "templates": TEMPLATES, "hosts": HOSTS, "existing": existing},
        )
        cursor.execute(
            """
            INSERT INTO findings_findingoccurrence (tenant_id, finding_id, scan_id, severity, detected_at)
            SELECT tenant_id, id, (%(scans)s::uuid[])[1 + id %% 100], severity, last_seen
            FROM findings_finding WHERE tenant_id = %(tenant)s
            """,
            {"tenant": tenant_id, "scans": scan_ids},
        )
    # The tenant's existing findings are old rows that autovacuum has long processed (visibility map set,
    # statistics current); the ingested ones are measured as they land, unvacuumed.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE findings_finding")
        cursor.execute("VACUUM ANALYZE findings_findingoccurrence")
        cursor.execute("ANALYZE scans_scan")
    return scans


def _write_jsonl(path: Path, count: int, existing: int) -> int:
    """`count` unique nuclei results (a fifth of them already known to the tenant) plus 5 % repeated lines."""
    lines = 0
    with path.open("w") as out:
        for j in range(count):
            i = (j * 7) % existing + 1 if j < count // 5 else existing + j + 1
            severity = SEVERITIES[(i * 3) % 5]
            line = json.dumps({
                "template-id": f"tmpl-{i % TEMPLATES}",
                "info": {"name": f"Template {i % TEMPLATES}", "severity": severity, "tags": ["bench"],
                         "classification": {"cve-id": None, "cwe-id": ["cwe-79"]}},
                "type": "http", "host": f"https://app{i % HOSTS}.bench.test", "matched-at": _location(i),
                "timestamp": "2026-11-21T07:00:00.000000000Z",
            })
            out.write(line + "\n")
            lines += 1
            if j % 20 == 0:
                out.write(line + "\n")
                lines += 1
    return lines


def _ingest(tenant_id: int, count: int, existing: int) -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    from engines.nuclei.parse import parse
    from engines.records import FindingRecord
    from findings.services import findings_ingest
    from scans.models import Scan

    scan = Scan.objects.create(tenant_id=tenant_id, target="127.0.0.1", target_value="127.0.0.1",
                               target_type="ip", engine="nuclei", timeout_s=3600, status="running", plan=[])
    with tempfile.TemporaryDirectory() as workdir:
        path = Path(workdir) / "nuclei.jsonl"
        lines = _write_jsonl(path, count, existing)
        started = time.perf_counter()
        records = [record for record in parse(path) if isinstance(record, FindingRecord)]
        parsed = time.perf_counter()
        with transaction.atomic():
            stored = findings_ingest(tenant_id=tenant_id, scan_id=str(scan.pk), records=records,
                                     seen_at=timezone.now())
        done = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM findings_finding WHERE tenant_id = %s", [tenant_id])
        total = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM findings_findingoccurrence WHERE scan_id = %s", [scan.pk])
        linked = cursor.fetchone()[0]
    print(f"ingest: {lines:,} JSONL lines -> {len(records):,} records -> {stored:,} unique findings "
          f"({linked:,} linked to the scan; tenant now holds {total:,})")
    print(f"  parse   {parsed - started:7.2f} s  {len(records) / (parsed - started):10,.0f} records/s")
    print(f"  ingest  {done - parsed:7.2f} s  {stored / (done - parsed):10,.0f} findings/s")
    print(f"  total   {done - started:7.2f} s  {stored / (done - started):10,.0f} findings/s end to end")
    print(f"  peak RSS {_peak_rss_mb():,.0f} MB")


def _latency(client, url: str, requests: int, max_seconds: float) -> None:
    timings: list[float] = []
    deadline = time.perf_counter() + max_seconds
    status = None
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
        status = response.status_code
        if time.perf_counter() > deadline:
            break
    timings.sort()
    p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
    print(f"GET {url}: status {status}, {len(timings)} requests, p50 {statistics.median(timings):.1f} ms, "
          f"p99 {p99:.1f} ms, max {timings[-1]:.1f} ms")


def _urls_module() -> str:
    """The native scan API and the findings API under /api/v1/, whether or not config.urls includes them yet."""
    from django.urls import include, path

    module = types.ModuleType("bench_urls")
    module.urlpatterns = [path("api/v1/", include("findings.api.urls")), path("api/v1/", include("scans.api.urls"))]
    sys.modules["bench_urls"] = module
    return "bench_urls"


def run(args: argparse.Namespace) -> None:
    from django.test.utils import override_settings
    from rest_framework.test import APIClient

    from tenants.services import api_key_issue, tenant_get_or_create

    tenant, _ = tenant_get_or_create(name="bench", plan_slug="enterprise")
    issued = api_key_issue(tenant_id=tenant.pk, role="admin")
    started = time.perf_counter()
    _seed(tenant.pk, args.existing)
    print(f"seed: {args.existing:,} findings and occurrences in {time.perf_counter() - started:.1f} s")
    _ingest(tenant.pk, args.ingest, args.existing)
    if args.only_ingest:
        return
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=issued.key)
    with override_settings(ROOT_URLCONF=_urls_module(), ALLOWED_HOSTS=["*"]):
        _latency(client, "/api/v1/findings?severity=critical&status=open", args.requests, args.max_seconds)
        _latency(client, "/api/v1/findings", args.requests, args.max_seconds)
        _latency(client, "/api/v1/scans", args.requests, args.max_seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--existing", type=int, default=1_000_000)
    parser.add_argument("--ingest", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--max-seconds", type=float, default=60.0)
    parser.add_argument("--only-ingest", action="store_true")
    parser.add_argument("--keep-db", action="store_true", help=f"leave {BENCH_DB} in place for inspection")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # figures appear as they are measured, even when piped
    base_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/lantern")
    bench_url = _with_db(base_url, BENCH_DB)
    _admin(base_url, f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
    _admin(base_url, f"CREATE DATABASE {BENCH_DB}")
    os.environ["DATABASE_URL"] = bench_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    os.environ["LANTERN_DEBUG"] = "false"  # DEBUG would keep every query in memory
    try:
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        run(args)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep_db:
            _admin(base_url, f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")


if __name__ == "__main__":
    main()
