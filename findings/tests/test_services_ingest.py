"""findings_ingest: de-duplication, distinct-scan occurrence counts, reopen/keep rules, tenant checks."""

from datetime import timedelta

import pytest
from django.utils import timezone

from config.errors import NotFound
from engines.records import Severity
from findings.models import Finding, FindingOccurrence
from findings.services import findings_ingest
from findings.tests.factories import ingest, make_scan, record


def test_new_findings_are_stored_open_with_one_occurrence(tenant_a):
    scan = make_scan(tenant_a.tenant_id)
    count = ingest(scan, record("a", cvss_score=7.3, cve_ids=("cve-2021-1",), cwe_ids=("cwe-79",),
                               category="http", location="https://Example.test/x"), record("b"))
    assert count == 2
    finding = Finding.objects.get(rule_id="a")
    assert (finding.status, finding.occurrences, finding.tenant_id) == ("open", 1, tenant_a.tenant_id)
    assert (finding.cve_ids, finding.cwe_ids, finding.category) == (["CVE-2021-1"], ["CWE-79"], "http")
    assert finding.affected_component == "https://example.test/x" and float(finding.cvss_score) == 7.3
    assert finding.status_changed_by == "" and finding.first_seen == finding.last_seen
    assert FindingOccurrence.objects.filter(scan=scan).count() == 2


def test_duplicates_in_one_batch_are_one_finding_with_the_worst_severity(tenant_a):
    scan = make_scan(tenant_a.tenant_id)
    assert ingest(scan, record("a", severity=Severity.LOW), record("a", severity=Severity.CRITICAL)) == 1
    assert list(Finding.objects.values_list("severity", "occurrences")) == [("critical", 1)]


def test_reingesting_the_same_scan_does_not_inflate_occurrences(tenant_a):
    scan = make_scan(tenant_a.tenant_id)
    for _ in range(3):
        ingest(scan, record("a"))
    assert list(Finding.objects.values_list("occurrences", flat=True)) == [1]
    assert FindingOccurrence.objects.count() == 1


def test_occurrences_count_distinct_scans(tenant_a):
    first, second = make_scan(tenant_a.tenant_id), make_scan(tenant_a.tenant_id)
    ingest(first, record("a"))
    ingest(second, record("a"))
    ingest(second, record("a"))
    assert list(Finding.objects.values_list("occurrences", flat=True)) == [2]


def test_a_new_scan_reopens_a_resolved_finding_but_a_rerun_of_the_same_scan_does_not(tenant_a):
    first, second = make_scan(tenant_a.tenant_id), make_scan(tenant_a.tenant_id)
    ingest(first, record("a"))
    Finding.objects.update(status="resolved")
    ingest(first, record("a"))
    assert Finding.objects.get().status == "resolved"
    ingest(second, record("a"))
    finding = Finding.objects.get()
    assert (finding.status, finding.status_changed_by) == ("open", f"scan:{second.pk}")


@pytest.mark.parametrize("status", ["false_positive", "in_progress"])
def test_false_positive_and_in_progress_are_kept(tenant_a, status):
    first, second = make_scan(tenant_a.tenant_id), make_scan(tenant_a.tenant_id)
    ingest(first, record("a"))
    Finding.objects.update(status=status)
    ingest(second, record("a", severity=Severity.CRITICAL))
    assert list(Finding.objects.values_list("status", "severity", "occurrences")) == [(status, "critical", 2)]


def test_last_seen_moves_forward_only(tenant_a):
    first, second = make_scan(tenant_a.tenant_id), make_scan(tenant_a.tenant_id)
    now = timezone.now()
    ingest(first, record("a"), seen_at=now)
    ingest(second, record("a"), seen_at=now - timedelta(days=1))
    finding = Finding.objects.get()
    assert finding.last_seen == now and finding.first_seen == now


def test_same_fingerprint_in_two_tenants_is_two_findings(tenant_a, tenant_b):
    ingest(make_scan(tenant_a.tenant_id), record("a"))
    ingest(make_scan(tenant_b.tenant_id), record("a"))
    assert sorted(Finding.objects.values_list("tenant_id", flat=True)) == sorted(
        [tenant_a.tenant_id, tenant_b.tenant_id])


def test_another_tenants_scan_is_refused_and_nothing_is_written(tenant_a, tenant_b):
    theirs = make_scan(tenant_b.tenant_id)
    with pytest.raises(NotFound):
        findings_ingest(tenant_id=tenant_a.tenant_id, scan_id=str(theirs.pk), records=[record("a")],
                        seen_at=timezone.now())
    assert Finding.objects.count() == 0 and FindingOccurrence.objects.count() == 0


def test_two_tools_reporting_one_cve_on_one_component_are_one_finding(tenant_a):
    scan = make_scan(tenant_a.tenant_id)
    ingest(scan, record("x", engine="nuclei", cve_ids=("CVE-2021-44228",), location="http://h/"),
           record("y", engine="zap", cve_ids=("CVE-2021-44228",), location="HTTP://H/"))
    assert Finding.objects.count() == 1


def test_ingest_is_a_fixed_number_of_queries_whatever_the_batch(tenant_a, django_assert_num_queries):
    scan = make_scan(tenant_a.tenant_id)
    # scan check, savepoint, set local, drop, create, upsert, release (the COPY is not counted)
    with django_assert_num_queries(9):  # 7 to ingest, 2 to refresh the scan's per-severity counts
        ingest(scan, *[record(f"r{i}") for i in range(1200)])
    assert Finding.objects.count() == 1200 and FindingOccurrence.objects.count() == 1200


def test_empty_input_writes_nothing(tenant_a, django_assert_num_queries):
    scan = make_scan(tenant_a.tenant_id)
    with django_assert_num_queries(0):
        assert ingest(scan) == 0
