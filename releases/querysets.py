"""Reads of the release calendar: what is pending whose approval, what is live, what awaits its
post-release impact review, what falls in a month of the calendar."""

import datetime

from django.db import models
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from productops.permissions import role_map, visible_capability_ids
from releases.choices import APPROVER_ROLES, APPROVING_VERDICTS, PENDING_STATES, ReleaseState

_S = ReleaseState


def _today(today: datetime.date | None) -> datetime.date:
    return today or timezone.localdate()


def approver_capability_ids(user) -> set[int] | None:
    """Capabilities on which the person may give an approval verdict; None: all of them."""
    if not getattr(user, "is_authenticated", False):
        return set()
    if user.is_superuser:
        return None
    mapping = role_map(user)
    if mapping.get(None, frozenset()) & APPROVER_ROLES:
        return None
    return {key for key, roles in mapping.items() if key is not None and roles & APPROVER_ROLES}


class ReleaseQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Releases of the capabilities the person holds a role on (all for organisation-wide roles)."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        visible = visible_capability_ids(user)
        return self if visible is None else self.filter(capability_id__in=visible)

    def for_capability(self, capability):
        return self.filter(capability=capability)

    def pending(self):
        """Submitted or on hold: waiting for an approver's verdict."""
        return self.filter(state__in=PENDING_STATES)

    def deployed(self):
        return self.filter(deployed_date__isnull=False)

    def live(self):
        """Deployed to a canary or to everyone, not rolled back."""
        return self.filter(state__in=[_S.CANARY, _S.RELEASED, _S.IMPACT_REVIEWED])

    def review_due(self, today: datetime.date | None = None):
        """Deployed and at or past the post-release review date, without its impact review."""
        return self.filter(state__in=[_S.CANARY, _S.RELEASED], post_release_review_date__lte=_today(today))

    def between(self, first: datetime.date, last: datetime.date):
        """Releases with a planned, deployed or review date from ``first`` to ``last``."""
        return self.filter(
            Q(planned_date__range=(first, last))
            | Q(deployed_date__range=(first, last))
            | Q(post_release_review_date__range=(first, last))
        )

    def awaiting_verdict_of(self, user):
        """Pending releases this person may give a verdict on and has not yet approved in the
        current round: the "pending my approval" queue. Canaries approved for canary only wait
        for a full approval too. The owner never sees their own release here."""
        capability_ids = approver_capability_ids(user)
        if capability_ids is not None and not capability_ids:
            return self.none()
        from releases.models import ReleaseApproval

        already = ReleaseApproval.objects.filter(
            release=OuterRef("pk"),
            approver=user,
            round=OuterRef("approval_round"),
            verdict__in=APPROVING_VERDICTS,
        )
        queryset = self.filter(Q(state__in=PENDING_STATES) | Q(state=_S.CANARY, approval_scope="canary"))
        queryset = queryset.exclude(owner=user).exclude(Exists(already))
        if capability_ids is not None:
            queryset = queryset.filter(capability_id__in=capability_ids)
        return queryset

    def with_open_evidence(self):
        """Annotate ``open_evidence``: evidence items nobody has attested yet (a subquery, so
        the list keeps its order and needs no GROUP BY)."""
        from releases.models import EvidenceItem

        open_items = (
            EvidenceItem.objects.filter(release=OuterRef("pk"), attested_at__isnull=True)
            .order_by()
            .values("release")
            .annotate(count=Count("pk"))
            .values("count")
        )
        return self.annotate(open_evidence=Coalesce(Subquery(open_items), 0))

    def with_list_related(self):
        """What a list row shows, in the same query."""
        return self.select_related("capability", "owner").with_open_evidence()
