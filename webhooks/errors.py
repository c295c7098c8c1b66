"""Domain errors of the webhooks app, rendered by config.exception_handler like every DomainError."""

from __future__ import annotations

from rest_framework import status

from config.errors import DomainError


class WebhookUrlRefused(DomainError):
    """A receiver URL that is malformed or points somewhere Lantern never calls (SSRF guard)."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    code = "url_refused"
