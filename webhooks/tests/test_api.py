"""The webhooks API in-process, with two tenants: CRUD, the secret shown once and stored encrypted, scopes,
validation, 404s across tenants that reveal nothing, ping, rotation and the delivery log."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection

from webhooks.api import urls
from webhooks.crypto import secret_decrypt, signature_verify
from webhooks.models import Delivery, Endpoint
from webhooks.tests.receiver import Receiver

WEBHOOKS = "/api/v1/webhooks"
SEED_003_EVENTS = ["scan.started", "scan.completed", "scan.failed", "vulnerability.critical"]


def register(client, url="http://127.0.0.1:9/hook", events=None, **extra):
    return client.post(WEBHOOKS, {"url": url, "events": events or SEED_003_EVENTS, **extra}, format="json")


def test_registering_the_seed_003_body_returns_201_with_the_secret_once(client_for, tenant_a):
    response = register(client_for(tenant_a), url="https://127.0.0.1:8443/webhook")
    assert response.status_code == 201
    body = response.json()
    assert body["url"] == "https://127.0.0.1:8443/webhook" and body["events"] == SEED_003_EVENTS
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 40
    assert body["is_active"] is True and uuid.UUID(body["id"])
    assert "tenant" not in body and "secret_encrypted" not in body

    shown_again = client_for(tenant_a).get(f"{WEBHOOKS}/{body['id']}").json()
    assert shown_again["id"] == body["id"] and "secret" not in shown_again
    assert all("secret" not in item for item in client_for(tenant_a).get(WEBHOOKS).json()["items"])


def test_the_database_row_holds_no_clear_secret(client_for, tenant_a):
    body = register(client_for(tenant_a)).json()
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM webhooks_endpoint WHERE id = %s", [body["id"]])
        row = cursor.fetchone()
    assert body["secret"] not in repr(row)
    assert body["secret"][6:] not in repr(row)  # not even without its prefix
    endpoint = Endpoint.objects.get(pk=body["id"])
    assert secret_decrypt(endpoint.secret_encrypted) == body["secret"]


def test_every_event_of_the_stream_can_be_subscribed_and_duplicates_collapse(client_for, tenant_a):
    events = ["scan.queued", "phase.started", "progress", "host_found", "port_found", "finding_found",
              "scan.cancelled", "progress"]
    body = register(client_for(tenant_a), events=events).json()
    assert body["events"] == events[:-1]


def test_list_is_paginated_and_shows_only_the_tenants_own(client_for, tenant_a, tenant_b):
    for port in (1001, 1002, 1003):
        register(client_for(tenant_a), url=f"http://127.0.0.1:{port}/h")
    register(client_for(tenant_b), url="http://127.0.0.1:2001/h")
    body = client_for(tenant_a).get(WEBHOOKS, {"per_page": 2, "page": 2}).json()
    assert (body["total"], body["page"], body["per_page"], body["pages"]) == (3, 2, 2, 2)
    assert [item["url"] for item in body["items"]] == ["http://127.0.0.1:1001/h"]
    everything = client_for(tenant_a).get(WEBHOOKS).json()["items"]
    assert {item["url"] for item in everything} == {f"http://127.0.0.1:{p}/h" for p in (1001, 1002, 1003)}


def test_patch_changes_url_events_and_state(client_for, tenant_a):
    client = client_for(tenant_a)
    endpoint_id = register(client).json()["id"]
    response = client.patch(f"{WEBHOOKS}/{endpoint_id}", {"url": "http://localhost:8080/new",
                                                          "events": ["scan.completed"], "is_active": False},
                            format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["url"] == "http://localhost:8080/new"
    assert (body["events"], body["is_active"]) == (["scan.completed"], False)
    assert client.get(f"{WEBHOOKS}/{endpoint_id}").json()["is_active"] is False


def test_delete_removes_the_endpoint(client_for, tenant_a):
    client = client_for(tenant_a)
    endpoint_id = register(client).json()["id"]
    assert client.delete(f"{WEBHOOKS}/{endpoint_id}").status_code == 204
    assert client.get(f"{WEBHOOKS}/{endpoint_id}").status_code == 404
    assert Endpoint.objects.count() == 0


@pytest.mark.parametrize("method, suffix, body", [
    ("get", "", None), ("patch", "", {"events": ["scan.failed"]}), ("delete", "", None),
    ("post", "/ping", None), ("post", "/rotate-secret", {}), ("get", "/deliveries", None),
])
def test_another_tenants_webhook_is_a_404_that_reveals_nothing(client_for, tenant_a, tenant_b, method, suffix,
                                                                body):
    theirs = register(client_for(tenant_b), url="http://127.0.0.1:4242/secret-path").json()
    before = Endpoint.objects.values().get(pk=theirs["id"])
    url = f"{WEBHOOKS}/{theirs['id']}{suffix}"
    response = getattr(client_for(tenant_a), method)(url, body, format="json")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Webhook not found"}}
    assert Endpoint.objects.values().get(pk=theirs["id"]) == before
    assert Delivery.objects.count() == 0


@pytest.mark.parametrize("endpoint_id", [str(uuid.uuid4()), "not-a-uuid", "1"])
def test_unknown_and_malformed_ids_are_the_same_404(client_for, tenant_a, endpoint_id):
    response = client_for(tenant_a).get(f"{WEBHOOKS}/{endpoint_id}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("method, suffix, body", [
    ("get", "", None), ("post", "", {"url": "http://127.0.0.1:9/h", "events": ["scan.completed"]}),
    ("get", "/{id}", None), ("patch", "/{id}", {"is_active": False}), ("delete", "/{id}", None),
    ("post", "/{id}/ping", None), ("post", "/{id}/rotate-secret", {}), ("get", "/{id}/deliveries", None),
])
def test_a_key_without_webhooks_manage_gets_403_and_changes_nothing(client_for, tenant_a, reporter_a, method,
                                                                     suffix, body):
    endpoint_id = register(client_for(tenant_a)).json()["id"]
    before = list(Endpoint.objects.values())
    response = getattr(client_for(reporter_a), method)(WEBHOOKS + suffix.format(id=endpoint_id), body,
                                                       format="json")
    assert response.status_code == 403
    assert "webhooks:manage" in response.json()["error"]["message"]
    assert list(Endpoint.objects.values()) == before and Delivery.objects.count() == 0


def test_no_key_is_a_401(client_for, db):
    assert client_for(None).get(WEBHOOKS).status_code == 401
    assert register(client_for(None)).status_code == 401


@pytest.mark.parametrize("body, field, fragment", [
    ({"events": ["scan.completed"]}, "url", "required"),
    ({"url": "http://127.0.0.1:9/h"}, "events", "required"),
    ({"url": "http://127.0.0.1:9/h", "events": []}, "events", "at least 1"),
    ({"url": "http://127.0.0.1:9/h", "events": ["scan.exploded"]}, "events",
     "unknown event(s): scan.exploded"),
    ({"url": "http://127.0.0.1:9/h", "events": "scan.completed"}, "events", "list"),
])
def test_invalid_bodies_are_400_naming_the_field(client_for, tenant_a, body, field, fragment):
    response = client_for(tenant_a).post(WEBHOOKS, body, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["field"] == field and fragment in error["message"]
    assert Endpoint.objects.count() == 0


def test_patch_refuses_unknown_fields_and_bad_events(client_for, tenant_a):
    client = client_for(tenant_a)
    endpoint_id = register(client).json()["id"]
    assert client.patch(f"{WEBHOOKS}/{endpoint_id}", {"secret": "mine"}, format="json").status_code == 400
    response = client.patch(f"{WEBHOOKS}/{endpoint_id}", {"events": ["nope"]}, format="json")
    assert response.status_code == 400 and response.json()["error"]["field"] == "events"
    assert Endpoint.objects.get(pk=endpoint_id).events == SEED_003_EVENTS


def test_a_tenant_may_register_at_most_the_configured_number(client_for, tenant_a, settings):
    settings.LANTERN_WEBHOOK_MAX_ENDPOINTS = 2
    client = client_for(tenant_a)
    assert [register(client).status_code for _ in range(3)] == [201, 201, 409]
    assert Endpoint.objects.count() == 2


def test_rotation_returns_a_new_secret_once_and_keeps_the_old_one_for_the_overlap(client_for, tenant_a):
    client = client_for(tenant_a)
    created = register(client).json()
    rotate = f"{WEBHOOKS}/{created['id']}/rotate-secret"
    response = client.post(rotate, {"overlap_seconds": 600}, format="json")
    assert response.status_code == 200
    rotated = response.json()
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != created["secret"]
    assert rotated["previous_secret_expires_at"] and rotated["secret_rotated_at"]
    assert "secret" not in client.get(f"{WEBHOOKS}/{created['id']}").json()
    endpoint = Endpoint.objects.get(pk=created["id"])
    assert secret_decrypt(endpoint.secret_encrypted) == rotated["secret"]
    assert secret_decrypt(endpoint.previous_secret_encrypted) == created["secret"]
    too_long = client.post(rotate, {"overlap_seconds": 10**9}, format="json")
    assert too_long.status_code == 400 and too_long.json()["error"]["field"] == "overlap_seconds"


def test_ping_queues_a_signed_delivery_that_shows_in_the_log(client_for, tenant_a, outbox):
    with Receiver() as receiver:
        client = client_for(tenant_a)
        created = register(client, url=receiver.url).json()
        with outbox.committed():
            response = client.post(f"{WEBHOOKS}/{created['id']}/ping")
        assert response.status_code == 202
        queued = response.json()
        assert (queued["event"], queued["status"], queued["attempts"]) == ("ping", "pending", 0)
        assert len(outbox.queued) == 1 and receiver.count == 0  # enqueued, nothing sent by the request
        outbox.run()
        (request,) = receiver.wait_for(1)
    assert signature_verify(request.headers["x-lantern-signature"], request.body, created["secret"])
    assert request.headers["x-lantern-event"] == "ping"
    assert request.headers["x-lantern-delivery"] == queued["id"]
    log = client.get(f"{WEBHOOKS}/{created['id']}/deliveries").json()
    assert log["total"] == 1
    (entry,) = log["items"]
    assert (entry["id"], entry["status"]) == (queued["id"], "succeeded")
    assert (entry["status_code"], entry["attempts"]) == (200, 1)
    assert isinstance(entry["latency_ms"], int) and entry["latency_ms"] >= 0
    assert [(a["attempt"], a["status_code"]) for a in entry["attempt_log"]] == [(1, 200)]


def test_the_delivery_log_filters_by_status(client_for, tenant_a, outbox):
    with Receiver(status=404) as receiver:
        client = client_for(tenant_a)
        endpoint_id = register(client, url=receiver.url).json()["id"]
        with outbox.committed():
            client.post(f"{WEBHOOKS}/{endpoint_id}/ping")
            client.post(f"{WEBHOOKS}/{endpoint_id}/ping")
        outbox.run()
    failed = client.get(f"{WEBHOOKS}/{endpoint_id}/deliveries", {"status": "failed"}).json()
    assert failed["total"] == 2 and {item["status_code"] for item in failed["items"]} == {404}
    assert client.get(f"{WEBHOOKS}/{endpoint_id}/deliveries", {"status": "succeeded"}).json()["total"] == 0
    bad = client.get(f"{WEBHOOKS}/{endpoint_id}/deliveries", {"status": "bogus"})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "status"


def test_every_webhooks_route_declares_its_scope():
    for pattern in urls.urlpatterns:
        view = pattern.callback.view_class
        methods = [m.upper() for m in ("get", "post", "patch", "delete", "put") if hasattr(view, m)]
        assert methods and all(view.required_scopes.get(m) == ("webhooks:manage",) for m in methods), view
