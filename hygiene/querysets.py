"""Reads of the hygiene runs: who may see them, the latest run per capability, live waivers."""

import datetime
from typing import NamedTuple

from django.db import models
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from productops.permissions import visible_capability_ids
from productops.reads import fetch, ordering_sql, placeholders


def _visible(queryset, user, field: str):
    if not getattr(user, "is_authenticated", False):
        return queryset.none()
    visible = visible_capability_ids(user)
    return queryset if visible is None else queryset.filter(**{f"{field}__in": visible})


class BoardCapability(NamedTuple):
    """The capability a board's hygiene line names and links."""

    slug: str
    name: str


class BoardRun(NamedTuple):
    """A run as a board's hygiene line shows it: its capability, score and open high findings."""

    capability: BoardCapability
    score: int
    high: int


def board_runs(capability_ids: list[int] | None) -> list[BoardRun]:
    """The latest run of each capability of ``capability_ids`` (every capability for None),
    lowest score first, then by capability name. Every board shows this line, so it is read by
    hand (productops.reads), not compiled by the ORM; "latest" is first in the model's ordering
    (newest ``started_at``, then highest id), as in ``RunQuerySet.latest_per_capability``."""
    from hygiene.models import Run

    where, params = "", []
    if capability_ids is not None:
        ids = sorted(capability_ids)
        where, params = f"AND r.capability_id IN ({placeholders(ids)})", ids
    rows = fetch(
        "SELECT c.slug, c.name, r.score, r.high FROM hygiene_run r "
        "INNER JOIN portfolio_capability c ON c.id = r.capability_id "
        "WHERE r.id = (SELECT n.id FROM hygiene_run n WHERE n.capability_id = r.capability_id "
        f"ORDER BY {ordering_sql(Run, 'n')} LIMIT 1) {where} "
        "ORDER BY r.score, c.name",
        params,
    )
    return [BoardRun(BoardCapability(slug, name), score, high) for slug, name, score, high in rows]


class RunQuerySet(models.QuerySet):
    def visible_to(self, user):
        return _visible(self, user, "capability_id")

    def for_capability(self, capability):
        return self.filter(capability=capability)

    def latest_per_capability(self):
        """The newest run of each capability (one query with a subquery)."""
        # First in the model's ordering (newest, then highest id), as board_runs reads it.
        newest = self.model.objects.filter(capability_id=OuterRef("capability_id")).order_by(
            *self.model._meta.ordering
        )
        return self.filter(pk=Subquery(newest.values("pk")[:1]))

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
