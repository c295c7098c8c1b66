"""Seed 002, the multi-engine scan API: the create example and every engine example of the document (targets
swapped for loopback ones; the originals show the 422), the option defaults of each engine table, target
type inference and compatibility, priorities, list filters, cancel, scopes and the envelopes."""

from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from scans.models import Priority, Scan
from tenants.assets.services import asset_create
from tests.conftest import make_tenant

SCANS = "/scan-api/api/v1/scans"
CREATE_EXAMPLE = {"target": "example.com", "scanType": "nmap", "name": "Weekly network audit",
                  "targetType": "domain", "priority": "normal",
                  "options": {"ports": "1-1024", "timing": "T3"}, "tags": ["production", "weekly"],
                  "timeout": 3600}
# (seed example, loopback target standing in for its target)
ENGINE_EXAMPLES = {
    "nmap": ({"target": "192.168.1.0/24", "scanType": "nmap", "options": {
        "ports": "1-65535", "timing": "T4", "serviceDetection": True, "osDetection": True, "scriptScan": True,
        "scripts": ["vuln", "safe"]}}, "127.0.0.0/24"),
    "zap": ({"target": "https://app.example.com", "scanType": "zap", "options": {
        "scanPolicy": "full", "spiderMaxDepth": 5, "ajaxSpider": True, "activeScan": True,
        "contextInclude": ["https://app.example.com/.*"],
        "contextExclude": ["https://app.example.com/logout"]}},
        "http://127.0.0.1:8080"),
    "trivy": ({"target": "registry.example.com/myapp:latest", "scanType": "trivy", "options": {
        "scanners": ["vuln", "misconfig", "secret"], "severity": ["CRITICAL", "HIGH"],
        "ignoreUnfixed": True}},
        "localhost:5000/myapp:latest"),
    "nuclei": ({"target": "https://api.example.com", "scanType": "nuclei", "options": {
        "templates": ["cves", "vulnerabilities", "misconfigurations"],
        "severity": ["critical", "high", "medium"], "concurrency": 25, "rateLimit": 150}},
        "https://localhost"),
    "nikto": ({"target": "https://www.example.com", "scanType": "nikto",
               "options": {"tuning": "1234", "maxTime": "600s", "ssl": True}}, "https://localhost"),
    "sqlmap": ({"target": "https://app.example.com/search?q=test", "scanType": "sqlmap", "options": {
        "level": 3, "risk": 2, "technique": "BEUSTQ", "dbs": True, "batch": True}},
        "http://127.0.0.1/search?q=test"),
    "wapiti": ({"target": "https://app.example.com", "scanType": "wapiti", "options": {
        "modules": ["xss", "sql", "exec", "file", "crlf"], "scope": "domain", "maxDepth": 5}},
        "http://127.0.0.1"),
    "harvester": ({"target": "example.com", "scanType": "harvester", "options": {
        "sources": ["google", "bing", "linkedin", "shodan", "crtsh"], "limit": 500, "dnsLookup": True}},
        "scanme.lantern.test"),
    "sublist3r": ({"target": "example.com", "scanType": "sublist3r", "options": {
        "engines": ["google", "bing", "yahoo", "virustotal", "dnsdumpster"], "bruteforce": True,
        "ports": "80,443,8080,8443", "threads": 30}}, "scanme.lantern.test"),
    "sentinel": ({"target": "example.com", "scanType": "sentinel", "priority": "high", "options": {
        "depth": "standard", "engines": ["nmap", "nuclei", "harvester", "sublist3r"], "correlate": True,
        "riskScore": True}}, "scanme.lantern.test"),
}
# Each engine table's defaults, as the document states them ("All"/"auto" defaults are not a fixed value).
TABLE_DEFAULTS = {
    ("nmap", "127.0.0.1"): {"ports": "1-1024", "timing": "T3", "serviceDetection": True, "osDetection": False,
                            "scriptScan": False, "scripts": [], "udpScan": False},
    ("zap", "http://127.0.0.1"): {"scanPolicy": "standard", "spiderMaxDepth": 3, "ajaxSpider": False,
                                  "activeScan": True, "contextInclude": [], "contextExclude": []},
    ("trivy", "localhost:5000/app:1"): {"scanners": ["vuln"], "severity": ["CRITICAL", "HIGH", "MEDIUM"],
                                        "ignoreUnfixed": False, "skipDirs": [], "skipFiles": []},
    ("nuclei", "http://127.0.0.1"): {"templates": ["cves"], "concurrency": 25, "rateLimit": 150, "tags": [],
                                     "excludeTags": []},
    ("nikto", "http://127.0.0.1"): {"tuning": "123"},
    ("sqlmap", "http://127.0.0.1/?q=1"): {"level": 1, "risk": 1, "technique": "BEUSTQ", "dbs": False,
                                          "batch": True},
    ("wapiti", "http://127.0.0.1"): {"scope": "domain", "maxDepth": 3},
    ("harvester", "scanme.lantern.test"): {"limit": 200, "dnsLookup": False, "dnsBrute": False},
    ("sublist3r", "scanme.lantern.test"): {"bruteforce": False, "threads": 10},
    ("sentinel", "scanme.lantern.test"): {"depth": "standard", "correlate": True, "riskScore": True},
}


