"""FindingTally and the triggers that keep it exact (see findings.models.FindingTally).

One plpgsql function serves the three statement-level triggers; each reads only the transition tables its
trigger declares. An UPDATE that moves no finding between (tenant, severity, status) keys, such as an
ingest refreshing last_seen, nets to zero per key and writes nothing.
"""

import django.db.models.deletion
from django.db import migrations, models


TALLY_SQL = """
CREATE FUNCTION findings_tally_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO findings_findingtally (tenant_id, severity, status, delta)
        SELECT tenant_id, severity, status, count(*) FROM new_rows GROUP BY 1, 2, 3;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO findings_findingtally (tenant_id, severity, status, delta)
        SELECT tenant_id, severity, status, -count(*) FROM old_rows GROUP BY 1, 2, 3;
    ELSE
        INSERT INTO findings_findingtally (tenant_id, severity, status, delta)
        SELECT tenant_id, severity, status, sum(delta) FROM (
            SELECT tenant_id, severity, status, -1 AS delta FROM old_rows
            UNION ALL
            SELECT tenant_id, severity, status, 1 FROM new_rows
        ) AS moves GROUP BY 1, 2, 3 HAVING sum(delta) <> 0;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION findings_tally_clear() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM findings_findingtally;
    RETURN NULL;
END $$;

CREATE TRIGGER findings_tally_insert AFTER INSERT ON findings_finding
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION findings_tally_apply();
CREATE TRIGGER findings_tally_update AFTER UPDATE ON findings_finding
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION findings_tally_apply();
CREATE TRIGGER findings_tally_delete AFTER DELETE ON findings_finding
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION findings_tally_apply();
CREATE TRIGGER findings_tally_truncate AFTER TRUNCATE ON findings_finding
    FOR EACH STATEMENT EXECUTE FUNCTION findings_tally_clear();

INSERT INTO findings_findingtally (tenant_id, severity, status, delta)
SELECT tenant_id, severity, status, count(*) FROM findings_finding GROUP BY 1, 2, 3;
"""

UNTALLY_SQL = """
DROP TRIGGER findings_tally_insert ON findings_finding;
DROP TRIGGER findings_tally_update ON findings_finding;
DROP TRIGGER findings_tally_delete ON findings_finding;
DROP TRIGGER findings_tally_truncate ON findings_finding;
DROP FUNCTION findings_tally_apply();
DROP FUNCTION findings_tally_clear();
"""


class Migration(migrations.Migration):

    dependencies = [
        ('findings', '0004_no_redundant_tenant_indexes'),
        ('tenants', '0006_assets'),
    ]

    operations = [
        migrations.CreateModel(
            name='FindingTally',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('severity', models.CharField(choices=[('critical', 'Critical'), ('high', 'High'), ('medium', 'Medium'), ('low', 'Low'), ('info', 'Info')], max_length=16)),
                ('status', models.CharField(choices=[('open', 'Open'), ('in_progress', 'In Progress'), ('resolved', 'Resolved'), ('false_positive', 'False Positive')], max_length=16)),
                ('delta', models.BigIntegerField()),
                ('tenant', models.ForeignKey(db_index=False, editable=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenants.tenant')),
            ],
            options={
                'indexes': [models.Index(fields=['tenant', 'severity', 'status'], name='finding_tally_key')],
            },
        ),
        migrations.RunSQL(TALLY_SQL, UNTALLY_SQL),
    ]
