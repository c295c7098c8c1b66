"""Schema fuzzing with schemathesis against the in-process WSGI app: every operation of /api/schema/,
called with a valid API key and generated inputs. No operation may answer 5xx; the seed surfaces must
also answer only documented status codes, content types, bodies and headers.

Random strings are almost never loopback targets or existing scan ids, so some generated cases are
steered: their body becomes a valid one (loopback targets) and their scan id an existing scan's, so the
success answers get checked too. Each case runs in a savepoint that is rolled back, so one case's
writes never change the next. Bounded (a few derandomized examples per operation): well under a minute."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import signals
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import openapi
from schemathesis.checks import (content_type_conformance, not_a_server_error, response_headers_conformance,
                                 response_schema_conformance, status_code_conformance)

from scans.services import ScanRequest, scan_create
from tenants.models import Tenant
from tenants.services import tenant_set_oem
from tests.conftest import make_tenant
from tests.conformance.test_openapi import SURFACE_OPERATIONS

EXAMPLES_PER_OPERATION = 12
SURFACE_CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
                  response_schema_conformance, response_headers_conformance]
UNLIMITED = {name: 100_000 for name in ("oem_submit", "oem_status", "scan_create", "read", "write")}
VALID_BODIES: dict[tuple[str, str], tuple[dict[str, Any], ...]] = {
    ("/api/v1/oem/on-demand-scan", "post"): (
        {"type": "domain", "target": "acme.localhost", "query_tags": {"client_name": "ACMECorp"}},
        {"type": "ip_range", "target": "127.0.0.1"}),
    ("/api/v1/oem/on-demand-scan/scan-status", "post"): ({"scan_id": ""}, {"scan_id": "", "query_tags": {}}),
    ("/api/ingest/v1/scan", "post"): ({"target": "127.0.0.1"}, {"target": "localhost"}),
    ("/scan-api/api/v1/scans", "post"): (
        {"target": "127.0.0.1", "scanType": "nmap", "options": {"ports": "22"}},
        {"target": "scanme.lantern.test", "scanType": "sentinel", "priority": "high", "tags": ["weekly"]}),
    ("/api/v1/scans/start", "post"): (
        {"target": "127.0.0.0/30", "profile": "quick", "site_id": "site-1"},
        {"target": "127.0.0.1", "profile": "custom", "ports": [22, 80], "enable_cve_match": True}),
}


@pytest.fixture
def fuzz_tenant(db) -> tuple[str, str]:
    """(key, id of an OEM scan): an admin key with the oem scope, on an OEM tenant with unlimited credits,
    scans and rates."""
    partner = make_tenant("fuzz", plan="enterprise", scopes=("oem",))
    tenant_set_oem(tenant_id=partner.tenant_id, enabled=True, credits=None)
    Tenant.objects.filter(pk=partner.tenant_id).update(rate_limits=UNLIMITED)
    scan = scan_create(tenant_id=partner.tenant_id, api_key_pk=None,
                       request=ScanRequest(target="127.0.0.1", engine="nmap", surface="oem"))
    return partner.key, str(scan.pk)


@pytest.fixture
def wsgi_in_test_transaction():
    """The WSGI handler closes "old" connections around each request, which would close the test's own
    connection mid-transaction; Django's test client disconnects the same handler for the same reason."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def steer(case: Any, name: tuple[str, str], body: int | None, scan_id: str | None) -> Any:
    """The generated case, or (body given) one with a valid body, and (scan_id given) that scan's id."""
    if body is not None and name in VALID_BODIES:
        case.body = dict(VALID_BODIES[name][body])
    if scan_id is not None:
        if isinstance(case.body, dict) and "scan_id" in case.body:
            case.body["scan_id"] = scan_id
        if case.path_parameters and "scan_id" in case.path_parameters:
            case.path_parameters["scan_id"] = scan_id
    return case


def fuzz(key: str, scan_id: str, *, surfaces: bool) -> tuple[list[str], set[tuple[str, str]]]:
    """(failures, operations that answered 2xx at least once) over the surface operations, or over all the
    others (checked for 5xx only)."""
    from config.wsgi import application

    schema = openapi.from_wsgi("/api/schema/?format=json", application)
    headers = {"X-API-Key": key}
    failures: list[str] = []
    succeeded: set[tuple[str, str]] = set()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {(op.path, op.method.lower()) for op in operations} >= set(SURFACE_OPERATIONS)
    for operation in operations:
        name = (operation.path, operation.method.lower())
        if (name in SURFACE_OPERATIONS) is not surfaces:
            continue
        checks = SURFACE_CHECKS  # every operation: no 5xx, documented statuses, types, schemas, headers
        cases = st.builds(steer, operation.as_strategy(), st.just(name), st.sampled_from((None, 0, 1)),
                          st.sampled_from((None, scan_id)))

        @given(case=cases)
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def call(case: Any) -> None:
            with transaction.atomic():
                response = case.call(headers=headers)
                transaction.set_rollback(True)
            if response.status_code < 300:
                succeeded.add(name)
            try:
                case.validate_response(response, checks=checks, headers=headers)
            except (AssertionError, BaseExceptionGroup) as exc:
                failures.append(f"{operation.method.upper()} {operation.path} -> {response.status_code}: "
                                f"{str(exc)[:400]}")

        call()
    return failures, succeeded


def test_the_surfaces_answer_no_5xx_and_only_what_the_schema_documents(fuzz_tenant, wsgi_in_test_transaction):
    failures, succeeded = fuzz(*fuzz_tenant, surfaces=True)
    assert failures == []
    assert succeeded == set(SURFACE_OPERATIONS)


def test_the_rest_of_the_api_answers_no_5xx_and_only_what_the_schema_documents(fuzz_tenant, wsgi_in_test_transaction):
    failures, _ = fuzz(*fuzz_tenant, surfaces=False)
    assert failures == []
