"""Prepared reads (productops.prepared): the statement compiled once per set of arguments, the
rows read afresh on every call and loaded exactly as the queryset loads them."""

import datetime

import pytest
from django.db.models import Count, F, Q
from django.utils import timezone

from actions.models import Action
from actions.querysets import closure_summary
from actions.tests.factories import ActionFactory
from productops.prepared import forget, prepared, prepared_counts

pytestmark = pytest.mark.django_db

built = []


@pytest.fixture(autouse=True)
def no_kept_statements():
    # Primary keys repeat from test to test on SQLite: a statement kept by an earlier test for
    # the same arguments would be reused (rightly), and the compilations counted here not seen.
    forget()
    built.clear()


@prepared
def actions_of(ids: tuple):
    built.append(ids)
    return Action.objects.filter(capability_id__in=ids).select_related("owner", "capability").order_by("pk")


@prepared
def action_values(ids: tuple):
    return (
        Action.objects.filter(capability_id__in=ids)
        .annotate(owner_name=F("owner__username"))
        .values("readable_id", "due_date", "owner_name")
        .order_by("pk")
    )


@prepared
def action_due_dates(ids: tuple):
    return Action.objects.filter(capability_id__in=ids).order_by("pk").values_list("readable_id", "due_date")


@prepared
def action_ids(ids: tuple):
    return Action.objects.filter(capability_id__in=ids).order_by("pk").values_list("pk", flat=True)


@prepared(bound=1)
def raised_since(ids: tuple, since: datetime.datetime):
    built.append(("since", ids))
    return Action.objects.filter(capability_id__in=ids, created_at__gte=since).order_by("pk")


@prepared(bound=1)
def aged(ids: tuple, now: datetime.datetime):
    return Action.objects.filter(capability_id__in=ids).with_age(now).order_by("pk")


@prepared_counts
def counts_of(ids: tuple, today: datetime.date):
    built.append(("counts", ids))
    return Action.objects.filter(capability_id__in=ids), {
        "all": Count("pk"),
        "overdue": Count("pk", filter=Q(due_date__lt=today)),
    }


def test_instances_are_loaded_as_the_queryset_loads_them(capability, django_assert_num_queries):
    first, second = ActionFactory(capability=capability), ActionFactory(capability=capability)
    ActionFactory()  # another capability's
    expected = list(Action.objects.filter(capability=capability).order_by("pk"))
    with django_assert_num_queries(1):
        found = actions_of((capability.pk,))
        # select_related: the owner and capability came with the row
        names = [(action.owner.username, action.capability.slug) for action in found]
    assert [action.pk for action in found] == [first.pk, second.pk]
    assert names == [(first.owner.username, capability.slug), (second.owner.username, capability.slug)]
    for action, reference in zip(found, expected, strict=True):
        assert [getattr(action, field.attname) for field in Action._meta.concrete_fields] == [
            getattr(reference, field.attname) for field in Action._meta.concrete_fields
        ]
        assert action._state.adding is False and action._state.db == "default"


def test_values_rows_and_flat_values(capability):
    action = ActionFactory(capability=capability, due_date=datetime.date(2026, 12, 24))
    action.refresh_from_db()
    assert action_values((capability.pk,)) == [
        {
            "readable_id": action.readable_id,
            "due_date": datetime.date(2026, 12, 24),
            "owner_name": action.owner.username,
        }
    ]
    assert action_due_dates((capability.pk,)) == [(action.readable_id, datetime.date(2026, 12, 24))]
    assert action_ids((capability.pk,)) == [action.pk]


def test_compiled_once_per_arguments_rows_read_afresh(capability, other_capability):
    built.clear()
    ActionFactory(capability=capability)
    assert len(actions_of((capability.pk,))) == 1
    ActionFactory(capability=capability)
    # The same arguments: the statement is kept, the new row is read.
    assert len(actions_of((capability.pk,))) == 2
    assert built == [(capability.pk,)]
    # Other arguments: a statement of their own.
    assert actions_of((other_capability.pk,)) == []
    assert built == [(capability.pk,), (other_capability.pk,)]


