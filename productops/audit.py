"""The audit history is append-only: who changed what, and when, is written once and kept.

Every asset's change history (django-simple-history's ``*_historical*`` tables) takes new rows
only. No page, API endpoint or admin page edits or deletes one, and on PostgreSQL a trigger on
each history table refuses any UPDATE or DELETE, whatever code or SQL issues it. A correction is
a new change of the asset, which appends its own history row.

The trigger is installed by the migration ``productops.0005_history_append_only`` and, for every
history table (including those of apps migrated after it, or added later), after each
``migrate`` (``ProductOpsConfig.ready`` connects ``install_history_guards`` to post_migrate).
SQLite has no such trigger; its demo and laptop installs rely on the pages, API and admin.
"""

from django.db import connections
from django.utils.translation import gettext as _

FUNCTION = "productops_history_refuse_change"
TRIGGER_SUFFIX = "_append_only"

CREATE_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'The audit history is append-only: % on % is refused; record a new change instead.',
        TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
"""

CREATE_TRIGGER = """
CREATE TRIGGER {trigger}
    BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {function}();
"""

GUARDED_TABLES = """
SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
WHERE NOT t.tgisinternal AND t.tgname = c.relname || %s
"""


def history_models() -> list:
    """The historical model of every tracked asset (simple-history's registry)."""
    from simple_history.models import registered_models

    return [model.history.model for model in registered_models.values()]


def history_tables() -> list[str]:
    return sorted({model._meta.db_table for model in history_models()})


def guarded_tables(connection) -> set[str]:
    """The tables whose append-only trigger is in place (PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute(GUARDED_TABLES, [TRIGGER_SUFFIX])
        return {row[0] for row in cursor.fetchall()}


def install_history_guards(connection=None, tables=None) -> list[str]:
    """Put the append-only trigger on every history table that exists and lacks it; return the
    tables newly guarded. Safe to run again: a guarded table is left alone (no lock taken)."""
    connection = connection or connections["default"]
    if connection.vendor != "postgresql":
        return []
    existing = set(connection.introspection.table_names())
    wanted = [table for table in (tables or history_tables()) if table in existing]
    missing = [table for table in wanted if table not in guarded_tables(connection)]
    if not missing:
        return []
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(CREATE_FUNCTION)
        for table in missing:
            cursor.execute(
                CREATE_TRIGGER.format(
                    trigger=quote(table + TRIGGER_SUFFIX), table=quote(table), function=FUNCTION
                )
            )
    return missing


def remove_history_guards(connection=None) -> None:
    """Drop the function and, with it, every history table's trigger (the migration's reverse)."""
    connection = connection or connections["default"]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}() CASCADE")


MIGRATION = ("productops", "0005_history_append_only")


def guard_after_migrate(sender, using="default", **kwargs) -> None:
    """post_migrate: a history table created by any app's migration is guarded at once (once
    the migration that brings the guard is applied; unapplying it removes every trigger)."""
    from django.db.migrations.recorder import MigrationRecorder

    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    if MIGRATION in MigrationRecorder(connection).applied_migrations():
        install_history_guards(connection)


def people_in_the_history(users) -> dict[int, int]:
    """How many history rows each of ``users`` wrote (as ``history_user``), by user id.

    A person who acted in the audit history is never deleted: deleting them would blank the
    "who" of every change they made (simple-history's ``SET_NULL``). Deactivate them instead.
    """
    from django.db.models import Count

    ids = [user.pk for user in users]
    counts: dict[int, int] = {}
    for model in history_models():
        rows = (
            model.objects.filter(history_user_id__in=ids)
            .values_list("history_user_id")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for user_id, n in rows:
            counts[user_id] = counts.get(user_id, 0) + n
    return counts


def refuse_deleting_people_in_the_history(sender, instance, **kwargs) -> None:
    """pre_delete of a person: refused (ProtectedError) when they appear in the audit history."""
    from django.db.models import ProtectedError

    if people_in_the_history([instance]):
        raise ProtectedError(person_in_history_message(instance), set())


def person_in_history_message(person) -> str:
    return _(
        "%(person)s appears in the audit history and cannot be deleted: deactivate the account "
        "(untick “active”) instead."
    ) % {"person": person}
