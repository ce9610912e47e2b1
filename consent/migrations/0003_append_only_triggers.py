"""On PostgreSQL, refuse UPDATE and DELETE of consent events and policy texts.

The application never changes either (there is no service for it); the
triggers make sure nobody does through the ORM or a SQL console, short of a
superuser disabling them. Row triggers do not fire on TRUNCATE, which the test
runner uses to reset tables.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION consent_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% rows are append-only (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS consent_event_append_only ON consent_consentevent;
CREATE TRIGGER consent_event_append_only
    BEFORE UPDATE OR DELETE ON consent_consentevent
    FOR EACH ROW EXECUTE FUNCTION consent_refuse_change();

DROP TRIGGER IF EXISTS consent_policy_append_only ON consent_policyversion;
CREATE TRIGGER consent_policy_append_only
    BEFORE UPDATE OR DELETE ON consent_policyversion
    FOR EACH ROW EXECUTE FUNCTION consent_refuse_change();
"""

DROP = """
DROP TRIGGER IF EXISTS consent_event_append_only ON consent_consentevent;
DROP TRIGGER IF EXISTS consent_policy_append_only ON consent_policyversion;
DROP FUNCTION IF EXISTS consent_refuse_change();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("consent", "0002_seed_purposes")]

    operations = [migrations.RunPython(forwards, backwards)]
