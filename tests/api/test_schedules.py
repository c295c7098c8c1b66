"""Scheduled scans (seed 003): API shapes, plan gating, DST-correct next runs, one run per firing, skipped
runs when the quota is out."""

from datetime import datetime, timezone

import pytest
from django_celery_beat.models import PeriodicTask

from scans.models import Scan, ScanSchedule, ScheduleRun
from scans.schedules import next_run_after, schedule_run
from tests.conftest import make_tenant

URL = "/api/v1/scans/schedules"
WEEKLY = {"target": "127.0.0.1", "scan_type": "quick", "frequency": "weekly", "day_of_week": 1, "hour": 2,
          "timezone": "UTC"}


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


def test_create_list_and_delete_as_seed_003(client_for, tenant_a):
    client = client_for(tenant_a)
    created = client.post(URL, WEEKLY, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert {k: body[k] for k in ("target", "scan_type", "frequency", "day_of_week", "hour", "timezone",
                                 "paused")} == {"target": "127.0.0.1", "scan_type": "quick", "frequency": "weekly",
                                                "day_of_week": 1, "hour": 2, "timezone": "UTC", "paused": False}
    next_run = datetime.fromisoformat(body["next_run_at"].replace("Z", "+00:00"))
    assert next_run.weekday() == 0 and (next_run.hour, next_run.minute) == (2, 0)
    task = PeriodicTask.objects.get(name=f"lantern-schedule-{body['id']}")
    assert (task.crontab.day_of_week, task.crontab.hour, str(task.crontab.timezone)) == ("1", "2", "UTC")
    assert client.get(URL).json()["total"] == 1
    assert client.delete(f"{URL}/{body['id']}").status_code == 204
    assert client.get(URL).json()["total"] == 0 and not PeriodicTask.objects.filter(pk=task.pk).exists()


def test_startup_plans_cannot_schedule(client_for, db):
    response = client_for(make_tenant("tiny", plan="startup")).post(URL, WEEKLY, format="json")
    assert response.status_code == 403 and "Professional and Enterprise" in response.json()["error"]["message"]
    assert ScanSchedule.objects.count() == 0


@pytest.mark.parametrize("change, field", [
    ({"frequency": "hourly"}, "frequency"), ({"hour": 24}, "hour"), ({"day_of_week": 7}, "day_of_week"),
    ({"timezone": "Mars/Olympus"}, "timezone"), ({"target": "8.8.8.8"}, "target"),
    ({"frequency": "weekly", "day_of_week": None}, "day_of_week"),
])
def test_invalid_schedules_are_refused_naming_the_field(client_for, tenant_a, change, field):
    body = {k: v for k, v in {**WEEKLY, **change}.items() if v is not None}
    response = client_for(tenant_a).post(URL, body, format="json")
    assert response.status_code in (400, 422) and response.json()["error"]["field"] == field
    assert ScanSchedule.objects.count() == 0 and PeriodicTask.objects.filter(name__startswith="lantern").count() == 0


def test_another_tenants_schedule_is_404(client_for, tenant_a, tenant_b):
    theirs = client_for(tenant_b).post(URL, WEEKLY, format="json").json()["id"]
    assert client_for(tenant_a).delete(f"{URL}/{theirs}").status_code == 404
    assert client_for(tenant_a).post(f"{URL}/{theirs}/pause").status_code == 404
    assert ScanSchedule.objects.filter(uuid=theirs, paused=False).exists()


def test_pause_and_resume_toggle_the_beat_entry(client_for, tenant_a):
    client = client_for(tenant_a)
    schedule_id = client.post(URL, WEEKLY, format="json").json()["id"]
    paused = client.post(f"{URL}/{schedule_id}/pause").json()
    assert paused["paused"] is True and paused["next_run_at"] is None
    assert PeriodicTask.objects.get(name=f"lantern-schedule-{schedule_id}").enabled is False
    assert client.post(f"{URL}/{schedule_id}/resume").json()["next_run_at"] is not None
    assert PeriodicTask.objects.get(name=f"lantern-schedule-{schedule_id}").enabled is True


def schedule(**fields):
    defaults = {"frequency": "daily", "hour": 2, "minute": 0, "timezone": "Europe/Berlin"}
    return ScanSchedule(**{**defaults, **fields})


def test_a_daily_local_time_stays_local_across_dst():
    daily = schedule()
    assert next_run_after(daily, utc(2026, 3, 27, 12)) == utc(2026, 3, 28, 1)  # CET, UTC+1
    # 29 March 2026: 02:00 does not exist in Berlin (clocks jump to 03:00): it runs at 03:00 CEST
    assert next_run_after(daily, utc(2026, 3, 28, 12)) == utc(2026, 3, 29, 1)
    assert next_run_after(daily, utc(2026, 3, 29, 12)) == utc(2026, 3, 30, 0)  # CEST, UTC+2
    assert next_run_after(daily, utc(2026, 10, 24, 12)) == utc(2026, 10, 25, 0)  # still CEST at 02:00
    assert next_run_after(daily, utc(2026, 10, 25, 12)) == utc(2026, 10, 26, 1)  # back to CET


def test_weekly_and_monthly_rules():
    assert next_run_after(schedule(frequency="weekly", day_of_week=0, timezone="UTC"),
                          utc(2026, 11, 21, 12)) == utc(2026, 11, 22, 2)  # next Sunday
    assert next_run_after(schedule(frequency="monthly", day_of_month=1, timezone="UTC"),
                          utc(2026, 12, 15)) == utc(2027, 1, 1, 2)


def test_a_firing_runs_once_and_creates_a_scan(client_for, tenant_a):
    schedule_id = client_for(tenant_a).post(URL, WEEKLY, format="json").json()["id"]
    row = ScanSchedule.objects.get(uuid=schedule_id)
    due = row.next_run_at
    first = schedule_run(schedule_id=row.pk, now=due)
    duplicate = schedule_run(schedule_id=row.pk, now=due)
    assert first.status == "created" and duplicate is None
    scan = Scan.objects.get(pk=first.scan_id)
    assert scan.surface == "schedule" and scan.scan_type == "quick" and scan.extra["schedule_id"] == schedule_id
    row.refresh_from_db()
    assert row.next_run_at > due and row.last_run_at is not None


def test_a_run_without_quota_is_recorded_as_skipped(client_for, tenant_a):
    from tenants.models import Plan

    schedule_id = client_for(tenant_a).post(URL, WEEKLY, format="json").json()["id"]
    Plan.objects.filter(slug="professional").update(monthly_scan_limit=0)
    row = ScanSchedule.objects.get(uuid=schedule_id)
    run = schedule_run(schedule_id=row.pk, now=row.next_run_at)
    assert run.status == "skipped" and "quota exhausted" in run.reason and run.scan_id is None
    assert Scan.objects.count() == 0 and ScheduleRun.objects.count() == 1
    listed = client_for(tenant_a).get(URL).json()["items"][0]["recent_runs"]
    assert listed[0]["status"] == "skipped"
