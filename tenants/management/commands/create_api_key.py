"""`manage.py create_api_key --tenant NAME [--plan PLAN] [--role ROLE] [--scopes S1,S2] [--oem] --json`

Creates the tenant if needed and prints one JSON object: tenant, plan, key_id, key, secret, role, scopes.
The secret is printed once and never stored in clear.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from config.errors import DomainError
from tenants.scopes import effective_scopes
from tenants.services import api_key_issue, tenant_get_or_create, tenant_set_oem


class Command(BaseCommand):
    help = "Create an API key (and its tenant if missing); prints the key once."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--tenant", required=True)
        parser.add_argument("--plan", default=None, help="startup, professional or enterprise")
        parser.add_argument("--role", default=None, help="viewer, reporter or admin (default admin)")
        parser.add_argument("--scopes", default="", help="comma-separated extra scopes, e.g. scans:list,oem")
        parser.add_argument("--name", default="")
        parser.add_argument("--oem", action="store_true", help="enable the OEM API for the tenant")
        parser.add_argument("--oem-credits", type=int, default=None)
        parser.add_argument("--json", action="store_true", help="print one JSON object (for scripts)")

    def handle(self, *args, **options) -> None:
        scopes = tuple(s.strip() for s in options["scopes"].split(",") if s.strip())
        role = options["role"] if options["role"] is not None else ("" if scopes else "admin")
        try:
            tenant, created = tenant_get_or_create(name=options["tenant"], plan_slug=options["plan"])
            if options["oem"] or options["oem_credits"] is not None:
                tenant = tenant_set_oem(tenant_id=tenant.pk, enabled=True, credits=options["oem_credits"])
            issued = api_key_issue(tenant_id=tenant.pk, role=role, scopes=scopes, name=options["name"])
        except DomainError as exc:
            raise CommandError(exc.message) from None
        payload = {
            "tenant": tenant.name,
            "tenant_created": created,
            "plan": tenant.plan.slug,
            "key_id": issued.api_key.key_id,
            "key": issued.key,
            "secret": issued.secret,
            "role": role,
            "scopes": sorted(effective_scopes(role, scopes)),
        }
        if options["json"]:
            self.stdout.write(json.dumps(payload))
            return
        self.stdout.write(f"Tenant {tenant.name} ({tenant.plan.slug}){' created' if created else ''}.")
        self.stdout.write(f"API key (shown once): {issued.key}")
        self.stdout.write(f"  or api-key: {issued.api_key.key_id}  api-secret: {issued.secret}")
        self.stdout.write(f"  scopes: {', '.join(payload['scopes'])}")
