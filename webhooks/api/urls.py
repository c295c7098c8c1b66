"""Routes of the webhooks API, included under /api/v1/ by config/urls.py.

Views are one class per operation; where one path serves several methods, `route` joins their classes into
one view class (each operation class defines only its own handler, so nothing clashes) and unites their
required_scopes, so the scope check and the OpenAPI schema still see every operation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.urls import path

from tenants.api import TenantAPIView
from webhooks.api.views import (WebhookCreateApi, WebhookDeleteApi, WebhookDeliveryListApi, WebhookGetApi,
                                WebhookListApi, WebhookPingApi, WebhookSecretRotateApi, WebhookUpdateApi)


def route(*operations: type[TenantAPIView]) -> Callable[..., Any]:
    if len(operations) == 1:
        return operations[0].as_view()
    scopes: dict[str, tuple[str, ...]] = {}
    for operation in operations:
        scopes.update(operation.required_scopes)
    name = "".join(operation.__name__.removesuffix("Api") for operation in operations) + "Route"
    joined: type[TenantAPIView] = type(name, operations, {"required_scopes": scopes,
                                                          "__doc__": operations[0].__doc__})
    return joined.as_view()


urlpatterns = [
    path("webhooks", route(WebhookListApi, WebhookCreateApi), name="webhook-collection"),
    path("webhooks/<str:endpoint_id>", route(WebhookGetApi, WebhookUpdateApi, WebhookDeleteApi),
         name="webhook-detail"),
    path("webhooks/<str:endpoint_id>/ping", route(WebhookPingApi), name="webhook-ping"),
    path("webhooks/<str:endpoint_id>/rotate-secret", route(WebhookSecretRotateApi),
         name="webhook-rotate-secret"),
    path("webhooks/<str:endpoint_id>/deliveries", route(WebhookDeliveryListApi), name="webhook-deliveries"),
]
