"""Routes of Asset Management, included by config/urls.py under api/v1/."""

from django.urls import path

from tenants.assets.api import AssetCollectionApi, AssetDetailApi, AssetVerifyApi

urlpatterns = [
    path("assets", AssetCollectionApi.as_view(), name="asset-collection"),
    path("assets/<str:asset_id>", AssetDetailApi.as_view(), name="asset-detail"),
    path("assets/<str:asset_id>/verify", AssetVerifyApi.as_view(), name="asset-verify"),
]
