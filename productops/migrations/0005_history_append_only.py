"""The audit history is append-only in the database: on PostgreSQL a trigger on every change
history table refuses UPDATE and DELETE (productops.audit). History tables of apps migrated
after this one are guarded by the post_migrate hook, with the same function."""

from django.db import migrations


def install(apps, schema_editor):
    from productops.audit import install_history_guards

    install_history_guards(schema_editor.connection)


def remove(apps, schema_editor):
    from productops.audit import remove_history_guards

    remove_history_guards(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("productops", "0004_job_outbox"),
    ]

    operations = [
        migrations.RunPython(install, remove, elidable=False),
    ]
