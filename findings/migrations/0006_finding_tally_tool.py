"""FindingTally gains the tool, so `GET /findings?tool=` (with or without severity and status) is totalled from
the tally too. The trigger function now groups by tool; the tally is rebuilt from the findings while they are
locked against writes (SHARE: readers go on), so no change can fall between the rebuild and the new trigger."""

from django.db import migrations, models

TALLY_SQL = """
CREATE OR REPLACE FUNCTION findings_tally_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO findings_findingtally (tenant_id, severity, status, tool, delta)
        SELECT tenant_id, severity, status, tool, count(*) FROM new_rows GROUP BY 1, 2, 3, 4;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO findings_findingtally (tenant_id, severity, status, tool, delta)
        SELECT tenant_id, severity, status, tool, -count(*) FROM old_rows GROUP BY 1, 2, 3, 4;
    ELSE
        INSERT INTO findings_findingtally (tenant_id, severity, status, tool, delta)
        SELECT tenant_id, severity, status, tool, sum(delta) FROM (
            SELECT tenant_id, severity, status, tool, -1 AS delta FROM old_rows
            UNION ALL
            SELECT tenant_id, severity, status, tool, 1 FROM new_rows
        ) AS moves GROUP BY 1, 2, 3, 4 HAVING sum(delta) <> 0;
    END IF;
    RETURN NULL;
END $$;

LOCK TABLE findings_finding IN SHARE MODE;
DELETE FROM findings_findingtally;
INSERT INTO findings_findingtally (tenant_id, severity, status, tool, delta)
SELECT tenant_id, severity, status, tool, count(*) FROM findings_finding GROUP BY 1, 2, 3, 4;
"""

# Back to 0005's function (its reverse runs before the tool column is dropped), and its tally.
UNTALLY_SQL = """
CREATE OR REPLACE FUNCTION findings_tally_apply() RETURNS trigger LANGUAGE plpgsql AS $$
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
"""


class Migration(migrations.Migration):

    dependencies = [
        ("findings", "0005_finding_tally"),
    ]

    operations = [
        migrations.AddField(
            model_name="findingtally",
            name="tool",
            field=models.CharField(default="", max_length=32),
            preserve_default=False,
        ),
        migrations.RunSQL(TALLY_SQL, UNTALLY_SQL),
    ]
