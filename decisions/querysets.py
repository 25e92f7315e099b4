from django.db import models
from django.db.models import Count, Exists, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from productops.errors import DomainError
from productops.permissions import visible_capability_ids


class AppendOnlyQuerySet(models.QuerySet):
    """A register whose rows are written once: bulk updates and deletes are refused.

    The model refuses ``save()`` on an existing row and ``delete()``; this closes the bulk path
    (``Decision.objects.filter(...).update(...)``), and on PostgreSQL a trigger closes raw SQL.
    """

    def update(self, **kwargs):
        raise DomainError(
            _("The decision log is append-only: record a new decision that supersedes the old one.")
        )

    def delete(self):
        raise DomainError(_("The decision log is append-only: decisions are never deleted."))

    delete.queryset_only = True


class EvidenceLinkQuerySet(AppendOnlyQuerySet):
    pass


class DecisionQuerySet(AppendOnlyQuerySet):
    def visible_to(self, user):
        """Decisions of the capabilities the person holds a role on (all, for organisation-wide roles)."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        visible = visible_capability_ids(user)
        return self if visible is None else self.filter(capability_id__in=visible)

    def for_capability(self, capability):
        return self.filter(capability=capability)

    def of_type(self, *types):
        return self.filter(type__in=[str(value) for value in types])

    def with_evidence_count(self):
        """Annotate ``evidence_total`` in the same query (a subquery, so no GROUP BY over joins)."""
        from decisions.models import EvidenceLink

        counts = (
            EvidenceLink.objects.filter(decision=OuterRef("pk"))
            .order_by()
            .values("decision")
            .annotate(total=Count("pk"))
            .values("total")
        )
        return self.annotate(evidence_total=Coalesce(Subquery(counts), Value(0)))

    def _evidence_exists(self):
        from decisions.models import EvidenceLink

        return Exists(EvidenceLink.objects.filter(decision=OuterRef("pk")))

    def with_evidence(self):
        return self.filter(self._evidence_exists())

    def without_evidence(self):
        """Decisions that rest on no linked evidence: allowed, but marked everywhere."""
        return self.exclude(self._evidence_exists())

    def current(self):
        """Decisions no later decision has superseded."""
        return self.filter(superseded_by__isnull=True)

    def superseded(self):
        return self.filter(superseded_by__isnull=False)

    def due_for_review(self, today=None):
        """Current decisions whose review date has come (the review trigger should be checked)."""
        today = today or timezone.localdate()
        return self.current().filter(review_date__isnull=False, review_date__lte=today)

    def for_list(self):
        """Everything a list row, CSV line or API item shows, in a fixed number of queries."""
        from decisions.models import EvidenceLink

        return (
            self.select_related(
                "capability", "owner", "recorded_by", "supersedes", "superseded_by", "forum_session_type"
            )
            .prefetch_related(
                models.Prefetch(
                    "evidence_links", queryset=EvidenceLink.objects.select_related("content_type")
                )
            )
            .with_evidence_count()
        )
