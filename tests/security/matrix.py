"""Shared code of the security matrices: the project's routes read from the live URL resolver, a world of
objects (scan, OEM scan, finding, schedule, webhook endpoint with a delivery, asset) for one tenant, its
secrets (ids and strings that must never reach another tenant) and a full snapshot of a tenant's rows."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

from findings.models import Finding
from findings.tests.factories import ingest, record
from scans.models import Scan, ScanEvent, ScanSchedule
from scans.schedules import schedule_create
from scans.services import ScanRequest, scan_create
from tenants.api import TenantAPIView
from tenants.assets.models import Asset
from tenants.assets.services import asset_create
from tenants.models import Tenant
from webhooks.models import Delivery, Endpoint
from webhooks.services import endpoint_create, endpoint_ping

# Views under /api/ that are public on purpose: the OpenAPI schema and its two renderers.
PUBLIC_API_ROUTES = frozenset({"api/schema/", "api/docs/", "api/redoc/"})
API_PREFIXES = ("api/", "scan-api/")


@dataclass(frozen=True)
class Route:
    template: str  # e.g. "api/v1/scans/<str:scan_id>/stop"
    name: str
    callback: Any
    params: tuple[str, ...]

    @property
    def view_class(self) -> type | None:
        return getattr(self.callback, "view_class", None) or getattr(self.callback, "cls", None)

    @property
    def is_api(self) -> bool:
        return self.template.startswith(API_PREFIXES) and self.template not in PUBLIC_API_ROUTES

    def methods(self) -> list[str]:
        view = self.view_class
        if view is not None and issubclass(view, TenantAPIView):
            return sorted(view.required_scopes)
        return ["GET"]

    def url(self, **values: str) -> str:
        path = self.template
        for param in self.params:
            start = path.index("<")
            end = path.index(">", start)
            path = path[:start] + values[param] + path[end + 1:]
        return "/" + path


def _walk(resolver: URLResolver, prefix: str = "") -> Iterator[Route]:
    for pattern in resolver.url_patterns:
        text = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern, text)
        elif isinstance(pattern, URLPattern):
            converters = getattr(pattern.pattern, "converters", {}) or {}
            yield Route(text, pattern.name or "", pattern.callback, tuple(converters))


def all_routes() -> list[Route]:
    return list(_walk(get_resolver()))


def api_routes() -> list[Route]:
    return [route for route in all_routes() if route.is_api]


# --- the object routes and how to call them ---------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One way to call a route: a method, its query and its body."""

    method: str
    query: dict[str, str] = field(default_factory=dict)
    body: Any = None
    owner_probe: bool = True  # False: the owner's call would reach the network (asset verification)

    def label(self) -> str:
        suffix = "&".join(f"{key}={value}" for key, value in self.query.items())
        return self.method + (f"?{suffix}" if suffix else "")


# Every route with a path parameter -> every call to make. The methods of an API route must be exactly the
# keys of its view's required_scopes (test_the_matrix_covers_every_method_of_each_route).
OBJECT_ROUTES: dict[str, list[Call]] = {
    # seed 002 (multi-engine)
    "scan-api/api/v1/scans/<str:scan_id>": [Call("GET")],
    "scan-api/api/v1/scans/<str:scan_id>/cancel": [Call("POST", body={})],
    # seed 004 (network)
    "api/v1/scans/<str:scan_id>/stop": [Call("POST", body={})],
    # native (seed 003)
    "api/v1/scans/schedules/<str:schedule_id>": [Call("GET"), Call("DELETE")],
    "api/v1/scans/schedules/<str:schedule_id>/pause": [Call("POST", body={})],
    "api/v1/scans/schedules/<str:schedule_id>/resume": [Call("POST", body={})],
    "api/v1/scans/<str:scan_id>": [Call("GET"), Call("DELETE")],
    "api/v1/scans/<str:scan_id>/result": [Call("GET")],
    "api/v1/findings/<str:finding_id>": [Call("GET"), Call("PATCH", body={"status": "resolved", "note": "x"})],
    "api/v1/scans/<str:scan_id>/findings": [Call("GET")],
    "api/v1/scans/<str:scan_id>/compliance": [Call("GET", {"framework": "soc2"}),
                                              Call("GET", {"framework": "pci-dss"})],
    "api/v1/scans/<str:scan_id>/export": [Call("GET", {"format": "sarif"}), Call("GET", {"format": "csv"}),
                                          Call("GET", {"format": "json"})],
    "api/v1/scans/<str:scan_id>/diff": [Call("GET")],
    "api/v1/scans/<str:scan_id>/entities": [Call("GET")],
    "api/v1/webhooks/<str:endpoint_id>": [
        Call("GET"), Call("PATCH", body={"url": "http://127.0.0.1:9/acme", "is_active": False}), Call("DELETE")],
    "api/v1/webhooks/<str:endpoint_id>/ping": [Call("POST", body={})],
    "api/v1/webhooks/<str:endpoint_id>/rotate-secret": [Call("POST", body={})],
    "api/v1/webhooks/<str:endpoint_id>/deliveries": [Call("GET")],
    "api/v1/assets/<str:asset_id>": [Call("GET"), Call("PATCH", body={"name": "acme", "production": False}),
                                     Call("DELETE")],
    "api/v1/assets/<str:asset_id>/verify": [Call("POST", body={"method": "dns"}, owner_probe=False)],
    # console (session of a member)
    "console/scans/<uuid:scan_id>/": [Call("GET"), Call("GET", {"partial": "findings"}),
                                      Call("GET", {"partial": "results"}),
                                      Call("GET", {"partial": "compliance", "framework": "soc2"})],
}