def test_bound_moments_are_bound_on_every_call(capability):
    built.clear()
    older = ActionFactory(capability=capability)
    newer = ActionFactory(capability=capability)
    Action.objects.filter(pk=older.pk).update(created_at=timezone.now() - datetime.timedelta(days=10))
    Action.objects.filter(pk=newer.pk).update(created_at=timezone.now() - datetime.timedelta(days=2))
    now = timezone.now()
    ids = (capability.pk,)
    assert [a.pk for a in raised_since(ids, now - datetime.timedelta(days=5))] == [newer.pk]
    assert [a.pk for a in raised_since(ids, now - datetime.timedelta(days=20))] == [older.pk, newer.pk]
    assert raised_since(ids, now) == []
    assert built == [("since", ids)]  # compiled once, with a stand-in


def test_a_bound_moment_in_an_annotation(capability):
    action = ActionFactory(capability=capability)
    action.refresh_from_db()
    now = action.created_at + datetime.timedelta(days=3, hours=2)
    (found,) = aged((capability.pk,), now)
    assert found.age == datetime.timedelta(days=3, hours=2)
    (found,) = aged((capability.pk,), now + datetime.timedelta(days=1))
    assert found.age == datetime.timedelta(days=4, hours=2)


def test_a_bound_argument_that_does_not_reach_the_statement_is_refused(capability):
    @prepared(bound=1)
    def shifted(ids: tuple, now):
        return Action.objects.filter(capability_id__in=ids, created_at__gte=now - datetime.timedelta(days=1))

    with pytest.raises(TypeError, match="bound argument 1"):
        shifted((capability.pk,), timezone.now())


def test_nothing_to_match_runs_no_statement(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert actions_of(()) == []
        assert raised_since((), timezone.now()) == []
        assert counts_of((), timezone.localdate()) == {"all": 0, "overdue": 0}


def test_counts_match_the_aggregate_and_follow_the_data(capability):
    built.clear()
    today = timezone.localdate()
    ActionFactory(capability=capability, due_date=today - datetime.timedelta(days=1))
    ActionFactory(capability=capability, due_date=today + datetime.timedelta(days=1))
    ids = (capability.pk,)
    assert counts_of(ids, today) == {"all": 2, "overdue": 1}
    ActionFactory(capability=capability, due_date=today - datetime.timedelta(days=3))
    assert counts_of(ids, today) == {"all": 3, "overdue": 2}
    assert built == [("counts", ids)]


def test_prepared_closure_row_matches_closure_summary(capability, pm):
    """The weekly board's prepared closure row gives closure_summary's own counts."""
    from boards.weekly import _closure_row

    today = timezone.localdate()
    ActionFactory(capability=capability, due_date=today - datetime.timedelta(days=2), owner=pm)
    ActionFactory(capability=capability, due_date=today + datetime.timedelta(days=3))
    ActionFactory(capability=capability, status="blocked", blocked_reason="Waiting for the vendor")
    row = _closure_row((capability.pk,), today, pm.pk)
    summary = closure_summary(Action.objects.filter(capability=capability), today)
    assert {key: row[key] for key in summary} == summary
    assert row["stuck"] == 2 and row["mine_overdue"] == 1


def test_only_counts_are_prepared_as_counts(capability):
    from django.db.models import Max

    @prepared_counts
    def latest(ids: tuple):
        return Action.objects.filter(capability_id__in=ids), {"latest": Max("due_date")}

    with pytest.raises(TypeError, match="Count aggregates only"):
        latest((capability.pk,))


def test_a_count_is_compiled_and_read_in_one_statement(capability, django_assert_num_queries):
    ids, today = (capability.pk,), timezone.localdate()
    with django_assert_num_queries(1):
        assert counts_of(ids, today) == {"all": 0, "overdue": 0}
    ActionFactory(capability=capability)
    with django_assert_num_queries(1):
        assert counts_of(ids, today) == {"all": 1, "overdue": 0}
