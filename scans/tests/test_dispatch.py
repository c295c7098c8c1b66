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
    assert scans_eligible_count() == {"scans": 1}
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


def test_within_a_priority_a_tenant_with_fewer_running_scans_goes_first(db):
    hog = make_tenant("hog", plan="enterprise")
    small = make_tenant("small", plan="enterprise")
    backlog = [queue(hog, age_s=1000 - i) for i in range(50)]
    theirs = queue(small, age_s=1)  # submitted after all 50
    assert scan_claim_next(worker="w") == backlog[0]
    assert scan_claim_next(worker="w") == theirs  # one slot later, not fifty
    assert scan_claim_next(worker="w") == backlog[1]


def test_priority_still_beats_fairness(db):
    hog = make_tenant("hog", plan="enterprise")
    small = make_tenant("small", plan="enterprise")
    queue(hog, "normal", age_s=10)
    first = scan_claim_next(worker="w")
    urgent = queue(hog, "critical", age_s=1)
    queue(small, "normal", age_s=5)
    assert first and scan_claim_next(worker="w") == urgent


def test_politeness_caps_concurrent_scans_per_destination_across_tenants(db, settings):
    settings.LANTERN_MAX_SCANS_PER_DESTINATION = 2
    a, b = make_tenant("a", plan="enterprise"), make_tenant("b", plan="enterprise")
    queue(a)
    queue(b)
    queue(a)
    other = scan_create(tenant_id=b.tenant_id, api_key_pk=None,
                        request=ScanRequest(target="127.0.0.2", engine="nmap"))
    claimed = [scan_claim_next(worker="w") for _ in range(4)]
    assert claimed[2] == str(other.pk) and claimed[3] is None
    assert Scan.objects.filter(destination="127.0.0.1", status="running").count() == 2
