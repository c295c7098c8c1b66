"""The per-tenant scope (tenants/scope.py): which verified asset covers which target, the plan's network size
limit, the non-production mark, and the scan API refusing out-of-scope targets with 403."""

import pytest
from django.utils import timezone

from config.errors import Forbidden, NotFound
from scans.models import Scan
from scans.targets import parse_target
from tenants.assets.models import Asset
from tenants.assets.services import asset_create
from tenants.assets.tests.loopback import loopback_only, web_server  # noqa: F401
from tenants.assets.verification import WELL_KNOWN_PATH
from tenants.models import Plan
from tenants.scope import asset_covers, asset_get, asset_is_non_production, network_size_check, scope_check
from tests.conftest import make_tenant

SCANS = "/api/v1/scans"


def owned(tenant, kind: str, value: str, *, method: str = "dns", production: bool = True) -> Asset:
    """A registered asset, verified by `method` ("" leaves it unverified)."""
    asset = asset_create(tenant_id=tenant.tenant_id, kind=kind, value=value, production=production)
    if method:
        Asset.objects.filter(pk=asset.pk).update(verified_at=timezone.now(), verification_method=method)
        asset.refresh_from_db()
    return asset


def in_scope(tenant, target: str, target_type: str | None = None) -> bool:
    try:
        scope_check(tenant_id=tenant.tenant_id, target=parse_target(target, target_type))
    except Forbidden:
        return False
    return True


MATRIX = [
    # (asset kind, asset value, verified by, target, target type, covered)
    ("domain", "acme.example", "dns", "acme.example", None, True),
    ("domain", "acme.example", "dns", "sub.acme.example", None, True),
    ("domain", "acme.example", "dns", "a.b.acme.example", "host", True),
    ("domain", "acme.example", "dns", "https://sub.acme.example/login", None, True),
    ("domain", "acme.example", "dns", "otherdomain.example", None, False),
    ("domain", "acme.example", "dns", "notacme.example", None, False),
    ("domain", "acme.example", "dns", "acme.example.evil.com", None, False),
    ("domain", "acme.example", "dns", "10.0.0.1", None, False),
    ("domain", "acme.example", "operator", "sub.acme.example", None, True),
    ("domain", "acme.example", "http", "acme.example", None, True),
    ("domain", "acme.example", "http", "http://acme.example:8080/x", None, True),
    ("domain", "acme.example", "http", "sub.acme.example", None, False),  # a file proves one host, not a zone
    ("domain", "xn--bcher-kva.example", "dns", "shop.bücher.example", None, True),
    ("cidr", "10.0.0.0/24", "operator", "10.0.0.0/26", None, True),
    ("cidr", "10.0.0.0/24", "operator", "10.0.0.128/25", None, True),
    ("cidr", "10.0.0.0/24", "operator", "10.0.0.0/24", None, True),
    ("cidr", "10.0.0.0/24", "operator", "10.0.0.77", None, True),
    ("cidr", "10.0.0.0/24", "operator", "10.0.0.77", "host", True),
    ("cidr", "10.0.0.0/24", "operator", "http://10.0.0.5:8080/app", None, True),
    ("cidr", "10.0.0.0/24", "operator", "10.0.0.0/23", None, False),
    ("cidr", "10.0.0.0/24", "operator", "10.0.0.0/16", None, False),
    ("cidr", "10.0.0.0/24", "operator", "10.0.1.1", None, False),
    ("cidr", "10.0.0.0/24", "operator", "10.0.0.1", "network", True),
    ("cidr", "2001:db8::/64", "operator", "2001:db8::1", None, True),
    ("cidr", "2001:db8::/64", "operator", "2001:db8::/96", None, True),
    ("cidr", "2001:db8::/64", "operator", "2001:db8:0:1::1", None, False),
    ("ip", "10.0.0.5", "http", "10.0.0.5", None, True),
    ("ip", "10.0.0.5", "http", "10.0.0.5/32", None, True),
    ("ip", "10.0.0.5", "http", "https://10.0.0.5/", None, True),
    ("ip", "10.0.0.5", "http", "10.0.0.4/31", None, False),
    ("ip", "10.0.0.5", "http", "10.0.0.6", None, False),
    ("url", "https://app.acme.example/shop", "dns", "https://app.acme.example/shop", None, True),
    ("url", "https://app.acme.example/shop", "dns", "https://app.acme.example/shop/cart?id=1", None, True),
    ("url", "https://app.acme.example/shop", "dns", "https://APP.acme.example:443/shop/x", None, True),
    ("url", "https://app.acme.example/shop", "dns", "https://app.acme.example/shopping", None, False),
    ("url", "https://app.acme.example/shop", "dns", "https://app.acme.example/shop/../admin", None, False),
    ("url", "https://app.acme.example/shop", "dns", "https://app.acme.example/shop/%2e%2e/admin", None,
     False),
    ("url", "https://app.acme.example/shop", "dns", "http://app.acme.example/shop", None, False),
    ("url", "https://app.acme.example/shop", "dns", "https://app.acme.example:8443/shop", None, False),
    ("url", "https://app.acme.example/shop", "dns", "https://app.acme.example/", None, False),
    ("url", "https://app.acme.example/shop", "dns", "app.acme.example", None, False),
    ("url", "https://app.acme.example/", "dns", "https://app.acme.example/anything/at/all", None, True),
    ("url", "https://app.acme.example/a%3Fb", "dns", "https://app.acme.example/a%3fb/c", None, True),
    ("url", "https://app.acme.example/a%3Fb", "dns", "https://app.acme.example/a/c", None, False),
    ("image", "registry.example.com/team", "operator", "registry.example.com/team/app:1.0", None, True),
    ("image", "registry.example.com/team", "operator", "registry.example.com/team/sub/app@sha256:" + "a" * 64,
     None, True),
    ("image", "registry.example.com/team", "operator", "registry.example.com/teamx/app", None, False),
    ("image", "registry.example.com/team", "operator", "registry.example.com/other/app:1", None, False),
    ("image", "registry.example.com:5000", "operator", "registry.example.com:5000/app:2", None, True),
]