def send(client, call: Call, url: str):
    if call.query:
        url = f"{url}?" + "&".join(f"{key}={value}" for key, value in call.query.items())
    if call.body is None:
        return client.generic(call.method, url)
    return client.generic(call.method, url, data=json.dumps(call.body), content_type="application/json")


# --- a tenant's world ------------------------------------------------------------------------------------


@dataclass
class World:
    tenant_id: int
    scan: Scan
    oem_scan: Scan
    finding: Finding
    schedule: ScanSchedule
    endpoint: Endpoint
    delivery: Delivery
    asset: Asset
    marker: str

    def ids(self) -> dict[str, str]:
        """The value of each kind of path parameter that addresses this world's object."""
        return {"scan_id": str(self.scan.pk), "finding_id": str(self.finding.uuid),
                "schedule_id": str(self.schedule.uuid), "endpoint_id": str(self.endpoint.pk),
                "asset_id": str(self.asset.uuid), "delivery_id": str(self.delivery.pk),
                "oem_scan_id": str(self.oem_scan.pk)}

    def secrets(self) -> list[str]:
        """What no other tenant may ever read: every id and the distinctive strings of the objects."""
        return [*self.ids().values(), self.marker, self.scan.target_value, self.endpoint.url, self.asset.value,
                str(self.asset.token)]


def build_world(tenant_id: int, marker: str, target: str = "127.0.0.1") -> World:
    """Objects of every kind for this tenant, made through the services (the finding through the real
    ingest). `marker` goes into names, titles, URLs and asset values so that a leak is findable."""
    scan = scan_create(tenant_id=tenant_id, api_key_pk=None,
                       request=ScanRequest(target=target, engine="nmap", name=f"{marker}-scan",
                                           tags=(f"{marker}-tag",)))
    oem_scan = scan_create(tenant_id=tenant_id, api_key_pk=None,
                           request=ScanRequest(target=target, engine="nmap", name=f"{marker}-oem",
                                               surface="oem"))
    ingest(scan, record(f"{marker}-rule", title=f"{marker}-finding-title", host=target))
    finding = Finding.objects.get(tenant_id=tenant_id, rule_id=f"{marker}-rule")
    schedule = schedule_create(tenant_id=tenant_id, api_key_pk=None,
                               request=ScanRequest(target=target, engine="nmap", name=f"{marker}-sched"),
                               frequency="daily", day_of_week=None, day_of_month=None, hour=3)
    endpoint = endpoint_create(tenant_id=tenant_id, url=f"http://127.0.0.1:9/{marker}-hook",
                               events=["scan.completed"], description=f"{marker}-endpoint").endpoint
    delivery = endpoint_ping(tenant_id=tenant_id, endpoint_id=endpoint.pk)
    asset = asset_create(tenant_id=tenant_id, kind="domain", value=f"{marker}-asset.example",
                         name=f"{marker}-asset")
    return World(tenant_id, scan, oem_scan, finding, schedule, endpoint, delivery, asset, marker)


SNAPSHOT_MODELS = (Scan, ScanEvent, ScanSchedule, Finding, Endpoint, Delivery, Asset)


def snapshot(tenant_id: int) -> dict[str, Any]:
    """Every row the tenant owns in the tables a request could change, plus its tenant row (credits)."""
    rows: dict[str, Any] = {
        model.__name__: sorted((dict(row) for row in model.objects.filter(tenant_id=tenant_id).values()),
                               key=lambda row: str(row.get("id", row.get("uuid"))))
        for model in SNAPSHOT_MODELS
    }
    rows["Tenant"] = list(Tenant.objects.filter(pk=tenant_id).values())
    return rows


def counts() -> dict[str, int]:
    """Rows of every table a hostile request must not add to, across all tenants."""
    return {model.__name__: model.objects.count() for model in SNAPSHOT_MODELS}


def content(response) -> str:
    """The body as text, streamed (exports) or not."""
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def leaked(body: str, secrets: list[str]) -> list[str]:
    return [secret for secret in secrets if secret and secret in body]


def any_uuid() -> str:
    return str(uuid.uuid4())
