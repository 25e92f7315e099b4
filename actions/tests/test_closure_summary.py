"""The weekly ops board's action-closure row: counts against data built by hand."""

import datetime
import zoneinfo

import pytest
import time_machine

from actions.models import Action
from actions.querysets import closure_by_capability, closure_by_owner, closure_summary, my_action_counts
from actions.tests.factories import ActionFactory
from portfolio.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LONDON = zoneinfo.ZoneInfo("Europe/London")
NOW = datetime.datetime(2026, 7, 8, 12, 0, tzinfo=LONDON)  # a Wednesday
TODAY = NOW.date()


def day(offset: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=offset)


@pytest.fixture
def board(capability, other_capability):
    """Eight actions whose every count is known (see the comments)."""
    o1, o2, o3 = (UserFactory(last_name=name) for name in ("Adams", "Brown", "Clarke"))
    rows = {}
    with time_machine.travel(NOW, tick=False):

        def make(key, *, status, due, raised, owner, cap=capability, **extra):
            action = ActionFactory(capability=cap, owner=owner, status=status, due_date=due, **extra)
            Action.objects.filter(pk=action.pk).update(created_at=raised)
            rows[key] = action

        # open, overdue, 3 days old
        make("a1", status="open", due=day(-7), raised=NOW - datetime.timedelta(days=3), owner=o1)
        # in progress, due today (this week, not overdue), 10 days old
        make("a2", status="in_progress", due=day(0), raised=NOW - datetime.timedelta(days=10), owner=o1)
        # blocked, due in six days (this week), 20 days old
        make(
            "a3",
            status="blocked",
            blocked_reason="vendor",
            due=day(6),
            raised=NOW - datetime.timedelta(days=20),
            owner=o1,
        )
        # awaiting verification, due in seven days (next week), 45 days old
        make(
            "a4",
            status="awaiting_verification",
            due=day(7),
            raised=NOW - datetime.timedelta(days=45),
            owner=o2,
        )
        # closed: past due but not overdue, and in no age bucket
        make("a5", status="closed", due=day(-7), raised=NOW - datetime.timedelta(days=60), owner=o2)
        # reopened, raised at 00:30 seven calendar days ago: still in 0-7
        make(
            "a6",
            status="reopened",
            times_reopened=1,
            due=day(12),
            raised=datetime.datetime(2026, 7, 1, 0, 30, tzinfo=LONDON),
            owner=o2,
        )
        # reopened earlier and back in progress; raised at 23:59 eight calendar days ago: 8-14
        make(
            "a7",
            status="in_progress",
            times_reopened=1,
            due=day(20),
            raised=datetime.datetime(2026, 6, 30, 23, 59, tzinfo=LONDON),
            owner=o2,
        )
        # another capability: open, overdue by a day, 31 days old
        make(
            "a8",
            status="open",
            due=day(-1),
            raised=NOW - datetime.timedelta(days=31),
            owner=o3,
            cap=other_capability,
        )
    return rows, (o1, o2, o3)


def test_closure_summary_counts_match_hand_built_data_in_one_query(board, django_assert_num_queries):
    with time_machine.travel(NOW, tick=False), django_assert_num_queries(1):
        summary = closure_summary(Action.objects.all())
    assert summary == {
        "open": 7,
        "overdue": 2,
        "due_this_week": 2,
        "blocked": 1,
        "awaiting_verification": 1,
        "reopened": 2,
        "closed": 1,
        "age_0_7": 2,
        "age_8_14": 2,
        "age_15_30": 1,
        "age_over_30": 2,
    }


def test_the_derived_views_select_the_same_rows_as_the_counts(board):
    rows, _owners = board
    with time_machine.travel(NOW, tick=False):
        names = {value.pk: key for key, value in rows.items()}

        def keys(queryset):
            return sorted(names[pk] for pk in queryset.values_list("pk", flat=True))

        assert keys(Action.objects.overdue()) == ["a1", "a8"]
        assert keys(Action.objects.due_this_week()) == ["a2", "a3"]
        assert keys(Action.objects.blocked()) == ["a3"]
        assert keys(Action.objects.reopened()) == ["a6", "a7"]
        assert keys(Action.objects.open()) == ["a1", "a2", "a3", "a4", "a6", "a7", "a8"]
        ages = {names[a.pk]: a.age.days for a in Action.objects.open().with_age()}
        assert ages["a1"] == 3 and ages["a8"] == 31


def test_counts_per_owner_and_per_capability_take_one_query_each(
    board, capability, other_capability, django_assert_num_queries
):
    _rows, (o1, o2, o3) = board
    with time_machine.travel(NOW, tick=False):
        with django_assert_num_queries(1):
            per_owner = closure_by_owner(Action.objects.all())
        with django_assert_num_queries(1):
            per_capability = closure_by_capability(Action.objects.all())
    assert [(row["owner_id"], row["open"], row["overdue"], row["due_this_week"]) for row in per_owner] == [
        (o1.pk, 3, 1, 2),
        (o3.pk, 1, 1, 0),
        (o2.pk, 3, 0, 0),
    ]
    assert [
        (row["capability__slug"], row["open"], row["overdue"], row["reopened"]) for row in per_capability
    ] == [
        (capability.slug, 6, 1, 2),
        (other_capability.slug, 1, 1, 0),
    ]


def test_the_header_counts_are_the_persons_own_open_and_overdue_actions(board, django_assert_num_queries):
    _rows, (o1, o2, _o3) = board
    with time_machine.travel(NOW, tick=False), django_assert_num_queries(1):
        assert my_action_counts(o1) == {"open": 3, "overdue": 1}
    with time_machine.travel(NOW, tick=False):
        assert my_action_counts(o2) == {"open": 3, "overdue": 0}