def create(client, **body):
    return client.post(SCANS, body, format="json")


def assert_scan_data(response, status_code: int = 201) -> dict:
    assert response.status_code == status_code, response.json()
    body = response.json()
    assert set(body) == {"success", "data"} and body["success"] is True
    assert {"id", "scanType", "name", "target", "status", "priority", "progress", "tags", "createdAt"} <= set(
        body["data"])
    return body["data"]


def assert_error(response, status_code: int, code: str | None = None, field: str | None = None) -> dict:
    assert response.status_code == status_code, response.json()
    body = response.json()
    assert set(body) == {"success", "error"} and body["success"] is False
    assert {"code", "message"} <= set(body["error"]) <= {"code", "message", "field"}
    if code is not None:
        assert body["error"]["code"] == code
    if field is not None:
        assert body["error"].get("field") == field
    return body["error"]


def test_the_create_example_answers_201_with_the_documented_data(tenant_a):
    client = APIClient()
    response = client.post(SCANS, {**CREATE_EXAMPLE, "target": "scanme.lantern.test"}, format="json",
                           headers={"X-API-Key": tenant_a.key})
    data = assert_scan_data(response)
    assert set(data) == {"id", "scanType", "name", "target", "status", "priority", "progress", "tags",
                         "createdAt"}
    assert (data["scanType"], data["name"], data["target"]) == ("nmap", "Weekly network audit",
                                                                "scanme.lantern.test")
    assert (data["status"], data["priority"], data["progress"], data["tags"]) == (
        "queued", "normal", 0, ["production", "weekly"])
    assert data["createdAt"].endswith("Z")
    scan = Scan.objects.get(pk=uuid.UUID(data["id"]))
    assert (scan.tenant_id, scan.surface, scan.target_type, scan.timeout_s) == (
        tenant_a.tenant_id, "multiengine", "domain", 3600)
    assert scan.options["ports"] == "1-1024" and scan.options["timing"] == "T3"


@pytest.mark.parametrize("engine", list(ENGINE_EXAMPLES))
def test_every_engine_example_is_accepted_with_its_options(client_for, tenant_a, engine):
    example, loopback = ENGINE_EXAMPLES[engine]
    data = assert_scan_data(create(client_for(tenant_a), **{**example, "target": loopback}))
    assert data["scanType"] == engine and data["priority"] == example.get("priority", "normal")
    scan = Scan.objects.get(pk=data["id"])
    assert example["options"].items() <= scan.options.items()


@pytest.mark.parametrize("engine", list(ENGINE_EXAMPLES))
def test_every_original_engine_example_target_is_refused_by_the_loopback_policy(client_for, tenant_a, engine):
    example, _ = ENGINE_EXAMPLES[engine]
    error = assert_error(create(client_for(tenant_a), **example), 422, "invalid_target", "target")
    assert "loopback-only" in error["message"]
    assert Scan.objects.count() == 0


def test_the_original_create_example_target_is_refused(client_for, tenant_a):
    assert_error(create(client_for(tenant_a), **CREATE_EXAMPLE), 422, "invalid_target", "target")


@pytest.mark.parametrize("engine, target", list(TABLE_DEFAULTS))
def test_omitted_options_take_the_defaults_of_the_engine_table(client_for, tenant_a, engine, target):
    data = assert_scan_data(create(client_for(tenant_a), target=target, scanType=engine))
    detail = client_for(tenant_a).get(f"{SCANS}/{data['id']}").json()["data"]
    assert TABLE_DEFAULTS[(engine, target)].items() <= detail["options"].items()


@pytest.mark.parametrize("target, inferred", [
    ("127.0.0.1", "ip"), ("::1", "ip"), ("127.0.0.0/24", "network"), ("scanme.lantern.test", "domain"),
    ("localhost", "host"), ("http://127.0.0.1/path", "url"),
])
def test_target_type_is_inferred_when_omitted(client_for, tenant_a, target, inferred):
    engine = "nuclei" if inferred == "url" else "nmap"
    data = assert_scan_data(create(client_for(tenant_a), target=target, scanType=engine))
    assert client_for(tenant_a).get(f"{SCANS}/{data['id']}").json()["data"]["targetType"] == inferred


