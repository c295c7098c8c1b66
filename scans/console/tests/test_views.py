"""Console pages: login and membership gate, tenant isolation, and what each page renders from selectors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from scans.console.tests.conftest import PASSWORD, member
from scans.imports import scan_import
from scans.models import Scan
from scans.schedules import schedule_create
from scans.services import ScanRequest, scan_create
from tenants.models import Membership

NUCLEI_LOG4SHELL = Path(__file__).resolve().parents[3] / "engines/nuclei/tests/fixtures/scb_log4shell.jsonl"


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def queued(tenant, **fields) -> Scan:
    request = ScanRequest(target="127.0.0.1", engine="nmap", options={"ports": "80"}, **fields)
    return scan_create(tenant_id=tenant.tenant_id, api_key_pk=None, request=request)


def imported(tenant) -> Scan:
    return scan_import(tenant_id=tenant.tenant_id, api_key_pk=None, engine="nuclei", path=NUCLEI_LOG4SHELL,
                       target="127.0.0.1")


def test_anonymous_users_are_sent_to_the_console_login(db):
    response = Client().get("/console/schedules/")
    assert response.status_code == 302
    assert response["Location"] == "/console/login/?next=/console/schedules/"


def test_login_with_the_auth_login_view_lands_on_the_dashboard(ops):
    client = Client()
    page = client.get("/console/login/")
    assert page.status_code == 200 and b'autocomplete="current-password"' in page.content
    response = client.post("/console/login/", {"username": "ops", "password": PASSWORD})
    assert (response.status_code, response["Location"]) == (302, "/console/")
    assert client.get("/console/").status_code == 200


def test_a_wrong_password_is_refused_with_a_message(ops):
    response = Client().post("/console/login/", {"username": "ops", "password": "nope"})
    assert response.status_code == 200 and b'role="alert"' in response.content


def test_staff_without_membership_see_a_clear_message_not_data(staff_only, tenant_a):
    queued(tenant_a)
    response = logged_in(staff_only).get("/console/")
    assert response.status_code == 403
    assert b"not a member of any active tenant" in response.content
    assert b"Open the Django admin" in response.content
    assert b"127.0.0.1" not in response.content


def test_the_dashboard_shows_running_scans_queue_depth_and_history(ops, tenant_a, tenant_b):
    running = queued(tenant_a, priority="high")
    Scan.objects.filter(pk=running.pk).update(status="running", progress=40, phase="discovery",
                                              started_at=timezone.now())
    queued(tenant_a, priority="critical")
    queued(tenant_b, priority="low")
    imported(tenant_a)
    response = logged_in(ops).get("/console/")
    assert response.status_code == 200
    running_items = response.context["running"]
    assert [scan.pk for scan in running_items] == [running.pk]
    assert {q.priority: q.queued for q in response.context["queue"]} == {"critical": 1, "high": 0, "normal": 0,
                                                                         "low": 0}
    assert response.context["scans_chart"]["bars"][-1]["count"] == 3
    assert response.context["findings_per_day"][-1].counts["critical"] == 1
    [risky] = response.context["risky_targets"]
    assert (risky.target, risky.open_by_severity["critical"], risky.risk.level) == ("127.0.0.1", 1, "critical")
    assert b'aria-valuenow="40"' in response.content


def test_the_live_fragment_re_renders_the_running_panel(ops, tenant_a):
    queued(tenant_a)
    response = logged_in(ops).get("/console/?partial=live")
    assert b"<html" not in response.content and b"Queue depth" in response.content


def test_the_dashboard_does_a_fixed_number_of_queries(ops, tenant_a, django_assert_max_num_queries):
    for _ in range(3):
        imported(tenant_a)
    client = logged_in(ops)
    with django_assert_max_num_queries(16):
        assert client.get("/console/").status_code == 200


def test_the_scan_page_shows_plan_results_and_findings(ops, tenant_a):
    scan = imported(tenant_a)
    response = logged_in(ops).get(f"/console/scans/{scan.pk}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Remote code injection in Log4j" in body and 'class="badge sev-critical"' in body
    assert 'role="log"' in body and 'aria-live="polite"' in body
    assert [row["state"] for row in response.context["phases"]] == ["completed"]
    assert [row["moves"] for row in response.context["finding_rows"]] == [["false_positive", "in_progress",
                                                                           "resolved"]]


def test_findings_fragment_filters_by_severity_and_status(ops, tenant_a):
    scan = imported(tenant_a)
    client = logged_in(ops)
    url = f"/console/scans/{scan.pk}/?partial=findings"
    assert b"Log4j" in client.get(url + "&severity=critical&status=open").content
    assert b"Log4j" not in client.get(url + "&severity=low").content
    assert b"Log4j" not in client.get(url + "&status=resolved").content


def test_the_compliance_fragment_renders_a_framework_report(ops, tenant_a):
    scan = imported(tenant_a)
    client = logged_in(ops)
    response = client.get(f"/console/scans/{scan.pk}/?partial=compliance&framework=pci-dss")
    assert response.status_code == 200 and b"compliance report" in response.content
    assert client.get(f"/console/scans/{scan.pk}/?partial=compliance&framework=iso").status_code == 404


def test_another_tenants_scan_is_a_404(ops, tenant_b):
    scan = imported(tenant_b)
    assert logged_in(ops).get(f"/console/scans/{scan.pk}/").status_code == 404


def test_a_viewer_gets_no_triage_or_create_controls(viewer, tenant_a):
    scan = imported(tenant_a)
    client = logged_in(viewer)
    page = client.get(f"/console/scans/{scan.pk}/").content
    assert b"finding-status-form" not in page and b"New scan</a>" not in page
    assert b"cannot start scans" in client.get("/console/scans/new/").content
    assert b"cannot manage schedules" in client.get("/console/schedules/").content


def test_the_new_scan_page_is_a_frame_for_the_engine_schema(ops):
    page = logged_in(ops).get("/console/scans/new/").content
    assert b'id="scan-form"' in page and b"scan_form.js" in page and b'id="import-form"' in page


def test_the_schedules_page_lists_schedules_with_their_next_run(ops, tenant_a):
    schedule = schedule_create(tenant_id=tenant_a.tenant_id, api_key_pk=None,
                               request=ScanRequest(target="127.0.0.1", scan_type="quick"), frequency="weekly",
                               day_of_week=1, day_of_month=None, hour=2)
    client = logged_in(ops)
    rows = client.get("/console/schedules/?partial=rows").content.decode()
    assert str(schedule.uuid) in rows and "weekly on Monday at 02:00 UTC" in rows
    assert schedule.next_run_at.strftime("%Y-%m-%d %H:%M") in rows


def test_a_member_of_two_tenants_switches_between_them(ops, tenant_a, tenant_b):
    member_b = member("ops-b", tenant_b)
    Membership.objects.create(user=ops, tenant_id=tenant_b.tenant_id, role="viewer")
    scan_b = imported(tenant_b)
    client = logged_in(ops)
    assert client.get(f"/console/scans/{scan_b.pk}/").status_code == 404
    tenant_uuid = str(Membership.objects.get(user=ops, tenant_id=tenant_b.tenant_id).tenant.uuid)
    assert client.post("/console/tenant/", {"tenant": tenant_uuid}).status_code == 302
    assert client.get(f"/console/scans/{scan_b.pk}/").status_code == 200
    other = str(Membership.objects.get(user=member_b).tenant.uuid)
    client.post("/console/tenant/", {"tenant": "00000000-0000-0000-0000-000000000000"})
    assert client.session["console_tenant"] == other


def test_every_console_asset_is_local(ops, tenant_a):
    scan = imported(tenant_a)
    client = logged_in(ops)
    pages = [client.get(url) for url in ("/console/", f"/console/scans/{scan.pk}/", "/console/scans/new/",
                                         "/console/schedules/")] + [Client().get("/console/login/")]
    for page in pages:
        url, body = page.wsgi_request.path, page.content.decode()
        assets = re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="([^"]+)"', body)
        assert assets and all(asset.startswith("/static/") for asset in assets), (url, assets)
