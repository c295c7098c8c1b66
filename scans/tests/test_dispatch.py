"""The dispatcher: priority first, FIFO within a level, tenant concurrency from the plan, one claim per scan
even with many workers claiming at once."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from scans.dispatch import scan_claim_next, scans_eligible_count
from scans.models import Scan
from scans.services import ScanRequest, scan_create
from tests.conftest import make_tenant


def queue(tenant, priority="normal", age_s=0):
    scan = scan_create(tenant_id=tenant.tenant_id, api_key_pk=None,
                       request=ScanRequest(target="127.0.0.1", engine="nmap", priority=priority))
    Scan.objects.filter(pk=scan.pk).update(created_at=timezone.now() - timedelta(seconds=age_s))
    return str(scan.pk)


@pytest.fixture
def enterprise(db):
    return make_tenant("bigco", plan="enterprise")


def test_priority_beats_age_and_age_orders_a_level(enterprise):
    low_old = queue(enterprise, "low", age_s=100)
    normal_old = queue(enterprise, "normal", age_s=50)
    normal_new = queue(enterprise, "normal", age_s=10)
    critical = queue(enterprise, "critical", age_s=1)
    high = queue(enterprise, "high", age_s=5)
    order = [scan_claim_next(worker="w") for _ in range(6)]
    assert order == [critical, high, normal_old, normal_new, low_old, None]
    assert Scan.objects.filter(status="running", attempts=1, worker="w").count() == 5


def test_a_startup_tenant_runs_one_scan_and_its_backlog_does_not_block_others(db):
    startup = make_tenant("tiny", plan="startup")
    other = make_tenant("other", plan="professional")
    first = queue(startup, "critical", age_s=30)
    queue(startup, "critical", age_s=20)
    theirs = queue(other, "low", age_s=1)
    assert scan_claim_next(worker="w") == first
    assert scans_eligible_count() == 1
    assert scan_claim_next(worker="w") == theirs  # the startup tenant's second scan waits, holding no slot
    assert scan_claim_next(worker="w") is None
    Scan.objects.filter(pk=first).update(status="completed")
    assert scan_claim_next(worker="w") is not None


@pytest.mark.django_db(transaction=True)
def test_concurrent_claimers_never_share_a_scan_or_exceed_a_tenant_limit():
    pro = make_tenant("pro", plan="professional")  # 3 concurrent scans
    ent = make_tenant("ent", plan="enterprise")
    for _ in range(6):
        queue(pro)
        queue(ent)
    claimed: list[str | None] = []
    lock = threading.Lock()

    def claim() -> None:
        try:
            result = scan_claim_next(worker="t")
            with lock:
                claimed.append(result)
        finally:
            connection.close()

    threads = [threading.Thread(target=claim) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    taken = [scan_id for scan_id in claimed if scan_id]
    assert len(taken) == len(set(taken)) == 9  # 3 of pro's, all 6 of ent's
    assert Scan.objects.filter(tenant_id=pro.tenant_id, status="running").count() == 3
    assert Scan.objects.filter(tenant_id=ent.tenant_id, status="running").count() == 6