@pytest.mark.parametrize("body, field", [
    ({"target": "127.0.0.1", "scanType": "zap"}, "targetType"),
    ({"target": "127.0.0.0/24", "scanType": "nuclei"}, "targetType"),
    ({"target": "scanme.lantern.test", "scanType": "sqlmap", "targetType": "domain"}, "targetType"),
    ({"target": "127.0.0.1", "scanType": "harvester"}, "targetType"),
    ({"target": "127.0.0.1", "scanType": "nosuch"}, "scanType"),
    ({"target": "127.0.0.1", "scanType": "nmap", "priority": "urgent"}, "priority"),
    ({"target": "127.0.0.1", "scanType": "nmap", "targetType": "planet"}, "targetType"),
    ({"target": "127.0.0.1", "scanType": "nmap", "timeout": 0}, "timeout"),
    ({"target": "127.0.0.1", "scanType": "nmap", "timeout": 10 ** 9}, "timeout"),
    ({"target": "127.0.0.1", "scanType": "nmap", "options": {"timing": "T9"}}, "options.timing"),
    ({"target": "127.0.0.1", "scanType": "nmap", "config": {"bogus": 1}}, "config.bogus"),
    ({"target": "http://127.0.0.1/?q=1", "scanType": "sqlmap", "options": {"level": 4}}, "options.level"),
    ({"target": "127.0.0.1", "scanType": "nmap", "tags": ["x" * 65]}, "tags"),
    ({"scanType": "nmap"}, "target"), ({"target": "127.0.0.1"}, "scanType"),
])
def test_invalid_requests_are_400_in_the_error_envelope(client_for, tenant_a, body, field):
    assert_error(create(client_for(tenant_a), **body), 400, field=field)
    assert Scan.objects.count() == 0


@pytest.mark.parametrize("priority", ["critical", "high", "normal", "low"])
def test_priorities(client_for, tenant_a, priority):
    data = assert_scan_data(create(client_for(tenant_a), target="127.0.0.1", scanType="nmap",
                                   priority=priority))
    assert data["priority"] == priority
    assert Scan.objects.get(pk=data["id"]).priority == Priority[priority.upper()]


def test_config_is_merged_over_options(client_for, tenant_a):
    data = assert_scan_data(create(client_for(tenant_a), target="127.0.0.1", scanType="nmap",
                                   options={"ports": "1-100", "timing": "T2"}, config={"timing": "T4"}))
    options = Scan.objects.get(pk=data["id"]).options
    assert (options["ports"], options["timing"]) == ("1-100", "T4")


def test_an_asset_id_links_one_of_the_tenants_registered_assets(client_for, tenant_a, tenant_b):
    mine = asset_create(tenant_id=tenant_a.tenant_id, kind="ip", value="127.0.0.1")
    theirs = asset_create(tenant_id=tenant_b.tenant_id, kind="ip", value="127.0.0.1")
    data = assert_scan_data(create(client_for(tenant_a), target="127.0.0.1", scanType="nmap",
                                   assetId=str(mine.uuid)))
    assert Scan.objects.get(pk=data["id"]).extra["asset_id"] == str(mine.uuid)
    for unknown in (str(theirs.uuid), str(uuid.uuid4()), "asset-1"):
        response = create(client_for(tenant_a), target="127.0.0.1", scanType="nmap", assetId=unknown)
        error = assert_error(response, 422, "asset_not_found", "assetId")
        assert "asset not found" in error["message"]
    assert Scan.objects.count() == 1


def test_callback_url_must_be_https_and_is_stored(client_for, tenant_a, webhooks_to_loopback):
    assert_error(create(client_for(tenant_a), target="127.0.0.1", scanType="nmap",
                        callbackUrl="http://hooks.example.com/done"), 422, "url_refused", "callbackUrl")
    assert_error(create(client_for(tenant_a), target="127.0.0.1", scanType="nmap",
                        callbackUrl="https://10.0.0.1/done"), 422, "url_refused", "callbackUrl")
    data = assert_scan_data(create(client_for(tenant_a), target="127.0.0.1", scanType="nmap",
                                   callbackUrl="https://127.0.0.1:8443/done"))
    assert Scan.objects.get(pk=data["id"]).extra["callback_url"] == "https://127.0.0.1:8443/done"


