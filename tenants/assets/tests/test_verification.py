"""Ownership checks against a DNS responder and a web server that the tests run on 127.0.0.1: success, wrong
token, missing record, server down, redirects, the body cap, hosts the policy refuses, operator approval."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import User

from tenants.assets.admin import AssetAdmin
from tenants.assets.models import Asset
from tenants.assets.services import asset_approve, asset_create, asset_revoke
from tenants.assets.tests.loopback import OWNED_NAME, closed_port
from tenants.assets.verification import WELL_KNOWN_PATH

ASSETS = "/api/v1/assets"


def verify(client, asset: Asset, **body):
    return client.post(f"{ASSETS}/{asset.uuid}/verify", body, format="json")


def reload(asset: Asset) -> Asset:
    asset.refresh_from_db()
    return asset


@pytest.fixture
def domain(tenant_a) -> Asset:
    return asset_create(tenant_id=tenant_a.tenant_id, kind="domain", value=OWNED_NAME)


def test_a_dns_txt_record_with_the_token_verifies_a_domain(client_for, tenant_a, domain, dns_server):
    dns_server.records[f"_lantern-challenge.{OWNED_NAME}"] = ["some-other=record", domain.token]
    response = verify(client_for(tenant_a), domain, method="dns")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["verified"] is True and body["verification_method"] == "dns" and body["last_error"] is None
    assert body["verified_at"] == body["last_checked_at"]
    assert dns_server.queries == [f"_lantern-challenge.{OWNED_NAME}"]
    assert reload(domain).verified and domain.verification_method == "dns"


def test_a_url_asset_is_verified_by_the_txt_record_of_its_host(client_for, tenant_a, dns_server):
    asset = asset_create(tenant_id=tenant_a.tenant_id, kind="url", value=f"https://{OWNED_NAME}/app")
    dns_server.records[f"_lantern-challenge.{OWNED_NAME}"] = [asset.token]
    assert verify(client_for(tenant_a), asset, method="dns").json()["verified"] is True


@pytest.mark.parametrize("records, fragment", [
    ({f"_lantern-challenge.{OWNED_NAME}": ["lantern-verification=0123456789abcdef0123456789abcdef"]},
     "does not contain this asset's token"),
    ({}, "no TXT record at _lantern-challenge.owned.lantern.test (the name does not exist)"),
    ({f"_lantern-challenge.{OWNED_NAME}": []}, "no TXT record at _lantern-challenge.owned.lantern.test"),
])
def test_a_wrong_or_missing_txt_record_is_422_and_stored(client_for, tenant_a, domain, dns_server, records,
                                                         fragment):
    dns_server.records.update(records)
    response = verify(client_for(tenant_a), domain, method="dns")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "verification_failed" and fragment in error["message"]
    assert error["details"] == {"asset_id": str(domain.uuid), "method": "dns", "definitive": True}
    reload(domain)
    assert not domain.verified and fragment in domain.last_error and domain.last_checked_at is not None


def test_a_dns_server_that_is_down_fails_without_revoking(client_for, tenant_a, domain, dns_server, settings):
    dns_server.records[f"_lantern-challenge.{OWNED_NAME}"] = [domain.token]
    assert verify(client_for(tenant_a), domain, method="dns").status_code == 200
    settings.LANTERN_VERIFY_DNS_SERVERS = [f"127.0.0.1:{closed_port()}"]
    response = verify(client_for(tenant_a), domain, method="dns")
    assert response.status_code == 422
    assert "DNS lookup of _lantern-challenge.owned.lantern.test failed" in response.json()["error"]["message"]
    assert response.json()["error"]["details"]["definitive"] is False
    reload(domain)
    assert domain.verified and domain.verification_method == "dns" and "failed" in domain.last_error


def test_a_removed_txt_record_revokes_a_dns_verification(client_for, tenant_a, domain, dns_server):
    dns_server.records[f"_lantern-challenge.{OWNED_NAME}"] = [domain.token]
    assert verify(client_for(tenant_a), domain, method="dns").status_code == 200
    dns_server.records.clear()
    assert verify(client_for(tenant_a), domain, method="dns").status_code == 422
    assert not reload(domain).verified and domain.verification_method == ""


def test_the_well_known_file_verifies_a_domain_through_its_pinned_address(client_for, tenant_a, domain,
                                                                          web_server):
    web_server.put(WELL_KNOWN_PATH, f"# Lantern\n{domain.token}\n")
    response = verify(client_for(tenant_a), domain, method="http")
    assert response.status_code == 200, response.json()
    assert response.json()["verification_method"] == "http"
    assert web_server.hosts == [f"{OWNED_NAME}:{web_server.port}"]  # the name went in Host, not to a resolver


def test_https_checks_the_certificate_of_the_name_sent_by_sni(client_for, tenant_a, domain, tls_web_server,
                                                              settings):
    tls_web_server.put(WELL_KNOWN_PATH, domain.token)
    untrusted = verify(client_for(tenant_a), domain, method="http")
    assert untrusted.status_code == 422
    assert "CERTIFICATE_VERIFY_FAILED" in untrusted.json()["error"]["message"]
    assert tls_web_server.hosts == []  # nothing was asked of a server whose certificate failed
    settings.LANTERN_VERIFY_CA_FILE = tls_web_server.ca_file
    trusted = verify(client_for(tenant_a), domain, method="http")
    assert trusted.status_code == 200 and trusted.json()["verified"] is True
    assert tls_web_server.sni_names == [OWNED_NAME, OWNED_NAME]
    assert tls_web_server.hosts == [f"{OWNED_NAME}:{tls_web_server.port}"]


def test_the_well_known_file_verifies_an_ip_and_a_url_on_its_origin(client_for, tenant_a, web_server):
    ip = asset_create(tenant_id=tenant_a.tenant_id, kind="ip", value="127.0.0.1")
    url = asset_create(tenant_id=tenant_a.tenant_id, kind="url",
                       value=f"http://{OWNED_NAME}:{web_server.port}/shop/")
    web_server.put(WELL_KNOWN_PATH, f"{ip.token}\n{url.token}\n")
    assert verify(client_for(tenant_a), ip, method="http").json()["verified"] is True
    assert verify(client_for(tenant_a), url, method="http").json()["verified"] is True
    assert web_server.hosts == [f"127.0.0.1:{web_server.port}", f"{OWNED_NAME}:{web_server.port}"]


def test_a_cidr_is_verified_on_its_network_address_or_a_named_host(client_for, tenant_a, web_server):
    # The test server listens on 127.0.0.1 only, so each network here has 127.0.0.1 as the host to check.
    client = client_for(tenant_a)
    single = asset_create(tenant_id=tenant_a.tenant_id, kind="cidr", value="127.0.0.1/32")
    web_server.put(WELL_KNOWN_PATH, single.token)
    assert verify(client, single, method="http").json()["verified"] is True
    network = asset_create(tenant_id=tenant_a.tenant_id, kind="cidr", value="127.0.0.0/28")
    web_server.put(WELL_KNOWN_PATH, network.token)
    assert verify(client, network, method="http", host="127.0.0.1").json()["verified"] is True
    assert web_server.hosts == [f"127.0.0.1:{web_server.port}"] * 2


@pytest.mark.parametrize("kind, value, body, field, fragment", [
    ("cidr", "127.0.1.0/28", {"method": "http", "host": "127.0.2.1"}, "host", "not inside 127.0.1.0/28"),
    ("cidr", "127.0.1.0/28", {"method": "http", "host": "owned.lantern.test"}, "host", "IP address inside"),
    ("cidr", "127.0.0.0/16", {"method": "http"}, "method", "larger than a /20"),
    ("cidr", "127.0.1.0/28", {"method": "dns"}, "method", "verified by http"),
    ("ip", "127.0.0.1", {"method": "dns"}, "method", "verified by http"),
    ("ip", "127.0.0.1", {"method": "http", "host": "127.0.0.2"}, "host", "only to the http verification"),
    ("image", "registry.example.com/team", {"method": "http"}, "method", "only by an operator"),
    ("domain", OWNED_NAME, {"method": "operator"}, "method", "valid choice"),
])
def test_methods_that_do_not_apply_are_400_and_nothing_is_checked(client_for, tenant_a, web_server, kind,
                                                                  value, body, field, fragment):
    asset = asset_create(tenant_id=tenant_a.tenant_id, kind=kind, value=value)
    web_server.put(WELL_KNOWN_PATH, asset.token)
    response = verify(client_for(tenant_a), asset, **body)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == field and fragment in response.json()["error"]["message"]
    assert web_server.hosts == [] and reload(asset).last_checked_at is None


@pytest.mark.parametrize("status, body, headers, fragment, definitive", [
    (200, "lantern-verification=0123456789abcdef0123456789abcdef", {}, "does not contain this asset's token",
     True),
    (404, "", {}, "answered HTTP 404", True),
    (503, "", {}, "answered HTTP 503", False),
    (302, "", {"Location": "http://elsewhere.example.com/.well-known/lantern-verification.txt"},
     "redirects to another host", True),
])
def test_a_wrong_missing_or_redirected_file_is_422(client_for, tenant_a, domain, web_server, status, body,
                                                   headers, fragment, definitive):
    web_server.put(WELL_KNOWN_PATH, body, status=status, headers=headers)
    response = verify(client_for(tenant_a), domain, method="http")
    assert response.status_code == 422
    assert fragment in response.json()["error"]["message"]
    assert response.json()["error"]["details"]["definitive"] is definitive
    assert len(web_server.hosts) == 1 and not reload(domain).verified and fragment in domain.last_error


def test_a_redirect_on_the_same_host_is_followed(client_for, tenant_a, domain, web_server):
    web_server.put(WELL_KNOWN_PATH, "", status=301, headers={"Location": "/lantern.txt"})
    web_server.put("/lantern.txt", domain.token)
    assert verify(client_for(tenant_a), domain, method="http").json()["verified"] is True
    assert len(web_server.hosts) == 2


def test_only_the_first_bytes_of_the_file_are_read(client_for, tenant_a, domain, web_server, settings):
    settings.LANTERN_VERIFY_MAX_BODY_BYTES = 1024
    web_server.put(WELL_KNOWN_PATH, "x" * 2048 + domain.token)
    assert verify(client_for(tenant_a), domain, method="http").status_code == 422
    web_server.put(WELL_KNOWN_PATH, domain.token + "x" * 2048)
    assert verify(client_for(tenant_a), domain, method="http").status_code == 200


def test_a_web_server_that_is_down_fails_without_revoking(client_for, tenant_a, domain, web_server, settings):
    web_server.put(WELL_KNOWN_PATH, domain.token)
    assert verify(client_for(tenant_a), domain, method="http").status_code == 200
    settings.LANTERN_VERIFY_HTTP_PORTS = {"http": closed_port()}
    response = verify(client_for(tenant_a), domain, method="http")
    assert response.status_code == 422
    assert "could not be fetched: ConnectError" in response.json()["error"]["message"]
    assert response.json()["error"]["details"]["definitive"] is False
    assert reload(domain).verified and domain.verification_method == "http"


@pytest.mark.parametrize("kind, value", [("ip", "10.0.0.1"), ("domain", "unpinned.example.com"),
                                         ("ip", "169.254.169.254")])
def test_hosts_outside_the_installation_policy_are_never_contacted(client_for, tenant_a, web_server, kind,
                                                                   value):
    asset = asset_create(tenant_id=tenant_a.tenant_id, kind=kind, value=value)
    response = verify(client_for(tenant_a), asset, method="http")
    assert response.status_code == 422
    assert f"{value} may not be contacted" in response.json()["error"]["message"]
    assert web_server.hosts == []


def test_operators_approve_and_revoke_in_the_admin(tenant_a, tenant_b, rf):
    image = asset_create(tenant_id=tenant_a.tenant_id, kind="image", value="registry.example.com/team")
    network = asset_create(tenant_id=tenant_b.tenant_id, kind="cidr", value="10.0.0.0/16")
    operator = User.objects.create_superuser("ops", "ops@example.com", "pw")
    model_admin = AssetAdmin(Asset, admin.site)
    request = rf.post("/admin/tenants/asset/")
    request.user = operator
    request._messages = type("Messages", (), {"add": lambda *args, **kwargs: None})()
    model_admin.approve(request, Asset.objects.filter(pk__in=[image.pk, network.pk]))
    for asset in (reload(image), reload(network)):
        assert asset.verified and asset.verification_method == "operator" and asset.verified_by == "ops"
    assert asset_approve(asset_pks=[image.pk], operator="someone else") == 0  # keeps the original proof
    assert reload(image).verified_by == "ops"
    model_admin.revoke(request, Asset.objects.filter(pk=image.pk))
    assert not reload(image).verified and reload(network).verified
    assert asset_revoke(asset_pks=[image.pk]) == 0
    assert not model_admin.has_add_permission(request)
    found, _ = model_admin.get_search_results(request, Asset.objects.all(), str(network.uuid))
    assert list(found) == [network]
