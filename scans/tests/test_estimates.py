"""estimated_completion from measured step durations: the arithmetic (scans.estimates) and what a real scan
of 127.0.0.1 records and announces."""

from datetime import datetime

import pytest
import redis
from django.conf import settings

from scans.estimates import RunningStep, remaining_seconds, step_key, step_means, step_timing_record
from scans.models import Scan, ScanEvent, StepTiming
from scans.services import ScanRequest, scan_create
from tests.conftest import client_for, make_tenant, tenant_a  # noqa: F401  (fixtures)

NMAP_FAST = {"engine": "nmap", "options": {"ports": "1-20"}}


def test_the_running_step_uses_its_own_rate_when_it_reports_one():
    means = {"a": 100.0, "b": 30.0}
    assert remaining_seconds(running=RunningStep("a", elapsed_s=10, percent=25), upcoming=["b"], means=means) == 60
    # no percentage: its recorded mean minus what it has run, never below zero
    assert remaining_seconds(running=RunningStep("a", elapsed_s=10), upcoming=["b"], means=means) == 120
    assert remaining_seconds(running=RunningStep("a", elapsed_s=500), upcoming=["b"], means=means) == 30


def test_unmeasured_steps_take_this_runs_mean_or_leave_the_estimate_unknown():
    means = {"a": 100.0}
    assert remaining_seconds(running=None, upcoming=["a", "new"], means=means) is None
    assert remaining_seconds(running=None, upcoming=["a", "new"], means=means, finished_s=[4.0, 8.0]) == 106
    assert remaining_seconds(running=None, upcoming=[], means={}) == 0


def test_more_work_left_never_estimates_less():
    means = {"a": 5.0, "b": 50.0, "c": 20.0}
    estimates = [remaining_seconds(running=None, upcoming=upcoming, means=means)
                 for upcoming in (["a", "b", "c"], ["b", "c"], ["c"], [])]
    assert estimates == sorted(estimates, reverse=True)


def test_step_keys_separate_different_work_and_ignore_the_target():
    assert step_key(NMAP_FAST) == step_key({**NMAP_FAST, "target": "127.0.0.2"})
    assert step_key(NMAP_FAST) != step_key({"engine": "nmap", "options": {"ports": "1-65535"}})
    assert step_key(NMAP_FAST) != step_key({**NMAP_FAST, "open_ports_only": True})


def test_recorded_means_are_weighted_toward_recent_runs(db):
    for seconds in (10.0, 20.0):
        step_timing_record(NMAP_FAST, seconds)
    timing = StepTiming.objects.get(key=step_key(NMAP_FAST))
    assert timing.samples == 2 and timing.mean_seconds == pytest.approx(10 * 0.7 + 20 * 0.3)
    assert step_means([step_key(NMAP_FAST), "missing"]) == {step_key(NMAP_FAST): timing.mean_seconds}


@pytest.fixture
def broker():
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete("scans")
    yield client
    client.delete("scans")


def run_nmap_scan(tenant):
    from scans.dispatch import scan_claim_next
    from scans.execution import scan_execute

    scan = scan_create(tenant_id=tenant.tenant_id, api_key_pk=None,
                       request=ScanRequest(target="127.0.0.1", engine="nmap", options=NMAP_FAST["options"]))
    assert scan_claim_next(worker="w") == str(scan.pk)
    assert scan_execute(scan_id=str(scan.pk)) == "completed"
    return Scan.objects.get(pk=scan.pk)


def started_event_eta(scan):
    event = ScanEvent.objects.get(scan=scan, type="scan.started")
    eta = event.payload["estimated_completion"]
    return event, (datetime.fromisoformat(eta) if eta else None)


def test_a_real_scan_is_estimated_from_the_last_runs_of_its_steps(db, broker):
    """The first nmap run of 127.0.0.1 has no history (its estimate starts unknown) and records its duration;
    the next run starts with an estimate of that duration, and folds its own into the mean."""
    tenant = make_tenant("acme", plan="enterprise")
    first = run_nmap_scan(tenant)
    assert started_event_eta(first)[1] is None
    key = step_key({"engine": "nmap", "options": first.plan[0]["steps"][0]["options"]})
    measured = StepTiming.objects.get(key=key)
    took = (first.completed_at - first.started_at).total_seconds()
    assert measured.samples == 1 and 0 < measured.mean_seconds <= took

    StepTiming.objects.filter(key=key).update(mean_seconds=40.0)  # as if the last runs had taken 40 s
    second = run_nmap_scan(tenant)
    event, eta = started_event_eta(second)
    assert 39 <= (eta - event.created_at).total_seconds() <= 41
    refined = StepTiming.objects.get(key=key)
    assert refined.samples == 2 and 40 * 0.7 < refined.mean_seconds < 40


def test_a_new_scan_is_estimated_from_its_steps_once_all_were_measured(client_for, tenant_a):
    """POST /scans answers estimated_duration: the scan's timeout until its plan's steps have been timed, then
    the sum of their means (the same figures as a running scan's estimated_completion)."""
    body = {"target": "127.0.0.1", "engine": "nmap", "options": NMAP_FAST["options"], "authorized": True}
    first = client_for(tenant_a).post("/api/v1/scans", body, format="json").json()
    assert first["estimated_duration"] == first["timeout"]
    plan_step = Scan.objects.get(pk=first["id"]).plan[0]["steps"][0]
    step_timing_record(plan_step, 42.4)
    second = client_for(tenant_a).post("/api/v1/scans", {**body, "name": "again"}, format="json").json()
    assert second["estimated_duration"] == 42
