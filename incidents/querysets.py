"""Reads of the incident register: open by severity and age, recurrences per capability."""

from django.db import models
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce

from productops.permissions import visible_capability_ids


class IncidentQuerySet(models.QuerySet):
    def visible_to(self, user):
        if not getattr(user, "is_authenticated", False):
            return self.none()
        visible = visible_capability_ids(user)
        return self if visible is None else self.filter(capability_id__in=visible)

    def for_capability(self, capability):
        return self.filter(capability=capability)

    def open(self):
        return self.exclude(state="closed")

    def recurrences(self):
        return self.filter(is_recurrence=True)

    def by_severity_and_age(self):
        """Sev1 first (the values sort that way), then the oldest."""
        return self.order_by("severity", "occurred_on", "id")

    def with_capability_recurrences(self):
        """Annotate ``capability_recurrences``: how many recurrences the row's capability has had."""
        counts = (
            self.model._default_manager.filter(capability_id=OuterRef("capability_id"), is_recurrence=True)
            .order_by()
            .values("capability_id")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return self.annotate(
            capability_recurrences=Coalesce(Subquery(counts, output_field=IntegerField()), 0)
        )

    def recurrence_counts(self) -> dict[int, int]:
        """{capability id: number of recurrences}, one query."""
        return dict(
            self.recurrences()
            .order_by()
            .values("capability_id")
            .annotate(n=Count("pk"))
            .values_list("capability_id", "n")
        )

    def with_list_related(self):
        return self.select_related("capability", "recurrence_of").with_capability_recurrences()
