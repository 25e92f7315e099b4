from datetime import date, timedelta

from django.db import models
from django.db.models import Count
from django.utils import timezone

from assumptions.choices import LIVE_STATUSES, AssumptionStatus
from productops.permissions import visible_capability_ids


def _today(today: date | None) -> date:
    return today or timezone.localdate()


class AssumptionQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Assumptions of the capabilities the person holds a role on (all for organisation-wide roles)."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        visible = visible_capability_ids(user)
        return self if visible is None else self.filter(capability_id__in=visible)

    def for_capability(self, capability):
        return self.filter(capability=capability)

    def with_status(self, *statuses):
        return self.filter(status__in=statuses)

    def live(self):
        """Beliefs the ledger still relies on: not invalidated, not expired."""
        return self.filter(status__in=LIVE_STATUSES)

    def expired(self):
        return self.filter(status=AssumptionStatus.EXPIRED)

    def expiring_within(self, days: int, today: date | None = None):
        """Live assumptions whose expiry date falls between today and ``days`` days from now."""
        start = _today(today)
        return self.live().filter(expires_on__gte=start, expires_on__lte=start + timedelta(days=days))

    def due_to_expire(self, today: date | None = None):
        """Live assumptions past their expiry date: what the daily job turns expired."""
        return self.live().filter(expires_on__lt=_today(today))

    def needs_review(self, today: date | None = None):
        """Assumptions whose next review date (set by their last review) has passed."""
        return self.exclude(status=AssumptionStatus.INVALIDATED).filter(next_review_on__lt=_today(today))

    def counts_by_status(self) -> dict[str, int]:
        """{status: count} over this queryset, every status present (zero when none), one query."""
        counts = dict.fromkeys(AssumptionStatus.values, 0)
        rows = self.order_by().values_list("status").annotate(n=Count("pk"))
        counts.update({status: n for status, n in rows})
        return counts


def counts_by_status(capability) -> dict[str, int]:
    """How many of a capability's assumptions stand in each status (one query): the ledger line
    of the weekly and monthly review packs."""
    from assumptions.models import Assumption

    return Assumption.objects.for_capability(capability).counts_by_status()
