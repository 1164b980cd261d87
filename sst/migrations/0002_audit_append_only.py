"""On PostgreSQL, the audit table refuses UPDATE and DELETE at the database level."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION sst_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING
        MESSAGE = 'sst_auditevent is append-only: ' || TG_OP || ' refused',
        ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER sst_auditevent_append_only
    BEFORE UPDATE OR DELETE ON sst_auditevent
    FOR EACH ROW EXECUTE FUNCTION sst_audit_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS sst_auditevent_append_only ON sst_auditevent;
DROP FUNCTION IF EXISTS sst_audit_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("sst", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
