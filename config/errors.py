"""Domain exceptions and the one DRF exception handler that renders them.

Services raise DomainError subclasses; views never catch them; config.exception_handler renders them.
This module imports nothing from DRF's views, so services can import it without import cycles.
"""

from __future__ import annotations

from typing import Any

from rest_framework import status


class DomainError(Exception):
    status_code = status.HTTP_400_BAD_REQUEST
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, details: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details or {}
        self.headers = headers or {}


class ValidationFailed(DomainError):
    code = "invalid"


class TargetInvalid(DomainError):
    """The target is not a well-formed value of its type, or the policy refuses it."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    code = "invalid_target"


class NotFound(DomainError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "not_found"


class Forbidden(DomainError):
    status_code = status.HTTP_403_FORBIDDEN
    code = "forbidden"


class QuotaExhausted(Forbidden):
    code = "quota_exhausted"


class TooManyRequests(DomainError):
    """Back-pressure or a rate limit; carries Retry-After."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    code = "too_many_requests"


class Conflict(DomainError):
    status_code = status.HTTP_409_CONFLICT
    code = "conflict"


class Unavailable(DomainError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    code = "unavailable"
