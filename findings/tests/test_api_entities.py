"""GET /scans/{id}/entities: seed 001's entities and associations from hosts, services and certificates."""

import pytest

from findings.entities.selectors import scan_entities
from findings.tests.factories import make_certificate, make_scan, make_service



def test_entities_and_associations(client_for, tenant_a):
    scan = make_scan(tenant_a.tenant_id)
    make_service(scan, port=22, service="ssh", product="OpenSSH", version="7.4p1", banner="SSH-2.0-OpenSSH_7.4p1",
                 cpes=["cpe:/a:openbsd:openssh:7.4p1"])
    https = make_service(scan, port=443, service="https")
    make_service(scan, port=8080, state="closed")
    make_certificate(scan, service=https, port=443)
    make_certificate(scan, service=None, port=8443, fingerprint="cd" * 32)
    body = client_for(tenant_a).get(f"/api/v1/scans/{scan.pk}/entities").json()
    assert [(e["type"], e["id"]) for e in body["entities"]] == [
        ("target", "target:127.0.0.1"),
        ("port", "port:127.0.0.1:22/tcp"), ("service", "service:127.0.0.1:22/tcp"),
        ("banner", "banner:127.0.0.1:22/tcp"),
        ("port", "port:127.0.0.1:443/tcp"), ("service", "service:127.0.0.1:443/tcp"),
        ("certificate", "certificate:" + "ab" * 32), ("certificate", "certificate:" + "cd" * 32)]
    assert body["associations"] == [
        {"from": "target:127.0.0.1", "to": "port:127.0.0.1:22/tcp", "type": "has_port"},
        {"from": "port:127.0.0.1:22/tcp", "to": "service:127.0.0.1:22/tcp", "type": "runs_service"},
        {"from": "service:127.0.0.1:22/tcp", "to": "banner:127.0.0.1:22/tcp", "type": "has_banner"},
        {"from": "target:127.0.0.1", "to": "port:127.0.0.1:443/tcp", "type": "has_port"},
        {"from": "port:127.0.0.1:443/tcp", "to": "service:127.0.0.1:443/tcp", "type": "runs_service"},
        {"from": "service:127.0.0.1:443/tcp", "to": "certificate:" + "ab" * 32, "type": "presents_certificate"},
        {"from": "target:127.0.0.1", "to": "certificate:" + "cd" * 32, "type": "presents_certificate"}]
    ssh = body["entities"][2]["attributes"]
    assert ssh == {"name": "ssh", "product": "OpenSSH", "version": "7.4p1", "cpes": ["cpe:/a:openbsd:openssh:7.4p1"]}
    assert body["entities"][3]["attributes"] == {"text": "SSH-2.0-OpenSSH_7.4p1"}


def test_entities_is_three_queries(tenant_a, django_assert_num_queries):
    scan = make_scan(tenant_a.tenant_id)
    make_service(scan, port=22, service="ssh")
    with django_assert_num_queries(3):
        scan_entities(tenant_id=tenant_a.tenant_id, scan=scan)


def test_a_scan_with_nothing_found_has_no_entities(client_for, tenant_a):
    scan = make_scan(tenant_a.tenant_id)
    assert client_for(tenant_a).get(f"/api/v1/scans/{scan.pk}/entities").json() == {"entities": [],
                                                                                      "associations": []}
