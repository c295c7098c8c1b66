"""/api/v1/assets in-process: registration and normalisation, validation, list filters and pagination,
edits, deletes, scopes, and the same 404 for another tenant's asset as for a missing one."""

import uuid

import pytest

from tenants.assets.models import Asset
from tests.conftest import make_tenant

ASSETS = "/api/v1/assets"


def register(client, **body):
    return client.post(ASSETS, body, format="json")


def snapshot(asset: Asset) -> tuple:
    asset.refresh_from_db()
    return (asset.kind, asset.value, asset.name, asset.production, asset.verified_at, asset.last_checked_at,
            asset.last_error, asset.updated_at)


@pytest.mark.parametrize("kind, value, stored", [
    ("domain", "Bücher.Example.com.", "xn--bcher-kva.example.com"),
    ("domain", "owned.lantern.test", "owned.lantern.test"),
    ("ip", "127.0.0.1", "127.0.0.1"),
    ("ip", "0:0:0:0:0:0:0:1", "::1"),
    ("cidr", "10.1.2.3/24", "10.1.2.0/24"),
    ("cidr", "2001:db8::1/64", "2001:db8::/64"),
    ("cidr", "127.0.0.9", "127.0.0.9/32"),
    ("url", "HTTPS://App.Example.com:443/a/./b/../c?x=1#frag", "https://app.example.com/a/c"),
    ("url", "http://owned.lantern.test:8080", "http://owned.lantern.test:8080/"),
    ("url", "https://münchen.example/app/", "https://xn--mnchen-3ya.example/app/"),
    ("url", "https://app.example.com/a%3Fb/../c%20d", "https://app.example.com/c%20d"),
    ("image", "Registry.Example.com/Team/", "registry.example.com/team"),
    ("image", "registry.example.com:5000", "registry.example.com:5000"),
])
def test_it_registers_each_kind_with_a_normalised_value(client_for, tenant_a, tenant_b, kind, value, stored):
    response = register(client_for(tenant_a), kind=kind, value=value, name="mine")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["kind"] == kind and body["value"] == stored and body["name"] == "mine"
    assert body["production"] is True and body["verified"] is False and body["verified_at"] is None
    asset = Asset.objects.get(uuid=body["id"])
    assert asset.tenant_id == tenant_a.tenant_id and asset.value == stored
    assert body["challenge"]["token"] == asset.token and asset.token.startswith("lantern-verification=")
    assert Asset.objects.filter(tenant_id=tenant_b.tenant_id).count() == 0


def test_the_challenge_says_what_to_publish_for_each_method(client_for, tenant_a, settings):
    settings.LANTERN_VERIFY_HTTP_PORTS = {"https": 443, "http": 80}
    client = client_for(tenant_a)
    domain = register(client, kind="domain", value="acme.example").json()["challenge"]
    assert domain["methods"] == ["dns", "http"]
    assert domain["dns"] == {"name": "_lantern-challenge.acme.example", "type": "TXT",
                             "value": domain["token"]}
    assert domain["http"] == {"urls": ["https://acme.example/.well-known/lantern-verification.txt",
                                       "http://acme.example/.well-known/lantern-verification.txt"],
                              "content": domain["token"]}
    url = register(client, kind="url", value="https://10.0.0.1:8443/app").json()["challenge"]
    assert url["methods"] == ["http"] and url["dns"] is None
    assert url["http"]["urls"] == ["https://10.0.0.1:8443/.well-known/lantern-verification.txt"]
    cidr = register(client, kind="cidr", value="10.0.0.0/24").json()["challenge"]
    assert cidr["methods"] == ["http", "operator"]
    assert cidr["http"]["urls"][0] == "https://10.0.0.0/.well-known/lantern-verification.txt"
    image = register(client, kind="image", value="registry.example.com/team").json()["challenge"]
    assert image["methods"] == ["operator"] and image["dns"] is None and image["http"] is None


@pytest.mark.parametrize("body, field, fragment", [
    ({"kind": "domain", "value": "not_a.domain"}, "value", "not a valid domain"),
    ({"kind": "domain", "value": "*.example.com"}, "value", "not a valid domain"),
    ({"kind": "domain", "value": "localhost"}, "value", "not a valid domain"),
    ({"kind": "ip", "value": "999.1.1.1"}, "value", "not a valid IP"),
    ({"kind": "ip", "value": "10.0.0.0/24"}, "value", "not a valid IP"),
    ({"kind": "cidr", "value": "10.0.0.0/33"}, "value", "CIDR"),
    ({"kind": "url", "value": "ftp://example.com/"}, "value", "not an http(s) URL"),
    ({"kind": "url", "value": "https://user:pw@example.com/"}, "value", "credentials"),
    ({"kind": "image", "value": "registry.example.com/team/app:1.0"}, "value", "tag or digest"),
    ({"kind": "image", "value": "registry.example.com/team@sha256:" + "a" * 64}, "value", "tag or digest"),
    ({"kind": "domain", "value": "example.com; rm -rf /"}, "value", "forbidden character"),
    ({"kind": "bogus", "value": "example.com"}, "kind", "valid choice"),
    ({"value": "example.com"}, "kind", "required"),
    ({"kind": "domain"}, "value", "required"),
    ({"kind": "domain", "value": "example.com", "production": "maybe"}, "production", "valid boolean"),
])
def test_invalid_assets_are_400_naming_the_field_and_nothing_is_stored(client_for, tenant_a, body, field,
                                                                        fragment):
    response = register(client_for(tenant_a), **body)
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["field"] == field and fragment in error["message"]
    assert Asset.objects.count() == 0


