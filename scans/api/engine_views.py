"""GET /api/v1/engines: every engine with its category, target types, option schema (JSON Schema) and
defaults, and the live workers that have it (with the version each reported)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from engines.registry import all_engines
from scans.api.schema import ERRORS, EngineListOut
from scans.api.serializers import iso
from scans.profiles import SENTINEL_SCHEMA
from scans.workers import live_workers
from tenants.api import TenantAPIView
from tenants.scopes import Scope


def _defaults(schema: dict[str, Any]) -> dict[str, Any]:
    return {name: spec["default"] for name, spec in schema["properties"].items() if "default" in spec}


class EngineListApi(TenantAPIView):
    required_scopes = {"GET": (Scope.SCANS_READ,)}

    @extend_schema(tags=["engines"], summary="Engines, their options and where they are available",
                   operation_id="engines_list", responses={200: EngineListOut, **ERRORS})
    def get(self, request):
        workers = live_workers()
        items = []
        for engine in all_engines():
            schema = engine.schema.json_schema()
            available_on = [{"worker": w.name, "version": w.engines[engine.name]["version"], "queues": w.queues,
                             "last_seen": iso(w.last_seen)} for w in workers if engine.name in w.engines]
            items.append({"name": engine.name, "category": engine.category, "description": engine.description,
                          "target_types": sorted(engine.target_types), "options": schema,
                          "defaults": _defaults(schema), "default_timeout": engine.default_timeout_s,
                          "available": bool(available_on), "available_on": available_on})
        sentinel = SENTINEL_SCHEMA.json_schema()
        items.append({"name": "sentinel", "category": "orchestrated",
                      "description": "Multi-engine scan: engines chosen by depth and target type, findings "
                                     "correlated", "target_types": ["domain", "host", "ip", "url"],
                      "options": sentinel, "defaults": _defaults(sentinel), "default_timeout": 3 * 3600,
                      "available": any(item["available"] for item in items), "available_on": []})
        return Response({"items": items, "total": len(items)})
