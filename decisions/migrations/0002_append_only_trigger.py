"""The decision log is append-only in the database too: on PostgreSQL a trigger refuses every
UPDATE and DELETE of a decision or an evidence link, whatever code or SQL issues it.

SQLite has no such trigger here; the model and queryset guards cover it there.
"""

from django.db import migrations

TABLES = ["decisions_decision", "decisions_evidencelink"]

CREATE_FUNCTION = """
CREATE OR REPLACE FUNCTION decisions_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'The decision log is append-only: % on % is refused; record a superseding decision.',
        TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
"""

CREATE_TRIGGER = """
CREATE TRIGGER {table}_append_only
    BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION decisions_refuse_change();
"""

DROP_TRIGGER = "DROP TRIGGER IF EXISTS {table}_append_only ON {table};"
DROP_FUNCTION = "DROP FUNCTION IF EXISTS decisions_refuse_change();"


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(CREATE_FUNCTION, params=None)  # no params: the % are PL/pgSQL's
    for table in TABLES:
        schema_editor.execute(DROP_TRIGGER.format(table=table))
        schema_editor.execute(CREATE_TRIGGER.format(table=table))


def remove(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(DROP_TRIGGER.format(table=table))
    schema_editor.execute(DROP_FUNCTION)


class Migration(migrations.Migration):
    dependencies = [
        ("decisions", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(install, remove, elidable=False),
    ]
