"""POST /api/v1/scans/import (multipart: engine, file, optional target and name)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from config.errors import ValidationFailed
from scans.api.schema import ERRORS, ScanDetailOut
from scans.api.serializers import scan_detail
from scans.imports import scan_import
from scans.selectors import scan_get
from tenants.api import TenantAPIView
from tenants.scopes import Scope


class ImportInput(serializers.Serializer):
    engine = serializers.CharField(max_length=32)
    file = serializers.FileField(allow_empty_file=True)
    target = serializers.CharField(max_length=2048, required=False, trim_whitespace=False)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)


class ScanImportApi(TenantAPIView):
    required_scopes = {"POST": (Scope.SCANS_CREATE,)}
    parser_classes = [MultiPartParser]
    rate_class = {"POST": "scan_create"}

    @extend_schema(tags=["scans (native, seed 003)"], request={"multipart/form-data": ImportInput},
                   summary="Import a report of a supported tool run elsewhere", operation_id="scans_import",
                   responses={201: ScanDetailOut, **ERRORS})
    def post(self, request):
        data = self.validate_input(ImportInput, request.data)
        upload = data["file"]
        if upload.size > settings.LANTERN_IMPORT_MAX_BYTES:
            raise ValidationFailed(f"file is larger than {settings.LANTERN_IMPORT_MAX_BYTES} bytes", field="file")
        with tempfile.TemporaryDirectory(prefix="lantern-import-") as workdir:
            path = Path(workdir) / Path(upload.name or "report").name
            with open(path, "wb") as handle:
                for chunk in upload.chunks():
                    handle.write(chunk)
            scan = scan_import(tenant_id=self.tenant_id, api_key_pk=self.auth.api_key_pk, engine=data["engine"],
                               path=path, target=data.get("target", ""), name=data.get("name", ""))
        return Response(scan_detail(scan_get(tenant_id=self.tenant_id, scan_id=scan.pk)), status=201)
