"""scan_diff and GET /scans/{id}/diff: new, fixed, reopened, unchanged findings; opened and closed ports."""

from datetime import timedelta

import pytest
from django.utils import timezone

from findings.diff.selectors import scan_diff, scan_previous
from findings.tests.factories import ingest, make_scan, make_service, record



def days_ago(days):
    return timezone.now() - timedelta(days=days)


@pytest.fixture
def series(tenant_a):
    """Three completed nmap scans of 127.0.0.1: A (x, y; ports 22, 80), B (x; 22, 80), C (x, y, z; 22, 443)."""
    a = make_scan(tenant_a.tenant_id, created_at=days_ago(3))
    b = make_scan(tenant_a.tenant_id, created_at=days_ago(2))
    c = make_scan(tenant_a.tenant_id, created_at=days_ago(1))
    ingest(a, record("x"), record("y"))
    ingest(b, record("x"))
    ingest(c, record("x"), record("y"), record("z"))
    for scan, ports in ((a, (22, 80)), (b, (22, 80)), (c, (22, 443))):
        for port in ports:
            make_service(scan, port=port, service={22: "ssh", 80: "http", 443: "https"}[port])
    return a, b, c


def rules(findings):
    return sorted(finding.rule_id for finding in findings)


def test_previous_is_the_latest_completed_comparable_scan(tenant_a, series):
    a, b, c = series
    make_scan(tenant_a.tenant_id, created_at=days_ago(1.5), status="failed")
    make_scan(tenant_a.tenant_id, created_at=days_ago(1.4), target="127.0.0.2")
    make_scan(tenant_a.tenant_id, created_at=days_ago(1.3), engine="", scan_type="quick")
    assert scan_previous(tenant_id=tenant_a.tenant_id, scan=c) == b
    assert scan_previous(tenant_id=tenant_a.tenant_id, scan=a) is None


def test_diff_against_the_previous_scan(tenant_a, series):
    _, b, c = series
    diff = scan_diff(tenant_id=tenant_a.tenant_id, scan=c)
    assert diff.against == b
    assert (rules(diff.new), rules(diff.reopened), rules(diff.unchanged), rules(diff.fixed)) == (
        ["z"], ["y"], ["x"], [])
    assert [(p.host, p.port) for p in diff.ports_opened] == [("127.0.0.1", 443)]
    assert [(p.host, p.port, p.service) for p in diff.ports_closed] == [("127.0.0.1", 80, "http")]


def test_diff_against_an_explicit_scan(tenant_a, series):
    a, b, _ = series
    diff = scan_diff(tenant_id=tenant_a.tenant_id, scan=b, against=str(a.pk))
    assert (rules(diff.new), rules(diff.unchanged), rules(diff.fixed)) == ([], ["x"], ["y"])
    assert diff.ports_opened == [] and diff.ports_closed == []


def test_first_scan_has_everything_new(tenant_a, series):
    a, _, _ = series
    diff = scan_diff(tenant_id=tenant_a.tenant_id, scan=a)
    assert diff.against is None and rules(diff.new) == ["x", "y"]
    assert [p.port for p in diff.ports_opened] == [22, 80]


def test_diff_endpoint_shape(client_for, tenant_a, series):
    _, b, c = series
    body = client_for(tenant_a).get(f"/api/v1/scans/{c.pk}/diff").json()
    assert body["against"]["id"] == str(b.pk) and body["scan_id"] == str(c.pk)
    assert body["counts"] == {"new": 1, "reopened": 1, "unchanged": 1, "fixed": 0, "ports_opened": 1,
                              "ports_closed": 1}
    assert body["findings"]["new"][0]["title"] == "Issue z"
    assert body["ports"]["closed"] == [{"host": "127.0.0.1", "port": 80, "protocol": "tcp", "service": "http"}]


def test_against_another_tenants_scan_is_404_with_no_data(client_for, tenant_a, tenant_b, series):
    _, _, c = series
    theirs = make_scan(tenant_b.tenant_id)
    ingest(theirs, record("globex-secret"))
    response = client_for(tenant_a).get(f"/api/v1/scans/{c.pk}/diff", {"against": str(theirs.pk)})
    assert response.status_code == 404 and "globex" not in response.content.decode()
    assert response.json() == {"error": {"code": "not_found", "message": "Scan not found"}}
