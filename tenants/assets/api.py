"""Asset Management: /api/v1/assets (register, list), /api/v1/assets/{id} (get, edit, delete) and
/api/v1/assets/{id}/verify (prove ownership). Each view: parse → service/selector → render.

Scopes: reads need scans:read and writes scans:create, the scopes of the scans these assets unlock.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlsplit

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from scans.api.schema import ERRORS
from tenants.api import TenantAPIView
from tenants.assets.models import Asset
from tenants.assets.selectors import asset_get, asset_list
from tenants.assets.services import asset_create, asset_delete, asset_methods, asset_update, asset_verify
from tenants.assets.verification import CHALLENGE_LABEL, WELL_KNOWN_PATH, http_origins
from tenants.scopes import Scope

TAGS = ["assets"]
ASSET_ID = OpenApiParameter("asset_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="Asset id")


def _iso(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


class AssetCreateInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Asset.Kind.values)
    value = serializers.CharField(max_length=2048, trim_whitespace=True)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    production = serializers.BooleanField(required=False, default=True,
                                          help_text="false marks an isolated test system (seed 002: sqlmap "
                                                    "level > 3 / risk > 2 allowed there)")


class AssetUpdateInput(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    production = serializers.BooleanField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        given = self.initial_data if isinstance(self.initial_data, dict) else {}
        unknown = sorted(set(given) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({unknown[0]: "cannot be changed; only name and production can "
                                                           "(register a new asset for another value)"})
        return attrs


class AssetListQuery(serializers.Serializer):
    page = serializers.IntegerField(min_value=1, max_value=1_000_000, default=1)
    per_page = serializers.IntegerField(min_value=1, max_value=100, default=20)
    kind = serializers.ChoiceField(choices=Asset.Kind.values, required=False)
    verified = serializers.BooleanField(required=False, allow_null=True, default=None)
    production = serializers.BooleanField(required=False, allow_null=True, default=None)
    search = serializers.CharField(max_length=200, required=False)


class AssetVerifyInput(serializers.Serializer):
    method = serializers.ChoiceField(choices=["dns", "http"])  # "operator" is an approval in the admin
    host = serializers.CharField(max_length=64, required=False,
                                 help_text="cidr assets: the address inside the network that serves the file "
                                           "(default: the network address)")


class ChallengeDnsOut(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.CharField()
    value = serializers.CharField()


class ChallengeHttpOut(serializers.Serializer):
    urls = serializers.ListField(child=serializers.URLField())
    content = serializers.CharField()


class ChallengeOut(serializers.Serializer):
    token = serializers.CharField()
    methods = serializers.ListField(child=serializers.CharField(), help_text="dns, http, operator")
    dns = ChallengeDnsOut(allow_null=True)
    http = ChallengeHttpOut(allow_null=True)


class AssetOut(serializers.Serializer):
    """Documentation of asset_body's shape."""

    id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=Asset.Kind.values)
    value = serializers.CharField()
    name = serializers.CharField(allow_blank=True)
    production = serializers.BooleanField()
    verified = serializers.BooleanField()
    verified_at = serializers.DateTimeField(allow_null=True)
    verification_method = serializers.ChoiceField(choices=Asset.Method.values, allow_null=True)
    last_checked_at = serializers.DateTimeField(allow_null=True)
    last_error = serializers.CharField(allow_null=True)
    challenge = ChallengeOut()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class AssetListOut(serializers.Serializer):
    items = AssetOut(many=True)
    total = serializers.IntegerField()
    page = serializers.IntegerField()
    per_page = serializers.IntegerField()
    pages = serializers.IntegerField()


def _challenge(asset: Asset) -> dict[str, Any]:
    """What the tenant must publish, for each method that applies."""
    methods = asset_methods(asset)
    body: dict[str, Any] = {"token": asset.token, "methods": [str(method) for method in methods], "dns": None,
                            "http": None}
    host = urlsplit(asset.value).hostname if asset.kind == Asset.Kind.URL else asset.value
    if Asset.Method.DNS in methods:
        body["dns"] = {"name": f"{CHALLENGE_LABEL}.{host}", "type": "TXT", "value": asset.token}
    if Asset.Method.HTTP in methods:
        if asset.kind == Asset.Kind.URL:
            parts = urlsplit(asset.value)
            urls = [f"{parts.scheme}://{parts.netloc}{WELL_KNOWN_PATH}"]
        else:
            shown = asset.value.split("/")[0] if asset.kind == Asset.Kind.CIDR else asset.value
            shown = f"[{shown}]" if ":" in shown else shown
            urls = [f"{scheme}://{shown}{WELL_KNOWN_PATH}" for scheme, _ in http_origins()]
        body["http"] = {"urls": urls, "content": asset.token}
    return body


