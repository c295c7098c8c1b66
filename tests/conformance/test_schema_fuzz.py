"""Schema fuzzing with schemathesis against the in-process WSGI app: every operation of /api/schema/,
called with a valid API key and generated inputs. No operation may answer 5xx; the seed surfaces must
also answer only documented status codes, content types, bodies and headers.

Random strings are almost never loopback targets or existing scan ids, so half of the generated cases
are steered: their `target` becomes one of a few loopback targets and their scan id an existing scan's,
and the success answers get checked too. Each case runs in a savepoint that is rolled back, so one case's
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
LOOPBACK_TARGETS = (None, "127.0.0.1", "127.0.0.0/30", "localhost", "scanme.lantern.test", "http://127.0.0.1/")


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


def steer(case: Any, target: str | None, scan_id: str | None) -> Any:
    if isinstance(case.body, dict):
        if target is not None and "target" in case.body:
            case.body["target"] = target
        if scan_id is not None and "scan_id" in case.body:
            case.body["scan_id"] = scan_id
    if scan_id is not None and case.path_parameters and "scan_id" in case.path_parameters:
        case.path_parameters["scan_id"] = scan_id
    return case


def test_no_operation_answers_5xx_and_the_surfaces_conform(fuzz_tenant, wsgi_in_test_transaction):
    from config.wsgi import application

    key, scan_id = fuzz_tenant
    schema = openapi.from_wsgi("/api/schema/?format=json", application)
    headers = {"X-API-Key": key}
    failures: list[str] = []
    seen: set[tuple[str, str, int]] = set()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {(op.path, op.method.lower()) for op in operations} >= set(SURFACE_OPERATIONS)
    for operation in operations:
        name = (operation.path, operation.method.lower())
        checks = SURFACE_CHECKS if name in SURFACE_OPERATIONS else [not_a_server_error]
        cases = st.builds(steer, operation.as_strategy(), st.sampled_from(LOOPBACK_TARGETS),
                          st.sampled_from((None, scan_id)))

        @given(case=cases)
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def call(case: Any) -> None:
            with transaction.atomic():
                response = case.call(headers=headers)
                transaction.set_rollback(True)
            seen.add((*name, response.status_code))
            try:
                case.validate_response(response, checks=checks, headers=headers)
            except (AssertionError, BaseExceptionGroup) as exc:
                failures.append(f"{operation.method.upper()} {operation.path} -> {response.status_code}: "
                                f"{str(exc)[:400]}")

        call()
    print("\n".join(failures)); assert failures == []
    successes = {(path, method) for path, method, status in seen if status < 300}
    assert set(SURFACE_OPERATIONS) <= successes, set(SURFACE_OPERATIONS) - successes