def test_registering_the_same_asset_twice_is_409_but_another_tenant_may(client_for, tenant_a, tenant_b):
    assert register(client_for(tenant_a), kind="domain", value="acme.example").status_code == 201
    again = register(client_for(tenant_a), kind="domain", value="ACME.example.")
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    assert register(client_for(tenant_b), kind="domain", value="acme.example").status_code == 201
    assert Asset.objects.filter(value="acme.example").count() == 2
    tokens = set(Asset.objects.filter(value="acme.example").values_list("token", flat=True))
    assert len(tokens) == 2  # each tenant proves ownership with its own token


def test_the_list_is_the_tenants_own_filtered_and_paginated(client_for, tenant_a, tenant_b):
    client = client_for(tenant_a)
    for index in range(5):
        register(client, kind="domain", value=f"d{index}.example.com", production=index % 2 == 0)
    register(client, kind="ip", value="10.0.0.1", name="router")
    register(client_for(tenant_b), kind="domain", value="globex.example.com")
    Asset.objects.filter(value="d1.example.com").update(verified_at="2026-01-01T00:00:00Z",
                                                         verification_method="dns")

    page = client.get(ASSETS, {"per_page": 2, "page": 2}).json()
    assert (page["total"], page["page"], page["per_page"], page["pages"]) == (6, 2, 2, 3)
    assert [item["value"] for item in page["items"]] == ["d3.example.com", "d2.example.com"]

    def values(**query):
        return sorted(item["value"] for item in client.get(ASSETS, query).json()["items"])

    assert values(kind="ip") == ["10.0.0.1"]
    assert values(verified="true") == ["d1.example.com"]
    assert values(production="false") == ["d1.example.com", "d3.example.com"]
    assert values(search="ROUTER") == ["10.0.0.1"]
    assert values(search="globex") == []
    assert client.get(ASSETS, {"per_page": 101}).status_code == 400
    assert client.get(ASSETS, {"kind": "planet"}).json()["error"]["field"] == "kind"
    empty = client_for(make_tenant("initech")).get(ASSETS).json()
    assert empty == {"items": [], "total": 0, "page": 1, "per_page": 20, "pages": 0}


def test_get_patch_and_delete_an_asset(client_for, tenant_a):
    client = client_for(tenant_a)
    created = register(client, kind="url", value="https://app.example.com/shop").json()
    detail = f"{ASSETS}/{created['id']}"
    assert client.get(detail).json() == created

    patched = client.patch(detail, {"name": "staging shop", "production": False}, format="json")
    assert patched.status_code == 200
    assert patched.json()["name"] == "staging shop" and patched.json()["production"] is False
    assert Asset.objects.get(uuid=created["id"]).production is False

    refused = client.patch(detail, {"value": "https://evil.example.com/"}, format="json")
    assert refused.status_code == 400 and refused.json()["error"]["field"] == "value"
    assert Asset.objects.get(uuid=created["id"]).value == "https://app.example.com/shop"

    assert client.delete(detail).status_code == 204
    assert Asset.objects.count() == 0
    assert client.delete(detail).status_code == 404
    assert client.get(detail).status_code == 404


@pytest.mark.parametrize("method, suffix, body", [
    ("get", "", None), ("patch", "", {"name": "mine now", "production": False}), ("delete", "", None),
    ("post", "/verify", {"method": "http"}), ("post", "/verify", {"method": "dns"}),
])
def test_another_tenants_asset_is_404_and_untouched(client_for, tenant_a, tenant_b, method, suffix, body):
    theirs = register(client_for(tenant_b), kind="domain", value="globex.example.com").json()
    asset = Asset.objects.get(uuid=theirs["id"])
    before = snapshot(asset)
    response = getattr(client_for(tenant_a), method)(f"{ASSETS}/{theirs['id']}{suffix}", body, format="json")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Asset not found"}}
    assert snapshot(asset) == before
    missing = getattr(client_for(tenant_a), method)(f"{ASSETS}/{uuid.uuid4()}{suffix}", body, format="json")
    assert missing.status_code == 404 and missing.json() == response.json()


@pytest.mark.parametrize("asset_id", ["1", "not-a-uuid", "%00"])
def test_ids_that_are_not_uuids_are_404(client_for, tenant_a, asset_id):
    assert client_for(tenant_a).get(f"{ASSETS}/{asset_id}").status_code == 404


def test_scopes_reads_need_scans_read_and_writes_scans_create(client_for, tenant_a):
    viewer = make_tenant("acme", role="viewer")
    mine = register(client_for(tenant_a), kind="domain", value="acme.example").json()
    assert client_for(viewer).get(ASSETS).json()["total"] == 1
    assert client_for(viewer).get(f"{ASSETS}/{mine['id']}").status_code == 200
    denied = [register(client_for(viewer), kind="domain", value="other.example"),
              client_for(viewer).patch(f"{ASSETS}/{mine['id']}", {"production": False}, format="json"),
              client_for(viewer).delete(f"{ASSETS}/{mine['id']}"),
              client_for(viewer).post(f"{ASSETS}/{mine['id']}/verify", {"method": "dns"}, format="json")]
    assert [response.status_code for response in denied] == [403, 403, 403, 403]
    assert "scans:create" in denied[0].json()["error"]["message"]
    asset = Asset.objects.get()
    assert (asset.value, asset.production, asset.last_checked_at) == ("acme.example", True, None)
    assert client_for(None).get(ASSETS).status_code == 401
