"""The reconciler: a scan whose worker went silent is re-queued once, then failed with a reason; waiting
scans get slot tokens, without piling tokens up on every tick."""

from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.utils import timezone

from scans.models import Scan, ScanEvent
from scans.services import ScanRequest, scan_create, scans_reconcile
from tests.conftest import make_tenant


@pytest.fixture
def broker():
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete("scans")
    yield client
    client.delete("scans")


def running_scan(tenant, *, attempts, silent_for_s):
    scan = scan_create(tenant_id=tenant.tenant_id, api_key_pk=None,
                       request=ScanRequest(target="127.0.0.1", engine="nmap"))
    Scan.objects.filter(pk=scan.pk).update(status="running", attempts=attempts, worker="w1", progress=40,
                                           heartbeat_at=timezone.now() - timedelta(seconds=silent_for_s))
    return scan.pk


def test_a_silent_scan_is_requeued_then_failed_after_its_attempts(db, broker):
    tenant = make_tenant("acme", plan="enterprise")
    first_try = running_scan(tenant, attempts=1, silent_for_s=settings.LANTERN_SCAN_STALE_S + 5)
    last_try = running_scan(tenant, attempts=settings.LANTERN_SCAN_MAX_ATTEMPTS,
                            silent_for_s=settings.LANTERN_SCAN_STALE_S + 5)
    healthy = running_scan(tenant, attempts=1, silent_for_s=1)
    outcome = scans_reconcile()
    assert (outcome["requeued"], outcome["failed"]) == (1, 1)
    assert Scan.objects.values_list("status", "progress").get(pk=first_try) == ("queued", 40)
    failed = Scan.objects.get(pk=last_try)
    assert failed.status == "failed" and "worker w1 stopped answering" in failed.error_reason
    assert Scan.objects.get(pk=healthy).status == "running"
    assert ScanEvent.objects.filter(scan_id=first_try).latest("seq").type == "scan.queued"
    assert ScanEvent.objects.filter(scan_id=last_try).latest("seq").type == "scan.failed"


def test_tokens_are_topped_up_to_the_eligible_count_only(db, broker):
    tenant = make_tenant("acme", plan="professional")  # 3 at a time
    for _ in range(5):
        scan_create(tenant_id=tenant.tenant_id, api_key_pk=None,
                    request=ScanRequest(target="127.0.0.1", engine="nmap"))
    assert scans_reconcile()["tokens"] == 3
    assert broker.llen("scans") == 3
    assert scans_reconcile()["tokens"] == 0  # the next tick adds nothing while three still wait
    assert broker.llen("scans") == 3


def test_a_requeued_scan_resumes_after_its_completed_phases(db, broker):
    """The worker died after discovery: the next attempt runs only what is left (here: the skipped and
    internal phases of a full scan, which need no tool and no network), not discovery again."""
    from scans.dispatch import scan_claim_next
    from scans.execution import scan_execute

    tenant = make_tenant("acme", plan="enterprise")
    scan = scan_create(tenant_id=tenant.tenant_id, api_key_pk=None,
                       request=ScanRequest(target="127.0.0.1", scan_type="full", ports="1"))
    done = ["discovery", "enumeration", "vulnerability_scanning", "web_analysis"]
    Scan.objects.filter(pk=scan.pk).update(phases_completed=done)
    assert scan_claim_next(worker="w2") == str(scan.pk)
    assert scan_execute(scan_id=str(scan.pk)) == "completed"
    scan.refresh_from_db()
    assert scan.phases_completed == [*done, "correlation", "remediation_planning", "reporting"]
    started = ScanEvent.objects.filter(scan=scan, type="phase.started").values_list("payload__phase", flat=True)
    assert list(started) == ["correlation", "remediation_planning", "reporting"]


def test_a_scheduled_run_carries_its_diff_and_announces_it(db, broker):
    """Two scheduled runs of the same plan: the second one's diff (against the first) is stored on it and
    published as a scan.diff event, which webhooks can subscribe to."""
    from engines.records import ServiceRecord
    from scans.dispatch import scan_claim_next
    from scans.execution import scan_execute
    from scans.results import scan_results_store

    tenant = make_tenant("acme", plan="enterprise")
    request = ScanRequest(target="127.0.0.1", scan_type="full", ports="1", surface="schedule")
    runs = []
    for port in (8080, 8443):
        scan = scan_create(tenant_id=tenant.tenant_id, api_key_pk=None, request=request)
        scan_results_store(scan=scan, records=[ServiceRecord(host="127.0.0.1", port=port)])
        Scan.objects.filter(pk=scan.pk).update(phases_completed=[
            "discovery", "enumeration", "vulnerability_scanning", "web_analysis"])
        assert scan_claim_next(worker="w") == str(scan.pk) and scan_execute(scan_id=str(scan.pk)) == "completed"
        runs.append(scan)
    second = Scan.objects.get(pk=runs[1].pk)
    diff = second.extra["diff"]
    assert diff["against"] == str(runs[0].pk)
    assert (diff["ports_opened"], diff["ports_closed"]) == (["127.0.0.1:8443/tcp"], ["127.0.0.1:8080/tcp"])
    event = ScanEvent.objects.filter(scan=second, type="scan.diff").get()
    assert event.payload == diff
