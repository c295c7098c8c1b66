"""The operator command's contract: one JSON object with tenant, key_id and key; the tenant is created once."""

import json

import pytest
from django.core.management import CommandError, call_command

from tenants.models import ApiKey, Tenant


def run(*args):
    from io import StringIO

    out = StringIO()
    call_command("create_api_key", *args, stdout=out)
    return json.loads(out.getvalue())


def test_it_creates_the_tenant_and_prints_one_json_object(db):
    payload = run("--tenant", "acme", "--plan", "enterprise", "--json")
    assert {"tenant", "key_id", "key"} <= set(payload)
    assert payload["tenant"] == "acme" and payload["plan"] == "enterprise" and payload["role"] == "admin"
    assert payload["key"].startswith(f"lnt_{payload['key_id']}.")
    assert Tenant.objects.get(name="acme").plan.max_concurrent_scans is None


def test_a_second_key_reuses_the_tenant(db):
    run("--tenant", "acme", "--json")
    payload = run("--tenant", "acme", "--role", "viewer", "--json")
    assert payload["tenant_created"] is False and Tenant.objects.count() == 1 and ApiKey.objects.count() == 2
    assert payload["scopes"] == ["findings:read", "scans:list", "scans:read"]


def test_scopes_without_a_role_grant_only_those_scopes(db):
    payload = run("--tenant", "acme", "--scopes", "scans:list,oem", "--json")
    assert payload["role"] == "" and payload["scopes"] == ["oem", "scans:list"]


@pytest.mark.parametrize("args, message", [
    (("--plan", "platinum"), "unknown plan 'platinum'"),
    (("--role", "root"), "unknown role 'root'"),
    (("--scopes", "scans:destroy"), "unknown scope(s): scans:destroy"),
])
def test_bad_arguments_fail_with_a_message(db, args, message):
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run("--tenant", "acme", *args, "--json")
