"""The one DRF exception handler. The native API renders `{"error": {"code", "message", "field"?,
"details"?}}`; each seed surface re-shapes that in its own module."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, InterfaceError, OperationalError
from rest_framework import exceptions as drf_exceptions
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from config.errors import DomainError

logger = logging.getLogger(__name__)


def error_body(code: str, message: str, *, field: str | None = None, details: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if field:
        error["field"] = field
    if details:
        error["details"] = details
    return {"error": error}


def _first_message(detail: Any, path: str = "") -> tuple[str, str]:
    """The first (field, message) pair of a DRF ValidationError detail, for a one-line message."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = key if key != "non_field_errors" else ""
            return _first_message(value, f"{path}.{name}".strip(".") if name else path)
    if isinstance(detail, list) and detail:
        return _first_message(detail[0], path)
    return path, str(detail)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return Response(error_body("too_large", f"The request body is larger than {limit} bytes."),
                        status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, DomainError):
        body = error_body(exc.code, exc.message, field=exc.field, details=exc.details)
        return Response(body, status=exc.status_code, headers=exc.headers)
    if isinstance(exc, (OperationalError, InterfaceError)):
        logger.error("database unavailable: %s", exc)
        return Response(error_body("unavailable", "The database is unavailable; retry shortly."),
                        status=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": "5"})
    if isinstance(exc, DatabaseError):
        logger.exception("database error")
        return Response(error_body("server_error", "Internal server error."), status=500)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, drf_exceptions.ValidationError):
        field, message = _first_message(exc.detail)
        text = f"{field}: {message}" if field else message
        response.data = error_body("invalid", text, field=field or None, details=exc.detail)
    elif isinstance(exc, drf_exceptions.ParseError):
        response.data = error_body("malformed", f"Malformed request body: {exc.detail}")
    elif isinstance(exc, drf_exceptions.APIException):
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else "error"
        response.data = error_body(str(code), str(exc.detail))
    return response
