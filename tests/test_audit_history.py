"""The audit history cannot be altered: no page, API endpoint or admin page edits or deletes a
history row, the database refuses it on PostgreSQL, and a person who acted in it stays."""

import pytest
from django.contrib import admin
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from portfolio.models import Capability
from productops import audit
from productops.models import User

pytestmark = pytest.mark.django_db

ON_POSTGRESQL = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="The append-only triggers exist on PostgreSQL only."
)


@pytest.fixture
def superuser(make_person):
    person = make_person("ai_pm", username="root")
    person.is_superuser = person.is_staff = True
    person.save()
    return person


@pytest.fixture
def changed(capability, pm):
    """The capability with two history rows: created, then its risk tier changed by the PM."""
    capability._history_user = pm
    capability.risk_tier = "critical"
    capability.save()
    return capability


def _history(capability):
    return list(
        capability.history.order_by("history_id").values_list(
            "history_type", "risk_tier", "history_user_id", "history_date"
        )
    )


def test_every_tracked_asset_has_a_history_table():
    tables = audit.history_tables()
    assert len(tables) >= 20
    assert {
        "decisions_historicaldecision",
        "actions_historicalaction",
        "portfolio_historicalcapability",
    } <= set(tables)


@ON_POSTGRESQL
def test_on_postgresql_every_history_table_carries_the_append_only_trigger():
    assert set(audit.history_tables()) <= audit.guarded_tables(connection)
    assert {"decisions_decision", "decisions_evidencelink"} <= {
        table for (table,) in _triggers_named("%_append_only")
    }


def _triggers_named(pattern):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal AND t.tgname LIKE %s",
            [pattern],
        )
        return cursor.fetchall()


@ON_POSTGRESQL
def test_on_postgresql_the_orm_and_raw_sql_cannot_rewrite_or_delete_history(changed):
    before = _history(changed)
    record = changed.history.earliest("history_id")
    attempts = [
        lambda: changed.history.filter(history_type="~").update(risk_tier="low"),
        lambda: changed.history.filter(pk=record.pk).update(history_user=None),
        lambda: changed.history.all().delete(),
        lambda: record.delete(),
        lambda: _raw("UPDATE portfolio_historicalcapability SET risk_tier = 'low'"),
        lambda: _raw("DELETE FROM portfolio_historicalcapability"),
    ]
    for attempt in attempts:
        with pytest.raises(IntegrityError, match="audit history is append-only"), transaction.atomic():
            attempt()
    assert _history(changed) == before


def _raw(sql):
    with connection.cursor() as cursor:
        cursor.execute(sql)


@ON_POSTGRESQL
def test_on_postgresql_history_still_records_changes_and_deletions(changed, pm):
    changed._history_user = pm
    changed.risk_tier = "high"
    changed.save()
    assert [row[:2] for row in _history(changed)] == [("+", "medium"), ("~", "critical"), ("~", "high")]
    pk = changed.pk
    Capability.objects.filter(pk=pk).get().delete()
    assert list(
        Capability.history.filter(id=pk).order_by("history_id").values_list("history_type", flat=True)
    ) == [
        "+",
        "~",
        "~",
        "-",
    ]


def test_installing_the_guards_again_changes_nothing():
    assert audit.install_history_guards(connection) == []


def test_no_history_model_is_registered_in_the_admin():
    history = set(audit.history_models())
    assert not history & set(admin.site._registry)


def test_no_api_endpoint_serves_history_rows():
    """The history is read on each object's page only; no /api/v1/ view lists or changes it."""
    history = set(audit.history_models())

    def views(patterns, prefix=""):
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                yield from views(entry.url_patterns, route)
            elif isinstance(entry, URLPattern) and route.startswith("api/"):
                yield getattr(entry.callback, "cls", None)

    served = set()
    for cls in views(get_resolver().url_patterns):
        queryset = getattr(cls, "queryset", None)
        if queryset is not None:
            served.add(queryset.model)
    assert served  # the walk reached the viewsets
    assert not served & history


def test_the_admin_history_page_is_read_only_for_a_superuser(client_for, superuser, changed):
    before = _history(changed)
    client = client_for(superuser)
    url = reverse("admin:portfolio_capability_history", args=[changed.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "Critical" in page.content.decode() or "critical" in page.content.decode()
    client.post(url, {"risk_tier": "low"})
    assert _history(changed) == before


def test_a_person_who_acted_in_the_history_is_not_deleted(changed, pm):
    with pytest.raises(ProtectedError, match="appears in the audit history"), transaction.atomic():
        pm.delete()
    assert User.objects.filter(pk=pm.pk).exists()
    assert changed.history.latest("history_id").history_user == pm


def test_the_admin_refuses_to_delete_a_person_in_the_history_and_says_deactivate(
    client_for, superuser, changed, pm
):
    client = client_for(superuser)
    url = reverse("admin:productops_user_delete", args=[pm.pk])
    page = client.get(url).content.decode()
    assert "appears in the audit history" in page and "deactivate" in page
    client.post(url, {"post": "yes"})
    bulk = client.post(
        reverse("admin:productops_user_changelist"),
        {"action": "delete_selected", "_selected_action": [pm.pk], "post": "yes"},
    )
    assert bulk.status_code == 200 and "appears in the audit history" in bulk.content.decode()
    assert User.objects.filter(pk=pm.pk).exists()
    assert changed.history.latest("history_id").history_user == pm


def test_a_person_who_never_acted_can_still_be_deleted(client_for, superuser):
    newcomer = User.objects.create_user("newcomer")
    response = client_for(superuser).post(
        reverse("admin:productops_user_delete", args=[newcomer.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not User.objects.filter(pk=newcomer.pk).exists()
