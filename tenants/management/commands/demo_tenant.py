"""`manage.py demo_tenant`: the demo tenant and its first API key for `make up`, printed once.
Later runs say that the key exists and how to make another; nothing is printed twice."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from tenants.selectors import tenant_has_keys
from tenants.services import api_key_issue, tenant_get_or_create

DEMO = "demo"


class Command(BaseCommand):
    help = "Create the demo tenant and print its API key the first time."

    def handle(self, *args, **options) -> None:
        tenant, _ = tenant_get_or_create(name=DEMO, plan_slug="enterprise")
        if tenant_has_keys(tenant_id=tenant.pk):
            self.stdout.write("  Demo tenant 'demo' already has an API key (it was printed when it was made).\n"
                              "  Another one: .venv/bin/python manage.py create_api_key --tenant demo")
            return
        issued = api_key_issue(tenant_id=tenant.pk, role="admin", name="demo")
        self.stdout.write(f"  Demo tenant 'demo' created. Its API key, shown only now:\n\n      {issued.key}\n\n"
                          f"  export LANTERN_KEY={issued.key}")
