"""Reads of the action closure register: the derived views of the weekly ops board's
action-closure row (open by age, blocked, due this week, reopened, overdue)."""

from datetime import date, datetime, time, timedelta

from django.db import models
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Value
from django.utils import timezone

from actions.choices import AGE_BUCKETS, ActionStatus
from productops.permissions import visible_capability_ids
from productops.prepared import prepared_counts

# "Due this week" is the seven days from today: what must close before the next weekly review.
DUE_WINDOW_DAYS = 6


def _today(today: date | None) -> date:
    return today or timezone.localdate()


def _start_of(day: date) -> datetime:
    """Midnight at the start of ``day`` in the organisation's zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


def not_closed() -> Q:
    """What an open action is (anything not closed), as a condition for filters and counts."""
    return ~Q(status=ActionStatus.CLOSED)


def _overdue(today: date) -> Q:
    return not_closed() & Q(due_date__lt=today)


def _due_this_week(today: date) -> Q:
    return not_closed() & Q(due_date__gte=today, due_date__lte=today + timedelta(days=DUE_WINDOW_DAYS))


def _reopened() -> Q:
    return not_closed() & Q(times_reopened__gt=0)


def _age_bucket(today: date, low: int, high: int | None) -> Q:
    """Open actions raised between ``low`` and ``high`` days ago (in local calendar days)."""
    condition = not_closed()
    if high is not None:
        condition &= Q(created_at__gte=_start_of(today - timedelta(days=high)))
    if low > 0:
        condition &= Q(created_at__lt=_start_of(today - timedelta(days=low - 1)))
    return condition


class ActionQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Actions of the capabilities the person holds a role on (all for organisation-wide roles)."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        visible = visible_capability_ids(user)
        return self if visible is None else self.filter(capability_id__in=visible)

    def for_capability(self, capability):
        return self.filter(capability=capability)

    def for_owner(self, user):
        return self.filter(owner=user)

    def open(self):
        """Everything not closed: open, in progress, blocked, awaiting verification, reopened."""
        return self.filter(not_closed())

    def closed(self):
        return self.filter(status=ActionStatus.CLOSED)

    def overdue(self, today: date | None = None):
        return self.filter(_overdue(_today(today)))

    def due_this_week(self, today: date | None = None):
        """Not closed and due from today to six days ahead (before the next weekly review)."""
        return self.filter(_due_this_week(_today(today)))

    def blocked(self):
        return self.filter(status=ActionStatus.BLOCKED)

    def awaiting_verification(self):
        return self.filter(status=ActionStatus.AWAITING_VERIFICATION)

    def reopened(self):
        """Not closed and reopened at least once: a closure that did not hold, until it closes again."""
        return self.filter(_reopened())

    def to_verify_by(self, user):
        """Evidence waiting for this person: they are the named reviewer."""
        return self.awaiting_verification().filter(reviewer=user)

    def with_age(self, now: datetime | None = None):
        """Annotate ``age`` (a timedelta since the action was raised)."""
        now = now or timezone.now()
        return self.annotate(
            age=ExpressionWrapper(
                Value(now, output_field=models.DateTimeField()) - F("created_at"),
                output_field=DurationField(),
            )
        )

    def with_list_related(self):
        """What a list row shows, fetched in the same query."""
        return self.select_related("capability", "owner", "reviewer")

    def due_for_recheck(self, today: date | None = None):
        """Closed actions whose date trigger has come, closed before that date, not yet fired."""
        return self.closed().filter(
            reopen_trigger__kind="recheck_date",
            reopen_trigger__recheck_on__lte=_today(today),
            reopen_trigger__fired_at__isnull=True,
            closed_at__date__lt=F("reopen_trigger__recheck_on"),
        )


def _counts(today: date) -> dict:
    return {
        "open": Count("pk", filter=not_closed()),
        "overdue": Count("pk", filter=_overdue(today)),
        "due_this_week": Count("pk", filter=_due_this_week(today)),
        "blocked": Count("pk", filter=Q(status=ActionStatus.BLOCKED)),
        "awaiting_verification": Count("pk", filter=Q(status=ActionStatus.AWAITING_VERIFICATION)),
        "reopened": Count("pk", filter=_reopened()),
    }


def closure_summary(queryset, today: date | None = None, **more: Count) -> dict[str, int]:
    """The weekly ops board's action-closure row for a set of actions, in one query.

    Keys: open, overdue, due_this_week, blocked, awaiting_verification, reopened, closed, and the
    open-by-age buckets age_0_7, age_8_14, age_15_30, age_over_30. ``more``: other counts of the
    same actions a page wants (their names must differ from these), read in the same statement.
    """
    return queryset.order_by().aggregate(**closure_counts(_today(today)), **more)


def closure_counts(today: date) -> dict[str, Count]:
    """The counts of ``closure_summary``, for a read that takes them with others of its own
    (the weekly ops board's prepared closure row)."""
    aggregates = _counts(today)
    aggregates["closed"] = Count("pk", filter=Q(status=ActionStatus.CLOSED))
    for key, _label, low, high in AGE_BUCKETS:
        aggregates[key] = Count("pk", filter=_age_bucket(today, low, high))
    return aggregates


def closure_by_owner(queryset, today: date | None = None) -> list[dict]:
    """Open, overdue, due-this-week, blocked, awaiting and reopened counts per owner (one query)."""
    return list(
        queryset.order_by()
        .values("owner_id", "owner__username", "owner__first_name", "owner__last_name")
        .annotate(**_counts(_today(today)))
        .filter(open__gt=0)
        .order_by("-overdue", "-open", "owner__last_name", "owner__username")
    )


def closure_by_capability(queryset, today: date | None = None) -> list[dict]:
    """The same counts per capability (one query)."""
    return list(
        queryset.order_by()
        .values("capability_id", "capability__slug", "capability__name")
        .annotate(**_counts(_today(today)))
        .order_by("capability__name")
    )


def my_action_counts(user, today: date | None = None) -> dict[str, int]:
    """The header's numbers: the person's own open and overdue actions, in one query (every page
    shows them: the statement is prepared once a day per person, ``productops.prepared``)."""
    return _my_action_counts(user.pk, _today(today))


@prepared_counts
def _my_action_counts(user_id: int, today: date):
    from actions.models import Action

    # The conditions are not_closed()'s and _overdue()'s themselves: the rule of what is open
    # and overdue stays written once.
    return Action.objects.filter(owner_id=user_id), {
        "open": Count("pk", filter=not_closed()),
        "overdue": Count("pk", filter=_overdue(today)),
    }