@pytest.mark.parametrize("kind, value, method, target, target_type, covered", MATRIX,
                         ids=[f"{row[1]}-{row[2]}-{row[3]}" for row in MATRIX])
def test_the_scope_matrix(tenant_a, tenant_b, kind, value, method, target, target_type, covered):
    asset = owned(tenant_a, kind, value, method=method)
    assert in_scope(tenant_a, target, target_type) is covered
    assert asset_covers(asset, parse_target(target, target_type)) is covered
    owned(tenant_b, kind, value, method=method)
    assert in_scope(make_tenant("initech"), target, target_type) is False  # the others' proof is not mine


def test_an_unverified_asset_is_refused_with_a_message_naming_target_and_kinds(tenant_a):
    asset = owned(tenant_a, "cidr", "10.0.0.0/24", method="")
    with pytest.raises(Forbidden) as refused:
        scope_check(tenant_id=tenant_a.tenant_id, target=parse_target("10.0.0.9"))
    assert refused.value.message == (
        "target '10.0.0.9' is outside this tenant's verified assets; register and verify an ip or a cidr "
        "asset that covers it (asset 10.0.0.0/24 covers it but is not verified yet)")
    assert refused.value.field == "target" and refused.value.status_code == 403
    assert refused.value.details == {"target": "10.0.0.9", "covering_kinds": ["ip", "cidr"],
                                     "unverified_assets": [str(asset.uuid)]}


@pytest.mark.parametrize("target, kinds", [
    ("sub.acme.example", "a domain asset"), ("https://sub.acme.example/", "a url or a domain asset"),
    ("10.0.0.0/16", "a cidr asset"), ("10.0.0.1/32", "a cidr or an ip asset"),
    ("http://10.0.0.1/", "a url or an ip or a cidr asset"), ("registry.example.com/app:1", "an image asset"),
])
def test_the_refusal_says_which_kinds_would_cover_the_target(tenant_a, target, kinds):
    with pytest.raises(Forbidden) as refused:
        scope_check(tenant_id=tenant_a.tenant_id, target=parse_target(target))
    assert f"register and verify {kinds} that covers it" in refused.value.message


def test_a_domain_proven_by_http_says_dns_would_cover_its_subdomains(tenant_a):
    owned(tenant_a, "domain", "acme.example", method="http")
    with pytest.raises(Forbidden) as refused:
        scope_check(tenant_id=tenant_a.tenant_id, target=parse_target("www.acme.example"))
    assert "verify it by DNS to cover its subdomains" in refused.value.message


@pytest.mark.parametrize("scope_enforced", [True, False])
@pytest.mark.parametrize("plan, allowed, refused", [
    ("startup", "10.0.0.0/24", "10.0.0.0/23"),
    ("professional", "10.0.0.0/20", "10.0.0.0/19"),
    ("enterprise", "10.0.0.0/16", "10.0.0.0/15"),
    ("startup", "2001:db8::/120", "2001:db8::/119"),
    ("enterprise", "2001:db8::/112", "2001:db8::/111"),
])
def test_the_network_size_limit_of_each_plan_always_applies(settings, db, scope_enforced, plan, allowed,
                                                            refused):
    settings.LANTERN_SCOPE_ENFORCED = scope_enforced
    tenant = make_tenant(f"{plan}-co", plan=plan)
    network_size_check(tenant_id=tenant.tenant_id, target=parse_target(allowed))
    network_size_check(tenant_id=tenant.tenant_id, target=parse_target("10.0.0.1"))
    with pytest.raises(Forbidden) as too_large:
        network_size_check(tenant_id=tenant.tenant_id, target=parse_target(refused))
    limit = int(allowed.rsplit("/", 1)[1])
    assert too_large.value.details == {"plan": plan, "max_prefix": limit}
    assert f"network {refused} is larger than the {plan.title()} plan allows: networks of /{limit}" in (
        too_large.value.message)


