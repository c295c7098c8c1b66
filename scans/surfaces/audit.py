"""The audit entry of every request to a surface whose seed demands one (seed 000's OEM audit log, and
seed 001's ingest), refused requests included: a view subclass fills `self.audit` as it learns the
target, the scan and the query tags, and the entry is written once the answer is final.

A request without a valid key cannot be attributed to a tenant (AuditLog is tenant-owned); it goes to the
server log instead. An entry that cannot be written is logged with its content and never changes the
answer."""

from __future__ import annotations

import logging
from typing import Any

from django.db import DatabaseError, transaction
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response

from tenants.api import TenantAPIView
from tenants.auth import AuthContext
from tenants.services import audit_record

logger = logging.getLogger(__name__)


def raw_text(data: Any, name: str) -> str:
    """A string field of a body that may not even be an object, for the audit log only. PostgreSQL text
    holds no NUL, so those are replaced."""
    value = data.get(name) if isinstance(data, dict) else None
    return value[:2048].replace("\x00", "\ufffd") if isinstance(value, str) else ""


class AuditedApiView(TenantAPIView):
    audit_surface = ""
    audit_action = ""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        self.audit: dict[str, Any] = {"target": "", "scan_id": None, "query_tags": {}, "outcome": "ok"}
        super().initial(request, *args, **kwargs)

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        audit = getattr(self, "audit", {})
        outcome = self._outcome(response, audit.get("outcome", ""))
        try:
            context = getattr(request, "auth", None)
        except APIException:  # the failure being answered was the authentication itself
            context = None
        if not isinstance(context, AuthContext):
            logger.warning("%s %s %s refused before authentication: %s %s", self.audit_surface,
                           request.method, request.path, response.status_code, outcome)
            return response
        try:
            with transaction.atomic():  # a failed entry must not break an enclosing transaction
                audit_record(tenant_id=context.tenant_id, api_key_pk=context.api_key_pk,
                             key_id=context.key_id, surface=self.audit_surface, action=self.audit_action,
                             method=request.method, path=request.path, status_code=response.status_code,
                             outcome=outcome, scan_id=audit.get("scan_id"), target=audit.get("target", ""),
                             query_tags=audit.get("query_tags") or {},
                             remote_addr=request.META.get("REMOTE_ADDR"))
        except DatabaseError:
            logger.exception("%s audit entry lost: key %s %s %s -> %s %s", self.audit_surface, context.key_id,
                             request.method, request.path, response.status_code, outcome)
        return response

    @staticmethod
    def _outcome(response: Response, success: str) -> str:
        """The error message of a refusal (with its error id when the surface gives one), else `success`."""
        error = response.data.get("error") if isinstance(response.data, dict) else None
        if isinstance(error, dict):
            message = str(error.get("message", ""))
            return f"[{error['id']}] {message}" if "id" in error else message
        return str(error) if error else success
