"""OpenAPI postprocessing: every operation of the native API documents the error answers it can give, in
the native error shape, when its view did not declare them itself (the seed surfaces declare their own)."""

from __future__ import annotations

from typing import Any

ERROR_STATUSES = {
    "400": "Invalid input (the message names the field)", "401": "Missing or invalid credentials",
    "403": "A scope is missing, or the plan or scope refuses it", "404": "Not found (or another tenant's)",
    "409": "Conflicts with the current state", "413": "The request body is too large",
    "422": "The target or a reference is refused", "429": "Rate limit or back-pressure (see Retry-After)",
    "503": "The database is unavailable",
}
ERROR_SCHEMA = {
    "type": "object", "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
        "code": {"type": "string"}, "message": {"type": "string"}, "field": {"type": "string"},
        "details": {}}}},
}
SEED_PREFIXES = ("/api/v1/oem/", "/api/ingest/", "/scan-api/", "/api/v1/scans/start", "/api/v1/scans/{scan_id}/stop")


def document_error_answers(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    result.setdefault("components", {}).setdefault("schemas", {})["NativeError"] = ERROR_SCHEMA
    for path, operations in result.get("paths", {}).items():
        if path.startswith(SEED_PREFIXES) or not path.startswith("/api/"):
            continue
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for status, description in ERROR_STATUSES.items():
                operation["responses"].setdefault(status, {
                    "description": description,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NativeError"}}},
                })
    return result
