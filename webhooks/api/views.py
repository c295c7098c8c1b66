"""The webhooks API (seed 003's POST /api/v1/webhooks and the rest of the endpoint's life): one class per
operation, each parse → service/selector → render. Every operation needs the webhooks:manage scope."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from tenants.api import TenantAPIView
from tenants.scopes import Scope
from webhooks.api.serializers import (DeliveryListQuery, PageQuery, SecretRotateInput, WebhookCreateInput,
                                      WebhookUpdateInput, delivery_out, endpoint_out, page_envelope)
from webhooks.selectors import delivery_list, endpoint_get, endpoint_list
from webhooks.services import (endpoint_create, endpoint_delete, endpoint_ping, endpoint_secret_rotate,
                               endpoint_update)

TAGS = ["webhooks"]
MANAGE = (Scope.WEBHOOKS_MANAGE,)


class WebhookListApi(TenantAPIView):
    required_scopes = {"GET": MANAGE}

    @extend_schema(tags=TAGS, responses=OpenApiTypes.OBJECT, parameters=[PageQuery], summary="List webhooks",
                   operation_id="webhooks_list")
    def get(self, request: Request) -> Response:
        query = self.validate_input(PageQuery, request.query_params)
        endpoints = endpoint_list(tenant_id=self.tenant_id)
        page, per_page = query["page"], query["per_page"]
        items = [endpoint_out(e) for e in endpoints[(page - 1) * per_page : page * per_page]]
        return Response(page_envelope(items, endpoints.count(), page, per_page))


class WebhookCreateApi(TenantAPIView):
    required_scopes = {"POST": MANAGE}

    @extend_schema(tags=TAGS, responses=OpenApiTypes.OBJECT, request=WebhookCreateInput,
                   summary="Register a webhook (the secret is shown once)")
    def post(self, request: Request) -> Response:
        data = self.validate_input(WebhookCreateInput, request.data)
        created = endpoint_create(tenant_id=self.tenant_id, url=data["url"], events=data["events"],
                                  description=data.get("description", ""))
        return Response({**endpoint_out(created.endpoint), "secret": created.secret}, status=201)


class WebhookGetApi(TenantAPIView):
    required_scopes = {"GET": MANAGE}

    @extend_schema(tags=TAGS, responses=OpenApiTypes.OBJECT, summary="Get a webhook",
                   operation_id="webhooks_get")
    def get(self, request: Request, endpoint_id: str) -> Response:
        return Response(endpoint_out(endpoint_get(tenant_id=self.tenant_id, endpoint_id=endpoint_id)))


class WebhookUpdateApi(TenantAPIView):
    required_scopes = {"PATCH": MANAGE}

    @extend_schema(tags=TAGS, responses=OpenApiTypes.OBJECT, request=WebhookUpdateInput,
                   summary="Change a webhook's URL, events or state")
    def patch(self, request: Request, endpoint_id: str) -> Response:
        data = self.validate_input(WebhookUpdateInput, request.data)
        endpoint = endpoint_update(tenant_id=self.tenant_id, endpoint_id=endpoint_id, url=data.get("url"),
                                   events=data.get("events"), description=data.get("description"),
                                   is_active=data.get("is_active"))
        return Response(endpoint_out(endpoint))


class WebhookDeleteApi(TenantAPIView):
    required_scopes = {"DELETE": MANAGE}

    @extend_schema(tags=TAGS, responses=OpenApiTypes.OBJECT, summary="Delete a webhook and its delivery log")
    def delete(self, request: Request, endpoint_id: str) -> Response:
        endpoint_delete(tenant_id=self.tenant_id, endpoint_id=endpoint_id)
        return Response(status=204)


class WebhookPingApi(TenantAPIView):
    required_scopes = {"POST": MANAGE}

    @extend_schema(tags=TAGS, responses=OpenApiTypes.OBJECT, request=None,
                   summary="Queue a signed test delivery (event: ping)")
    def post(self, request: Request, endpoint_id: str) -> Response:
        delivery = endpoint_ping(tenant_id=self.tenant_id, endpoint_id=endpoint_id)
        return Response(delivery_out(delivery), status=202)


class WebhookSecretRotateApi(TenantAPIView):
    required_scopes = {"POST": MANAGE}

    @extend_schema(tags=TAGS, responses=OpenApiTypes.OBJECT, request=SecretRotateInput,
                   summary="New secret (shown once); the old one keeps signing during the overlap")
    def post(self, request: Request, endpoint_id: str) -> Response:
        data = self.validate_input(SecretRotateInput, request.data)
        rotated = endpoint_secret_rotate(tenant_id=self.tenant_id, endpoint_id=endpoint_id,
                                         overlap_s=data.get("overlap_seconds"))
        return Response({**endpoint_out(rotated.endpoint), "secret": rotated.secret})


class WebhookDeliveryListApi(TenantAPIView):
    required_scopes = {"GET": MANAGE}

    @extend_schema(tags=TAGS, responses=OpenApiTypes.OBJECT, parameters=[DeliveryListQuery,
                                          OpenApiParameter("endpoint_id", str, OpenApiParameter.PATH)],
                   summary="The webhook's delivery log: status code, latency and attempts per delivery")
    def get(self, request: Request, endpoint_id: str) -> Response:
        query = self.validate_input(DeliveryListQuery, request.query_params)
        endpoint = endpoint_get(tenant_id=self.tenant_id, endpoint_id=endpoint_id)
        deliveries = delivery_list(tenant_id=self.tenant_id, endpoint=endpoint, status=query.get("status"))
        page, per_page = query["page"], query["per_page"]
        items = [delivery_out(d) for d in deliveries[(page - 1) * per_page : page * per_page]]
        return Response(page_envelope(items, deliveries.count(), page, per_page))
