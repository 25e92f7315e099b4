"""Reads of the hygiene runs: who may see them, the latest run per capability, live waivers."""

import datetime

from django.db import models
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from productops.permissions import visible_capability_ids


def _visible(queryset, user, field: str):
    if not getattr(user, "is_authenticated", False):
        return queryset.none()
    visible = visible_capability_ids(user)
    return queryset if visible is None else queryset.filter(**{f"{field}__in": visible})


class RunQuerySet(models.QuerySet):
    def visible_to(self, user):
        return _visible(self, user, "capability_id")

    def for_capability(self, capability):
        return self.filter(capability=capability)

    def latest_per_capability(self):
        """The newest run of each capability (one query with a subquery)."""
        newest = self.model.objects.filter(capability_id=OuterRef("capability_id")).order_by(
            "-started_at", "-id"
        )
        return self.filter(pk=Subquery(newest.values("pk")[:1]))

    def as_boards_show(self):
        """Only what a board's hygiene line shows (capability, score, high findings): not the
        failing checks, a JSON list per run that the boards never read."""
        return self.select_related("capability").only("capability__slug", "capability__name", "score", "high")

    def as_of_time(self, moment: datetime.datetime):
        """Runs made at or before a moment (what a review pack built then could have shown)."""
        return self.filter(started_at__lte=moment)


class FindingQuerySet(models.QuerySet):
    def visible_to(self, user):
        return _visible(self, user, "run__capability_id")

    def of_latest_runs(self):
        from hygiene.models import Run

        return self.filter(run__in=Run.objects.latest_per_capability())


class WaiverQuerySet(models.QuerySet):
    def visible_to(self, user):
        return _visible(self, user, "capability_id")

    def live(self, today: datetime.date | None = None):
        """Waivers still holding: their expiry day not yet past."""
        return self.filter(expires_on__gte=today or timezone.localdate())
