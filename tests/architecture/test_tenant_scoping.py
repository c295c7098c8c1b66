"""Tenant scoping lives in one place: only selectors, services, tasks, admin and the engine-step modules
of an app may touch a tenant-owned model's manager. A view that did `Scan.objects.get(pk=...)` would leak."""

import ast
from pathlib import Path

from django.apps import apps

from tenants.models import TenantOwned

ROOT = Path(__file__).resolve().parents[2]
APPS = ("tenants", "scans", "findings", "webhooks")
# services and selectors, and the modules that services grew into (STYLE C1)
ALLOWED = {"selectors.py", "services.py", "tasks.py", "admin.py", "dispatch.py", "execution.py", "results.py",
           "events.py", "quota.py", "schedules.py", "imports.py", "workers.py", "phases.py"}


def app_modules():
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if {"migrations", "tests"} & set(path.parts):
                continue
            yield path


def test_only_selectors_and_services_touch_tenant_owned_managers():
    owned = {model.__name__ for model in apps.get_models() if issubclass(model, TenantOwned)}
    assert {"Scan", "ApiKey", "Finding"} <= owned
    offenders = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in app_modules() if path.name not in ALLOWED
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute) and node.attr in {"objects", "_default_manager"}
        and isinstance(node.value, ast.Name) and node.value.id in owned
    ]
    assert offenders == []


def test_every_api_view_declares_scopes_for_each_method_it_serves():
    from django.urls import get_resolver

    from tenants.api import TenantAPIView

    missing = []
    for pattern in get_resolver().url_patterns:
        for view in _views(pattern):
            if isinstance(view, type) and issubclass(view, TenantAPIView):
                for method in ("get", "post", "put", "patch", "delete"):
                    if hasattr(view, method) and method.upper() not in view.required_scopes:
                        missing.append(f"{view.__name__}.{method}")
    assert missing == []


def _views(pattern):
    if hasattr(pattern, "url_patterns"):
        for inner in pattern.url_patterns:
            yield from _views(inner)
    elif hasattr(pattern.callback, "view_class"):
        yield pattern.callback.view_class