def asset_body(asset: Asset) -> dict[str, Any]:
    return {
        "id": str(asset.uuid), "kind": asset.kind, "value": asset.value, "name": asset.name,
        "production": asset.production, "verified": asset.verified, "verified_at": _iso(asset.verified_at),
        "verification_method": asset.verification_method or None,
        "last_checked_at": _iso(asset.last_checked_at), "last_error": asset.last_error or None,
        "challenge": _challenge(asset),
        "created_at": _iso(asset.created_at), "updated_at": _iso(asset.updated_at),
    }


class AssetCollectionApi(TenantAPIView):
    required_scopes = {"GET": (Scope.SCANS_READ,), "POST": (Scope.SCANS_CREATE,)}

    @extend_schema(tags=TAGS, parameters=[AssetListQuery], summary="List assets", operation_id="assets_list",
                   responses={200: AssetListOut, **ERRORS})
    def get(self, request: Request) -> Response:
        query = self.validate_input(AssetListQuery, request.query_params)
        assets = asset_list(tenant_id=self.tenant_id, kind=query.get("kind"), verified=query["verified"],
                            production=query["production"], search=query.get("search"))
        total = assets.count()
        page, per_page = query["page"], query["per_page"]
        items = assets[(page - 1) * per_page : page * per_page]
        return Response({"items": [asset_body(asset) for asset in items], "total": total, "page": page,
                         "per_page": per_page, "pages": math.ceil(total / per_page) if total else 0})

    @extend_schema(tags=TAGS, request=AssetCreateInput, summary="Register an asset",
                   operation_id="assets_create", responses={201: AssetOut, **ERRORS})
    def post(self, request: Request) -> Response:
        data = self.validate_input(AssetCreateInput, request.data)
        asset = asset_create(tenant_id=self.tenant_id, kind=data["kind"], value=data["value"],
                             name=data["name"], production=data["production"])
        return Response(asset_body(asset), status=201)


class AssetDetailApi(TenantAPIView):
    required_scopes = {"GET": (Scope.SCANS_READ,), "PATCH": (Scope.SCANS_CREATE,),
                       "DELETE": (Scope.SCANS_CREATE,)}

    @extend_schema(tags=TAGS, summary="Get an asset", operation_id="assets_get", parameters=[ASSET_ID],
                   responses={200: AssetOut, **ERRORS})
    def get(self, request: Request, asset_id: str) -> Response:
        return Response(asset_body(asset_get(tenant_id=self.tenant_id, asset_id=asset_id)))

    @extend_schema(tags=TAGS, request=AssetUpdateInput, summary="Rename it or change its production flag",
                   operation_id="assets_update", parameters=[ASSET_ID],
                   responses={200: AssetOut, **ERRORS})
    def patch(self, request: Request, asset_id: str) -> Response:
        data = self.validate_input(AssetUpdateInput, request.data)
        asset = asset_update(tenant_id=self.tenant_id, asset_id=asset_id, name=data.get("name"),
                             production=data.get("production"))
        return Response(asset_body(asset))

    @extend_schema(tags=TAGS, summary="Delete an asset", operation_id="assets_delete", parameters=[ASSET_ID],
                   responses={204: None, **ERRORS})
    def delete(self, request: Request, asset_id: str) -> Response:
        asset_delete(tenant_id=self.tenant_id, asset_id=asset_id)
        return Response(status=204)


class AssetVerifyApi(TenantAPIView):
    required_scopes = {"POST": (Scope.SCANS_CREATE,)}

    @extend_schema(tags=TAGS, request=AssetVerifyInput, operation_id="assets_verify", parameters=[ASSET_ID],
                   summary="Prove ownership by DNS TXT record or HTTP well-known file (422 when not proven)",
                   responses={200: AssetOut, **ERRORS})
    def post(self, request: Request, asset_id: str) -> Response:
        data = self.validate_input(AssetVerifyInput, request.data)
        asset = asset_verify(tenant_id=self.tenant_id, asset_id=asset_id, method=data["method"],
                             host=data.get("host"))
        return Response(asset_body(asset))
