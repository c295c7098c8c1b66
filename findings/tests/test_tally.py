"""FindingTally: the triggers keep per-(tenant, severity, status, tool) totals exact through every way findings
change (ingest, re-ingest, reopen, PATCH, bulk updates, deletes), compaction changes no total, GET /findings
takes its total from the tally when it can, and two writers of one tenant never wait on each other's rows."""

import psycopg
import pytest
from django.db import connection
from django.db.models import Count, Sum
from django.test.utils import CaptureQueriesContext

from engines.records import Severity
from findings.models import Finding, FindingTally
from findings.services import finding_tallies_compact
from findings.tests.factories import ingest, make_scan, record

FINDINGS = "/api/v1/findings"


KEY = ("severity", "status", "tool")


def counted(tenant_id):
    rows = Finding.objects.filter(tenant_id=tenant_id).values(*KEY).annotate(n=Count("pk"))
    return {tuple(row[name] for name in KEY): row["n"] for row in rows}


def tallied(tenant_id):
    rows = FindingTally.objects.filter(tenant_id=tenant_id).values(*KEY).annotate(n=Sum("delta"))
    return {tuple(row[name] for name in KEY): row["n"] for row in rows if row["n"]}


def assert_exact(*tenant_ids):
    for tenant_id in tenant_ids:
        assert tallied(tenant_id) == counted(tenant_id)


def test_every_kind_of_change_keeps_the_tally_exact(client_for, tenant_a, tenant_b):
    ours, theirs = make_scan(tenant_a.tenant_id), make_scan(tenant_b.tenant_id)
    ingest(ours, *[record(f"r{i}", severity=list(Severity)[i % 5]) for i in range(12)])
    ingest(theirs, record("r0", severity=Severity.CRITICAL), record("z0", engine="zap", severity=Severity.LOW))
    assert_exact(tenant_a.tenant_id, tenant_b.tenant_id)
    assert tallied(tenant_b.tenant_id) == {("critical", "open", "nuclei"): 1, ("low", "open", "zap"): 1}

    finding = Finding.objects.get(tenant_id=tenant_a.tenant_id, rule_id="r0")
    response = client_for(tenant_a).patch(f"{FINDINGS}/{finding.uuid}", {"status": "resolved"}, format="json")
    assert response.status_code == 200
    assert_exact(tenant_a.tenant_id)

    # Seen again: last_seen moves (no key changes), the resolved one is reopened (a key change).
    ingest(make_scan(tenant_a.tenant_id), record("r0", severity=Severity.CRITICAL), record("r1"))
    assert Finding.objects.get(pk=finding.pk).status == "open"
    assert_exact(tenant_a.tenant_id)

    Finding.objects.filter(tenant_id=tenant_a.tenant_id, severity="info").update(severity="low")
    Finding.objects.filter(tenant_id=tenant_a.tenant_id, rule_id__in=["r2", "r3"]).update(status="false_positive")
    Finding.objects.filter(tenant_id=tenant_a.tenant_id, rule_id="r4").delete()
    assert_exact(tenant_a.tenant_id, tenant_b.tenant_id)

    before = {tenant: tallied(tenant) for tenant in (tenant_a.tenant_id, tenant_b.tenant_id)}
    rows_before = FindingTally.objects.count()
    left = finding_tallies_compact()
    assert left == FindingTally.objects.count() < rows_before
    assert {tenant: tallied(tenant) for tenant in before} == before
    assert FindingTally.objects.filter(delta=0).count() == 0
    assert_exact(tenant_a.tenant_id, tenant_b.tenant_id)


def test_list_totals_come_from_the_tally_and_equal_the_rows(client_for, tenant_a, tenant_b):
    ingest(make_scan(tenant_a.tenant_id), *[record(f"r{i}", severity=list(Severity)[i % 5]) for i in range(23)])
    ingest(make_scan(tenant_b.tenant_id), *[record(f"r{i}", severity=Severity.CRITICAL) for i in range(7)])
    ingest(make_scan(tenant_a.tenant_id), *[record(f"s{i}", engine="sqlmap", severity=Severity.CRITICAL)
                                            for i in range(4)])
    Finding.objects.filter(tenant_id=tenant_a.tenant_id, rule_id__in=["r0", "r5"]).update(status="resolved")
    client = client_for(tenant_a)
    for query, expected in [({}, 27), ({"severity": "critical"}, 9), ({"severity": "critical", "status": "open"}, 7),
                            ({"status": "resolved"}, 2), ({"severity": "high", "status": "false_positive"}, 0),
                            ({"tool": "sqlmap"}, 4), ({"tool": "nuclei", "severity": "critical"}, 5),
                            ({"tool": "nuclei", "severity": "critical", "status": "open"}, 3)]:
        with CaptureQueriesContext(connection) as queries:
            body = client.get(FINDINGS, {**query, "per_page": 2}).json()
        assert body["total"] == expected, query
        assert body["pages"] == -(-expected // 2)
        sql = " ".join(q["sql"] for q in queries.captured_queries)
        assert "findings_findingtally" in sql and "COUNT(" not in sql.upper(), query
    # A filter the tally cannot answer counts the rows, and agrees.
    with CaptureQueriesContext(connection) as queries:
        body = client.get(FINDINGS, {"severity": "critical", "host": "127.0.0.1"}).json()
    assert body["total"] == 9
    assert "findings_findingtally" not in " ".join(q["sql"] for q in queries.captured_queries)


@pytest.mark.django_db(transaction=True)
def test_two_writers_of_one_tenant_do_not_wait_on_each_other(tenant_a):
    """One transaction adds a tenant's critical finding and stays open; another connection adds one more of the
    same key under a 1 s lock timeout. With one counter row per key the second would block; appended deltas
    do not. Both totals land once both commit."""
    ingest(make_scan(tenant_a.tenant_id), record("seed", severity=Severity.CRITICAL))
    dsn = connection.get_connection_params()
    insert = ("INSERT INTO findings_finding (tenant_id, uuid, fingerprint, title, severity, status, tool, rule_id, "
              "category, affected_component, host, description, remediation, evidence, cve_ids, cwe_ids, "
              '"references", first_seen, last_seen, occurrences, status_changed_by) VALUES (%s, gen_random_uuid(), '
              "%s, 't', 'critical', 'open', 'nuclei', 'r', '', 'c', '', '', '', '', '{}', '{}', '{}', now(), "
              "now(), 1, '')")
    params = {key: dsn[key] for key in ("host", "port", "user", "dbname") if dsn.get(key)}
    with psycopg.connect(**params) as first, psycopg.connect(**params, autocommit=True) as second:
        first.execute(insert, (tenant_a.tenant_id, "f" * 64))
        second.execute("SET lock_timeout = '1s'")
        second.execute(insert, (tenant_a.tenant_id, "e" * 64))  # would raise LockNotAvailable if it waited
        first.commit()
    assert tallied(tenant_a.tenant_id) == counted(tenant_a.tenant_id) == {("critical", "open", "nuclei"): 3}
