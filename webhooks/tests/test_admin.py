"""The admin shows endpoints and their delivery log read-only, and never a secret."""

from __future__ import annotations

from webhooks.models import Delivery
from webhooks.services import endpoint_create, endpoint_ping


def test_endpoints_and_deliveries_are_listed_and_shown_read_only(admin_client, tenant_a, outbox):
    created = endpoint_create(tenant_id=tenant_a.tenant_id, url="http://127.0.0.1:9/h", events=["scan.completed"])
    with outbox.committed():
        delivery = endpoint_ping(tenant_id=tenant_a.tenant_id, endpoint_id=created.endpoint.pk)
    pages = ["/admin/webhooks/endpoint/", f"/admin/webhooks/endpoint/{created.endpoint.pk}/change/",
             "/admin/webhooks/delivery/", f"/admin/webhooks/delivery/{delivery.pk}/change/"]
    for page in pages:
        response = admin_client.get(page)
        assert response.status_code == 200, page
        text = response.content.decode()
        assert created.secret not in text and created.endpoint.secret_encrypted not in text
    assert admin_client.get("/admin/webhooks/endpoint/add/").status_code == 403
    response = admin_client.post(f"/admin/webhooks/delivery/{delivery.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403 and Delivery.objects.filter(pk=delivery.pk).exists()