def test_list_defaults_to_nmap_filters_and_paginates(client_for, tenant_a, tenant_b):
    client = client_for(tenant_a)
    nmap_ids = [assert_scan_data(create(client, target="127.0.0.1", scanType="nmap"))["id"] for _ in range(3)]
    zap = assert_scan_data(create(client, target="http://127.0.0.1", scanType="zap"))["id"]
    assert_scan_data(create(client_for(tenant_b), target="127.0.0.1", scanType="nmap"))
    Scan.objects.filter(pk=nmap_ids[0]).update(status="completed")
    body = client.get(SCANS).json()
    assert set(body) == {"success", "data", "pagination"} and body["success"] is True
    assert body["pagination"] == {"page": 1, "limit": 20, "total": 3, "pages": 1}
    assert [item["id"] for item in body["data"]] == nmap_ids[::-1]
    assert [i["id"] for i in client.get(SCANS, {"scanType": "zap"}).json()["data"]] == [zap]
    assert client.get(SCANS, {"scanType": "all"}).json()["pagination"]["total"] == 4
    assert [i["id"] for i in client.get(SCANS, {"status": "completed"}).json()["data"]] == [nmap_ids[0]]
    assert client.get(SCANS, {"status": "pending"}).json()["pagination"]["total"] == 2
    page = client.get(SCANS, {"page": 2, "limit": 2}).json()
    assert page["pagination"] == {"page": 2, "limit": 2, "total": 3, "pages": 2} and len(page["data"]) == 1
    assert client.get(SCANS, {"limit": 100}).status_code == 200


@pytest.mark.parametrize("query, field", [({"limit": 101}, "limit"), ({"limit": 0}, "limit"),
                                          ({"page": 0}, "page"), ({"page": 10 ** 20}, "page"),
                                          ({"status": "bogus"}, "status")])
def test_bad_list_parameters_are_400(client_for, tenant_a, query, field):
    assert_error(client_for(tenant_a).get(SCANS, query), 400, field=field)


def test_get_and_cancel_a_scan(client_for, tenant_a):
    client = client_for(tenant_a)
    scan_id = assert_scan_data(create(client, target="127.0.0.1", scanType="nmap"))["id"]
    detail = assert_scan_data(client.get(f"{SCANS}/{scan_id}"), 200)
    assert detail["id"] == scan_id and detail["targetType"] == "ip" and detail["cancelRequested"] is False
    cancelled = assert_scan_data(client.post(f"{SCANS}/{scan_id}/cancel"), 200)
    assert cancelled["status"] == "cancelled" and cancelled["completedAt"]
    assert assert_scan_data(client.post(f"{SCANS}/{scan_id}/cancel"), 200)["status"] == "cancelled"


def test_cancelling_a_running_scan_flags_it_and_a_finished_one_is_409(client_for, tenant_a):
    client = client_for(tenant_a)
    scan_id = assert_scan_data(create(client, target="127.0.0.1", scanType="nmap"))["id"]
    Scan.objects.filter(pk=scan_id).update(status="running")
    data = assert_scan_data(client.post(f"{SCANS}/{scan_id}/cancel"), 200)
    assert (data["status"], data["cancelRequested"]) == ("running", True)
    Scan.objects.filter(pk=scan_id).update(status="completed")
    assert_error(client.post(f"{SCANS}/{scan_id}/cancel"), 409, "conflict")


def test_each_operation_needs_its_scope(client_for, db):
    admin = make_tenant("scoped", role="admin")
    scan_id = assert_scan_data(create(client_for(admin), target="127.0.0.1", scanType="nmap"))["id"]
    lister = make_tenant("scoped", role="", scopes=("scans:list",))
    reader = make_tenant("scoped", role="", scopes=("scans:read",))
    canceller = make_tenant("scoped", role="", scopes=("scans:cancel",))
    assert client_for(lister).get(SCANS).status_code == 200
    for key in (reader, canceller):
        assert_error(client_for(key).get(SCANS), 403, "permission_denied")
        assert_error(create(client_for(key), target="127.0.0.1", scanType="nmap"), 403)
    assert_error(client_for(lister).get(f"{SCANS}/{scan_id}"), 403)
    assert client_for(reader).get(f"{SCANS}/{scan_id}").status_code == 200
    assert_error(client_for(reader).post(f"{SCANS}/{scan_id}/cancel"), 403)
    assert client_for(canceller).post(f"{SCANS}/{scan_id}/cancel").status_code == 200
    assert Scan.objects.count() == 1


def test_without_a_key_it_is_401_in_the_envelope(db):
    assert_error(APIClient().get(SCANS), 401)
    assert_error(create(APIClient(), target="127.0.0.1", scanType="nmap"), 401)


def test_another_tenants_scan_is_404_and_untouched(client_for, tenant_a, tenant_b):
    theirs = assert_scan_data(create(client_for(tenant_b), target="127.0.0.1", scanType="nmap"))["id"]
    for response in (client_for(tenant_a).get(f"{SCANS}/{theirs}"),
                     client_for(tenant_a).post(f"{SCANS}/{theirs}/cancel")):
        assert_error(response, 404, "not_found")
        assert theirs not in response.content.decode()
    assert Scan.objects.get(pk=theirs).status == "queued"
    assert client_for(tenant_a).get(SCANS, {"scanType": "all"}).json()["data"] == []
