"""Streaming file responses for exports, and the content negotiation they need.

DRF reads `?format=` as a renderer override and answers 404 when no renderer has that format; the export
endpoints use `format` for the file type (sarif, csv, json), so they negotiate JSON for their errors and
build the file response themselves."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from rest_framework.negotiation import DefaultContentNegotiation

from drf_spectacular.types import OpenApiTypes

from findings.exports import FORMATS
from findings.models import Finding

CHUNK_ROWS = 2000


class JsonErrorsNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request: Any, renderers: list[Any], format_suffix: str | None = None) -> Any:
        return renderers[0], renderers[0].media_type


def _encoded(chunks: Iterable[str]) -> Iterator[bytes]:
    for chunk in chunks:
        if chunk:
            yield chunk.encode("utf-8")


def export_response(queryset: QuerySet[Finding], *, export_format: str, filename: str) -> StreamingHttpResponse:
    """Stream the findings of `queryset` (already tenant-scoped by a selector) as a file download."""
    content_type, extension, render = FORMATS[export_format]
    rows = queryset.iterator(chunk_size=CHUNK_ROWS)
    response = StreamingHttpResponse(_encoded(render(rows)), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{extension}"'
    response["Cache-Control"] = "no-store"
    return response


# What an export answers, per format, for the OpenAPI schema (the media types FORMATS streams).
EXPORT_RESPONSES = {(200, content_type.split(";")[0]): OpenApiTypes.BINARY if kind == "csv" else OpenApiTypes.OBJECT
                    for kind, (content_type, _, _) in FORMATS.items()}
