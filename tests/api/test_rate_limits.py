"""Rate limits per key and endpoint class, in Redis; 429 with Retry-After; limits from plan and tenant."""

import pytest
import redis
from django.conf import settings

from tenants.models import Plan, Tenant
from tenants.ratelimit import rate_check

SCANS = "/api/v1/scans"


@pytest.fixture(autouse=True)
def clean_counters():
    client = redis.Redis.from_url(settings.LANTERN_RATE_REDIS_URL)
    for key in client.scan_iter(f"{settings.LANTERN_RATE_PREFIX}:*"):
        client.delete(key)


def test_a_tenant_override_limits_its_keys_and_answers_429_with_retry_after(client_for, tenant_a, tenant_b):
    Tenant.objects.filter(pk=tenant_a.tenant_id).update(rate_limits={"read": 3})
    client = client_for(tenant_a)
    assert [client.get(SCANS).status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get(SCANS)
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused.json()["error"]["code"] == "throttled"
    assert client_for(tenant_b).get(SCANS).status_code == 200  # another tenant's key is untouched


def test_the_plan_sets_the_limit_when_the_tenant_does_not(client_for, tenant_a):
    Plan.objects.filter(slug="professional").update(rate_limits={"scan_create": 1})
    client = client_for(tenant_a)
    body = {"target": "127.0.0.1", "engine": "nmap", "authorized": True}
    assert client.post(SCANS, body, format="json").status_code == 201
    assert client.post(SCANS, body, format="json").status_code == 429
    assert client.get(SCANS).status_code == 200  # reads are another class


def test_the_window_slides_across_the_minute():
    base = 1_000_000 * 60.0
    assert [rate_check(key_id="k", rate_class="oem_submit", limit=5, now=base + 50).allowed
            for _ in range(6)] == [True] * 5 + [False]
    # 30 s into the next minute half of the previous minute still weighs: 2.5 + 2 allowed, the third not
    assert [rate_check(key_id="k", rate_class="oem_submit", limit=5, now=base + 90).allowed
            for _ in range(3)] == [True, True, False]
    assert rate_check(key_id="k", rate_class="oem_submit", limit=5, now=base + 125).allowed
