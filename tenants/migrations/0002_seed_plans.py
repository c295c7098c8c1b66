from django.db import migrations

from tenants.plans import plans_ensure


def create_plans(apps, schema_editor):
    plans_ensure(apps.get_model("tenants", "Plan"))


class Migration(migrations.Migration):
    dependencies = [("tenants", "0001_initial")]
    operations = [migrations.RunPython(create_plans, migrations.RunPython.noop)]