def test_the_limits_come_from_the_setting_and_an_unknown_plan_gets_the_strictest(settings, db):
    settings.LANTERN_MAX_NETWORK_PREFIX = {"startup": 28, "professional": 22}
    startup = make_tenant("tiny", plan="startup")
    with pytest.raises(Forbidden):
        network_size_check(tenant_id=startup.tenant_id, target=parse_target("127.0.0.0/27"))
    Plan.objects.create(slug="custom", name="Custom")
    custom = make_tenant("bespoke", plan="custom")
    network_size_check(tenant_id=custom.tenant_id, target=parse_target("127.0.0.0/28"))
    with pytest.raises(Forbidden):
        network_size_check(tenant_id=custom.tenant_id, target=parse_target("127.0.0.0/27"))


def test_non_production_is_the_mark_of_the_most_specific_verified_asset(tenant_a):
    def non_production(target: str) -> bool:
        return asset_is_non_production(tenant_id=tenant_a.tenant_id, target=parse_target(target))

    assert non_production("https://app.acme.example/") is False  # no asset at all
    owned(tenant_a, "domain", "acme.example", production=True)
    owned(tenant_a, "url", "https://app.acme.example/test", production=False)
    owned(tenant_a, "domain", "lab.acme.example", production=False)
    owned(tenant_a, "domain", "staging.example", method="", production=False)
    assert non_production("https://app.acme.example/test/search?q=1") is True
    assert non_production("https://app.acme.example/prod/search?q=1") is False
    assert non_production("https://db.lab.acme.example/") is True
    assert non_production("https://acme.example/") is False
    assert non_production("https://staging.example/") is False  # unverified marks never lower the bar
    assert asset_is_non_production(tenant_id=make_tenant("initech").tenant_id,
                                   target=parse_target("https://app.acme.example/test/")) is False


def test_asset_get_is_404_for_another_tenants_or_a_missing_asset(tenant_a, tenant_b):
    mine = owned(tenant_a, "domain", "acme.example")
    theirs = owned(tenant_b, "domain", "globex.example")
    assert asset_get(tenant_id=tenant_a.tenant_id, asset_id=str(mine.uuid)) == mine
    for asset_id in (str(theirs.uuid), theirs.uuid, "0" * 32, "garbage", None, theirs.pk):
        with pytest.raises(NotFound):
            asset_get(tenant_id=tenant_a.tenant_id, asset_id=asset_id)


@pytest.fixture
def assets_routed():
    from django.urls import resolve

    assert resolve("/api/v1/assets")  # the project's own routing serves the asset API


def scan(client, target: str):
    return client.post(SCANS, {"target": target, "engine": "nmap", "authorized": True}, format="json")


def test_a_scan_is_403_until_a_verified_asset_covers_its_target(client_for, tenant_a, tenant_b, settings,
                                                                web_server, assets_routed):  # noqa: F811
    settings.LANTERN_SCOPE_ENFORCED = True
    client = client_for(tenant_a)
    refused = scan(client, "127.0.0.1")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden" and refused.json()["error"]["field"] == "target"
    assert "'127.0.0.1' is outside this tenant's verified assets" in refused.json()["error"]["message"]

    asset = client.post("/api/v1/assets", {"kind": "ip", "value": "127.0.0.1"}, format="json").json()
    assert "is not verified yet" in scan(client, "127.0.0.1").json()["error"]["message"]
    assert Scan.objects.count() == 0

    web_server.put(WELL_KNOWN_PATH, asset["challenge"]["token"])
    verified = client.post(f"/api/v1/assets/{asset['id']}/verify", {"method": "http"}, format="json")
    assert verified.status_code == 200 and verified.json()["verified"] is True
    created = scan(client, "127.0.0.1")
    assert created.status_code == 201, created.json()
    assert list(Scan.objects.values_list("tenant_id", "target_value")) == [(tenant_a.tenant_id, "127.0.0.1")]
    assert scan(client_for(tenant_b), "127.0.0.1").status_code == 403
    assert scan(client, "127.0.0.2").status_code == 403
    assert Scan.objects.count() == 1


def test_a_verified_network_admits_networks_inside_it_only(client_for, tenant_a, settings):
    settings.LANTERN_SCOPE_ENFORCED = True
    owned(tenant_a, "cidr", "127.0.0.0/24", method="operator")
    assert scan(client_for(tenant_a), "127.0.0.0/28").status_code == 201
    assert scan(client_for(tenant_a), "127.0.0.200").status_code == 201
    assert scan(client_for(tenant_a), "127.0.0.0/23").status_code == 403
    assert Scan.objects.count() == 2


def test_the_installation_policy_still_applies_inside_verified_assets(client_for, tenant_a, settings):
    settings.LANTERN_SCOPE_ENFORCED = True
    owned(tenant_a, "cidr", "10.0.0.0/24", method="operator")
    refused = scan(client_for(tenant_a), "10.0.0.1")
    assert refused.status_code == 422 and "loopback-only" in refused.json()["error"]["message"]
    assert Scan.objects.count() == 0


def test_scope_off_admits_any_target_the_policy_admits(client_for, tenant_a, settings):
    settings.LANTERN_SCOPE_ENFORCED = False
    assert scan(client_for(tenant_a), "127.0.0.1").status_code == 201
    assert Asset.objects.count() == 0
