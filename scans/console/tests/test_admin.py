"""The operators' admin: changelists stay a fixed number of queries (no N+1, bounded counts), and every action
goes through the services the API uses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_celery_beat.models import PeriodicTask

from findings.models import Finding, FindingStatusChange
from scans.imports import scan_import
from scans.models import Scan, ScanSchedule
from scans.schedules import schedule_create
from scans.services import ScanRequest, scan_create
from tenants.admin import BoundedCountPaginator
from tenants.models import ApiKey, Membership
from tenants.selectors import api_key_verify

NUCLEI_LOG4SHELL = Path(__file__).resolve().parents[3] / "engines/nuclei/tests/fixtures/scb_log4shell.jsonl"
CHANGELISTS = ("scans/scan", "scans/scanevent", "scans/scanschedule", "scans/worker", "findings/finding",
               "findings/knowncve", "tenants/tenant", "tenants/plan", "tenants/apikey", "tenants/auditlog",
               "tenants/membership")


@pytest.fixture
def admin_client(staff_only) -> Client:
    client = Client()
    client.force_login(staff_only)
    return client


def queued(tenant, **options) -> Scan:
    return scan_create(tenant_id=tenant.tenant_id, api_key_pk=None, request=ScanRequest(
        target="127.0.0.1", engine="nmap", options={"ports": "80", **options}, priority="high", name="nightly"))


def imported(tenant) -> Scan:
    return scan_import(tenant_id=tenant.tenant_id, api_key_pk=None, engine="nuclei", path=NUCLEI_LOG4SHELL,
                       target="127.0.0.1")


def action(client: Client, changelist: str, name: str, pks: list) -> str:
    response = client.post(f"/admin/{changelist}/", {"action": name, "_selected_action": [str(pk) for pk in pks]},
                           follow=True)
    assert response.status_code == 200
    return " ".join(str(message) for message in response.context["messages"])


@pytest.mark.parametrize("changelist", CHANGELISTS)
def test_every_changelist_renders(admin_client, tenant_a, changelist):
    imported(tenant_a)
    queued(tenant_a)
    assert admin_client.get(f"/admin/{changelist}/").status_code == 200


@pytest.mark.parametrize("changelist", ["scans/scan", "findings/finding", "tenants/tenant", "tenants/apikey"])
def test_changelists_do_not_grow_with_their_rows(admin_client, tenant_a, tenant_b, changelist,
                                                 django_assert_num_queries):
    imported(tenant_a)
    queued(tenant_a)
    with CaptureQueriesContext(connection) as few:
        admin_client.get(f"/admin/{changelist}/")
    for tenant in (tenant_a, tenant_b, tenant_b):
        imported(tenant)
        queued(tenant)
    with django_assert_num_queries(len(few.captured_queries)):
        admin_client.get(f"/admin/{changelist}/")


def test_the_scan_list_shows_progress_and_duration(admin_client, tenant_a):
    scan = imported(tenant_a)
    body = admin_client.get("/admin/scans/scan/").content.decode()
    assert '<progress max="100" value="100"' in body and "0 s" in body and str(scan.pk)[:8] in body


def test_the_paginator_estimates_or_caps_instead_of_counting_everything(tenant_a, monkeypatch):
    for _ in range(4):
        queued(tenant_a)
    monkeypatch.setattr(BoundedCountPaginator, "COUNT_CAP", 2)
    assert BoundedCountPaginator(Scan.objects.filter(tenant_id=tenant_a.tenant_id).order_by("pk"), 10).count == 3
    assert BoundedCountPaginator(Scan.objects.order_by("pk"), 10).count in {3, 4}


def test_issuing_a_key_shows_its_secret_once(admin_client, tenant_a):
    response = admin_client.post("/admin/tenants/apikey/add/", {
        "tenant": tenant_a.tenant_id, "name": "ci", "role": "reporter", "scopes": ["oem"]})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    key_id, secret = re.search(r'id="issued-key">lnt_([0-9a-f]+)\.([^<]+)<', response.content.decode()).groups()
    issued = api_key_verify(key_id=key_id, secret=secret)
    assert (issued.tenant_id, issued.role, issued.extra_scopes, issued.name) == (tenant_a.tenant_id, "reporter",
                                                                                 ["oem"], "ci")
    assert secret not in admin_client.get(f"/admin/tenants/apikey/{issued.pk}/change/").content.decode()


def test_a_key_without_role_or_scope_is_refused_with_the_services_message(admin_client, tenant_a):
    response = admin_client.post("/admin/tenants/apikey/add/", {"tenant": tenant_a.tenant_id, "role": ""})
    assert b"a key needs a role or at least one scope" in response.content
    assert ApiKey.objects.filter(tenant_id=tenant_a.tenant_id).count() == 1


def test_the_revoke_action_revokes_through_the_service(admin_client, tenant_a):
    key = ApiKey.objects.get(key_id=tenant_a.key_id)
    assert "Revoked 1 key(s)." in action(admin_client, "tenants/apikey", "revoke", [key.pk])
    key.refresh_from_db()
    assert key.revoked_at is not None and api_key_verify(key_id=tenant_a.key_id, secret=tenant_a.secret) is None


def test_cancel_and_rerun_actions_use_the_scan_services(admin_client, tenant_a):
    scan = queued(tenant_a, timing="T4")
    report = imported(tenant_a)
    assert "Cancellation requested for 1 scan(s)." in action(admin_client, "scans/scan", "cancel", [scan.pk])
    assert Scan.objects.get(pk=scan.pk).status == "cancelled"
    messages = action(admin_client, "scans/scan", "rerun", [scan.pk, report.pk])
    assert "Queued 1 new scan(s)" in messages and "an imported report cannot be run again" in messages
    rerun = Scan.objects.exclude(pk__in=[scan.pk, report.pk]).get()
    assert (rerun.status, rerun.target_value, rerun.engine, rerun.options, rerun.priority, rerun.name) == (
        "queued", "127.0.0.1", "nmap", scan.options, scan.priority, "nightly")
    assert rerun.extra["rerun_of"] == str(scan.pk)


def test_finding_status_actions_follow_the_transition_table(admin_client, tenant_a):
    imported(tenant_a)
    finding = Finding.objects.get(tenant_id=tenant_a.tenant_id)
    assert "1 finding(s) now resolved." in action(admin_client, "findings/finding", "mark_resolved", [finding.pk])
    refused = action(admin_client, "findings/finding", "mark_in_progress", [finding.pk])
    assert "cannot move to in_progress" in refused
    change = FindingStatusChange.objects.get(finding=finding)
    assert (change.from_status, change.to_status, change.changed_by) == ("open", "resolved", "admin:root")
    body = admin_client.get(f"/admin/findings/finding/{finding.pk}/change/").content.decode()
    assert "seen by scans" in body.lower() and "/admin/scans/scan/" in body


def test_schedule_actions_keep_the_beat_entry_in_step(admin_client, tenant_a):
    schedule = schedule_create(tenant_id=tenant_a.tenant_id, api_key_pk=None,
                               request=ScanRequest(target="127.0.0.1", scan_type="quick"), frequency="daily",
                               day_of_week=None, day_of_month=None, hour=3)
    action(admin_client, "scans/scanschedule", "pause", [schedule.pk])
    assert PeriodicTask.objects.get(pk=schedule.periodic_task_id).enabled is False
    response = admin_client.post(f"/admin/scans/scanschedule/{schedule.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not ScanSchedule.objects.exists() and not PeriodicTask.objects.filter(pk=schedule.periodic_task_id).exists()


def test_a_membership_is_added_for_a_user_and_tenant(admin_client, tenant_a, staff_only):
    response = admin_client.post("/admin/tenants/membership/add/", {
        "user": staff_only.pk, "tenant_choice": tenant_a.tenant_id, "role": "viewer"})
    assert response.status_code == 302
    membership = Membership.objects.get(user=staff_only)
    assert (membership.tenant_id, membership.role) == (tenant_a.tenant_id, "viewer")


def test_the_tenant_list_shows_limits_usage_and_scope(admin_client, tenant_a):
    queued(tenant_a)
    imported(tenant_a)
    body = admin_client.get("/admin/tenants/tenant/").content.decode()
    assert "3 concurrent, 150/month, schedules on" in body
    assert "1 / 150" in body
    assert "loopback only" in body
